// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/net/rtnetlink_socket.hpp"

#include <libmnl/libmnl.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "common/util/errno_text.hpp"

namespace sara {
namespace {

// Large enough for any dump message the kernel builds (it sizes them to the reader's buffer,
// at most 32 KiB); a smaller buffer would truncate messages.
constexpr size_t kReceiveBufferSize = 64 * 1024;
constexpr int kAckTimeoutSeconds = 5;
constexpr int kDumpAttempts = 3;

// The string of NLMSGERR_ATTR_MSG in an error/ACK message, if the kernel sent one.
std::string extended_ack_message(const nlmsghdr* nlh) {
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
    const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
    size_t offset = sizeof(nlmsgerr);
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - sizeof(nlmsghdr);
    if (mnl_nlmsg_size(offset) > nlh->nlmsg_len) return {};
    std::array<const nlattr*, NLMSGERR_ATTR_MAX + 1> tb;
    parse_attributes(*nlh, offset, tb);
    const nlattr* attr = tb[NLMSGERR_ATTR_MSG];
    if (!attr || mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0) return {};
    return mnl_attr_get_str(attr);
}

}  // namespace

RtnetlinkSocket::~RtnetlinkSocket() {
    if (socket_) mnl_socket_close(socket_);
}

std::error_code RtnetlinkSocket::open(std::string* error_text) {
    if (socket_) return {};
    socket_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!socket_) {
        const int e = errno;
        append_error_text(error_text, errno_text("rtnetlink: socket(NETLINK_ROUTE)", e));
        return errno_code(e);
    }
    if (mnl_socket_bind(socket_, 0, MNL_SOCKET_AUTOPID) < 0) {
        const int e = errno;
        mnl_socket_close(socket_);
        socket_ = nullptr;
        append_error_text(error_text, errno_text("rtnetlink: bind", e));
        return errno_code(e);
    }
    port_id_ = mnl_socket_get_portid(socket_);
    // Best effort: kernels without them still work, with plainer error messages.
    int one = 1;
    mnl_socket_setsockopt(socket_, NETLINK_EXT_ACK, &one, sizeof one);
    mnl_socket_setsockopt(socket_, NETLINK_CAP_ACK, &one, sizeof one);
    // The kernel always answers; the timeout only guards against a lost reply.
    const timeval timeout{kAckTimeoutSeconds, 0};
    setsockopt(mnl_socket_get_fd(socket_), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    next_seq_ = static_cast<uint32_t>(std::time(nullptr));
    receive_buffer_.resize(kReceiveBufferSize);
    return {};
}

std::error_code RtnetlinkSocket::transact(nlmsghdr* request, std::string_view what, const MessageHandler& on_message,
                                          bool* interrupted, std::string* error_text) {
    if (!socket_) {
        append_error_text(error_text, std::string(what) + ": rtnetlink socket not open");
        return std::make_error_code(std::errc::not_connected);
    }
    const uint32_t seq = next_seq_++;
    request->nlmsg_seq = seq;
    request->nlmsg_pid = 0;  // the kernel's port (a dumped message sent back carries ours)
    request->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    if (mnl_socket_sendto(socket_, request, request->nlmsg_len) < 0) {
        const int e = errno;
        append_error_text(error_text, errno_text(std::string(what) + ": sendto", e));
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
                std::string message = errno_text(what, e);
                if (auto detail = extended_ack_message(nlh); !detail.empty()) message += " (" + detail + ")";
                append_error_text(error_text, message);
                return errno_code(e);
            }
            if (nlh->nlmsg_type == NLMSG_DONE) {
                // A dump that failed midway reports its error here.
                if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(int))) {
                    int status = 0;
                    std::memcpy(&status, mnl_nlmsg_get_payload(nlh), sizeof status);
                    if (status < 0) {
                        append_error_text(error_text, errno_text(what, -status));
                        return errno_code(-status);
                    }
                }
                return {};
            }
            if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && on_message) on_message(*nlh);
        }
    }
}

std::error_code RtnetlinkSocket::transact(RtnetlinkRequest& request, std::string_view what,
                                          const MessageHandler& on_message, bool* interrupted,
                                          std::string* error_text) {
    if (!request.complete()) {
        append_error_text(error_text, std::string(what) + ": request not built (an address unset or too long)");
        return std::make_error_code(std::errc::invalid_argument);
    }
    return transact(request.message(), what, on_message, interrupted, error_text);
}

std::error_code RtnetlinkSocket::change(nlmsghdr* request, std::string_view what, std::initializer_list<int> done,
                                        std::string* error_text) {
    std::string text;
    const std::error_code ec = transact(request, what, {}, nullptr, &text);
    const bool already_done =
        ec.category() == std::system_category() && std::find(done.begin(), done.end(), ec.value()) != done.end();
    if (!ec || already_done) return {};
    append_error_text(error_text, text);
    return ec;
}

std::error_code RtnetlinkSocket::change(RtnetlinkRequest& request, std::string_view what,
                                        std::initializer_list<int> done, std::string* error_text) {
    if (!request.complete()) return transact(request, what, {}, nullptr, error_text);  // refuses it, with text
    return change(request.message(), what, done, error_text);
}

std::error_code RtnetlinkSocket::send_dumped(std::span<const uint8_t> dumped, uint16_t type, uint16_t flags,
                                             std::string_view what, std::initializer_list<int> done,
                                             std::string* error_text) {
    std::vector<uint8_t> message = replayed_message(dumped, type, flags);
    if (message.empty()) {
        append_error_text(error_text, std::string(what) + ": no whole dumped message to send");
        return std::make_error_code(std::errc::invalid_argument);
    }
    return change(reinterpret_cast<nlmsghdr*>(message.data()), what, done, error_text);
}

std::error_code RtnetlinkSocket::dump(RtnetlinkRequest& request, std::string_view what,
                                      const std::function<void()>& restart, const MessageHandler& on_message,
                                      std::string* error_text) {
    for (int attempt = 1;; ++attempt) {
        if (restart) restart();
        bool interrupted = false;
        if (auto ec = transact(request, what, on_message, &interrupted, error_text)) return ec;
        if (!interrupted || attempt == kDumpAttempts) return {};
    }
}

std::string interface_name(int ifindex) {
    char name[IF_NAMESIZE] = {};
    if (ifindex > 0 && if_indextoname(static_cast<unsigned>(ifindex), name)) return name;
    return "if#" + std::to_string(ifindex);
}

}  // namespace sara
