// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/forward/kernel_setup.hpp"

#include <fcntl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "daemon/forward/iptables_rules.hpp"
#include "daemon/forward/rtnetlink.hpp"

namespace sara {
namespace {

// The last ip rule priority an owned range may reach: the main table's rule sits at 32766.
constexpr uint32_t kMainRulePriority = 32766;

class KernelSetupCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "sara.kernel_setup"; }
    std::string message(int value) const override {
        switch (static_cast<KernelSetupErrc>(value)) {
            case KernelSetupErrc::invalid_spec: return "invalid kernel setup specification";
            case KernelSetupErrc::command_failed: return "iptables command failed";
        }
        return "unknown kernel setup error";
    }
};

// RT_TABLE_UNSPEC, RT_TABLE_DEFAULT, RT_TABLE_MAIN, RT_TABLE_LOCAL: the kernel's, never ours.
bool is_reserved_table(uint32_t table) {
    return table == RT_TABLE_UNSPEC || table == RT_TABLE_DEFAULT || table == RT_TABLE_MAIN || table == RT_TABLE_LOCAL;
}

// The rule priorities and routing tables a call may touch (both use the same numbers).
struct OwnedRange {
    uint32_t first = 0;
    uint32_t last = 0;  // inclusive
    bool contains(uint32_t value) const { return value >= first && value <= last; }
};

OwnedRange whole_range(const KernelSetupSpec& spec) { return {spec.table_base, spec.table_base + kOwnedRangeSize - 1}; }
OwnedRange node_range(const KernelSetupSpec& spec, uint16_t id) { return {node_table(spec, id), node_table(spec, id)}; }

std::error_code check_table_base(const KernelSetupSpec& spec, std::string* error_text) {
    if (spec.table_base > kMainRulePriority - kOwnedRangeSize) {
        append_error_text(error_text, "table_base " + std::to_string(spec.table_base) + ": the ip rule priorities " +
                                          "table_base..table_base+255 must stay below the main rule (32766)");
        return KernelSetupErrc::invalid_spec;
    }
    return {};
}

// Interface names become /proc/sys path components: refuse anything that is not a plain name.
bool is_plain_interface_name(const std::string& name) {
    if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..") return false;
    return std::none_of(name.begin(), name.end(), [](char c) { return c == '/' || c == ':' || c <= ' ' || c == 0x7f; });
}

std::error_code check_node(const KernelSetupSpec& spec, const NodeRoute& node, std::string* error_text) {
    const std::string where = "node " + std::to_string(node.id) + ": ";
    std::error_code ec;
    auto fail = [&](const std::string& message) {
        append_error_text(error_text, where + message);
        ec = KernelSetupErrc::invalid_spec;
    };
    if (node.id < kMinNodeId || node.id > kMaxNodeId) {
        fail("id must be " + std::to_string(kMinNodeId) + ".." + std::to_string(kMaxNodeId));
    } else if (!spec.raw_mode && is_reserved_table(node_table(spec, node.id))) {
        fail("routing table " + std::to_string(node_table(spec, node.id)) + " (table_base " +
             std::to_string(spec.table_base) + " + id) is one of the kernel's (253 default, 254 main, 255 local); " +
             "choose another id or table_base");
    }
    if (!node.address.family || node.address.is_unspecified())
        fail("address " + (node.address.family ? node.address.to_string() : std::string("(unset)")) +
             " must be a unicast address");
    else if (spec.vip.has_v4() && !node.address.is_v4())
        fail("address " + node.address.to_string() + " must be IPv4 with an IPv4 VIP (the next hop of its IPv4 route)");
    const bool zero = std::all_of(node.mac.begin(), node.mac.end(), [](uint8_t b) { return b == 0; });
    if (zero || (node.mac[0] & 1)) fail("MAC must be a non-zero unicast address");
    return ec;
}

std::error_code lan_ifindex(const std::string& lan, int& ifindex, std::string* error_text) {
    ifindex = static_cast<int>(if_nametoindex(lan.c_str()));
    if (ifindex > 0) return {};
    const int e = errno;
    append_error_text(error_text, "lan_interface " + lan + ": " + errno_text(e));
    return errno_code(e);
}

