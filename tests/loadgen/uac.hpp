// SPDX-License-Identifier: GPL-2.0-or-later
// The UAC's event loop: places calls open loop at a target rate (like SIPp's -r with -l equal
// to the call count: it never waits for answers before the next call), over one socket (u1)
// or a socket per call (un), and stops by itself once every call ended or --max-seconds passed.
#pragma once

#include <cstdint>
#include <string>

#include "tests/loadgen/calls.hpp"

namespace sara::loadgen {

struct UacOptions {
    Endpoint target{"", 5060};
    // u1: the one socket's address; un: every socket's host. No host: the wildcard address of
    // the target's family (0.0.0.0 or ::).
    Endpoint local{"", 0};
    bool socket_per_call = false;   // un
    double rate = 100;              // calls/s
    uint64_t calls = 100;
    double max_seconds = 0;         // 0: calls/rate + 64*T1 + 1
    int t1_ms = 500;
    std::string service = "service";
    uint16_t media_port = 6000;
    int buffer_bytes = 2 * 1024 * 1024;
    uint32_t run = 0;               // 0: random
};

// Runs the calls; prints the JSON summary on stdout. Returns 0 when every call succeeded,
// 1 when some did not, 2 on a setup error.
int run_uac(const UacOptions& options);

}  // namespace sara::loadgen
