// SPDX-License-Identifier: GPL-2.0-or-later
// sip-loadgen's command line: `uac` and `uas` with --name value options. A bad option is an
// error message, never a guess.
#pragma once

#include <string>
#include <vector>

#include "tests/loadgen/uac.hpp"
#include "tests/loadgen/uas.hpp"

namespace sara::loadgen {

extern const char* const kUsage;

// "HOST" or "HOST:PORT" for IPv4 (dotted); "V6", "[V6]" or "[V6]:PORT" for IPv6 (a port needs
// the brackets: a bare address's colons leave no room for one). The port keeps its default
// when absent; IPv6 is kept in RFC 5952 form, as the messages then write it.
bool parse_endpoint(const std::string& text, Endpoint& out);

// Both return "" on success, else what is wrong.
std::string parse_uac_options(const std::vector<std::string>& args, UacOptions& o);
std::string parse_uas_options(const std::vector<std::string>& args, UasOptions& o);

}  // namespace sara::loadgen
