// SPDX-License-Identifier: GPL-2.0-or-later
// One rtnetlink request/acknowledge client over libmnl, shared by the dispatcher's kernel setup
// (daemon/forward/rtnetlink) and the node agent's node setup (nodeagent/setup/route_netlink):
// each builds its own requests and reads its own dumps; this sends a request, asks for its ACK
// and waits for it (5 s at most), hands on the data messages of a dump, and turns an error into
// a std::error_code with text naming the operation, errno's text and, when the kernel gives
// one, its extended-ACK message. Plus the attribute readers both need.
//
// One RtnetlinkSocket is used by one thread at a time.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/net/ip_address.hpp"

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

private:
    mnl_socket* socket_ = nullptr;
    uint32_t port_id_ = 0;
    uint32_t next_seq_ = 1;
    std::vector<uint8_t> receive_buffer_;
};

// The attributes of `nlh` after its `header_size`-byte family header: table[type], or nullptr
// for a type the message does not carry; types beyond the table are ignored.
void parse_attributes(const nlmsghdr& nlh, size_t header_size, std::span<const nlattr*> table);
// A u32 attribute's value; nullopt if the attribute is absent or not 4 bytes long.
std::optional<uint32_t> u32_attribute(const nlattr* attr);
// A 4-byte address attribute as an IPv4 address; unset if absent or of another length.
IpAddress ipv4_attribute(const nlattr* attr);
// The bytes of a whole message, to send it back later (exact deletion, restore).
std::vector<uint8_t> copy_message(const nlmsghdr& nlh);

// The interface's name for messages ("if#7" if the index has none).
std::string interface_name(int ifindex);

}  // namespace sara
