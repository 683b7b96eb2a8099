// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/setup/route_netlink.hpp"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>

#include "common/util/errno_text.hpp"

namespace sara::nodeagent {
namespace {

constexpr size_t kReceiveBufferSize = 64 * 1024;  // the kernel's dump messages are <= 32 KiB
constexpr size_t kRequestBufferSize = 1024;

// NLMSGERR_ATTR_MSG of an error message, if the kernel sent one.
std::string extended_ack_message(const nlmsghdr* nlh) {
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
    const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
    size_t offset = sizeof(nlmsgerr);
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
    if (mnl_nlmsg_size(offset) > nlh->nlmsg_len) return {};
    std::string message;
    const auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, offset));
    const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
    while (mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)))) {
        if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
            message = mnl_attr_get_str(attr);
        attr = mnl_attr_next(attr);
    }
    return message;
}

IpAddress ipv4_attr(const nlattr* attr) {
    if (!attr || mnl_attr_get_payload_len(attr) != 4) return {};
    return IpAddress::v4(static_cast<const uint8_t*>(mnl_attr_get_payload(attr)));
}

std::optional<uint32_t> u32_attr(const nlattr* attr) {
    if (!attr || mnl_attr_validate(attr, MNL_TYPE_U32) < 0) return std::nullopt;
    return mnl_attr_get_u32(attr);
}

// An IPv4 main-table unicast default route, or nullopt for any other route message.
std::optional<DefaultRoute> default_route_of(const nlmsghdr& nlh) {
    if (nlh.nlmsg_type != RTM_NEWROUTE || nlh.nlmsg_len < mnl_nlmsg_size(sizeof(rtmsg))) return std::nullopt;
    const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(&nlh));
    if (rtm->rtm_family != AF_INET || rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST) return std::nullopt;
    std::array<const nlattr*, RTA_MAX + 1> tb{};
    const auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(&nlh, sizeof(rtmsg)));
    const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(&nlh));
    while (mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)))) {
        const uint16_t type = mnl_attr_get_type(attr);
        if (type <= RTA_MAX) tb[type] = attr;
        attr = mnl_attr_next(attr);
    }
    if (u32_attr(tb[RTA_TABLE]).value_or(rtm->rtm_table) != RT_TABLE_MAIN) return std::nullopt;
    DefaultRoute route;
    route.priority = u32_attr(tb[RTA_PRIORITY]).value_or(0);
    route.tos = rtm->rtm_tos;
    route.gateway = ipv4_attr(tb[RTA_GATEWAY]);
    route.oif = static_cast<int>(u32_attr(tb[RTA_OIF]).value_or(0));
    route.prefsrc = ipv4_attr(tb[RTA_PREFSRC]);
    const auto* bytes = reinterpret_cast<const uint8_t*>(&nlh);
    route.message.assign(bytes, bytes + nlh.nlmsg_len);
    return route;
}

nlmsghdr* route_request(uint8_t* buffer, uint16_t type, uint16_t flags, const IpAddress& gateway, int ifindex,
                        const IpAddress& prefsrc) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buffer);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rtm->rtm_family = AF_INET;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_protocol = RTPROT_STATIC;
    rtm->rtm_scope = RT_SCOPE_UNIVERSE;
    rtm->rtm_type = RTN_UNICAST;
    mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
    mnl_attr_put(nlh, RTA_GATEWAY, 4, gateway.bytes.data());
    mnl_attr_put_u32(nlh, RTA_OIF, static_cast<uint32_t>(ifindex));
    mnl_attr_put(nlh, RTA_PREFSRC, 4, prefsrc.bytes.data());
    return nlh;
}

std::string route_text(const IpAddress& gateway, int ifindex, const IpAddress& prefsrc) {
    return "default via " + gateway.to_string() + " dev " + interface_name(ifindex) + " src " + prefsrc.to_string();
}

}  // namespace

std::string interface_name(int ifindex) {
    char name[IF_NAMESIZE] = {};
    if (ifindex > 0 && if_indextoname(static_cast<unsigned>(ifindex), name)) return name;
    return "if#" + std::to_string(ifindex);
}

RouteNetlink::~RouteNetlink() {
    if (socket_) mnl_socket_close(socket_);
}

