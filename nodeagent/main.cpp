// SPDX-License-Identifier: GPL-2.0-or-later
// sara-nodeagent's composition root: parses the command line and hands over to the daemon
// (agent.hpp) or to a control-socket client command.
#include <chrono>
#include <ctime>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config/nodeagent_config.hpp"
#include "common/net/line_control_client.hpp"
#include "common/util/log.hpp"
#include "nodeagent/agent.hpp"
#include "nodeagent/control_protocol.hpp"
#include "nodeagent/status_text.hpp"

namespace {

using namespace sara;
using namespace sara::nodeagent;

constexpr const char* kDefaultConfig = "/etc/sara/nodeagent.yaml";

constexpr const char* kUsage =
    "usage: sara-nodeagent --config FILE          run the node agent (foreground; SIGTERM stops and\n"
    "                                             undoes the node setup, SIGHUP reloads)\n"
    "       sara-nodeagent --check-config FILE    validate a config, print every error as file:line:col\n"
    "       sara-nodeagent drain [--at TIME]      announce a planned failure at TIME (Unix seconds or\n"
    "                                             +SECONDS; default now): heartbeats carry flag 2\n"
    "       sara-nodeagent undrain                withdraw it: one heartbeat with flag 3, then 0/1\n"
    "       sara-nodeagent status [--json]        what the running agent sends\n"
    "   drain, undrain and status reach the agent through control.socket of --config FILE\n"
    "   (default /etc/sara/nodeagent.yaml), or --socket PATH.\n";

struct ClientOptions {
    std::optional<std::string> config;
    std::optional<std::string> socket;
    std::optional<std::string> at;
    bool json = false;
};

// Parses the options after a client command; nullopt after printing the problem.
std::optional<ClientOptions> parse_client_options(const std::string& command, const std::vector<std::string>& args) {
    ClientOptions options;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        const bool has_value = i + 1 < args.size();
        if (a == "--config" && has_value) options.config = args[++i];
        else if (a == "--socket" && has_value) options.socket = args[++i];
        else if (a == "--at" && has_value && command == "drain") options.at = args[++i];
        else if (a == "--json" && command == "status") options.json = true;
        else {
            std::cerr << "sara-nodeagent " << command << ": unexpected argument '" << a << "'\n" << kUsage;
            return std::nullopt;
        }
    }
    return options;
}

// The control socket: --socket, else control.socket of the config (the default config may be
// absent: then the default socket path).
std::optional<std::string> socket_path(const ClientOptions& options) {
    if (options.socket) return options.socket;
    const std::string path = options.config.value_or(kDefaultConfig);
    const ConfigLoad<NodeAgentConfig> load = load_nodeagent_config(path);
    if (load.ok()) return load.config.control.socket;
    if (!options.config && load.errors.size() == 1 && load.errors[0].line == 0)
        return AgentControlConfig{}.socket;  // no readable default config
    std::cerr << format_config_errors(load.errors);
    return std::nullopt;
}

int client_main(const std::string& command, const std::vector<std::string>& args) {
    const std::optional<ClientOptions> options = parse_client_options(command, args);
    if (!options) return 2;
    ControlRequest request;
    if (command == "drain") {
        request.kind = ControlRequest::Kind::drain;
        const uint32_t now = static_cast<uint32_t>(std::time(nullptr));
        std::string error;
        const std::optional<uint32_t> at = options->at ? parse_drain_time(*options->at, now, &error) : now;
        if (!at) {
            std::cerr << "sara-nodeagent drain --at: " << error << "\n";
            return 2;
        }
        request.drain_at = *at;
    } else if (command == "undrain") {
        request.kind = ControlRequest::Kind::undrain;
    } else {
        request.kind = ControlRequest::Kind::status;
    }
    const std::optional<std::string> path = socket_path(*options);
    if (!path) return 1;
    const LineControlReply reply =
        call_line_control(*path, format_control_request(request), "sara-nodeagent", std::chrono::seconds(3));
    if (!reply.error.empty()) {
        std::cerr << "sara-nodeagent " << command << ": " << reply.error << "\n";
        return 1;
    }
    const nlohmann::json doc = nlohmann::json::parse(reply.body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        std::cerr << "sara-nodeagent " << command << ": unreadable reply: " << reply.body.substr(0, 200) << "\n";
        return 1;
    }
    if (doc.value("ok", false) != true) {
        std::cerr << "sara-nodeagent " << command << ": " << doc.value("error", std::string("failed")) << "\n";
        return 1;
    }
    if (command == "status") {
        std::cout << (options->json ? doc.dump() + "\n" : format_status_text(doc));
    } else if (command == "drain") {
        const std::time_t at = static_cast<std::time_t>(request.drain_at);
        char when[64] = "?";
        std::strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&at));
        std::cout << "draining: planned failure at " << when << " (" << request.drain_at
                  << "); heartbeats carry flag 2 until undrain\n";
    } else {
        std::cout << (doc.value("was_draining", false) ? "undrained: the next heartbeat carries flag 3\n"
                                                       : "not draining: nothing to withdraw\n");
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() == 2 && args[0] == "--check-config") return sara::nodeagent::check_config(args[1]);
    if (args.size() == 2 && args[0] == "--config") {
        const sara::Logger log;
        return sara::nodeagent::run_agent(args[1], log);
    }
    if (!args.empty() && (args[0] == "drain" || args[0] == "undrain" || args[0] == "status"))
        return client_main(args[0], std::vector<std::string>(args.begin() + 1, args.end()));
    std::cerr << kUsage;
    return 2;
}
