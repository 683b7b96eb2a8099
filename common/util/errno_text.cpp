// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/util/errno_text.hpp"

#include <cstring>

namespace sara {

std::string errno_text(int err) { return std::strerror(err); }

std::string errno_text(std::string_view what, int err) { return std::string(what) + ": " + std::strerror(err); }

void append_error_text(std::string* error_text, std::string_view message) {
    if (!error_text || message.empty()) return;
    if (!error_text->empty() && error_text->back() != '\n') *error_text += '\n';
    *error_text += message;
}

}  // namespace sara