// Brings the routing objects in `range` to exactly `desired` (see kernel_setup.hpp for what
// is ours). `forget` are nodes whose next hop's permanent neighbour on lan_ifindex
// goes unless desired. Installs before it deletes, so a live setup is never without a route.
// Stops at the first failed addition; carries on through failed deletions (cleanup should be
// as complete as it can be) and returns the first error.
class RoutingSync {
public:
    RoutingSync(RtNetlink& nl, const KernelSetupSpec& spec, OwnedRange range, int lan_ifindex, std::string* error_text)
        : nl_(nl), spec_(spec), range_(range), lan_ifindex_(lan_ifindex), error_text_(error_text) {}

    std::error_code run(const std::vector<NodeRoute>& desired, const std::vector<NodeRoute>& forget) {
        std::vector<NeighbourEntry> neighbours;
        std::vector<RouteEntry> routes_before;
        if (auto ec = nl_.dump_neighbours(neighbours, error_text_)) return ec;
        if (auto ec = nl_.dump_routes(routes_before, error_text_)) return ec;

        for (const auto& node : desired) {
            const IpAddress hop = next_hop(node);
            if (auto ec = nl_.replace_permanent_neighbour(lan_ifindex_, hop, node.mac, error_text_)) return ec;
            if (auto ec = nl_.replace_default_route(node_table(spec_, node.id), hop, lan_ifindex_, error_text_))
                return ec;
        }
        if (auto ec = sync_rules(desired)) return ec;
        delete_stale_routes(desired);
        delete_stale_neighbours(desired, neighbours, routes_before, forget);
        return first_error_;
    }

    // The node's gateway address in this family's table (see the contract in the header).
    IpAddress next_hop(const NodeRoute& node) const {
        return nl_.family() == AF_INET6 ? node_link_local(node.mac) : node.address;
    }

private:
    bool owns_table(uint32_t table) const { return range_.contains(table) && !is_reserved_table(table); }

    void note(std::error_code ec) {
        if (ec && !first_error_) first_error_ = ec;
    }

    std::error_code sync_rules(const std::vector<NodeRoute>& desired) {
        std::vector<RuleEntry> rules;
        if (auto ec = nl_.dump_rules(rules, error_text_)) return ec;
        std::set<uint16_t> present;
        for (const auto& rule : rules) {
            if (!range_.contains(rule.priority) || !rule.fwmark) continue;
            const auto node = std::find_if(desired.begin(), desired.end(), [&](const NodeRoute& n) {
                return rule.priority == node_table(spec_, n.id) && rule.fwmark_lookup_only && *rule.fwmark == n.id &&
                       rule.fwmask == kNodeMarkMask && rule.table == node_table(spec_, n.id);
            });
            // Keep the first exact match of a desired rule; delete duplicates and everything else.
            if (node != desired.end() && present.insert(node->id).second) continue;
            note(nl_.delete_dumped(rule.message, RTM_DELRULE,
                                   "rtnetlink: delete rule pref " + std::to_string(rule.priority), error_text_));
        }
        for (const auto& node : desired) {
            if (present.count(node.id)) continue;
            const uint32_t table = node_table(spec_, node.id);
            if (auto ec = nl_.add_fwmark_rule(table, node.id, kNodeMarkMask, table, error_text_)) return ec;
        }
        return {};
    }

    // Reads the tables again after the replacements: anything in them that is not exactly a
    // desired default route goes (other routes, other metrics, tables of removed nodes).
    void delete_stale_routes(const std::vector<NodeRoute>& desired) {
        std::vector<RouteEntry> routes;
        if (auto ec = nl_.dump_routes(routes, error_text_)) return note(ec);
        for (const auto& route : routes) {
            if (!owns_table(route.table)) continue;
            const bool wanted = std::any_of(desired.begin(), desired.end(), [&](const NodeRoute& n) {
                return route.table == node_table(spec_, n.id) && route.dst_len == 0 && route.tos == 0 &&
                       route.type == RTN_UNICAST && route.gateway == next_hop(n) && route.oif == lan_ifindex_ &&
                       // IPv6 routes carry the default metric 1024, IPv4 ones 0 and onlink.
                       (nl_.family() == AF_INET6 ? route.priority == 1024
                                                 : route.priority == 0 && (route.flags & RTNH_F_ONLINK));
            });
            if (wanted) continue;
            note(nl_.delete_dumped(route.message, RTM_DELROUTE,
                                   "rtnetlink: delete route in table " + std::to_string(route.table), error_text_));
        }
    }

