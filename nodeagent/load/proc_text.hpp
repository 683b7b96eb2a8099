// SPDX-License-Identifier: GPL-2.0-or-later
// Helpers shared by the /proc parsers: splitting lines into whitespace-separated fields,
// strict decimal numbers, and the one reader that loads a /proc or /sys file into memory.
// The parsers take text (so tests feed them literal file contents); only read_text_file
// touches the file system.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sara::nodeagent {

// The line's fields separated by spaces or tabs; empty fields are skipped.
std::vector<std::string_view> split_fields(std::string_view line);

// Calls visit(line) for each line of `text` (without its '\n'); a last line without '\n'
// counts. Stops early if visit returns false.
template <typename Visit>
void for_each_line(std::string_view text, Visit visit) {
    while (!text.empty()) {
        const size_t end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        if (!visit(line)) return;
        if (end == std::string_view::npos) return;
        text.remove_prefix(end + 1);
    }
}

// A whole decimal number without sign or spaces, or nullopt (also on overflow).
std::optional<uint64_t> parse_u64(std::string_view text);

// Files above this size are refused (the largest read, /proc/diskstats, is a few KiB per
// hundred devices).
inline constexpr size_t kMaxProcFileBytes = 4 << 20;

// Reads the whole file into `out`; false with `error` set (path and errno text) if it cannot
// be read or is larger than kMaxProcFileBytes.
[[nodiscard]] bool read_text_file(const std::string& path, std::string& out, std::string* error);

}  // namespace sara::nodeagent
