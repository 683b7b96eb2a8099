// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/load/sock_diag.hpp"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <cstring>

namespace sara::nodeagent {
namespace {

// Fixed layouts (linux/inet_diag.h), read and written bytewise: netlink buffers carry no
// alignment promise for the structs a C cast would assume.
constexpr size_t kNlmsgHeader = sizeof(nlmsghdr);  // 16
constexpr size_t kDiagMsgSize = sizeof(inet_diag_msg);  // 72
static_assert(kDiagMsgSize == 72);
constexpr size_t kSportOffset = offsetof(inet_diag_msg, id) + offsetof(inet_diag_sockid, idiag_sport);
constexpr size_t kRqueueOffset = offsetof(inet_diag_msg, idiag_rqueue);
constexpr size_t kWqueueOffset = offsetof(inet_diag_msg, idiag_wqueue);
constexpr size_t kAttrHeader = 4;  // struct rtattr / nlattr: u16 len, u16 type

constexpr size_t align4(size_t n) { return (n + 3) & ~size_t{3}; }

uint32_t read_u32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof(v));
    return v;
}
uint16_t read_u16(const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, sizeof(v));
    return v;
}

template <typename T>
void append(std::vector<uint8_t>& out, const T& value) {
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    out.insert(out.end(), p, p + sizeof(T));
}

// inet_diag_msg + attributes (SKMEMINFO only) of one message's payload.
bool parse_diag_msg(const uint8_t* payload, size_t length, DiagSocket& socket) {
    if (length < kDiagMsgSize) return false;
    socket.family = payload[offsetof(inet_diag_msg, idiag_family)];
    socket.state = payload[offsetof(inet_diag_msg, idiag_state)];
    socket.local_port = static_cast<uint16_t>((payload[kSportOffset] << 8) | payload[kSportOffset + 1]);
    socket.rqueue = read_u32(payload + kRqueueOffset);
    socket.wqueue = read_u32(payload + kWqueueOffset);
    size_t offset = align4(kDiagMsgSize);
    while (offset + kAttrHeader <= length) {
        const uint16_t attr_len = read_u16(payload + offset);
        const uint16_t attr_type = read_u16(payload + offset + 2) & NLA_TYPE_MASK;
        if (attr_len < kAttrHeader || offset + attr_len > length) return false;
        const size_t data_len = attr_len - kAttrHeader;
        const uint8_t* data = payload + offset + kAttrHeader;
        if (attr_type == INET_DIAG_SKMEMINFO && data_len >= (SK_MEMINFO_RCVBUF + 1) * sizeof(uint32_t)) {
            socket.rmem_alloc = read_u32(data + SK_MEMINFO_RMEM_ALLOC * sizeof(uint32_t));
            socket.rcvbuf = read_u32(data + SK_MEMINFO_RCVBUF * sizeof(uint32_t));
        }
        offset += align4(attr_len);
    }
    return true;
}

bool matches(const DiagSocket& s, const AppPort& port) {
    if (s.local_port != port.port) return false;
    return port.transport == AppTransport::udp || s.state == TCP_LISTEN;
}

}  // namespace

std::vector<uint8_t> build_diag_request(uint8_t family, const AppPort& port, uint32_t seq) {
    // Bytecode "sport == port" as ss(8) builds it: S_EQ jumps 8 bytes (past its port operand)
    // on a match, 12 (past the end: reject) otherwise; the operand's `no` holds the port.
    const inet_diag_bc_op bytecode[2] = {{INET_DIAG_BC_S_EQ, 8, 12}, {0, 0, port.port}};
    inet_diag_req_v2 request{};
    request.sdiag_family = family;
    if (port.transport == AppTransport::tcp) {
        request.sdiag_protocol = IPPROTO_TCP;
        request.idiag_states = 1u << TCP_LISTEN;
    } else {
        request.sdiag_protocol = IPPROTO_UDP;
        request.idiag_states = ~0u;
        request.idiag_ext = 1u << (INET_DIAG_SKMEMINFO - 1);
    }
    nlattr attr{};
    attr.nla_len = static_cast<uint16_t>(kAttrHeader + sizeof(bytecode));
    attr.nla_type = INET_DIAG_REQ_BYTECODE;
    nlmsghdr header{};
    header.nlmsg_len = static_cast<uint32_t>(kNlmsgHeader + sizeof(request) + attr.nla_len);
    header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    header.nlmsg_seq = seq;
    std::vector<uint8_t> out;
    out.reserve(header.nlmsg_len);
    append(out, header);
    append(out, request);
    append(out, attr);
    append(out, bytecode);
    return out;
}

