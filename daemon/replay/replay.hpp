// SPDX-License-Identifier: GPL-2.0-or-later
// Offline replay (DESIGN §12): runs a capture through the same session identifier sarad
// uses — packets to the VIP as the incoming direction, packets from the VIP through the
// gateway's outgoing inspector — and reports the sessions found and their flows.
//
//   sarad replay --vip ADDR [--service PROTO/TRANSPORT/PORT ...] [--json] CAPTURE.pcap
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace sara {

// Runs `sarad replay ARGS...`; returns the process exit code (0 ok, 1 capture error, 2 usage).
int replay_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace sara
