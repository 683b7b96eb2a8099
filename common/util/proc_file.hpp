// SPDX-License-Identifier: GPL-2.0-or-later
// Reading /proc text: a whole small file, whitespace-separated fields, and the fields of
// /proc/PID/stat after the command name (which may hold spaces and ')').
#pragma once

#include <string>
#include <string_view>

namespace sara {

// The file's whole text; empty if it cannot be read (a process that exited, no /proc).
std::string read_small_file(const std::string& path);

// The n-th whitespace-separated field of `s` (0-based), or empty.
std::string_view whitespace_field(std::string_view s, size_t n);

// The n-th field of a /proc/PID/stat line counted after the last ')': n = 0 is the state
// (field 3 of proc(5)), so field k of proc(5) is n = k - 3. Empty if there is none.
std::string_view proc_stat_field(std::string_view stat, size_t n);

}  // namespace sara