DiagParseResult parse_diag_messages(std::span<const uint8_t> buffer, uint32_t seq, std::vector<DiagSocket>& out) {
    DiagParseResult result;
    size_t offset = 0;
    while (buffer.size() - offset >= kNlmsgHeader) {
        const uint8_t* p = buffer.data() + offset;
        nlmsghdr header;
        std::memcpy(&header, p, sizeof(header));
        if (header.nlmsg_len < kNlmsgHeader || header.nlmsg_len > buffer.size() - offset) {
            result.status = ParseStatus::error;
            return result;
        }
        const uint8_t* payload = p + kNlmsgHeader;
        const size_t payload_len = header.nlmsg_len - kNlmsgHeader;
        offset += std::min(align4(header.nlmsg_len), buffer.size() - offset);
        if (header.nlmsg_seq != seq) continue;
        if (header.nlmsg_type == NLMSG_DONE) {
            // Since Linux 4.? NLMSG_DONE of a dump carries the dump's status as an int.
            int status = 0;
            if (payload_len >= sizeof(int)) std::memcpy(&status, payload, sizeof(int));
            if (status < 0) {
                result.status = ParseStatus::error;
                result.error = -status;
                return result;
            }
            result.status = ParseStatus::complete;
            return result;
        }
        if (header.nlmsg_type == NLMSG_ERROR) {
            int error = 0;
            if (payload_len < sizeof(int)) {
                ++result.malformed;
            } else {
                std::memcpy(&error, payload, sizeof(int));
            }
            if (error == 0 && payload_len >= sizeof(int)) continue;  // an ACK
            result.status = ParseStatus::error;
            result.error = error < 0 ? -error : 0;
            return result;
        }
        if (header.nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;  // NLMSG_NOOP and the like
        DiagSocket socket;
        if (parse_diag_msg(payload, payload_len, socket))
            out.push_back(socket);
        else
            ++result.malformed;
    }
    if (offset != buffer.size()) result.status = ParseStatus::error;  // a truncated header
    return result;
}

bool serves_port(std::span<const DiagSocket> sockets, const AppPort& port) {
    return std::any_of(sockets.begin(), sockets.end(), [&](const DiagSocket& s) { return matches(s, port); });
}

double backlog_fraction(std::span<const DiagSocket> sockets, const AppPort& port) {
    double fullest = 0.0;
    for (const DiagSocket& s : sockets) {
        if (!matches(s, port)) continue;
        double fraction = 0.0;
        if (port.transport == AppTransport::tcp) {
            fraction = s.wqueue == 0 ? (s.rqueue > 0 ? 1.0 : 0.0)
                                     : static_cast<double>(s.rqueue) / static_cast<double>(s.wqueue);
        } else if (s.rmem_alloc && s.rcvbuf) {
            fraction = *s.rcvbuf == 0 ? (*s.rmem_alloc > 0 ? 1.0 : 0.0)
                                      : static_cast<double>(*s.rmem_alloc) / static_cast<double>(*s.rcvbuf);
        }
        fullest = std::max(fullest, std::min(fraction, 1.0));
    }
    return fullest;
}

}  // namespace sara::nodeagent
