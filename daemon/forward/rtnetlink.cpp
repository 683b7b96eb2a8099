// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/forward/rtnetlink.hpp"

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "common/util/errno_text.hpp"
#include "daemon/forward/kernel_setup.hpp"

namespace sara {
namespace {

// Large enough for any dump message the kernel builds (it sizes them to the reader's buffer,
// at most 32 KiB); a smaller buffer would truncate messages.
constexpr size_t kReceiveBufferSize = 64 * 1024;
constexpr size_t kRequestBufferSize = 1024;
constexpr int kAckTimeoutSeconds = 5;
constexpr int kDumpAttempts = 3;

// Calls visit(attr) for each attribute after `offset` payload bytes (mnl_attr_for_each
// does not compile as C++).
template <typename Visit>
void for_each_attribute(const nlmsghdr* nlh, size_t offset, Visit visit) {
    const auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, offset));
    const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
    while (mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)))) {
        visit(attr);
        attr = mnl_attr_next(attr);
    }
}

// The string of NLMSGERR_ATTR_MSG in an error/ACK message, if the kernel sent one.
std::string extended_ack_message(const nlmsghdr* nlh) {
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
    const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
    size_t offset = sizeof(nlmsgerr);
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
    if (mnl_nlmsg_size(offset) > nlh->nlmsg_len) return {};
    std::string message;
    for_each_attribute(nlh, offset, [&message](const nlattr* attr) {
        if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
            message = mnl_attr_get_str(attr);
    });
    return message;
}

std::vector<uint8_t> copy_message(const nlmsghdr& nlh) {
    const auto* p = reinterpret_cast<const uint8_t*>(&nlh);
    return std::vector<uint8_t>(p, p + nlh.nlmsg_len);
}

// Attribute table of one message: tb[type] or nullptr. Ignores types beyond `max`.
template <size_t N>
void parse_attributes(const nlmsghdr& nlh, size_t header_size, std::array<const nlattr*, N>& tb) {
    tb.fill(nullptr);
    for_each_attribute(&nlh, header_size, [&tb](const nlattr* attr) {
        const uint16_t type = mnl_attr_get_type(attr);
        if (type < N) tb[type] = attr;
    });
}

std::optional<uint32_t> u32_attr(const nlattr* attr) {
    if (!attr || mnl_attr_validate(attr, MNL_TYPE_U32) < 0) return std::nullopt;
    return mnl_attr_get_u32(attr);
}

IpAddress ipv4_attr(const nlattr* attr) {
    if (!attr || mnl_attr_get_payload_len(attr) != 4) return {};
    return IpAddress::v4(static_cast<const uint8_t*>(mnl_attr_get_payload(attr)));
}

}  // namespace

std::optional<AddressEntry> parse_address_message(const nlmsghdr& nlh) {
    if (nlh.nlmsg_type != RTM_NEWADDR && nlh.nlmsg_type != RTM_DELADDR) return std::nullopt;
    if (nlh.nlmsg_len < mnl_nlmsg_size(sizeof(ifaddrmsg))) return std::nullopt;
    const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(&nlh));
    if (ifa->ifa_family != AF_INET) return std::nullopt;
    std::array<const nlattr*, IFA_MAX + 1> tb;
    parse_attributes(nlh, sizeof(ifaddrmsg), tb);
    AddressEntry a;
    a.ifindex = static_cast<int>(ifa->ifa_index);
    // On a point-to-point link IFA_ADDRESS is the peer's; IFA_LOCAL is always ours.
    a.address = ipv4_attr(tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS]);
    a.removed = nlh.nlmsg_type == RTM_DELADDR;
    if (!a.address.is_v4()) return std::nullopt;
    return a;
}

std::string interface_name(int ifindex) {
    char name[IF_NAMESIZE] = {};
    if (ifindex > 0 && if_indextoname(static_cast<unsigned>(ifindex), name)) return name;
    return "if#" + std::to_string(ifindex);
}

RtNetlink::~RtNetlink() {
    if (socket_) mnl_socket_close(socket_);
}

