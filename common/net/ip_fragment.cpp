// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/net/ip_fragment.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/util/byte_order.hpp"

namespace sara {
namespace {

void set_header_checksum(uint8_t* header, size_t length) {
    header[10] = header[11] = 0;
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < length; i += 2) sum += read_be16(header + i);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    write_be16(header + 10, uint16_t(~sum));
}

// The options a later fragment carries (RFC 791: those with the copied flag), padded with
// end-of-list to a multiple of 4. False for options that run past their header.
bool copied_options(std::span<const uint8_t> options, std::vector<uint8_t>& out) {
    out.clear();
    for (size_t i = 0; i < options.size();) {
        const uint8_t type = options[i];
        if (type == 0) break;  // end of list
        if (type == 1) {       // no-operation: not copied
            ++i;
            continue;
        }
        if (i + 1 >= options.size()) return false;
        const size_t length = options[i + 1];
        if (length < 2 || i + length > options.size()) return false;
        if (type & 0x80) out.insert(out.end(), options.begin() + long(i), options.begin() + long(i + length));
        i += length;
    }
    out.resize((out.size() + 3) / 4 * 4, 0);
    return true;
}

}  // namespace

const char* to_string(FragmentResult r) {
    switch (r) {
        case FragmentResult::fragmented: return "fragmented";
        case FragmentResult::not_ipv4: return "not_ipv4";
        case FragmentResult::dont_fragment: return "dont_fragment";
        case FragmentResult::malformed: return "malformed";
        case FragmentResult::mtu_too_small: return "mtu_too_small";
        case FragmentResult::emit_failed: return "emit_failed";
    }
    return "unknown";
}

FragmentResult fragment_ipv4(std::span<const uint8_t> packet, size_t mtu, const FragmentSink& emit) {
    if (packet.empty() || (packet[0] >> 4) != 4) return FragmentResult::not_ipv4;
    if (packet.size() < 20) return FragmentResult::malformed;
    const size_t ihl = size_t(packet[0] & 0x0f) * 4;
    const size_t total = read_be16(packet.data() + 2);
    if (ihl < 20 || total < ihl || total > packet.size()) return FragmentResult::malformed;
    const uint16_t flags_offset = read_be16(packet.data() + 6);
    if (flags_offset & 0x4000) return FragmentResult::dont_fragment;
    const bool original_more = flags_offset & 0x2000;
    const size_t original_offset = size_t(flags_offset & 0x1fff) * 8;

    std::vector<uint8_t> later_options;
    if (!copied_options(packet.subspan(20, ihl - 20), later_options)) return FragmentResult::malformed;
    const size_t later_ihl = 20 + later_options.size();
    if (mtu < std::max(ihl, later_ihl) + 8) return FragmentResult::mtu_too_small;

    if (total <= mtu) return emit(packet.first(total)) ? FragmentResult::fragmented : FragmentResult::emit_failed;

    const std::span<const uint8_t> payload = packet.subspan(ihl, total - ihl);
    // A fragment whose offset puts its end past the largest datagram (65,535 bytes with a
    // 20-byte header) has no valid split: refuse it before emitting anything, since a refusal
    // after the first fragments went out would leave the receiver a datagram it can never
    // complete. Inside this bound every offset fits the 13-bit field.
    if (original_offset + payload.size() > 65535 - 20) return FragmentResult::malformed;
    std::vector<uint8_t> fragment(mtu);
    for (size_t done = 0; done < payload.size();) {
        const bool first = done == 0;
        const size_t header = first ? ihl : later_ihl;
        size_t chunk = payload.size() - done;
        const bool last = header + chunk <= mtu;
        if (!last) chunk = (mtu - header) / 8 * 8;
        const size_t offset = original_offset + done;
        std::memcpy(fragment.data(), packet.data(), 20);
        if (first) std::memcpy(fragment.data() + 20, packet.data() + 20, ihl - 20);
        else std::copy(later_options.begin(), later_options.end(), fragment.begin() + 20);
        fragment[0] = uint8_t(0x40 | (header / 4));
        write_be16(fragment.data() + 2, uint16_t(header + chunk));
        write_be16(fragment.data() + 6,
                  uint16_t((flags_offset & 0x8000) | ((!last || original_more) ? 0x2000 : 0) | (offset / 8)));
        set_header_checksum(fragment.data(), header);
        std::memcpy(fragment.data() + header, payload.data() + done, chunk);
        if (!emit({fragment.data(), header + chunk})) return FragmentResult::emit_failed;
        done += chunk;
    }
    return FragmentResult::fragmented;
}

}  // namespace sara
