// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for decode_ip_packet: the input is what NFQUEUE would hand over (a packet
// starting at the IP header). Invariants are checked with __builtin_trap so a violation is a
// crash libFuzzer keeps; ASan catches any read outside the input.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "common/net/packet.hpp"

namespace {

using sara::DecodedPacket;
using sara::DecodeError;
using sara::DecodeResult;

void check(bool ok) {
    if (!ok) __builtin_trap();
}

bool lies_within(std::span<const uint8_t> part, std::span<const uint8_t> whole) {
    if (part.empty()) return true;
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void check_result(std::span<const uint8_t> input, const DecodeResult& r) {
    const DecodedPacket& p = r.packet;
    check(sara::to_string(r.error) != nullptr);
    // The payload lies within the input, and only a decoded TCP/UDP header yields one.
    check(lies_within(p.payload, input));
    check(p.has_ports || p.payload.empty());
    // Ports only for TCP or UDP: an ICMP error quoting a UDP header is not a flow.
    if (p.has_ports) check(p.is_tcp() || p.is_udp());
    if (p.later_fragment) check(p.fragment && !p.has_ports);
    if (!r.ok()) {
        check(!p.has_ports);
        return;
    }
    check(!input.empty());
    const int version = input[0] >> 4;
    check(version == 4 || version == 6);
    check(p.src.family == version && p.dst.family == version);
    if (p.has_ports) {
        // The key is built from what was decoded, in the family of the packet.
        const sara::FlowKey key = p.flow_key();
        check(key.src_port == p.src_port && key.dst_port == p.dst_port);
        check(key.is_v4() == (version == 4));
    }
    if (p.is_tcp() && p.has_ports) check(input.size() >= size_t(version == 4 ? 40 : 60));
    if (p.is_udp() && p.has_ports) check(input.size() >= size_t(version == 4 ? 28 : 48));
}

bool same_packet(const DecodeResult& a, std::span<const uint8_t> a_input, const DecodeResult& b,
                 std::span<const uint8_t> b_input) {
    const DecodedPacket& x = a.packet;
    const DecodedPacket& y = b.packet;
    if (a.error != b.error || x.src != y.src || x.dst != y.dst || x.ip_proto != y.ip_proto ||
        x.fragment != y.fragment || x.later_fragment != y.later_fragment || x.has_ports != y.has_ports ||
        x.src_port != y.src_port || x.dst_port != y.dst_port || x.tcp_flags != y.tcp_flags ||
        x.tcp_seq != y.tcp_seq || x.payload.size() != y.payload.size())
        return false;
    if (x.payload.empty()) return true;
    return x.payload.data() - a_input.data() == y.payload.data() - b_input.data();
}

// The IP header's own length (IPv4 total length, IPv6 40 + payload length), 0 if none.
size_t stated_length(std::span<const uint8_t> input) {
    if (input.size() >= 4 && input[0] >> 4 == 4) return size_t(input[2]) << 8 | input[3];
    if (input.size() >= 6 && input[0] >> 4 == 6) return 40 + (size_t(input[4]) << 8 | input[5]);
    return 0;
}

// A truncated copy (NFQUEUE's copy range): the kernel's length is trusted only as far as the
// header states the same; what decodes is marked truncated and stays within the copy.
void check_truncated_copy(std::span<const uint8_t> input) {
    const size_t stated = stated_length(input);
    if (stated <= input.size()) return;
    const DecodeResult t = sara::decode_ip_packet(input, stated);
    check_result(input, t);
    if (t.ok()) check(t.packet.truncated);
    // Any other claimed length is a lie the decoder refuses.
    const DecodeResult lie = sara::decode_ip_packet(input, stated + 1);
    check(lie.error == DecodeError::bad_total_length || lie.error == DecodeError::bad_version ||
          lie.error == DecodeError::truncated_ip || lie.error == DecodeError::bad_header_length);
}

// A decoded packet cut short with the kernel's word for its length decides the same on its
// headers: same ports, a payload that is a prefix of the whole one.
void check_cut(std::span<const uint8_t> input, const DecodeResult& whole) {
    const DecodedPacket& w = whole.packet;
    if (!whole.ok() || !w.has_ports || w.payload.empty() || w.fragment) return;
    const size_t stated = stated_length(input);
    if (stated != input.size()) return;  // padded: the kernel would not truncate that
    const size_t cut = input.size() - (w.payload.size() + 1) / 2;
    std::vector<uint8_t> copy(input.begin(), input.begin() + long(cut));
    const DecodeResult t = sara::decode_ip_packet(copy, input.size());
    check_result(copy, t);
    check(t.ok() && t.packet.truncated && t.packet.has_ports);
    check(t.packet.src_port == w.src_port && t.packet.dst_port == w.dst_port && t.packet.tcp_seq == w.tcp_seq);
    check(t.packet.payload.size() <= w.payload.size());
    check(t.packet.payload.data() - copy.data() == w.payload.data() - input.data());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> input(data, size);
    const DecodeResult r = sara::decode_ip_packet(input);
    check_result(input, r);
    check(!r.packet.truncated);
    check_truncated_copy(input);
    check_cut(input, r);

    // Ethernet padding: bytes after a decoded datagram must not change anything.
    if (r.ok()) {
        std::vector<uint8_t> padded(input.begin(), input.end());
        padded.resize(size + 18, 0xa5);
        const DecodeResult again = sara::decode_ip_packet(padded);
        check_result(padded, again);
        check(same_packet(r, input, again, padded));
    }
    return 0;
}
