// SPDX-License-Identifier: GPL-2.0-or-later
// Network byte order (big-endian) fields read and written a byte at a time: packet and message
// buffers carry no alignment promise, and a byte-wise read compiles to one load and a byte swap.
// The caller has checked the length; `p` points at the field's first byte.
#pragma once

#include <cstdint>
#include <vector>

namespace sara {

inline uint16_t read_be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

inline uint32_t read_be32(const uint8_t* p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

inline void write_be16(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}

inline void write_be32(uint8_t* p, uint32_t v) {
    write_be16(p, uint16_t(v >> 16));
    write_be16(p + 2, uint16_t(v));
}

inline void append_be16(std::vector<uint8_t>& out, uint16_t v) {
    out.push_back(uint8_t(v >> 8));
    out.push_back(uint8_t(v));
}

inline void append_be32(std::vector<uint8_t>& out, uint32_t v) {
    append_be16(out, uint16_t(v >> 16));
    append_be16(out, uint16_t(v));
}

}  // namespace sara
