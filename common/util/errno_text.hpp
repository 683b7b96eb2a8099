// SPDX-License-Identifier: GPL-2.0-or-later
// The parts of the OS-call error convention (docs/architecture.md, "Conventions for new code")
// that every binary uses: an errno value as a std::error_code and as text, and the error text a
// function that acts appends its reason to. One copy, so every message reads the same way.
#pragma once

#include <string>
#include <string_view>
#include <system_error>

namespace sara {

// An errno value (or a negated netlink error) as a std::error_code of the system category,
// which compares equal to the matching std::errc.
[[nodiscard]] inline std::error_code errno_code(int err) { return {err, std::system_category()}; }

// strerror's text for `err` ("No such file or directory").
std::string errno_text(int err);
// "what: " and strerror's text for `err`.
std::string errno_text(std::string_view what, int err);

// Appends `message` to *error_text as a line of its own; nothing if error_text is null or the
// message is empty. Lets a caller collect the reasons of several steps in one text.
void append_error_text(std::string* error_text, std::string_view message);

}  // namespace sara
