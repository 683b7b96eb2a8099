// SPDX-License-Identifier: GPL-2.0-or-later
// `forwarding.fast_path: bpf` in the running dispatcher: where the program's object is, the
// spec and targets it gets from the config, and the session table's view of its flow map
// (FastPathFlows). daemon/forward/bpf_fast_path.hpp owns the program; this file only connects it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/config/dispatcher_config.hpp"
#include "daemon/forward/bpf_fast_path.hpp"
#include "daemon/identify/fast_path_endpoints.hpp"
#include "daemon/identify/fast_path_flows.hpp"
#include "daemon/identify/media_port_map.hpp"

namespace sara {

// forwarding.bpf.object, else sara_fast_path.bpf.o next to the running sarad (a build tree),
// else the packaged /usr/lib/sara/sara_fast_path.bpf.o.
std::string bpf_object_path(const BpfConfig& config);
BpfFastPathSpec bpf_fast_path_spec(const DispatcherConfig& config);
std::vector<BpfNodeTarget> bpf_node_targets(const std::vector<NodeConfig>& nodes);
std::vector<std::pair<PortRange, NodeId>> bpf_media_ranges(const MediaPortMap& ranges);

// A BpfFastPath's flow map as FastPathFlows (the table and the pipeline reach it through
// FastPathEndpoints, which indexes it by client endpoint).
class BpfFlowMap final : public FastPathFlows {
public:
    explicit BpfFlowMap(BpfFastPath& bpf) : bpf_(bpf) {}
    bool put(const FlowKey& key, NodeId node) override { return bpf_.put_flow(key, node); }
    void erase(const FlowKey& key) override { bpf_.delete_flow(key); }
    std::optional<uint32_t> idle_ms(const FlowKey& key) const override { return bpf_.flow_idle_ms(key); }

private:
    BpfFastPath& bpf_;
};

}  // namespace sara
