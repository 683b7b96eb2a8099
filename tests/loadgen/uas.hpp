// SPDX-License-Identifier: GPL-2.0-or-later
// The stateless UAS: answers what arrives on its sockets (messages.hpp: answer_request) from
// the address the request came to, until SIGTERM/SIGINT or --max-seconds; then prints its
// counters as JSON on stdout.
#pragma once

#include <cstdint>

#include "tests/loadgen/messages.hpp"

namespace sara::loadgen {

struct UasOptions {
    Endpoint listen{"", 5060};
    int sockets = 1;                 // SO_REUSEPORT sockets on the one address
    double max_seconds = 600;
    uint16_t media_port = 6000;
    int buffer_bytes = 2 * 1024 * 1024;
};

int run_uas(const UasOptions& options);

}  // namespace sara::loadgen
