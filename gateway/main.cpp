// SPDX-License-Identifier: GPL-2.0-or-later
// sara-gatewayd's composition root: parses the command line and hands over to the daemon
// (gateway.hpp).
#include <iostream>
#include <string>
#include <vector>

#include "common/util/log.hpp"
#include "gateway/gateway.hpp"

namespace {

constexpr const char* kDefaultConfig = "/etc/sara/gateway.yaml";

constexpr const char* kUsage =
    "usage: sara-gatewayd [--config FILE]         run the gateway (foreground; default config\n"
    "                                             /etc/sara/gateway.yaml). SIGTERM/SIGINT stop,\n"
    "                                             SIGHUP reloads, SIGUSR1 logs every counter\n"
    "       sara-gatewayd --check-config FILE     validate a config, print every error as file:line:col\n";

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 2 && args[0] == "--check-config") return sara::gateway::check_config(args[1]);
    if (args.empty() || (args.size() == 2 && args[0] == "--config")) {
        const sara::Logger log;
        return sara::gateway::run_gateway(args.empty() ? kDefaultConfig : args[1], log);
    }
    std::cerr << kUsage;
    return 2;
}
