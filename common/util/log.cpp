// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/util/log.hpp"

namespace sara {

void Logger::log(LogLevel level, std::string_view message) const {
    if (!enabled(level)) return;
    // One fprintf per line keeps concurrent lines from interleaving mid-line.
    std::fprintf(out_, "<%d>%.*s\n", static_cast<int>(level), static_cast<int>(message.size()),
                 message.data());
    std::fflush(out_);
}

}  // namespace sara
