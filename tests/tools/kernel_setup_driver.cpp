// SPDX-License-Identifier: GPL-2.0-or-later
// Drives daemon/forward/kernel_setup from the command line, for the integration tests
// (tests/integration/test_kernel_setup.py), which run it inside their own network namespace.
//
//   kernel_setup_driver install|remove|add-node|remove-node --vip ADDR --lan IF
//       --node ID,ADDR,MAC ... [--queues FIRST,COUNT] [--port udp/5060 ...] [--no-bypass]
//       [--raw-mode] [--table-base N] [--degrade P] [--iptables-restore PROG] [--iptables-save PROG]
//
// add-node / remove-node apply to each --node given. Exit status 0 on success, 1 on any
// error (the messages on stderr), 2 on a usage error.
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/net/mac_address.hpp"
#include "daemon/forward/kernel_setup.hpp"

namespace {

using namespace sara;

int usage(const std::string& problem) {
    std::fprintf(stderr,
                 "kernel_setup_driver: %s\n"
                 "usage: kernel_setup_driver install|remove|add-node|remove-node --vip ADDR --lan IF\n"
                 "         --node ID,ADDR,MAC ... [--queues FIRST,COUNT] [--port udp/5060 ...] [--no-bypass]\n"
                 "         [--raw-mode] [--table-base N] [--degrade P] [--iptables-restore PROG] [--iptables-save PROG]\n",
                 problem.c_str());
    return 2;
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && ptr == text.data() + text.size();
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    for (size_t start = 0;;) {
        const size_t end = text.find(separator, start);
        parts.push_back(text.substr(start, end - start));
        if (end == std::string_view::npos) return parts;
        start = end + 1;
    }
}

// "ID,ADDR,MAC"; the MAC's own ':' do not clash with the ',' separator.
bool parse_node(std::string_view text, NodeRoute& node) {
    const auto parts = split(text, ',');
    if (parts.size() != 3 || !parse_number(parts[0], node.id)) return false;
    const auto address = IpAddress::parse(parts[1]);
    const auto mac = MacAddress::parse(parts[2]);
    if (!address || !mac) return false;
    node.address = *address;
    node.mac = mac->bytes;
    return true;
}

bool parse_port(std::string_view text, std::pair<IpProto, uint16_t>& out) {
    const auto parts = split(text, '/');
    if (parts.size() != 2 || !parse_number(parts[1], out.second)) return false;
    if (parts[0] == "udp") {
        out.first = IpProto::udp;
    } else if (parts[0] == "tcp") {
        out.first = IpProto::tcp;
    } else {
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage("no command");
    const std::string command = argv[1];
    if (command != "install" && command != "remove" && command != "add-node" && command != "remove-node")
        return usage("unknown command '" + command + "'");

    KernelSetupSpec spec;
    IptablesPrograms programs;
    for (int i = 2; i < argc; ++i) {
        const std::string_view option = argv[i];
        if (option == "--no-bypass") {
            spec.queue_bypass = false;
            continue;
        }
        if (option == "--raw-mode") {
            spec.raw_mode = true;
            continue;
        }
        if (i + 1 >= argc) return usage(std::string(option) + " needs a value");
        const std::string_view value = argv[++i];
        if (option == "--vip") {
            const auto vip = IpAddress::parse(value);
            if (!vip) return usage("--vip " + std::string(value) + ": not an address");
            spec.vip.add(*vip);  // twice (an IPv4 and an IPv6 address): dual stack
        } else if (option == "--lan") {
            spec.lan_interface = value;
        } else if (option == "--node") {
            NodeRoute node;
            if (!parse_node(value, node)) return usage("--node " + std::string(value) + ": expected ID,ADDR,MAC");
            spec.nodes.push_back(node);
        } else if (option == "--queues") {
            const auto parts = split(value, ',');
            if (parts.size() != 2 || !parse_number(parts[0], spec.queue_first) ||
                !parse_number(parts[1], spec.queue_count))
                return usage("--queues " + std::string(value) + ": expected FIRST,COUNT");
        } else if (option == "--port") {
            std::pair<IpProto, uint16_t> port;
            if (!parse_port(value, port)) return usage("--port " + std::string(value) + ": expected udp/N or tcp/N");
            spec.signalling_ports.push_back(port);
        } else if (option == "--table-base") {
            if (!parse_number(value, spec.table_base)) return usage("--table-base " + std::string(value));
        } else if (option == "--degrade") {
            const std::string text(value);
            char* end = nullptr;
            spec.degrade_probability = std::strtod(text.c_str(), &end);
            if (text.empty() || *end != '\0' || !(spec.degrade_probability >= 0 && spec.degrade_probability <= 1))
                return usage("--degrade " + text + ": expected a probability 0..1");
        } else if (option == "--iptables-restore") {
            programs.restore = value;
        } else if (option == "--iptables-save") {
            programs.save = value;
        } else {
            return usage("unknown option " + std::string(option));
        }
    }
    if (spec.lan_interface.empty()) return usage("--lan is required");

    const KernelSetup setup(programs);
    std::string error_text;
    std::error_code ec;
    if (command == "install") {
        ec = setup.install(spec, &error_text);
    } else if (command == "remove") {
        ec = setup.remove(spec, &error_text);
    } else {
        for (const auto& node : spec.nodes) {
            ec = command == "add-node" ? setup.add_node(spec, node, &error_text)
                                       : setup.remove_node(spec, node, &error_text);
            if (ec) break;
        }
    }
    if (ec) {
        std::fprintf(stderr, "kernel_setup_driver %s: %s\n%s\n", command.c_str(), ec.message().c_str(),
                     error_text.c_str());
        return 1;
    }
    return 0;
}
