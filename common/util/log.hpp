// SPDX-License-Identifier: GPL-2.0-or-later
// Minimal leveled logging to stderr with journald priority prefixes ("<3>"), so that under
// systemd the journal records the right priority and on a terminal the line stays readable.
// The logger is an object owned by the composition root; components receive a reference.
#pragma once

#include <cstdio>
#include <string_view>

namespace sara {

enum class LogLevel { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

class Logger {
public:
    explicit Logger(LogLevel threshold = LogLevel::info, std::FILE* out = stderr)
        : threshold_(threshold), out_(out) {}

    bool enabled(LogLevel level) const { return static_cast<int>(level) <= static_cast<int>(threshold_); }

    void log(LogLevel level, std::string_view message) const;
    void error(std::string_view m) const { log(LogLevel::error, m); }
    void warning(std::string_view m) const { log(LogLevel::warning, m); }
    void notice(std::string_view m) const { log(LogLevel::notice, m); }
    void info(std::string_view m) const { log(LogLevel::info, m); }

private:
    LogLevel threshold_;
    std::FILE* out_;
};

}  // namespace sara
