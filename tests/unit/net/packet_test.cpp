// SPDX-License-Identifier: GPL-2.0-or-later
// decode_ip_packet over packets assembled byte by byte: the shapes NFQUEUE hands the
// balancer (IPv4 with options, IPv6 extension chains, fragments, ICMP errors) and every way
// a header can lie about its length. The hostile cases are also replayed by the fuzz target
// from tests/fuzz/regressions/decoder/.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/net/packet.hpp"

namespace sara {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes text_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes operator+(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

Bytes zeros(size_t n) { return Bytes(n, 0); }

Bytes first_bytes(const Bytes& b, size_t n) { return Bytes(b.begin(), b.begin() + long(n)); }

void put_u16(Bytes& out, uint16_t v) {
    out.push_back(uint8_t(v >> 8));
    out.push_back(uint8_t(v));
}
void put_u32(Bytes& out, uint32_t v) {
    put_u16(out, uint16_t(v >> 16));
    put_u16(out, uint16_t(v));
}
void put_address(Bytes& out, std::string_view text) {
    const IpAddress a = IpAddress::parse(text).value();
    out.insert(out.end(), a.bytes.begin(), a.bytes.begin() + (a.is_v4() ? 4 : 16));
}

// --- transport headers ----------------------------------------------------------------------

struct Udp {
    uint16_t src_port = 5060;
    uint16_t dst_port = 5060;
    Bytes payload{};
    std::optional<uint16_t> length{};  // defaults to 8 + payload
};

Bytes udp(const Udp& h) {
    Bytes out;
    put_u16(out, h.src_port);
    put_u16(out, h.dst_port);
    put_u16(out, h.length.value_or(uint16_t(8 + h.payload.size())));
    put_u16(out, 0);  // checksum: the decoder leaves it to the kernel
    return out + h.payload;
}

struct Tcp {
    uint16_t src_port = 40000;
    uint16_t dst_port = 5060;
    uint32_t seq = 0;
    uint32_t ack = 0;
    uint8_t flags = tcp_flag::ack;
    Bytes options{};                            // padded by the caller to a multiple of 4
    std::optional<uint8_t> data_offset_words{};  // defaults to (20 + options) / 4
    Bytes payload{};
};

Bytes tcp(const Tcp& h) {
    Bytes out;
    put_u16(out, h.src_port);
    put_u16(out, h.dst_port);
    put_u32(out, h.seq);
    put_u32(out, h.ack);
    out.push_back(uint8_t(h.data_offset_words.value_or(uint8_t((20 + h.options.size()) / 4)) << 4));
    out.push_back(h.flags);
    put_u16(out, 64240);  // window
    put_u16(out, 0);      // checksum
    put_u16(out, 0);      // urgent pointer
    return out + h.options + h.payload;
}

// --- IP headers -----------------------------------------------------------------------------

struct V4 {
    uint8_t proto = 17;
    std::string_view src = "198.18.1.2";
    std::string_view dst = "198.18.100.10";
    Bytes options{};                         // padded by the caller to a multiple of 4
    uint16_t fragment = 0;                   // flags and offset: 0x2000 MF, 0x4000 DF, offset in 8-byte units
    std::optional<uint8_t> ihl_words{};      // defaults to (20 + options) / 4
    std::optional<uint16_t> total_length{};  // defaults to header + payload
};

Bytes ipv4(const V4& h, const Bytes& payload) {
    Bytes out;
    const size_t header = 20 + h.options.size();
    out.push_back(uint8_t(0x40 | h.ihl_words.value_or(uint8_t(header / 4))));
    out.push_back(0);  // DSCP/ECN
    put_u16(out, h.total_length.value_or(uint16_t(header + payload.size())));
    put_u16(out, 0x1c46);  // identification
    put_u16(out, h.fragment);
    out.push_back(64);  // TTL
    out.push_back(h.proto);
    put_u16(out, 0);  // checksum, filled below
    put_address(out, h.src);
    put_address(out, h.dst);
    out = out + h.options;
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < out.size(); i += 2) sum += uint32_t(out[i] << 8 | out[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    out[10] = uint8_t(~sum >> 8);
    out[11] = uint8_t(~sum);
    return out + payload;
}

struct V6 {
    uint8_t next_header = 17;
    std::string_view src = "2001:db8::2";
    std::string_view dst = "2001:db8::100:10";
    std::optional<uint16_t> payload_length{};  // defaults to everything after the fixed header
};

Bytes ipv6(const V6& h, const Bytes& rest) {
    Bytes out;
    put_u32(out, 0x60000000);  // version 6, traffic class 0, flow label 0
    put_u16(out, h.payload_length.value_or(uint16_t(rest.size())));
    out.push_back(h.next_header);
    out.push_back(64);  // hop limit
    put_address(out, h.src);
    put_address(out, h.dst);
    return out + rest;
}

// A hop-by-hop or destination options header of (length_units + 1) * 8 bytes, PadN-filled.
Bytes v6_options(uint8_t next, uint8_t length_units) {
    Bytes out{next, length_units, 1, uint8_t((length_units + 1) * 8 - 4)};
    out.resize((length_units + 1) * 8, 0);
    return out;
}

// Hop-by-hop with a Router Alert option, as MLD reports carry it.
Bytes v6_router_alert(uint8_t next) { return {next, 0, 5, 2, 0, 0, 1, 0}; }

// Type 0 routing header with no addresses left: 8 bytes.
Bytes v6_routing(uint8_t next) { return {next, 0, 0, 0, 0, 0, 0, 0}; }

Bytes v6_fragment(uint8_t next, uint16_t offset_units, bool more) {
    Bytes out{next, 0};
    put_u16(out, uint16_t(offset_units << 3 | (more ? 1 : 0)));
    put_u32(out, 0xdeadbeef);
    return out;
}

// An ICMP error (type, code) quoting the start of `original`, as RFC 792 requires: the IP
// header and the first 8 bytes of its payload.
Bytes icmp_error(uint8_t type, uint8_t code, const Bytes& original, size_t quoted) {
    Bytes out{type, code, 0, 0, 0, 0, 0, 0};
    return out + first_bytes(original, std::min(quoted, original.size()));
}

// SYN options as Linux sends them: MSS, SACK permitted, timestamps, NOP, window scale.
const Bytes kSynOptions = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};

const Bytes kRtp = {0x80, 0x00, 0x12, 0x34, 0x00, 0x00, 0x03, 0x20, 0x5e, 0xed, 0xbe, 0xef,
                    0xff, 0xff, 0x7f, 0x7f};

const std::string kOptions =
    "OPTIONS sip:svc@198.18.100.10 SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.1.2:5060;branch=z9hG4bK-1\r\n"
    "Call-ID: ka-1@198.18.1.2\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

struct DecodeCase {
    const char* description;
    Bytes packet;
    DecodeError error = DecodeError::none;
    uint8_t ip_proto = 0;
    std::string_view src{};  // checked when set
    std::string_view dst{};
    bool fragment = false;
    bool later_fragment = false;
    bool has_ports = false;
    uint16_t src_port = 0;
    uint16_t dst_port = 0;
    uint8_t tcp_flags = 0;
    uint32_t tcp_seq = 0;
    Bytes payload{};
};

const std::vector<DecodeCase>& decode_cases() {
    static const std::vector<DecodeCase> cases = {
        // --- IPv4, whole packets ------------------------------------------------------------
        {.description = "IPv4 UDP SIP OPTIONS",
         .packet = ipv4({}, udp({.payload = text_bytes(kOptions)})),
         .ip_proto = 17, .src = "198.18.1.2", .dst = "198.18.100.10", .has_ports = true, .src_port = 5060,
         .dst_port = 5060, .payload = text_bytes(kOptions)},
        {.description = "IPv4 UDP RTP",
         .packet = ipv4({}, udp({.src_port = 6000, .dst_port = 20000, .payload = kRtp})),
         .ip_proto = 17, .has_ports = true, .src_port = 6000, .dst_port = 20000, .payload = kRtp},
        {.description = "IPv4 UDP with an empty payload",
         .packet = ipv4({}, udp({.src_port = 1, .dst_port = 2})),
         .ip_proto = 17, .has_ports = true, .src_port = 1, .dst_port = 2},
        {.description = "IPv4 UDP in a minimum Ethernet frame: padding after total length is ignored",
         .packet = ipv4({}, udp({.src_port = 7, .dst_port = 5060, .payload = text_bytes("\r\n")})) + zeros(16),
         .ip_proto = 17, .has_ports = true, .src_port = 7, .dst_port = 5060, .payload = text_bytes("\r\n")},
        {.description = "IPv4 UDP length shorter than the IP payload: the UDP length wins",
         .packet = ipv4({}, udp({.src_port = 9, .dst_port = 5060, .payload = text_bytes("abcdef"), .length = 10})),
         .ip_proto = 17, .has_ports = true, .src_port = 9, .dst_port = 5060, .payload = text_bytes("ab")},
        {.description = "IPv4 TCP SYN with Linux options",
         .packet = ipv4({.proto = 6}, tcp({.seq = 0x9a3b1c00, .ack = 0, .flags = tcp_flag::syn,
                                          .options = kSynOptions})),
         .ip_proto = 6, .has_ports = true, .src_port = 40000, .dst_port = 5060, .tcp_flags = tcp_flag::syn,
         .tcp_seq = 0x9a3b1c00},
        {.description = "IPv4 TCP PSH|ACK carrying SIP",
         .packet = ipv4({.proto = 6}, tcp({.seq = 0x9a3b1c01, .flags = tcp_flag::psh | tcp_flag::ack,
                                          .payload = text_bytes(kOptions)})),
         .ip_proto = 6, .has_ports = true, .src_port = 40000, .dst_port = 5060,
         .tcp_flags = tcp_flag::psh | tcp_flag::ack, .tcp_seq = 0x9a3b1c01, .payload = text_bytes(kOptions)},
        {.description = "IPv4 TCP FIN|ACK with timestamps, padded frame",
         .packet = ipv4({.proto = 6}, tcp({.seq = 7, .flags = tcp_flag::fin | tcp_flag::ack,
                                          .options = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}})) + zeros(6),
         .ip_proto = 6, .has_ports = true, .src_port = 40000, .dst_port = 5060,
         .tcp_flags = tcp_flag::fin | tcp_flag::ack, .tcp_seq = 7},
        {.description = "IPv4 with a Router Alert option (IHL 6)",
         .packet = ipv4({.options = {0x94, 0x04, 0x00, 0x00}}, udp({.src_port = 5061, .payload = kRtp})),
         .ip_proto = 17, .has_ports = true, .src_port = 5061, .dst_port = 5060, .payload = kRtp},
        {.description = "IPv4 with 40 bytes of options (IHL 15): record route",
         .packet = ipv4({.proto = 6, .options = Bytes{7, 39, 4} + zeros(36) + Bytes{0}},
                        tcp({.seq = 1, .payload = text_bytes("x")})),
         .ip_proto = 6, .has_ports = true, .src_port = 40000, .dst_port = 5060, .tcp_flags = tcp_flag::ack,
         .tcp_seq = 1, .payload = text_bytes("x")},
        {.description = "IPv4 Don't Fragment is not a fragment",
         .packet = ipv4({.fragment = 0x4000}, udp({.payload = kRtp})),
         .ip_proto = 17, .has_ports = true, .src_port = 5060, .dst_port = 5060, .payload = kRtp},

        // --- IPv4 fragments -----------------------------------------------------------------
        {.description = "IPv4 first fragment: ports decoded, UDP length covers the whole datagram",
         .packet = ipv4({.fragment = 0x2000}, udp({.payload = text_bytes("INVITE sip:"), .length = 3000})),
         .ip_proto = 17, .fragment = true, .has_ports = true, .src_port = 5060, .dst_port = 5060,
         .payload = text_bytes("INVITE sip:")},
        {.description = "IPv4 middle fragment: no transport header",
         .packet = ipv4({.fragment = 0x2000 | 185}, text_bytes("a=rtpmap:0 PCMU/8000\r\n")),
         .ip_proto = 17, .fragment = true, .later_fragment = true},
        {.description = "IPv4 last fragment: bytes that look like a UDP header are not ports",
         .packet = ipv4({.fragment = 370}, udp({.src_port = 1111, .dst_port = 2222, .payload = kRtp})),
         .ip_proto = 17, .fragment = true, .later_fragment = true},
        {.description = "IPv4 later TCP fragment",
         .packet = ipv4({.proto = 6, .fragment = 1}, zeros(8)),
         .ip_proto = 6, .fragment = true, .later_fragment = true},
        {.description = "IPv4 first fragment too short for a UDP header",
         .packet = ipv4({.fragment = 0x2000}, zeros(4)), .error = DecodeError::truncated_transport},

        // --- IPv4, other protocols: addresses only -------------------------------------------
        {.description = "ICMP port unreachable quoting a UDP header: no phantom flow",
         .packet = ipv4({.proto = 1, .src = "198.18.100.10", .dst = "198.18.1.2"},
                        icmp_error(3, 3, ipv4({}, udp({.src_port = 5060, .dst_port = 5062, .payload = kRtp})), 28)),
         .ip_proto = 1, .src = "198.18.100.10", .dst = "198.18.1.2"},
        {.description = "ICMP fragmentation needed quoting a TCP header",
         .packet = ipv4({.proto = 1}, icmp_error(3, 4, ipv4({.proto = 6}, tcp({.seq = 5})), 28)),
         .ip_proto = 1},
        {.description = "ICMP echo request", .packet = ipv4({.proto = 1}, Bytes{8, 0, 0xf7, 0xff, 0, 0, 0, 0}),
         .ip_proto = 1},
        {.description = "GRE", .packet = ipv4({.proto = 47}, Bytes{0, 0, 0x08, 0x00}), .ip_proto = 47},
        {.description = "SCTP has no ports for us", .packet = ipv4({.proto = 132}, zeros(12)), .ip_proto = 132},

        // --- IPv4 length errors -------------------------------------------------------------
        {.description = "empty buffer", .packet = {}, .error = DecodeError::truncated_ip},
        {.description = "one byte", .packet = {0x45}, .error = DecodeError::truncated_ip},
        {.description = "IPv4 header cut at 19 bytes",
         .packet = first_bytes(ipv4({}, {}), 19), .error = DecodeError::truncated_ip},
        {.description = "IHL 0", .packet = ipv4({.ihl_words = 0}, udp({})), .error = DecodeError::bad_header_length},
        {.description = "IHL 4", .packet = ipv4({.ihl_words = 4}, udp({})), .error = DecodeError::bad_header_length},
        {.description = "IHL 15 in a 28-byte packet: options run past the end",
         .packet = ipv4({.ihl_words = 15}, udp({})), .error = DecodeError::bad_header_length},
        {.description = "total length larger than the buffer",
         .packet = ipv4({.total_length = 1500}, udp({.payload = kRtp})), .error = DecodeError::bad_total_length},
        {.description = "total length 65535 in a short buffer",
         .packet = ipv4({.total_length = 65535}, udp({})), .error = DecodeError::bad_total_length},
        {.description = "total length smaller than the header",
         .packet = ipv4({.total_length = 19}, udp({})), .error = DecodeError::bad_total_length},
        {.description = "total length smaller than IHL with options",
         .packet = ipv4({.options = zeros(8), .total_length = 24}, udp({})), .error = DecodeError::bad_total_length},
        {.description = "total length equal to the header: nothing left for UDP",
         .packet = ipv4({.total_length = 20}, udp({})), .error = DecodeError::truncated_transport},
        {.description = "total length cuts the UDP header, bytes after it are padding",
         .packet = ipv4({.total_length = 24}, udp({.payload = kRtp})), .error = DecodeError::truncated_transport},
        {.description = "UDP header cut at 7 bytes", .packet = ipv4({}, Bytes{0x13, 0xc4, 0x13, 0xc4, 0, 8, 0}),
         .error = DecodeError::truncated_transport},
        {.description = "UDP length larger than the IP payload",
         .packet = ipv4({}, udp({.payload = kRtp, .length = 25})), .error = DecodeError::bad_transport_length},
        {.description = "UDP length larger than the IP payload, the rest is Ethernet padding",
         .packet = ipv4({}, udp({.payload = text_bytes("ab"), .length = 26})) + zeros(16),
         .error = DecodeError::bad_transport_length},
        {.description = "UDP length below 8", .packet = ipv4({}, udp({.payload = kRtp, .length = 7})),
         .error = DecodeError::bad_transport_length},
        {.description = "UDP length 0", .packet = ipv4({}, udp({.length = 0})), .error = DecodeError::bad_transport_length},
        {.description = "TCP header cut at 19 bytes",
         .packet = ipv4({.proto = 6}, first_bytes(tcp({}), 19)),
         .error = DecodeError::truncated_transport},
        {.description = "TCP data offset 0", .packet = ipv4({.proto = 6}, tcp({.data_offset_words = 0})),
         .error = DecodeError::bad_transport_length},
        {.description = "TCP data offset 4", .packet = ipv4({.proto = 6}, tcp({.data_offset_words = 4})),
         .error = DecodeError::bad_transport_length},
        {.description = "TCP data offset 15 with no options present",
         .packet = ipv4({.proto = 6}, tcp({.data_offset_words = 15})), .error = DecodeError::truncated_transport},
        {.description = "TCP options run past total length into padding",
         .packet = ipv4({.proto = 6, .total_length = 48}, tcp({.options = kSynOptions})) + zeros(8),
         .error = DecodeError::truncated_transport},

        // --- not IP -------------------------------------------------------------------------
        {.description = "version 0", .packet = zeros(40), .error = DecodeError::bad_version},
        {.description = "version 5", .packet = Bytes{0x55} + zeros(39), .error = DecodeError::bad_version},
        {.description = "version 15", .packet = Bytes{0xf5} + zeros(39), .error = DecodeError::bad_version},
        {.description = "an Ethernet frame handed over by mistake",
         .packet = Bytes{0x02, 0x42, 0xac, 0x11, 0x00, 0x02, 0x02, 0x42, 0xac, 0x11, 0x00, 0x03, 0x08, 0x00} +
                   ipv4({}, udp({})),
         .error = DecodeError::bad_version},
        {.description = "version 6 nibble in an IPv4-sized packet",
         .packet = Bytes{0x65} + zeros(27),
         .error = DecodeError::truncated_ip},

        // --- IPv6 ---------------------------------------------------------------------------
        {.description = "IPv6 UDP SIP OPTIONS",
         .packet = ipv6({}, udp({.payload = text_bytes(kOptions)})),
         .ip_proto = 17, .src = "2001:db8::2", .dst = "2001:db8::100:10", .has_ports = true, .src_port = 5060,
         .dst_port = 5060, .payload = text_bytes(kOptions)},
        {.description = "IPv6 TCP SYN",
         .packet = ipv6({.next_header = 6}, tcp({.src_port = 50000, .dst_port = 554, .seq = 0xfffffff0,
                                                .flags = tcp_flag::syn, .options = kSynOptions})),
         .ip_proto = 6, .has_ports = true, .src_port = 50000, .dst_port = 554, .tcp_flags = tcp_flag::syn,
         .tcp_seq = 0xfffffff0},
        {.description = "IPv6 UDP with padding after the payload length",
         .packet = ipv6({}, udp({.src_port = 6000, .dst_port = 20000, .payload = kRtp})) + zeros(12),
         .ip_proto = 17, .has_ports = true, .src_port = 6000, .dst_port = 20000, .payload = kRtp},
        {.description = "IPv6 hop-by-hop (router alert) then UDP",
         .packet = ipv6({.next_header = 0}, v6_router_alert(17) + udp({.payload = kRtp})),
         .ip_proto = 17, .has_ports = true, .src_port = 5060, .dst_port = 5060, .payload = kRtp},
        {.description = "IPv6 hop-by-hop, routing, 24-byte destination options, then TCP",
         .packet = ipv6({.next_header = 0},
                        v6_options(43, 0) + v6_routing(60) + v6_options(6, 2) + tcp({.seq = 99, .payload = kRtp})),
         .ip_proto = 6, .has_ports = true, .src_port = 40000, .dst_port = 5060, .tcp_flags = tcp_flag::ack,
         .tcp_seq = 99, .payload = kRtp},
        {.description = "IPv6 first fragment: ports decoded, UDP length not checked",
         .packet = ipv6({.next_header = 44}, v6_fragment(17, 0, true) + udp({.payload = kRtp, .length = 4000})),
         .ip_proto = 17, .fragment = true, .has_ports = true, .src_port = 5060, .dst_port = 5060, .payload = kRtp},
        {.description = "IPv6 later fragment: protocol known, no ports",
         .packet = ipv6({.next_header = 44}, v6_fragment(17, 181, true) + udp({.src_port = 1, .dst_port = 2})),
         .ip_proto = 17, .fragment = true, .later_fragment = true},
        {.description = "IPv6 last fragment after hop-by-hop",
         .packet = ipv6({.next_header = 0}, v6_options(44, 0) + v6_fragment(6, 362, false) + zeros(16)),
         .ip_proto = 6, .fragment = true, .later_fragment = true},
        {.description = "IPv6 atomic fragment (offset 0, no more): whole datagram with ports",
         .packet = ipv6({.next_header = 44}, v6_fragment(17, 0, false) + udp({.payload = kRtp})),
         .ip_proto = 17, .fragment = true, .has_ports = true, .src_port = 5060, .dst_port = 5060, .payload = kRtp},
        {.description = "ICMPv6 port unreachable quoting a UDP header: no phantom flow",
         .packet = ipv6({.next_header = 58}, icmp_error(1, 4, ipv6({}, udp({.payload = kRtp})), 48)),
         .ip_proto = 58},
        {.description = "IPv6 no next header", .packet = ipv6({.next_header = 59}, {}), .ip_proto = 59},
        {.description = "IPv6 ESP is not walked", .packet = ipv6({.next_header = 50}, zeros(24)), .ip_proto = 50},

        // --- IPv6 errors --------------------------------------------------------------------
        {.description = "IPv6 header cut at 39 bytes",
         .packet = first_bytes(ipv6({}, {}), 39), .error = DecodeError::truncated_ip},
        {.description = "IPv6 payload length larger than the buffer",
         .packet = ipv6({.payload_length = 100}, udp({})), .error = DecodeError::bad_total_length},
        {.description = "IPv6 payload length cuts the UDP header",
         .packet = ipv6({.payload_length = 6}, udp({})), .error = DecodeError::truncated_transport},
        {.description = "IPv6 UDP length larger than the payload",
         .packet = ipv6({}, udp({.payload = kRtp, .length = 200})), .error = DecodeError::bad_transport_length},
        {.description = "IPv6 TCP data offset 3", .packet = ipv6({.next_header = 6}, tcp({.data_offset_words = 3})),
         .error = DecodeError::bad_transport_length},
        {.description = "IPv6 hop-by-hop with payload length 0 (a jumbogram)",
         .packet = ipv6({.next_header = 0, .payload_length = 0}, v6_router_alert(17) + udp({})),
         .error = DecodeError::bad_extension_header},
        {.description = "IPv6 hop-by-hop claiming 2048 bytes",
         .packet = ipv6({.next_header = 0}, Bytes{17, 255} + zeros(14)),
         .error = DecodeError::bad_extension_header},
        {.description = "IPv6 extension header cut at 4 bytes",
         .packet = ipv6({.next_header = 60}, Bytes{17, 0, 1, 0}), .error = DecodeError::bad_extension_header},
        {.description = "IPv6 fragment header cut at 6 bytes",
         .packet = ipv6({.next_header = 44}, Bytes{17, 0, 0, 1, 0, 0}), .error = DecodeError::bad_extension_header},
        {.description = "IPv6 chain of hop-by-hop headers ending at the payload length",
         .packet = ipv6({.next_header = 0}, v6_options(0, 0) + v6_options(0, 0) + v6_options(0, 0)),
         .error = DecodeError::bad_extension_header},
    };
    return cases;
}

bool lies_within(std::span<const uint8_t> part, std::span<const uint8_t> whole) {
    if (part.empty()) return true;
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

BOOST_AUTO_TEST_SUITE(packet_decode)

BOOST_AUTO_TEST_CASE(decodes_packet_table) {
    for (const DecodeCase& c : decode_cases()) {
        BOOST_TEST_CONTEXT(c.description) {
            const DecodeResult r = decode_ip_packet(c.packet);
            const DecodedPacket& p = r.packet;
            BOOST_TEST(std::string_view(to_string(r.error)) == to_string(c.error));
            BOOST_TEST(p.has_ports == c.has_ports);
            BOOST_TEST(lies_within(p.payload, c.packet));
            if (c.error != DecodeError::none) {
                BOOST_TEST(p.payload.empty());
                continue;
            }
            BOOST_TEST(int(p.ip_proto) == int(c.ip_proto));
            BOOST_TEST(p.fragment == c.fragment);
            BOOST_TEST(p.later_fragment == c.later_fragment);
            BOOST_TEST(p.src_port == c.src_port);
            BOOST_TEST(p.dst_port == c.dst_port);
            BOOST_TEST(int(p.tcp_flags) == int(c.tcp_flags));
            BOOST_TEST(p.tcp_seq == c.tcp_seq);
            BOOST_TEST(Bytes(p.payload.begin(), p.payload.end()) == c.payload, boost::test_tools::per_element());
            const int family = (c.packet[0] >> 4) == 4 ? 4 : 6;
            BOOST_TEST(int(p.src.family) == family);
            BOOST_TEST(int(p.dst.family) == family);
            if (!c.src.empty()) BOOST_TEST(p.src.to_string() == c.src);
            if (!c.dst.empty()) BOOST_TEST(p.dst.to_string() == c.dst);
        }
    }
}

// A packet cut at any length never decodes to something reaching past the cut. Each prefix
// is copied to a buffer of exactly its size so an ASan build (make asan) catches overreads.
BOOST_AUTO_TEST_CASE(every_truncation_stays_in_bounds) {
    for (const DecodeCase& c : decode_cases()) {
        BOOST_TEST_CONTEXT(c.description) {
            for (size_t n = 0; n < c.packet.size(); ++n) {
                const Bytes prefix(c.packet.begin(), c.packet.begin() + long(n));
                const DecodeResult r = decode_ip_packet(prefix);
                BOOST_TEST_CONTEXT("prefix of " << n << " bytes") {
                    BOOST_TEST(lies_within(r.packet.payload, prefix));
                    if (r.packet.has_ports) BOOST_TEST((r.packet.is_tcp() || r.packet.is_udp()));
                }
            }
        }
    }
}

// Ethernet pads short frames; whatever follows the IP datagram must not change the result.
BOOST_AUTO_TEST_CASE(trailing_bytes_never_change_a_decoded_packet) {
    for (const DecodeCase& c : decode_cases()) {
        if (c.error != DecodeError::none) continue;
        BOOST_TEST_CONTEXT(c.description) {
            const Bytes padded = c.packet + Bytes(32, 0xa5);
            const DecodeResult a = decode_ip_packet(c.packet);
            const DecodeResult b = decode_ip_packet(padded);
            BOOST_TEST(b.ok());
            BOOST_TEST(b.packet.has_ports == a.packet.has_ports);
            BOOST_TEST(b.packet.payload.size() == a.packet.payload.size());
            if (!a.packet.payload.empty())
                BOOST_TEST(b.packet.payload.data() - padded.data() == a.packet.payload.data() - c.packet.data());
        }
    }
}

BOOST_AUTO_TEST_CASE(flow_key_follows_the_transport) {
    const Bytes tcp_packet = ipv4({.proto = 6}, tcp({.src_port = 40000, .dst_port = 5060}));
    const DecodeResult t = decode_ip_packet(tcp_packet);
    BOOST_REQUIRE(t.ok());
    BOOST_TEST(t.packet.flow_key().to_string() == "tcp 198.18.1.2:40000 > 198.18.100.10:5060");

    const Bytes udp_packet = ipv6({}, udp({.src_port = 6000, .dst_port = 20000}));
    const DecodeResult u = decode_ip_packet(udp_packet);
    BOOST_REQUIRE(u.ok());
    BOOST_TEST(u.packet.flow_key().to_string() == "udp [2001:db8::2]:6000 > [2001:db8::100:10]:20000");
}

// NFQUEUE copies at most 65,531 bytes: a 65,535-byte datagram arrives cut short, with the
// kernel's word (NFQA_CAP_LEN) for its real length. The headers decide; the payload is the
// copied part only, and the packet says it is truncated.
BOOST_AUTO_TEST_CASE(truncated_copy_decodes_when_the_kernel_vouches_for_the_length) {
    const Bytes whole = ipv4({}, udp({.src_port = 31002, .dst_port = 20999, .payload = Bytes(65535 - 28, 'x')}));
    BOOST_REQUIRE(whole.size() == 65535u);
    const Bytes copy = first_bytes(whole, 65531);
    // Without the kernel's length the copy lies about its length (the old behaviour).
    BOOST_TEST((decode_ip_packet(copy).error == DecodeError::bad_total_length));
    const DecodeResult r = decode_ip_packet(copy, whole.size());
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r.packet.truncated);
    BOOST_TEST(r.packet.has_ports);
    BOOST_TEST(r.packet.dst_port == 20999);
    BOOST_TEST(r.packet.payload.size() == 65531u - 28u);
    BOOST_TEST(lies_within(r.packet.payload, copy));
    // The whole packet is not truncated, with or without a length given.
    BOOST_TEST(!decode_ip_packet(whole).packet.truncated);
    BOOST_TEST(!decode_ip_packet(whole, whole.size()).packet.truncated);
    // A length the header does not state is a lie, whoever tells it.
    BOOST_TEST((decode_ip_packet(copy, whole.size() - 1).error == DecodeError::bad_total_length));
    BOOST_TEST((decode_ip_packet(copy, whole.size() + 1).error == DecodeError::bad_total_length));
    // The UDP length is checked against the real IP length, not the copy.
    Bytes bad_udp = whole;
    bad_udp[20 + 4] = 0xff;
    bad_udp[20 + 5] = 0xff;  // 65535 > 65515 bytes of IP payload
    BOOST_TEST((decode_ip_packet(first_bytes(bad_udp, 65531), whole.size()).error ==
                DecodeError::bad_transport_length));
}

BOOST_AUTO_TEST_CASE(truncated_copy_decodes_tcp_and_ipv6) {
    const Bytes tcp_whole = ipv4({.proto = 6}, tcp({.seq = 7, .payload = Bytes(3000, 'y')}));
    const DecodeResult t = decode_ip_packet(first_bytes(tcp_whole, 100), tcp_whole.size());
    BOOST_REQUIRE(t.ok());
    BOOST_TEST(t.packet.truncated);
    BOOST_TEST(t.packet.tcp_seq == 7u);
    BOOST_TEST(t.packet.payload.size() == 60u);
    // Headers cut by the copy are still an error: nothing to decide on.
    BOOST_TEST((decode_ip_packet(first_bytes(tcp_whole, 30), tcp_whole.size()).error ==
                DecodeError::truncated_transport));
    const Bytes v6_whole = ipv6({}, udp({.payload = Bytes(3000, 'z')}));
    const DecodeResult v = decode_ip_packet(first_bytes(v6_whole, 200), v6_whole.size());
    BOOST_REQUIRE(v.ok());
    BOOST_TEST(v.packet.truncated);
    BOOST_TEST(v.packet.payload.size() == 200u - 48u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace sara