std::error_code RtNetlink::open(std::string* error_text) {
    if (socket_) return {};
    socket_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!socket_) {
        const int e = errno;
        append_error_text(error_text, "rtnetlink: socket(NETLINK_ROUTE): " + errno_text(e));
        return errno_code(e);
    }
    if (mnl_socket_bind(socket_, 0, MNL_SOCKET_AUTOPID) < 0) {
        const int e = errno;
        mnl_socket_close(socket_);
        socket_ = nullptr;
        append_error_text(error_text, "rtnetlink: bind: " + errno_text(e));
        return errno_code(e);
    }
    port_id_ = mnl_socket_get_portid(socket_);
    // Best effort: kernels without them still work, with plainer error messages.
    int one = 1;
    mnl_socket_setsockopt(socket_, NETLINK_EXT_ACK, &one, sizeof one);
    mnl_socket_setsockopt(socket_, NETLINK_CAP_ACK, &one, sizeof one);
    // The kernel always answers; the timeout only guards against a lost reply.
    timeval timeout{kAckTimeoutSeconds, 0};
    setsockopt(mnl_socket_get_fd(socket_), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    next_seq_ = static_cast<uint32_t>(std::time(nullptr));
    receive_buffer_.resize(kReceiveBufferSize);
    return {};
}

std::error_code RtNetlink::transact(nlmsghdr* request, std::string_view what, const MessageHandler& on_message,
                                    bool* interrupted, std::string* error_text) {
    if (!socket_) {
        append_error_text(error_text, std::string(what) + ": rtnetlink socket not open");
        return std::make_error_code(std::errc::not_connected);
    }
    const uint32_t seq = next_seq_++;
    request->nlmsg_seq = seq;
    request->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    if (mnl_socket_sendto(socket_, request, request->nlmsg_len) < 0) {
        const int e = errno;
        append_error_text(error_text, std::string(what) + ": sendto: " + errno_text(e));
        return errno_code(e);
    }
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(socket_, receive_buffer_.data(), receive_buffer_.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            const int e = errno;
            append_error_text(error_text, std::string(what) + ": waiting for the kernel's answer: " +
                                              (e == EAGAIN ? std::string("timed out") : errno_text(e)));
            return errno_code(e);
        }
        int len = static_cast<int>(n);
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(receive_buffer_.data()); mnl_nlmsg_ok(nlh, len);
             nlh = mnl_nlmsg_next(nlh, &len)) {
            // Late answers to an earlier request (after a timeout) are not ours.
            if (nlh->nlmsg_seq != seq || !mnl_nlmsg_portid_ok(nlh, port_id_)) continue;
            if (interrupted && (nlh->nlmsg_flags & NLM_F_DUMP_INTR)) *interrupted = true;
            if (nlh->nlmsg_type == NLMSG_ERROR) {
                if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) {
                    append_error_text(error_text, std::string(what) + ": truncated netlink error message");
                    return std::make_error_code(std::errc::bad_message);
                }
                const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
                if (err->error == 0) return {};  // the ACK
                const int e = -err->error;
                std::string message = std::string(what) + ": " + errno_text(e);
                if (auto detail = extended_ack_message(nlh); !detail.empty()) message += " (" + detail + ")";
                append_error_text(error_text, message);
                return errno_code(e);
            }
            if (nlh->nlmsg_type == NLMSG_DONE) {
                // A dump that failed midway reports its error here.
                if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(int))) {
                    const int status = *static_cast<const int*>(mnl_nlmsg_get_payload(nlh));
                    if (status < 0) {
                        append_error_text(error_text, std::string(what) + ": " + errno_text(-status));
                        return errno_code(-status);
                    }
                }
                return {};
            }
            if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && on_message) on_message(*nlh);
        }
    }
}

std::error_code RtNetlink::dump(uint16_t type, uint8_t family, std::string_view what,
                                const MessageHandler& on_message, std::string* error_text) {
    // A dump runs over several messages; if the kernel's tables changed meanwhile it flags the
    // dump as interrupted and we read it again (a consistent view makes exact deletions).
    for (int attempt = 1;; ++attempt) {
        alignas(nlmsghdr) uint8_t buf[kRequestBufferSize];
        nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_DUMP;
        // rtgenmsg, ndmsg, rtmsg and fib_rule_hdr all start with the family byte.
        auto* header = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
        header->rtm_family = family;
        bool interrupted = false;
        if (auto ec = transact(nlh, what, on_message, &interrupted, error_text)) return ec;
        if (!interrupted || attempt == kDumpAttempts) return {};
    }
}