    // Permanent neighbours that go: those of gateways a previous run routed to (found in the
    // owned tables before the replacements) and those of the forgotten nodes on the LAN, unless
    // a desired node still uses that address on that interface.
    void delete_stale_neighbours(const std::vector<NodeRoute>& desired, const std::vector<NeighbourEntry>& neighbours,
                                 const std::vector<RouteEntry>& routes_before,
                                 const std::vector<NodeRoute>& forget) {
        for (const auto& neighbour : neighbours) {
            if (!(neighbour.state & NUD_PERMANENT)) continue;
            const bool still_wanted = std::any_of(desired.begin(), desired.end(), [&](const NodeRoute& n) {
                return next_hop(n) == neighbour.address && neighbour.ifindex == lan_ifindex_;
            });
            if (still_wanted) continue;
            const bool was_gateway = std::any_of(routes_before.begin(), routes_before.end(), [&](const RouteEntry& r) {
                return owns_table(r.table) && r.gateway == neighbour.address &&
                       (r.oif == 0 || r.oif == neighbour.ifindex);
            });
            const bool forgotten =
                neighbour.ifindex == lan_ifindex_ && std::any_of(forget.begin(), forget.end(), [&](const NodeRoute& n) {
                    return next_hop(n) == neighbour.address;
                });
            if (!was_gateway && !forgotten) continue;
            note(nl_.delete_dumped(neighbour.message, RTM_DELNEIGH,
                                   "rtnetlink: delete neighbour " + neighbour.address.to_string() + " dev " +
                                       interface_name(neighbour.ifindex),
                                   error_text_));
        }
    }

    RtNetlink& nl_;
    const KernelSetupSpec& spec_;
    OwnedRange range_;
    int lan_ifindex_;
    std::string* error_text_;
    std::error_code first_error_;
};

// `name` is the dotted sysctl name for messages; `relative` its path under /proc/sys (kept
// apart because an interface name may itself contain dots).
std::error_code write_sysctl(const std::string& name, const std::string& relative, const std::string& value,
                             std::string* error_text) {
    const std::string path = "/proc/sys/" + relative;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    int e = 0;
    if (fd < 0) {
        e = errno;
    } else {
        const std::string text = value + "\n";
        errno = 0;
        if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) e = errno ? errno : EIO;
        ::close(fd);
    }
    if (e == 0) return {};
    std::string message = "sysctl " + name + "=" + value + " (" + path + "): " + errno_text(e);
    if (e == ENOENT && name.find("nf_conntrack") != std::string::npos)
        message += " (conntrack is not in use in this network namespace yet)";
    append_error_text(error_text, message);
    return errno_code(e);
}

// 4, and 6 when the kernel has IPv6 (a kernel booted with ipv6.disable=1 has no
// /proc/sys/net/ipv6, and there is nothing to set up or clean in that family).
std::vector<int> ip_versions() {
    if (::access("/proc/sys/net/ipv6", F_OK) == 0) return {4, 6};
    return {4};
}

uint8_t family_of(int ip_version) { return ip_version == 6 ? AF_INET6 : AF_INET; }

bool has_vip(const KernelSetupSpec& spec, int ip_version) {
    return ip_version == 6 ? spec.vip.has_v6() : spec.vip.has_v4();
}

}  // namespace

const std::error_category& kernel_setup_category() {
    static const KernelSetupCategory category;
    return category;
}

std::error_code make_error_code(KernelSetupErrc e) { return {static_cast<int>(e), kernel_setup_category()}; }

uint32_t node_table(const KernelSetupSpec& spec, uint16_t node_id) { return spec.table_base + node_id; }

