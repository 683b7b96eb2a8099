// SPDX-License-Identifier: GPL-2.0-or-later
// One rtnetlink request/acknowledge client over libmnl, shared by the dispatcher's kernel setup
// (daemon/forward/rtnetlink), the node agent's node setup (nodeagent/setup/route_netlink) and
// the BPF fast path's tc check: each builds its own requests and reads its own dumps with
// common/net/rtnetlink_messages; this sends a request, asks for its ACK and waits for it (5 s at
// most), hands on the data messages of a dump, and turns an error into a std::error_code with
// text naming the operation, errno's text and, when the kernel gives one, its extended-ACK
// message. On top of that the three shapes every caller had a copy of: a change whose "already
// done" errors count as success, a dumped message sent back as a delete or a re-add, and a dump
// read into a vector (read again while the kernel reports it interrupted).
//
// One RtnetlinkSocket is used by one thread at a time.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "common/net/rtnetlink_messages.hpp"

struct mnl_socket;

namespace sara {

class RtnetlinkSocket {
public:
    RtnetlinkSocket() = default;
    ~RtnetlinkSocket();
    RtnetlinkSocket(const RtnetlinkSocket&) = delete;
    RtnetlinkSocket& operator=(const RtnetlinkSocket&) = delete;

    // Opens and binds the NETLINK_ROUTE socket; does nothing if it is open already.
    [[nodiscard]] std::error_code open(std::string* error_text);

    using MessageHandler = std::function<void(const nlmsghdr&)>;
    // Sends `request` (its sequence number and port id are set here, and NLM_F_REQUEST |
    // NLM_F_ACK added to its flags) and reads until its ACK, its error or the end of its dump.
    // `on_message` (may be empty) sees every data message of a dump; `interrupted` (may be
    // null) is set when the kernel flags the dump NLM_F_DUMP_INTR (its tables changed while
    // it ran). `what` names the operation in error_text, to which a failure appends a line.
    [[nodiscard]] std::error_code transact(nlmsghdr* request, std::string_view what, const MessageHandler& on_message,
                                           bool* interrupted, std::string* error_text);
    // The same for a built request; one with a refused attribute is not sent (EINVAL).
    [[nodiscard]] std::error_code transact(RtnetlinkRequest& request, std::string_view what,
                                           const MessageHandler& on_message, bool* interrupted,
                                           std::string* error_text);

    // A request that changes something, where the errno values in `done` mean that the change
    // is in place already (deleting what is gone: ENOENT, ESRCH; adding what exists: EEXIST):
    // those count as success and add no text.
    [[nodiscard]] std::error_code change(nlmsghdr* request, std::string_view what, std::initializer_list<int> done,
                                         std::string* error_text);
    [[nodiscard]] std::error_code change(RtnetlinkRequest& request, std::string_view what,
                                         std::initializer_list<int> done, std::string* error_text);

    // change() of a dumped message sent back as `type` with `flags` (replayed_message): exact
    // deletion, or putting back what was deleted. EINVAL if the message is not a whole one.
    [[nodiscard]] std::error_code send_dumped(std::span<const uint8_t> dumped, uint16_t type, uint16_t flags,
                                              std::string_view what, std::initializer_list<int> done,
                                              std::string* error_text);

    // The dump `request` asks for, read again (up to 3 times) while the kernel reports it
    // interrupted (its tables changed while it ran), so that deletions work from a consistent
    // view. `restart` (may be empty) is called before each reading, to drop what an interrupted
    // one delivered.
    [[nodiscard]] std::error_code dump(RtnetlinkRequest& request, std::string_view what,
                                       const std::function<void()>& restart, const MessageHandler& on_message,
                                       std::string* error_text);
    // dump() into `entries`: what `parse` (const nlmsghdr& -> std::optional<Entry>) makes of
    // each message, nullopt ones left out. On failure `entries` is left as it was.
    template <typename Entry, typename Parse>
    [[nodiscard]] std::error_code dump_entries(RtnetlinkRequest& request, std::string_view what, Parse parse,
                                               std::vector<Entry>& entries, std::string* error_text) {
        std::vector<Entry> found;
        auto on_message = [&found, &parse](const nlmsghdr& nlh) {
            if (std::optional<Entry> entry = parse(nlh)) found.push_back(std::move(*entry));
        };
        if (std::error_code ec = dump(request, what, [&found] { found.clear(); }, on_message, error_text)) return ec;
        entries = std::move(found);
        return {};
    }

private:
    mnl_socket* socket_ = nullptr;
    uint32_t port_id_ = 0;
    uint32_t next_seq_ = 1;
    std::vector<uint8_t> receive_buffer_;
};

// The interface's name for messages ("if#7" if the index has none).
std::string interface_name(int ifindex);

}  // namespace sara