std::error_code RtNetlink::dump_rules(std::vector<RuleEntry>& rules, std::string* error_text) {
    std::vector<RuleEntry> found;
    auto on_message = [&found](const nlmsghdr& nlh) {
        if (nlh.nlmsg_type != RTM_NEWRULE || nlh.nlmsg_len < mnl_nlmsg_size(sizeof(fib_rule_hdr))) return;
        const auto* hdr = static_cast<const fib_rule_hdr*>(mnl_nlmsg_get_payload(&nlh));
        if (hdr->family != AF_INET) return;
        std::array<const nlattr*, FRA_MAX + 1> tb;
        parse_attributes(nlh, sizeof(fib_rule_hdr), tb);
        RuleEntry r;
        r.priority = u32_attr(tb[FRA_PRIORITY]).value_or(0);
        r.fwmark = u32_attr(tb[FRA_FWMARK]);
        r.fwmask = u32_attr(tb[FRA_FWMASK]).value_or(0xffffffff);
        r.table = u32_attr(tb[FRA_TABLE]).value_or(hdr->table);
        r.action = hdr->action;
        bool other_selector = hdr->src_len || hdr->dst_len || hdr->tos || hdr->flags;
        for (const int type : {FRA_SRC, FRA_DST, FRA_IIFNAME, FRA_OIFNAME, FRA_GOTO, FRA_FLOW, FRA_TUN_ID,
                               FRA_SUPPRESS_IFGROUP, FRA_SUPPRESS_PREFIXLEN, FRA_L3MDEV, FRA_UID_RANGE,
                               FRA_IP_PROTO, FRA_SPORT_RANGE, FRA_DPORT_RANGE})
            other_selector = other_selector || tb[type] != nullptr;
        r.fwmark_lookup_only = r.fwmark.has_value() && !other_selector && r.action == FR_ACT_TO_TBL;
        r.message = copy_message(nlh);
        found.push_back(std::move(r));
    };
    if (auto ec = dump(RTM_GETRULE, AF_INET, "rtnetlink: dump IPv4 rules", on_message, error_text)) return ec;
    rules = std::move(found);
    return {};
}

std::error_code RtNetlink::dump_routes(std::vector<RouteEntry>& routes, std::string* error_text) {
    std::vector<RouteEntry> found;
    auto on_message = [&found](const nlmsghdr& nlh) {
        if (nlh.nlmsg_type != RTM_NEWROUTE || nlh.nlmsg_len < mnl_nlmsg_size(sizeof(rtmsg))) return;
        const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(&nlh));
        if (rtm->rtm_family != AF_INET) return;
        std::array<const nlattr*, RTA_MAX + 1> tb;
        parse_attributes(nlh, sizeof(rtmsg), tb);
        RouteEntry r;
        r.table = u32_attr(tb[RTA_TABLE]).value_or(rtm->rtm_table);
        r.dst_len = rtm->rtm_dst_len;
        r.tos = rtm->rtm_tos;
        r.type = rtm->rtm_type;
        r.priority = u32_attr(tb[RTA_PRIORITY]).value_or(0);
        r.gateway = ipv4_attr(tb[RTA_GATEWAY]);
        r.oif = static_cast<int>(u32_attr(tb[RTA_OIF]).value_or(0));
        r.flags = rtm->rtm_flags;
        r.message = copy_message(nlh);
        found.push_back(std::move(r));
    };
    if (auto ec = dump(RTM_GETROUTE, AF_INET, "rtnetlink: dump IPv4 routes", on_message, error_text)) return ec;
    routes = std::move(found);
    return {};
}

std::error_code RtNetlink::dump_neighbours(std::vector<NeighbourEntry>& neighbours, std::string* error_text) {
    std::vector<NeighbourEntry> found;
    auto on_message = [&found](const nlmsghdr& nlh) {
        if (nlh.nlmsg_type != RTM_NEWNEIGH || nlh.nlmsg_len < mnl_nlmsg_size(sizeof(ndmsg))) return;
        const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(&nlh));
        if (ndm->ndm_family != AF_INET) return;
        std::array<const nlattr*, NDA_MAX + 1> tb;
        parse_attributes(nlh, sizeof(ndmsg), tb);
        NeighbourEntry n;
        n.ifindex = ndm->ndm_ifindex;
        n.address = ipv4_attr(tb[NDA_DST]);
        n.state = ndm->ndm_state;
        n.message = copy_message(nlh);
        found.push_back(std::move(n));
    };
    if (auto ec = dump(RTM_GETNEIGH, AF_INET, "rtnetlink: dump IPv4 neighbours", on_message, error_text)) return ec;
    neighbours = std::move(found);
    return {};
}

std::error_code RtNetlink::dump_addresses(std::vector<AddressEntry>& addresses, std::string* error_text) {
    std::vector<AddressEntry> found;
    auto on_message = [&found](const nlmsghdr& nlh) {
        if (auto a = parse_address_message(nlh)) found.push_back(*a);
    };
    if (auto ec = dump(RTM_GETADDR, AF_INET, "rtnetlink: dump IPv4 addresses", on_message, error_text)) return ec;
    addresses = std::move(found);
    return {};
}