std::error_code validate_kernel_setup_spec(const KernelSetupSpec& spec, std::string* error_text) {
    std::error_code result;
    auto fail = [&](const std::string& message) {
        append_error_text(error_text, message);
        result = KernelSetupErrc::invalid_spec;
    };
    if (spec.vip.empty() || (spec.vip.has_v4() && spec.vip.v4.is_unspecified()) ||
        (spec.vip.has_v6() && spec.vip.v6.is_unspecified()))
        fail("vip: must be set to a unicast IPv4 address, a unicast IPv6 address, or one of each");

    if (spec.lan_interface.empty()) {
        fail("lan_interface: required (the per-node routes and static neighbours are bound to it)");
    } else if (!is_plain_interface_name(spec.lan_interface)) {
        fail("lan_interface '" + spec.lan_interface + "': not a valid interface name");
    }
    if (spec.queue_count == 0) fail("queue count must be at least 1");
    if (uint32_t{spec.queue_first} + spec.queue_count - 1 > 0xffff)
        fail("queues " + std::to_string(spec.queue_first) + ".." +
             std::to_string(uint32_t{spec.queue_first} + spec.queue_count - 1) + " exceed queue number 65535");
    for (const auto& [proto, port] : spec.signalling_ports)
        if (port == 0) fail(std::string("signalling port ") + to_string(proto) + "/0: port must be 1..65535");
    if (check_table_base(spec, error_text)) result = KernelSetupErrc::invalid_spec;

    std::set<uint16_t> ids;
    std::set<std::array<uint8_t, 16>> addresses;
    for (const auto& node : spec.nodes) {
        if (check_node(spec, node, error_text)) result = KernelSetupErrc::invalid_spec;
        if (!ids.insert(node.id).second) fail("node " + std::to_string(node.id) + ": duplicate id");
        if (node.address.family && !addresses.insert(node.address.bytes).second)
            fail("node " + std::to_string(node.id) + ": address " + node.address.to_string() + " used twice");
    }
    return result;
}

IpAddress node_link_local(const std::array<uint8_t, 6>& mac) {
    uint8_t bytes[16] = {0xfe, 0x80};
    bytes[8] = mac[0] ^ 0x02;  // the universal/local bit, inverted (modified EUI-64)
    bytes[9] = mac[1];
    bytes[10] = mac[2];
    bytes[11] = 0xff;
    bytes[12] = 0xfe;
    bytes[13] = mac[3];
    bytes[14] = mac[4];
    bytes[15] = mac[5];
    return IpAddress::v6(bytes);
}

std::error_code apply_dispatcher_sysctls(const std::string& lan_interface, bool ipv6, std::string* error_text) {
    if (!is_plain_interface_name(lan_interface)) {
        append_error_text(error_text, "sysctls: lan_interface '" + lan_interface + "' is not a valid interface name");
        return KernelSetupErrc::invalid_spec;
    }
    struct Setting {
        std::string name, relative, value;
    };
    std::vector<Setting> settings = {
        {"net.ipv4.ip_forward", "net/ipv4/ip_forward", "1"},
        // One-armed TCP: pick connections up mid-stream and accept windows conntrack never
        // saw negotiated (the dispatcher sees one direction only; KERNEL-NOTES snag 2).
        {"net.netfilter.nf_conntrack_tcp_loose", "net/netfilter/nf_conntrack_tcp_loose", "1"},
        {"net.netfilter.nf_conntrack_tcp_be_liberal", "net/netfilter/nf_conntrack_tcp_be_liberal", "1"},
        // Packets leave by the interface they came in on: no ICMP redirects towards clients.
        // The kernel sends one if either `all` or the interface's own setting is on.
        {"net.ipv4.conf.all.send_redirects", "net/ipv4/conf/all/send_redirects", "0"},
        {"net.ipv4.conf." + lan_interface + ".send_redirects", "net/ipv4/conf/" + lan_interface + "/send_redirects",
         "0"},
    };
    // IPv6 has no send_redirects: ip6tables' SARA-OUT drops outgoing redirects instead.
    if (ipv6) settings.push_back({"net.ipv6.conf.all.forwarding", "net/ipv6/conf/all/forwarding", "1"});
    std::error_code first;
    for (const auto& setting : settings) {
        const auto ec = write_sysctl(setting.name, setting.relative, setting.value, error_text);
        if (ec && !first) first = ec;
    }
    return first;
}

