// SPDX-License-Identifier: GPL-2.0-or-later
// Pre-installs a completed media flow as a conntrack entry carrying its node's mark
// (ctnetlink IPCTNL_MSG_CT_NEW over libmnl), so that the flow's first packet already finds a
// mark to restore and takes the kernel fast path instead of the queue (DESIGN §3, §8: the
// gateway's announcement completes the flow before its media starts). `forwarding.preinstall`.
// IPv4 UDP only; an entry that already exists (the media was faster) is left alone (EEXIST is
// not an error). Not thread-safe: its one caller is the conntrack janitor's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/net/flow_key.hpp"
#include "daemon/forward/ctnetlink.hpp"

namespace sara {

class ConntrackPreinstall {
public:
    static std::unique_ptr<ConntrackPreinstall> open(std::string* error);
    ~ConntrackPreinstall();
    ConntrackPreinstall(const ConntrackPreinstall&) = delete;
    ConntrackPreinstall& operator=(const ConntrackPreinstall&) = delete;

    enum class Result { created, exists, unsupported, failed };
    // `flow`: client → VIP as the client sends it. `timeout`: the entry's lifetime until its
    // first packet (then the kernel's UDP timeouts apply).
    Result create(const FlowKey& flow, uint32_t mark, std::chrono::seconds timeout);

private:
    explicit ConntrackPreinstall(std::unique_ptr<CtnetlinkSocket> socket);
    std::unique_ptr<CtnetlinkSocket> socket_;
};

}  // namespace sara