std::error_code RtNetlink::delete_dumped(const std::vector<uint8_t>& message, uint16_t delete_type,
                                         std::string_view what, std::string* error_text) {
    if (message.size() < sizeof(nlmsghdr)) {
        append_error_text(error_text, std::string(what) + ": no dumped message to delete");
        return std::make_error_code(std::errc::invalid_argument);
    }
    std::vector<uint8_t> copy = message;
    auto* nlh = reinterpret_cast<nlmsghdr*>(copy.data());
    nlh->nlmsg_type = delete_type;
    nlh->nlmsg_flags = 0;
    nlh->nlmsg_pid = 0;
    std::string ignored;
    const auto ec = transact(nlh, what, {}, nullptr, &ignored);
    if (!ec || ec == std::errc::no_such_file_or_directory || ec == std::errc::no_such_process) return {};
    append_error_text(error_text, ignored);
    return ec;
}

std::error_code RtNetlink::replace_permanent_neighbour(int ifindex, const IpAddress& address,
                                                       const std::array<uint8_t, 6>& mac, std::string* error_text) {
    alignas(nlmsghdr) uint8_t buf[kRequestBufferSize];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWNEIGH;
    nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
    auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
    ndm->ndm_family = AF_INET;
    ndm->ndm_ifindex = ifindex;
    ndm->ndm_state = NUD_PERMANENT;
    mnl_attr_put(nlh, NDA_DST, 4, address.bytes.data());
    mnl_attr_put(nlh, NDA_LLADDR, mac.size(), mac.data());
    const std::string what = "rtnetlink: neighbour " + address.to_string() + " dev " + interface_name(ifindex) +
                             " nud permanent";
    return transact(nlh, what, {}, nullptr, error_text);
}

std::error_code RtNetlink::replace_default_route(uint32_t table, const IpAddress& gateway, int ifindex,
                                                 std::string* error_text) {
    alignas(nlmsghdr) uint8_t buf[kRequestBufferSize];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWROUTE;
    nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rtm->rtm_family = AF_INET;
    rtm->rtm_dst_len = 0;
    // Tables above 255 exist only as RTA_TABLE; the header field then says RT_TABLE_UNSPEC.
    rtm->rtm_table = table < 256 ? static_cast<uint8_t>(table) : uint8_t{RT_TABLE_UNSPEC};
    rtm->rtm_protocol = RTPROT_STATIC;
    rtm->rtm_scope = RT_SCOPE_UNIVERSE;
    rtm->rtm_type = RTN_UNICAST;
    // onlink: the node is reached on the LAN whatever the LAN's own addressing says.
    rtm->rtm_flags = RTNH_F_ONLINK;
    mnl_attr_put_u32(nlh, RTA_TABLE, table);
    mnl_attr_put(nlh, RTA_GATEWAY, 4, gateway.bytes.data());
    mnl_attr_put_u32(nlh, RTA_OIF, static_cast<uint32_t>(ifindex));
    const std::string what = "rtnetlink: route default via " + gateway.to_string() + " dev " +
                             interface_name(ifindex) + " onlink table " + std::to_string(table);
    return transact(nlh, what, {}, nullptr, error_text);
}

std::error_code RtNetlink::add_fwmark_rule(uint32_t priority, uint32_t fwmark, uint32_t fwmask, uint32_t table,
                                           std::string* error_text) {
    alignas(nlmsghdr) uint8_t buf[kRequestBufferSize];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWRULE;
    nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    auto* hdr = static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(fib_rule_hdr)));
    hdr->family = AF_INET;
    hdr->action = FR_ACT_TO_TBL;
    hdr->table = table < 256 ? static_cast<uint8_t>(table) : uint8_t{RT_TABLE_UNSPEC};
    mnl_attr_put_u32(nlh, FRA_PRIORITY, priority);
    mnl_attr_put_u32(nlh, FRA_FWMARK, fwmark);
    mnl_attr_put_u32(nlh, FRA_FWMASK, fwmask);
    mnl_attr_put_u32(nlh, FRA_TABLE, table);
    char mark[32];
    std::snprintf(mark, sizeof mark, "0x%x/0x%x", fwmark, fwmask);
    const std::string what = "rtnetlink: rule pref " + std::to_string(priority) + " fwmark " + mark + " lookup " +
                             std::to_string(table);
    return transact(nlh, what, {}, nullptr, error_text);
}

}  // namespace sara
