// SPDX-License-Identifier: GPL-2.0-or-later
// The cluster key and clock the control-channel fuzz targets share: their seed corpora were
// signed with this key and carry send times at kNow, so both must stay as they are (or the
// seeds be written again).
#pragma once

#include <cstdint>

#include "common/wire/control_message.hpp"

namespace sara::wire::fuzz {

inline constexpr const char* kKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
inline constexpr uint32_t kNow = 1'700'000'000;

inline const ClusterKey& fixture_key() {
    static const ClusterKey key = [] {
        auto k = ClusterKey::from_hex(kKeyHex, nullptr);
        if (!k || k->bytes.size() != 32) __builtin_trap();
        return *k;
    }();
    return key;
}

}  // namespace sara::wire::fuzz