std::error_code RouteNetlink::open(std::string* error) {
    if (socket_) return {};
    socket_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!socket_) {
        const int e = errno;
        if (error) *error = std::string("rtnetlink: socket: ") + errno_text(e);
        return errno_code(e);
    }
    if (mnl_socket_bind(socket_, 0, MNL_SOCKET_AUTOPID) < 0) {
        const int e = errno;
        mnl_socket_close(socket_);
        socket_ = nullptr;
        if (error) *error = std::string("rtnetlink: bind: ") + errno_text(e);
        return errno_code(e);
    }
    port_id_ = mnl_socket_get_portid(socket_);
    int one = 1;  // best effort: better error messages where the kernel has them
    mnl_socket_setsockopt(socket_, NETLINK_EXT_ACK, &one, sizeof one);
    mnl_socket_setsockopt(socket_, NETLINK_CAP_ACK, &one, sizeof one);
    const timeval timeout{5, 0};
    setsockopt(mnl_socket_get_fd(socket_), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    next_seq_ = static_cast<uint32_t>(std::time(nullptr));
    buffer_.resize(kReceiveBufferSize);
    return {};
}

std::error_code RouteNetlink::transact(void* request, const std::string& what, std::vector<DefaultRoute>* dump_out,
                                       std::string* error) {
    auto* nlh = static_cast<nlmsghdr*>(request);
    if (!socket_) {
        if (error) *error = what + ": rtnetlink socket not open";
        return std::make_error_code(std::errc::not_connected);
    }
    const uint32_t seq = next_seq_++;
    nlh->nlmsg_seq = seq;
    nlh->nlmsg_pid = 0;
    nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    if (mnl_socket_sendto(socket_, nlh, nlh->nlmsg_len) < 0) {
        const int e = errno;
        if (error) *error = what + ": send: " + errno_text(e);
        return errno_code(e);
    }
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(socket_, buffer_.data(), buffer_.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            const int e = errno;
            if (error) *error = what + ": " + (e == EAGAIN ? std::string("no answer from the kernel") : errno_text(e));
            return errno_code(e);
        }
        int len = static_cast<int>(n);
        for (auto* m = reinterpret_cast<const nlmsghdr*>(buffer_.data()); mnl_nlmsg_ok(m, len);
             m = mnl_nlmsg_next(m, &len)) {
            if (m->nlmsg_seq != seq || !mnl_nlmsg_portid_ok(m, port_id_)) continue;  // a late answer
            if (m->nlmsg_type == NLMSG_ERROR) {
                if (m->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) {
                    if (error) *error = what + ": truncated netlink error";
                    return std::make_error_code(std::errc::bad_message);
                }
                const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m));
                if (err->error == 0) return {};
                const int e = -err->error;
                if (error) {
                    *error = what + ": " + errno_text(e);
                    if (const std::string detail = extended_ack_message(m); !detail.empty()) *error += " (" + detail + ")";
                }
                return errno_code(e);
            }
            if (m->nlmsg_type == NLMSG_DONE) {
                if (m->nlmsg_len >= mnl_nlmsg_size(sizeof(int))) {
                    int status = 0;
                    std::memcpy(&status, mnl_nlmsg_get_payload(m), sizeof(int));
                    if (status < 0) {
                        if (error) *error = what + ": " + errno_text(-status);
                        return errno_code(-status);
                    }
                }
                return {};
            }
            if (dump_out)
                if (std::optional<DefaultRoute> route = default_route_of(*m)) dump_out->push_back(std::move(*route));
        }
    }
}

std::error_code RouteNetlink::add_address(int ifindex, const IpAddress& address, uint8_t prefix_len,
                                          std::string* error) {
    alignas(nlmsghdr) uint8_t buf[kRequestBufferSize];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWADDR;
    nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = prefix_len;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = static_cast<uint32_t>(ifindex);
    mnl_attr_put(nlh, IFA_LOCAL, 4, address.bytes.data());
    mnl_attr_put(nlh, IFA_ADDRESS, 4, address.bytes.data());
    return transact(nlh, "rtnetlink: add " + address.to_string() + "/" + std::to_string(prefix_len) + " dev " +
                             interface_name(ifindex), nullptr, error);
}

