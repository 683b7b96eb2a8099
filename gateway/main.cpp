// SPDX-License-Identifier: GPL-2.0-or-later
// sara-gatewayd's composition root: parses the command line and hands over to the daemon
// (gateway.hpp) or, for `status`, asks the running one over its control socket.
#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config/gateway_config.hpp"
#include "common/net/line_control_client.hpp"
#include "common/util/log.hpp"
#include "gateway/gateway.hpp"

namespace {

constexpr const char* kDefaultConfig = "/etc/sara/gateway.yaml";

constexpr const char* kUsage =
    "usage: sara-gatewayd [--config FILE]         run the gateway (foreground; default config\n"
    "                                             /etc/sara/gateway.yaml). SIGTERM/SIGINT stop,\n"
    "                                             SIGHUP reloads, SIGUSR1 logs every counter\n"
    "       sara-gatewayd --check-config FILE     validate a config, print every error as file:line:col\n"
    "       sara-gatewayd status [--config FILE | --socket PATH]\n"
    "                                             the running gateway's capture state and counters\n"
    "                                             (JSON), through control.socket of FILE (default\n"
    "                                             /etc/sara/gateway.yaml) or PATH\n";

// The socket `status` asks: --socket, else control.socket of the config (the default config may
// be absent or unreadable: then the default socket path). nullopt after printing the errors of
// a config named with --config.
std::optional<std::string> socket_path(const std::vector<std::string>& args) {
    if (args.size() == 2 && args[0] == "--socket") return args[1];
    const bool named = args.size() == 2 && args[0] == "--config";
    const sara::ConfigLoad<sara::GatewayConfig> load = sara::load_gateway_config(named ? args[1] : kDefaultConfig);
    if (load.ok()) return load.config.control.socket;
    if (!named) return sara::GatewayControlConfig{}.socket;
    std::cerr << sara::format_config_errors(load.errors);
    return std::nullopt;
}

int status_main(const std::vector<std::string>& args) {
    if (!(args.empty() || (args.size() == 2 && (args[0] == "--config" || args[0] == "--socket")))) {
        std::cerr << kUsage;
        return 2;
    }
    const std::optional<std::string> path = socket_path(args);
    if (!path) return 1;
    const sara::LineControlReply reply =
        sara::call_line_control(*path, "status", "sara-gatewayd", std::chrono::seconds(3));
    if (!reply.error.empty()) {
        std::cerr << "sara-gatewayd status: " << reply.error << "\n";
        return 1;
    }
    const nlohmann::json doc = nlohmann::json::parse(reply.body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        std::cerr << "sara-gatewayd status: unreadable reply: " << reply.body.substr(0, 200) << "\n";
        return 1;
    }
    if (doc.value("ok", false) != true) {
        std::cerr << "sara-gatewayd status: " << doc.value("error", std::string("failed")) << "\n";
        return 1;
    }
    std::cout << doc.dump(2) << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 2 && args[0] == "--check-config") return sara::gateway::check_config(args[1]);
    if (!args.empty() && args[0] == "status") return status_main(std::vector<std::string>(args.begin() + 1, args.end()));
    if (args.empty() || (args.size() == 2 && args[0] == "--config")) {
        const sara::Logger log;
        return sara::gateway::run_gateway(args.empty() ? kDefaultConfig : args[1], log);
    }
    std::cerr << kUsage;
    return 2;
}
