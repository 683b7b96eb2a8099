// SPDX-License-Identifier: GPL-2.0-or-later
// What an agent's reload (the gateway's, the node agent's) builds before it swaps anything
// in: the cluster key, re-read whether or not its path changed (the key may have been
// rotated), the sender to the dispatchers when their list changed, the control socket when
// its section changed. Built first, so that a reload that cannot have one of them changes
// nothing (DaemonLifecycle::reload keeps the running config).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/net/datagram_sender.hpp"
#include "common/net/line_control_server.hpp"
#include "common/util/log.hpp"
#include "common/wire/configured_key.hpp"

namespace sara::wire {

struct AgentChannels {
    std::optional<ClusterKey> key;
    std::unique_ptr<DatagramSender> sender;      // null: the dispatchers did not change
    std::unique_ptr<LineControlServer> control;  // null: the control section did not change
};

// `next` and `running`: the agent's configs (their auth, dispatchers and control sections);
// `open_control(section, &error)` opens its control socket. nullopt with *why when one of
// them cannot be had (the key's reason is logged, *why names the key file).
template <typename Config, typename OpenControl>
std::optional<AgentChannels> build_agent_channels(const Config& next, const Config& running,
                                                  OpenControl&& open_control, const Logger& log,
                                                  std::string* why) {
    AgentChannels c;
    if (!load_configured_key(next.auth.enabled, next.auth.key_file, c.key, log)) {
        *why = "the key file";
        return std::nullopt;
    }
    if (next.dispatchers != running.dispatchers && !(c.sender = DatagramSender::open(next.dispatchers, why)))
        return std::nullopt;
    if (next.control != running.control && !(c.control = open_control(next.control, why))) return std::nullopt;
    return c;
}

}  // namespace sara::wire