std::error_code RouteNetlink::delete_address(int ifindex, const IpAddress& address, uint8_t prefix_len,
                                             std::string* error) {
    alignas(nlmsghdr) uint8_t buf[kRequestBufferSize];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_DELADDR;
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = prefix_len;
    ifa->ifa_index = static_cast<uint32_t>(ifindex);
    mnl_attr_put(nlh, IFA_LOCAL, 4, address.bytes.data());
    std::string text;
    const std::error_code ec = transact(nlh, "rtnetlink: delete " + address.to_string() + "/" +
                                                 std::to_string(prefix_len) + " dev " + interface_name(ifindex),
                                        nullptr, &text);
    if (!ec || ec.value() == EADDRNOTAVAIL || ec.value() == ENOENT || ec.value() == ENODEV) return {};
    if (error) *error = text;
    return ec;
}

std::error_code RouteNetlink::dump_default_routes(std::vector<DefaultRoute>& routes, std::string* error) {
    alignas(nlmsghdr) uint8_t buf[kRequestBufferSize];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_GETROUTE;
    nlh->nlmsg_flags = NLM_F_DUMP;
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rtm->rtm_family = AF_INET;
    std::vector<DefaultRoute> found;
    if (std::error_code ec = transact(nlh, "rtnetlink: dump IPv4 routes", &found, error)) return ec;
    routes = std::move(found);
    return {};
}

std::error_code RouteNetlink::add_default_route(const IpAddress& gateway, int ifindex, const IpAddress& prefsrc,
                                                std::string* error) {
    alignas(nlmsghdr) uint8_t buf[kRequestBufferSize];
    nlmsghdr* nlh = route_request(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, gateway, ifindex, prefsrc);
    return transact(nlh, "rtnetlink: add route " + route_text(gateway, ifindex, prefsrc), nullptr, error);
}

std::error_code RouteNetlink::delete_default_route(const IpAddress& gateway, int ifindex, const IpAddress& prefsrc,
                                                   std::string* error) {
    alignas(nlmsghdr) uint8_t buf[kRequestBufferSize];
    nlmsghdr* nlh = route_request(buf, RTM_DELROUTE, 0, gateway, ifindex, prefsrc);
    std::string text;
    const std::error_code ec =
        transact(nlh, "rtnetlink: delete route " + route_text(gateway, ifindex, prefsrc), nullptr, &text);
    if (!ec || ec.value() == ESRCH || ec.value() == ENOENT) return {};
    if (error) *error = text;
    return ec;
}

std::error_code RouteNetlink::delete_dumped_route(const std::vector<uint8_t>& message, std::string* error) {
    if (message.size() < mnl_nlmsg_size(sizeof(rtmsg))) {
        if (error) *error = "rtnetlink: delete route: no saved message";
        return std::make_error_code(std::errc::invalid_argument);
    }
    std::vector<uint8_t> copy = message;
    auto* nlh = reinterpret_cast<nlmsghdr*>(copy.data());
    nlh->nlmsg_type = RTM_DELROUTE;
    nlh->nlmsg_flags = 0;
    std::string text;
    const std::error_code ec = transact(nlh, "rtnetlink: delete saved default route", nullptr, &text);
    if (!ec || ec.value() == ESRCH || ec.value() == ENOENT) return {};
    if (error) *error = text;
    return ec;
}

std::error_code RouteNetlink::restore_dumped_route(const std::vector<uint8_t>& message, std::string* error) {
    if (message.size() < mnl_nlmsg_size(sizeof(rtmsg))) {
        if (error) *error = "rtnetlink: restore route: no saved message";
        return std::make_error_code(std::errc::invalid_argument);
    }
    std::vector<uint8_t> copy = message;
    auto* nlh = reinterpret_cast<nlmsghdr*>(copy.data());
    nlh->nlmsg_type = RTM_NEWROUTE;
    nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    // State the kernel reports but refuses to be told (a link that was down when dumped).
    auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_get_payload(nlh));
    rtm->rtm_flags &= ~static_cast<unsigned>(RTNH_F_DEAD | RTNH_F_LINKDOWN | RTNH_F_OFFLOAD | RTNH_F_TRAP);
    std::string text;
    const std::error_code ec = transact(nlh, "rtnetlink: restore saved default route", nullptr, &text);
    if (!ec || ec.value() == EEXIST) return {};
    if (error) *error = text;
    return ec;
}

}  // namespace sara::nodeagent
