// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/dispatch/config_reload.hpp"

#include <algorithm>

namespace sara {
namespace {

const NodeConfig* find_node(const std::vector<NodeConfig>& nodes, NodeId id) {
    for (const NodeConfig& n : nodes)
        if (n.id == id) return &n;
    return nullptr;
}

std::string names(const std::vector<NodeConfig>& nodes) {
    std::string out;
    for (const NodeConfig& n : nodes) out += (out.empty() ? "" : ", ") + n.name;
    return out;
}

}  // namespace

ReloadPlan plan_reload(const DispatcherConfig& running, const DispatcherConfig& next) {
    ReloadPlan plan;
    plan.config = running;

    for (const NodeConfig& n : next.nodes) {
        const NodeConfig* old = find_node(running.nodes, n.id);
        if (!old) plan.added.push_back(n);
        else if (!(*old == n)) plan.changed.push_back(n);
    }
    for (const NodeConfig& n : running.nodes)
        if (!find_node(next.nodes, n.id)) plan.removed.push_back(n);
    plan.config.nodes = next.nodes;

    // Turning admission on or off swaps the pipeline's admission object: restart only.
    if (next.admission.enabled != running.admission.enabled) {
        plan.restart_only.push_back("admission.enabled");
    } else if (!(next.admission == running.admission)) {
        plan.admission_changed = true;
        plan.config.admission = next.admission;
    }
    if (!(next.scheduler == running.scheduler)) {
        plan.scheduler_changed = true;
        plan.config.scheduler = next.scheduler;
        // The forecast window T is also SA2C's (eq. 5-8).
        plan.admission_changed = plan.admission_changed || next.scheduler.window != running.scheduler.window;
    }

    auto restart_if = [&](bool differs, const char* section) {
        if (differs) plan.restart_only.push_back(section);
    };
    restart_if(!(next.vip == running.vip), "vip");
    restart_if(next.lan_interface != running.lan_interface, "lan_interface");
    restart_if(!(next.queue == running.queue), "queue");
    restart_if(!(next.forwarding == running.forwarding), "forwarding");
    restart_if(!same_services(next.services, running.services), "services");
    restart_if(next.health != running.health, "health");
    restart_if(!(next.auth == running.auth), "auth");
    restart_if(next.announce != running.announce, "announce");
    restart_if(next.sync != running.sync, "sync");
    restart_if(!(next.control == running.control), "control");
    restart_if(!(next.metrics == running.metrics), "metrics");
    restart_if(!(next.limits == running.limits), "limits");
    return plan;
}

std::string describe(const ReloadPlan& plan) {
    std::vector<std::string> parts;
    auto count = [](size_t n, const char* what) { return std::to_string(n) + (n == 1 ? " node " : " nodes ") + what; };
    if (!plan.added.empty()) parts.push_back(count(plan.added.size(), "added") + " (" + names(plan.added) + ")");
    if (!plan.removed.empty())
        parts.push_back(count(plan.removed.size(), "removed") + " (" + names(plan.removed) +
                        "; retired once their sessions end)");
    if (!plan.changed.empty()) parts.push_back(count(plan.changed.size(), "changed") + " (" + names(plan.changed) + ")");
    if (plan.admission_changed) parts.push_back("admission settings changed");
    if (plan.scheduler_changed) parts.push_back("scheduler changed");
    std::string out;
    for (const std::string& p : parts) out += (out.empty() ? "" : ", ") + p;
    if (out.empty()) out = "no change applied";
    if (!plan.restart_only.empty()) {
        out += "; changed but applied only at the next restart (running value kept): ";
        for (size_t i = 0; i < plan.restart_only.size(); ++i) out += (i ? ", " : "") + plan.restart_only[i];
    }
    return out;
}

}  // namespace sara
