// SPDX-License-Identifier: GPL-2.0-or-later
// saractl: the operator's view of a running sarad (DESIGN §10). Sends one or two request
// lines to the control socket and prints tables, or the JSON document with --json.
#include <chrono>
#include <iostream>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/net/line_control_client.hpp"
#include "saractl/cli_args.hpp"
#include "saractl/render.hpp"

namespace {

using namespace sara::ctl;

// One request; on failure prints why and returns the exit code in `exit_code`.
bool ask(const CtlArgs& args, const std::string& line, nlohmann::json* doc, int* exit_code) {
    const sara::LineControlReply reply = sara::call_line_control(args.socket, line, "sarad", std::chrono::seconds(5));
    if (!reply.error.empty()) {
        std::cerr << "saractl: " << reply.error << "\n";
        *exit_code = kExitUnreachable;
        return false;
    }
    *doc = nlohmann::json::parse(reply.body, nullptr, false);
    if (doc->is_discarded() || !doc->is_object()) {
        std::cerr << "saractl: sarad's answer to '" << line << "' is not a JSON object\n";
        *exit_code = kExitUnreachable;
        return false;
    }
    if (doc->contains("error")) {
        std::cerr << "saractl: sarad: " << (*doc)["error"].get<std::string>() << "\n";
        *exit_code = kExitRefused;
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string_view> words(argv + 1, argv + argc);
    const CtlParse parse = parse_ctl_args(words);
    if (!parse.ok()) {
        std::cerr << "saractl: " << parse.error << "\n\n" << usage_text();
        return kExitUsage;
    }
    const CtlArgs& args = parse.args;
    if (args.command == CtlCommand::help) {
        std::cout << usage_text();
        return kExitOk;
    }
    int exit_code = kExitOk;
    nlohmann::json doc;
    if (!ask(args, request_line(args.command, args), &doc, &exit_code)) return exit_code;
    std::string text;
    switch (args.command) {
    case CtlCommand::status: {
        nlohmann::json nodes;
        if (!ask(args, request_line(args.command, args, true), &nodes, &exit_code)) return exit_code;
        if (args.json) doc = {{"stats", doc}, {"nodes", nodes["nodes"]}};
        else text = render_status(doc, nodes);
        break;
    }
    case CtlCommand::nodes: text = render_nodes(doc); break;
    case CtlCommand::sessions:
        if (!args.key.empty() || !args.client.empty()) {
            text = render_lookup(doc);
            // Scripts can test for it: a call that is not in the table is not a success.
            if (doc.value("sessions", nlohmann::json::array()).empty()) exit_code = kExitRefused;
            break;
        }
        doc = filter_sessions(doc, args.node, args.limit);
        text = render_sessions(doc);
        break;
    case CtlCommand::stats: text = render_stats(doc); break;
    case CtlCommand::drain:
    case CtlCommand::undrain: text = render_drain(doc); break;
    case CtlCommand::role:
        text = render_role(doc);
        // keepalived's track script: not ready is a failure.
        if (args.ready && !doc.value("ready", false)) exit_code = kExitRefused;
        break;
    case CtlCommand::announce: text = render_announce(doc); break;
    case CtlCommand::help: break;
    }
    if (args.json) std::cout << doc.dump(2) << "\n";
    else std::cout << text;
    return exit_code;
}