std::error_code KernelSetup::install(const KernelSetupSpec& spec, std::string* error_text) const {
    if (auto ec = validate_kernel_setup_spec(spec, error_text)) return ec;
    int ifindex = 0;
    if (auto ec = lan_ifindex(spec.lan_interface, ifindex, error_text)) return ec;
    for (const int version : ip_versions()) {
        const bool with_vip = has_vip(spec, version);
        // A family without a VIP gets a cleanup of what a previous run may have left, on a
        // best-effort basis: a host whose ip6tables cannot run (no IPv6 netfilter) must still
        // start an IPv4-only dispatcher, and has nothing of ours in that family anyway.
        std::string ignored;
        std::string* text = with_vip ? error_text : &ignored;
        RtNetlink nl(family_of(version));
        if (auto ec = nl.open(text)) {
            if (with_vip) return ec;
            continue;
        }
        RoutingSync sync(nl, spec, whole_range(spec), ifindex, text);
        // Raw mode routes nothing: its families are cleared like one without a VIP.
        const bool routed = !spec.raw_mode && with_vip;
        std::error_code ec = routed ? sync.run(spec.nodes, {}) : sync.run({}, spec.nodes);
        if (!ec) ec = apply_iptables(programs_for(version), sara_iptables_rules(spec, version), text);
        if (ec && with_vip) return ec;
    }
    if (spec.raw_mode) return {};
    return apply_dispatcher_sysctls(spec.lan_interface, spec.vip.has_v6(), error_text);
}

std::error_code KernelSetup::remove(const KernelSetupSpec& spec, std::string* error_text) const {
    if (auto ec = check_table_base(spec, error_text)) return ec;
    // A vanished interface took its routes and neighbours with it; rules and other tables
    // still need cleaning, so carry on with index 0 (matches no neighbour).
    const int ifindex = static_cast<int>(if_nametoindex(spec.lan_interface.c_str()));
    std::error_code first;
    for (const int version : ip_versions()) {
        // As in install: a family without a VIP in the spec is cleaned on a best-effort basis.
        const bool with_vip = has_vip(spec, version);
        std::string ignored;
        std::string* text = with_vip ? error_text : &ignored;
        auto note = [&](std::error_code ec) {
            if (ec && with_vip && !first) first = ec;
        };
        // iptables first: stop queueing and marking before the routes the marks lead to go.
        note(apply_iptables(programs_for(version), {}, text));
        RtNetlink nl(family_of(version));
        if (auto ec = nl.open(text)) {
            note(ec);
            continue;
        }
        RoutingSync sync(nl, spec, whole_range(spec), ifindex, text);
        note(sync.run({}, spec.nodes));
    }
    return first;
}

std::error_code KernelSetup::add_node(const KernelSetupSpec& spec, const NodeRoute& node,
                                      std::string* error_text) const {
    if (auto ec = check_table_base(spec, error_text)) return ec;
    if (auto ec = check_node(spec, node, error_text)) return ec;
    int ifindex = 0;
    if (auto ec = lan_ifindex(spec.lan_interface, ifindex, error_text)) return ec;
    for (const int version : ip_versions()) {
        if (!has_vip(spec, version)) continue;
        RtNetlink nl(family_of(version));
        if (auto ec = nl.open(error_text)) return ec;
        RoutingSync sync(nl, spec, node_range(spec, node.id), ifindex, error_text);
        if (auto ec = sync.run({node}, {})) return ec;
    }
    return {};
}

std::error_code KernelSetup::remove_node(const KernelSetupSpec& spec, const NodeRoute& node,
                                         std::string* error_text) const {
    if (auto ec = check_table_base(spec, error_text)) return ec;
    if (node.id < kMinNodeId || node.id > kMaxNodeId) {
        append_error_text(error_text, "node " + std::to_string(node.id) + ": id must be " +
                                          std::to_string(kMinNodeId) + ".." + std::to_string(kMaxNodeId));
        return KernelSetupErrc::invalid_spec;
    }
    const int ifindex = static_cast<int>(if_nametoindex(spec.lan_interface.c_str()));
    std::error_code first;
    for (const int version : ip_versions()) {
        RtNetlink nl(family_of(version));
        if (auto ec = nl.open(error_text)) return ec;
        RoutingSync sync(nl, spec, node_range(spec, node.id), ifindex, error_text);
        if (auto ec = sync.run({}, {node}); ec && !first) first = ec;
    }
    return first;
}

IptablesPrograms KernelSetup::programs_for(int ip_version) const {
    if (ip_version == 4) return programs_;
    IptablesPrograms six = programs_;
    six.restore = programs_.restore6;
    six.save = programs_.save6;
    return six;
}

}  // namespace sara
