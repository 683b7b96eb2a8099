// SPDX-License-Identifier: GPL-2.0-or-later
// sarad's composition root: parses the command line and hands over to the mode asked for.
#include <malloc.h>

#include <iostream>
#include <string>
#include <vector>

#include "common/util/log.hpp"
#include "daemon/dispatch/dispatcher_daemon.hpp"
#include "daemon/replay/replay.hpp"

namespace {

constexpr const char* kUsage =
    "usage: sarad --config FILE          run the dispatcher (foreground; SIGTERM stops, SIGHUP reloads)\n"
    "       sarad --check-config FILE    validate a config, print every error as file:line:col\n"
    "       sarad --withdraw-routes FILE delete the VIP routes route_announce put in its table\n"
    "       sarad replay --vip ADDR [--service PROTO/TRANSPORT/PORT ...] [--json] CAPTURE.pcap\n";

}  // namespace

int main(int argc, char** argv) {
    // No fastbins: a freed small chunk is merged at once. With them, the million Call-ID
    // strings freed by a mass expiry waited in the fastbins until the next large allocation,
    // which then merged them all in one go: 4 ms of one thread's CPU inside a hold of the
    // queues' lock (make bench-table, the save's piece).
    mallopt(M_MXFAST, 0);
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && args[0] == "replay")
        return sara::replay_main(std::vector<std::string>(args.begin() + 1, args.end()), std::cout, std::cerr);
    if (args.size() == 2 && args[0] == "--check-config") return sara::check_config(args[1]);
    if (args.size() == 2 && args[0] == "--withdraw-routes") {
        sara::Logger log;
        return sara::withdraw_routes(args[1], log);
    }
    if (args.size() == 2 && args[0] == "--config") {
        sara::Logger log;
        return sara::run_dispatcher(args[1], log);
    }
    std::cerr << kUsage;
    return 2;
}
