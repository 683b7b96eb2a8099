// SPDX-License-Identifier: GPL-2.0-or-later
// Crafted Ethernet/IPv4/UDP and Ethernet/IPv6/UDP frames for the BPF fast path's program and one run of the program
// on a frame (BPF_PROG_TEST_RUN): shared by its unit tests and the map-update latency tool.
#pragma once

#include <bpf/bpf.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "common/net/ip_address.hpp"

namespace sara::test::bpf {

using Mac = std::array<uint8_t, 6>;

inline const IpAddress kVip = *IpAddress::parse("198.18.100.10");
inline const IpAddress kClient = *IpAddress::parse("198.18.1.2");
inline const Mac kLoMac{};  // lo's address: the client and the LAN interface of the tests

// A frame as the test wants it; the defaults are a well-formed UDP packet of kClient:40000 →
// kVip:5004.
struct Frame {
    Mac dst_mac = kLoMac;
    Mac src_mac{0x02, 0xcc, 0xcc, 0xcc, 0xcc, 0x01};
    uint16_t ethertype = 0x0800;
    uint8_t version = 4;
    uint8_t ihl = 5;                   // header length field; the options are zero bytes
    uint8_t ttl = 64;
    uint8_t protocol = 17;
    uint16_t frag_off = 0;             // host order: 0x4000 DF, 0x2000 MF, low 13 bits offset
    IpAddress src = kClient;
    IpAddress dst = kVip;
    uint16_t sport = 40000;
    uint16_t dport = 5004;
    size_t payload = 32;
    std::optional<uint16_t> tot_len{};  // instead of the real length
    std::optional<size_t> cut_to{};     // frame length after building
};

inline uint16_t ip_checksum(const uint8_t* header, size_t length) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < length; i += 2) sum += static_cast<uint32_t>(header[i] << 8 | header[i + 1]);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

// The UDP header (checksum 0) and a counting payload.
inline void write_udp(uint8_t* udp, const Frame& f) {
    udp[0] = static_cast<uint8_t>(f.sport >> 8);
    udp[1] = static_cast<uint8_t>(f.sport);
    udp[2] = static_cast<uint8_t>(f.dport >> 8);
    udp[3] = static_cast<uint8_t>(f.dport);
    const uint16_t udp_len = static_cast<uint16_t>(8 + f.payload);
    udp[4] = static_cast<uint8_t>(udp_len >> 8);
    udp[5] = static_cast<uint8_t>(udp_len);
    for (size_t i = 0; i < f.payload; ++i) udp[8 + i] = static_cast<uint8_t>(i);
}

// IPv6 (f.src IPv6): a 40-byte header, `protocol` as its next header; 0, 43 or 60 add one
// 8-byte extension header of that type before UDP. `ttl` is the hop limit, `tot_len` the
// payload length; ihl and frag_off do not apply.
inline std::vector<uint8_t> build_v6(const Frame& f) {
    const bool extension = f.protocol == 0 || f.protocol == 43 || f.protocol == 60;
    const size_t ext = extension ? 8 : 0;
    std::vector<uint8_t> out(14 + 40 + ext + 8 + f.payload, 0);
    std::copy(f.dst_mac.begin(), f.dst_mac.end(), out.begin());
    std::copy(f.src_mac.begin(), f.src_mac.end(), out.begin() + 6);
    out[12] = static_cast<uint8_t>(f.ethertype >> 8);
    out[13] = static_cast<uint8_t>(f.ethertype);
    uint8_t* ip = out.data() + 14;
    const uint16_t plen = f.tot_len.value_or(static_cast<uint16_t>(ext + 8 + f.payload));
    ip[0] = static_cast<uint8_t>(f.version << 4);
    ip[4] = static_cast<uint8_t>(plen >> 8);
    ip[5] = static_cast<uint8_t>(plen);
    ip[6] = f.protocol;
    ip[7] = f.ttl;
    std::memcpy(ip + 8, f.src.bytes.data(), 16);
    std::memcpy(ip + 24, f.dst.bytes.data(), 16);
    if (extension) ip[40] = 17;  // the extension's next header: UDP (its length field 0: 8 bytes)
    uint8_t* udp = ip + 40 + ext;
    write_udp(udp, f);
    if (f.cut_to) out.resize(*f.cut_to);
    return out;
}

inline std::vector<uint8_t> build(const Frame& f) {
    if (f.src.is_v6()) return build_v6(f);
    const size_t header = std::max<size_t>(f.ihl, 5) * 4;
    std::vector<uint8_t> out(14 + header + 8 + f.payload, 0);
    std::copy(f.dst_mac.begin(), f.dst_mac.end(), out.begin());
    std::copy(f.src_mac.begin(), f.src_mac.end(), out.begin() + 6);
    out[12] = static_cast<uint8_t>(f.ethertype >> 8);
    out[13] = static_cast<uint8_t>(f.ethertype);
    uint8_t* ip = out.data() + 14;
    const uint16_t tot = f.tot_len.value_or(static_cast<uint16_t>(header + 8 + f.payload));
    ip[0] = static_cast<uint8_t>(f.version << 4 | f.ihl);
    ip[2] = static_cast<uint8_t>(tot >> 8);
    ip[3] = static_cast<uint8_t>(tot);
    ip[4] = 0x12;  // identification
    ip[5] = 0x34;
    ip[6] = static_cast<uint8_t>(f.frag_off >> 8);
    ip[7] = static_cast<uint8_t>(f.frag_off);
    ip[8] = f.ttl;
    ip[9] = f.protocol;
    std::memcpy(ip + 12, f.src.bytes.data(), 4);
    std::memcpy(ip + 16, f.dst.bytes.data(), 4);
    const uint16_t check = ip_checksum(ip, header);
    ip[10] = static_cast<uint8_t>(check >> 8);
    ip[11] = static_cast<uint8_t>(check);
    uint8_t* udp = ip + header;
    write_udp(udp, f);
    if (f.cut_to) out.resize(*f.cut_to);
    return out;
}

struct RunResult {
    int error = 0;  // errno of a refused run, else 0
    uint32_t retval = 0;
    std::vector<uint8_t> out;
};

// One run of the program `prog_fd` on a copy of `frame`: its verdict and the frame it left.
inline RunResult test_run(int prog_fd, const std::vector<uint8_t>& frame) {
    RunResult result;
    result.out.resize(frame.size() + 256);
    bpf_test_run_opts opts{};
    opts.sz = sizeof opts;
    opts.data_in = frame.data();
    opts.data_size_in = static_cast<uint32_t>(frame.size());
    opts.data_out = result.out.data();
    opts.data_size_out = static_cast<uint32_t>(result.out.size());
    opts.repeat = 1;
    const int r = bpf_prog_test_run_opts(prog_fd, &opts);
    if (r != 0) {
        result.error = r < 0 ? -r : errno;
        return result;
    }
    result.retval = opts.retval;
    result.out.resize(opts.data_size_out);
    return result;
}

}  // namespace sara::test::bpf
