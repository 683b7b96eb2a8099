// SPDX-License-Identifier: GPL-2.0-or-later
// sock_diag request bytes and reply parsing, with netlink messages built byte by byte at the
// offsets linux/inet_diag.h fixes (not with the structs the parser itself uses), and the
// backlog ratio over parsed sockets.
#include <boost/test/unit_test.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "nodeagent/load/sock_diag.hpp"

namespace sara::nodeagent {
namespace {

constexpr uint16_t kSockDiagByFamily = 20;
constexpr uint16_t kNlmsgError = 2, kNlmsgDone = 3;
constexpr uint8_t kTcpListen = 10, kTcpClose = 7, kTcpEstablished = 1;
constexpr uint16_t kSkMeminfo = 7, kShutdown = 8;

void put_u16(std::vector<uint8_t>& b, size_t at, uint16_t v) { std::memcpy(&b[at], &v, 2); }
void put_u32(std::vector<uint8_t>& b, size_t at, uint32_t v) { std::memcpy(&b[at], &v, 4); }

// A netlink message: 16-byte header then `payload`, padded to 4 bytes.
std::vector<uint8_t> message(uint16_t type, uint32_t seq, const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> m(16 + payload.size());
    put_u32(m, 0, static_cast<uint32_t>(m.size()));
    put_u16(m, 4, type);
    put_u16(m, 6, 2);  // NLM_F_MULTI
    put_u32(m, 8, seq);
    std::copy(payload.begin(), payload.end(), m.begin() + 16);
    m.resize((m.size() + 3) & ~size_t{3});
    return m;
}

struct DiagMsg {
    uint8_t family = AF_INET;
    uint8_t state = kTcpListen;
    uint16_t sport = 5060;
    uint32_t rqueue = 0;
    uint32_t wqueue = 0;
};

// inet_diag_msg: family, state, timer, retrans, sockid (sport and dport big-endian at 4 and 6),
// expires at 52, rqueue at 56, wqueue at 60, uid, inode: 72 bytes.
std::vector<uint8_t> diag_msg(const DiagMsg& d) {
    std::vector<uint8_t> p(72, 0);
    p[0] = d.family;
    p[1] = d.state;
    p[4] = static_cast<uint8_t>(d.sport >> 8);
    p[5] = static_cast<uint8_t>(d.sport & 0xff);
    p[6] = 0x13;  // dport, never looked at
    put_u32(p, 56, d.rqueue);
    put_u32(p, 60, d.wqueue);
    return p;
}

void add_attribute(std::vector<uint8_t>& payload, uint16_t type, const std::vector<uint8_t>& data) {
    const size_t at = payload.size();
    payload.resize(at + 4 + data.size());
    put_u16(payload, at, static_cast<uint16_t>(4 + data.size()));
    put_u16(payload, at + 2, type);
    std::copy(data.begin(), data.end(), payload.begin() + static_cast<std::ptrdiff_t>(at + 4));
    payload.resize((payload.size() + 3) & ~size_t{3});
}

std::vector<uint8_t> meminfo(uint32_t rmem_alloc, uint32_t rcvbuf) {
    std::vector<uint8_t> data(9 * 4, 0);  // SK_MEMINFO_VARS u32 values
    put_u32(data, 0, rmem_alloc);
    put_u32(data, 4, rcvbuf);
    put_u32(data, 8, 1234);  // wmem_alloc
    return data;
}

std::vector<uint8_t> done(uint32_t seq, int status = 0) {
    std::vector<uint8_t> payload(4);
    std::memcpy(payload.data(), &status, 4);
    return message(kNlmsgDone, seq, payload);
}

std::vector<uint8_t> error_message(uint32_t seq, int error) {
    std::vector<uint8_t> payload(4 + 16, 0);  // error, then the request's header
    std::memcpy(payload.data(), &error, 4);
    return message(kNlmsgError, seq, payload);
}

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
    std::vector<uint8_t> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(nodeagent_sock_diag)

BOOST_AUTO_TEST_CASE(request_bytes) {
    const std::vector<uint8_t> tcp = build_diag_request(AF_INET6, AppPort{AppTransport::tcp, 5060}, 77);
    // nlmsghdr 16 + inet_diag_req_v2 56 + attribute header 4 + bytecode 8
    BOOST_TEST_REQUIRE(tcp.size() == 84u);
    uint32_t len, seq, states;
    uint16_t type, flags;
    std::memcpy(&len, &tcp[0], 4);
    std::memcpy(&type, &tcp[4], 2);
    std::memcpy(&flags, &tcp[6], 2);
    std::memcpy(&seq, &tcp[8], 4);
    BOOST_TEST(len == 84u);
    BOOST_TEST(type == kSockDiagByFamily);
    BOOST_TEST(flags == (0x1 | 0x300));  // NLM_F_REQUEST | NLM_F_DUMP
    BOOST_TEST(seq == 77u);
    BOOST_TEST(tcp[16] == AF_INET6);
    BOOST_TEST(tcp[17] == IPPROTO_TCP);
    BOOST_TEST(tcp[18] == 0);  // no extensions
    std::memcpy(&states, &tcp[20], 4);
    BOOST_TEST(states == (1u << kTcpListen));
    // INET_DIAG_REQ_BYTECODE (1), 12 bytes: S_EQ yes 8 no 12, then an operand holding the port.
    uint16_t attr_len, attr_type, no, port;
    std::memcpy(&attr_len, &tcp[72], 2);
    std::memcpy(&attr_type, &tcp[74], 2);
    BOOST_TEST(attr_len == 12);
    BOOST_TEST(attr_type == 1);
    BOOST_TEST(tcp[76] == 11);  // INET_DIAG_BC_S_EQ
    BOOST_TEST(tcp[77] == 8);
    std::memcpy(&no, &tcp[78], 2);
    BOOST_TEST(no == 12);
    std::memcpy(&port, &tcp[82], 2);
    BOOST_TEST(port == 5060);  // host order, as the kernel compares it

    const std::vector<uint8_t> udp = build_diag_request(AF_INET, AppPort{AppTransport::udp, 53}, 1);
    BOOST_TEST(udp[17] == IPPROTO_UDP);
    BOOST_TEST(udp[18] == (1u << (kSkMeminfo - 1)));
    std::memcpy(&states, &udp[20], 4);
    BOOST_TEST(states == 0xffffffffu);
}

BOOST_AUTO_TEST_CASE(tcp_listeners_and_done) {
    const std::vector<uint8_t> buffer = concat({
        message(kSockDiagByFamily, 9, diag_msg({AF_INET, kTcpListen, 5060, 3, 128})),
        message(kSockDiagByFamily, 9, diag_msg({AF_INET6, kTcpListen, 5060, 0, 4096})),
        done(9),
    });
    std::vector<DiagSocket> sockets;
    const DiagParseResult r = parse_diag_messages(buffer, 9, sockets);
    BOOST_TEST((r.status == ParseStatus::complete));
    BOOST_TEST(r.malformed == 0u);
    BOOST_TEST_REQUIRE(sockets.size() == 2u);
    BOOST_TEST(sockets[0].family == AF_INET);
    BOOST_TEST(sockets[0].state == kTcpListen);
    BOOST_TEST(sockets[0].local_port == 5060);
    BOOST_TEST(sockets[0].rqueue == 3u);
    BOOST_TEST(sockets[0].wqueue == 128u);
    BOOST_TEST(!sockets[0].rcvbuf.has_value());
    BOOST_TEST(sockets[1].family == AF_INET6);
}

BOOST_AUTO_TEST_CASE(dump_over_two_reads) {
    std::vector<DiagSocket> sockets;
    const auto first = message(kSockDiagByFamily, 4, diag_msg({}));
    BOOST_TEST((parse_diag_messages(first, 4, sockets).status == ParseStatus::incomplete));
    BOOST_TEST((parse_diag_messages(done(4), 4, sockets).status == ParseStatus::complete));
    BOOST_TEST(sockets.size() == 1u);
}

BOOST_AUTO_TEST_CASE(replies_to_another_request_are_skipped) {
    const std::vector<uint8_t> buffer = concat({
        message(kSockDiagByFamily, 3, diag_msg({})),
        done(3),
        message(kSockDiagByFamily, 4, diag_msg({AF_INET, kTcpListen, 80, 1, 10})),
        done(4),
    });
    std::vector<DiagSocket> sockets;
    BOOST_TEST((parse_diag_messages(buffer, 4, sockets).status == ParseStatus::complete));
    BOOST_TEST_REQUIRE(sockets.size() == 1u);
    BOOST_TEST(sockets[0].local_port == 80);
}

BOOST_AUTO_TEST_CASE(udp_skmeminfo_attribute) {
    std::vector<uint8_t> payload = diag_msg({AF_INET, kTcpClose, 5060, 999, 0});
    add_attribute(payload, kShutdown, {0});  // a 1-byte attribute, padded: must be skipped
    add_attribute(payload, kSkMeminfo, meminfo(53248, 212992));
    std::vector<DiagSocket> sockets;
    const DiagParseResult r = parse_diag_messages(concat({message(kSockDiagByFamily, 1, payload), done(1)}), 1, sockets);
    BOOST_TEST((r.status == ParseStatus::complete));
    BOOST_TEST_REQUIRE(sockets.size() == 1u);
    BOOST_TEST_REQUIRE(sockets[0].rmem_alloc.has_value());
    BOOST_TEST(*sockets[0].rmem_alloc == 53248u);
    BOOST_TEST(*sockets[0].rcvbuf == 212992u);
    BOOST_TEST(backlog_fraction(sockets, AppPort{AppTransport::udp, 5060}) == 0.25);
}

BOOST_AUTO_TEST_CASE(malformed_and_error_replies) {
    struct Case {
        const char* description;
        std::vector<uint8_t> buffer;
        ParseStatus status;
        int error;
        size_t malformed;
        size_t sockets;
    };
    std::vector<uint8_t> overlong = message(kSockDiagByFamily, 1, diag_msg({}));
    put_u32(overlong, 0, 400);  // claims more than the buffer holds
    std::vector<uint8_t> bad_attribute = diag_msg({});
    add_attribute(bad_attribute, kSkMeminfo, meminfo(1, 2));
    put_u16(bad_attribute, 72, 200);  // attribute length past the message
    std::vector<uint8_t> short_meminfo = diag_msg({AF_INET, kTcpClose});
    add_attribute(short_meminfo, kSkMeminfo, {1, 0, 0, 0});  // one u32: too short, ignored
    const std::vector<Case> cases = {
        {"kernel refuses the request", error_message(1, -EINVAL), ParseStatus::error, EINVAL, 0, 0},
        {"an ACK is not an error", concat({error_message(1, 0), done(1)}), ParseStatus::complete, 0, 0, 0},
        {"dump ends with an error status", done(1, -EBUSY), ParseStatus::error, EBUSY, 0, 0},
        {"message longer than the buffer", overlong, ParseStatus::error, 0, 0, 0},
        {"trailing bytes shorter than a header", concat({done(1), std::vector<uint8_t>(8, 0)}), ParseStatus::complete,
         0, 0, 0},
        {"stray bytes before DONE", concat({std::vector<uint8_t>(8, 0)}), ParseStatus::error, 0, 0, 0},
        {"diag message shorter than inet_diag_msg",
         concat({message(kSockDiagByFamily, 1, std::vector<uint8_t>(40, 0)), done(1)}), ParseStatus::complete, 0, 1, 0},
        {"attribute running past its message", concat({message(kSockDiagByFamily, 1, bad_attribute), done(1)}),
         ParseStatus::complete, 0, 1, 0},
        {"SKMEMINFO too short to hold rcvbuf", concat({message(kSockDiagByFamily, 1, short_meminfo), done(1)}),
         ParseStatus::complete, 0, 0, 1},
        {"nlmsg_len below the header size", [] {
             std::vector<uint8_t> m = done(1);
             put_u32(m, 0, 8);
             return m;
         }(), ParseStatus::error, 0, 0, 0},
        {"empty buffer", {}, ParseStatus::incomplete, 0, 0, 0},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            std::vector<DiagSocket> sockets;
            const DiagParseResult r = parse_diag_messages(c.buffer, 1, sockets);
            BOOST_TEST((r.status == c.status));
            BOOST_TEST(r.error == c.error);
            BOOST_TEST(r.malformed == c.malformed);
            BOOST_TEST(sockets.size() == c.sockets);
        }
    }
}

BOOST_AUTO_TEST_CASE(backlog_ratio_and_serving) {
    const AppPort tcp{AppTransport::tcp, 5060};
    const AppPort udp{AppTransport::udp, 5060};
    auto tcp_socket = [](uint8_t state, uint16_t port, uint32_t rq, uint32_t wq) {
        DiagSocket s;
        s.state = state;
        s.local_port = port;
        s.rqueue = rq;
        s.wqueue = wq;
        return s;
    };
    const std::vector<DiagSocket> listeners = {
        tcp_socket(kTcpListen, 5060, 16, 128),    // 0.125
        tcp_socket(kTcpListen, 5060, 96, 128),    // 0.75: the fullest counts
        tcp_socket(kTcpListen, 5061, 128, 128),   // other port
        tcp_socket(kTcpEstablished, 5060, 500, 10),  // not a listener
    };
    BOOST_TEST(backlog_fraction(listeners, tcp) == 0.75);
    BOOST_TEST(serves_port(listeners, tcp));
    BOOST_TEST(!serves_port(listeners, AppPort{AppTransport::tcp, 80}));
    BOOST_TEST(backlog_fraction({}, tcp) == 0.0);
    BOOST_TEST(!serves_port({}, tcp));
    // listen(fd, 0): the kernel still queues one connection; a waiting one means full.
    BOOST_TEST(backlog_fraction(std::vector<DiagSocket>{tcp_socket(kTcpListen, 5060, 1, 0)}, tcp) == 1.0);
    BOOST_TEST(backlog_fraction(std::vector<DiagSocket>{tcp_socket(kTcpListen, 5060, 0, 0)}, tcp) == 0.0);
    // The kernel lets the accept queue run one past the limit; the ratio stays at most 1.
    BOOST_TEST(backlog_fraction(std::vector<DiagSocket>{tcp_socket(kTcpListen, 5060, 129, 128)}, tcp) == 1.0);

    DiagSocket bound = tcp_socket(kTcpClose, 5060, 0, 0);
    BOOST_TEST(serves_port(std::vector<DiagSocket>{bound}, udp));
    BOOST_TEST(backlog_fraction(std::vector<DiagSocket>{bound}, udp) == 0.0);  // no SKMEMINFO
    bound.rmem_alloc = 300000;
    bound.rcvbuf = 212992;
    BOOST_TEST(backlog_fraction(std::vector<DiagSocket>{bound}, udp) == 1.0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara::nodeagent
