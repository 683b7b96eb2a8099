// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/dispatch/bpf_fast_path_setup.hpp"

#include <unistd.h>

#include <climits>
#include <filesystem>

namespace sara {

namespace {
constexpr const char* kObjectName = "sara_fast_path.bpf.o";
constexpr const char* kPackagedObject = "/usr/lib/sara/sara_fast_path.bpf.o";
}  // namespace

std::string bpf_object_path(const BpfConfig& config) {
    if (!config.object.empty()) return config.object;
    char self[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        const std::filesystem::path beside = std::filesystem::path(std::string(self, size_t(n))).parent_path() / kObjectName;
        std::error_code ec;
        if (std::filesystem::exists(beside, ec)) return beside.string();
    }
    return kPackagedObject;
}

BpfFastPathSpec bpf_fast_path_spec(const DispatcherConfig& config) {
    BpfFastPathSpec spec;
    spec.object_path = bpf_object_path(config.forwarding.bpf);
    spec.client_interface = config.forwarding.bpf.interface;
    spec.lan_interface = config.lan_interface;
    spec.vip = config.vip;
    spec.hook = config.forwarding.bpf.hook == BpfAttachHook::xdp ? BpfHook::xdp : BpfHook::tc;
    spec.max_flows = config.forwarding.bpf.max_flows;
    return spec;
}

std::vector<BpfNodeTarget> bpf_node_targets(const std::vector<NodeConfig>& nodes) {
    std::vector<BpfNodeTarget> targets;
    for (const NodeConfig& n : nodes) targets.push_back(BpfNodeTarget{n.id, n.mac.bytes});
    return targets;
}

std::vector<std::pair<PortRange, NodeId>> bpf_media_ranges(const MediaPortMap& ranges) {
    std::vector<std::pair<PortRange, NodeId>> out;
    for (const MediaPortMap::Range& r : ranges.ranges()) out.emplace_back(r.ports, r.node);
    return out;
}

}  // namespace sara
