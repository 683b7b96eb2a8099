// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/util/proc_file.hpp"

#include <fstream>
#include <sstream>

#include "common/proto/text.hpp"

namespace sara {

std::string read_small_file(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string_view whitespace_field(std::string_view s, size_t n) {
    size_t i = 0;
    for (size_t k = 0;; ++k) {
        while (i < s.size() && text::is_space(s[i])) ++i;
        const size_t start = i;
        while (i < s.size() && !text::is_space(s[i])) ++i;
        if (start == i) return {};
        if (k == n) return s.substr(start, i - start);
    }
}

std::string_view proc_stat_field(std::string_view stat, size_t n) {
    const size_t close = stat.rfind(')');
    if (close == std::string_view::npos) return {};
    return whitespace_field(stat.substr(close + 1), n);
}

}  // namespace sara
