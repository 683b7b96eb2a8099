// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/wire/sync_message.hpp"

#include "common/util/byte_order.hpp"
#include "common/wire/envelope.hpp"

namespace sara::wire {
namespace {

bool valid(const SyncMessage& m) {
    if (m.payload.size() > kMaxSyncPayload) return false;
    switch (m.kind) {
        case SyncKind::snapshot: return m.last_chunk <= 1;
        case SyncKind::update: return m.index <= 1 && m.last_chunk == 0;  // index: 1 = a ready mesh dispatcher
        // index: the dispatcher a resync or an ack is for in a mesh (0 in a pair: its one peer).
        case SyncKind::resync: return m.epoch == 0 && m.last_chunk == 0 && m.payload.empty();
        case SyncKind::ack: return m.epoch != 0 && m.last_chunk == 0 && m.payload.empty();
    }
    return false;
}

// The body's length, or 0 when `bytes` does not start with a valid body.
size_t parse_body(std::span<const uint8_t> bytes, SyncMessage& m) noexcept {
    if (bytes.size() < kSyncFixedBody) return 0;
    const uint8_t* p = bytes.data();
    m.host_id = read_be16(p);
    m.seq = read_be32(p + 2);
    m.timestamp = read_be32(p + 6);
    if (p[10] < 1 || p[10] > 4) return 0;
    m.kind = SyncKind(p[10]);
    m.epoch = read_be32(p + 11);
    m.index = read_be16(p + 15);
    m.last_chunk = read_be16(p + 17);
    const size_t payload = read_be16(p + 19);
    if (payload > kMaxSyncPayload || bytes.size() < kSyncFixedBody + payload) return 0;
    m.payload.assign(reinterpret_cast<const char*>(p + kSyncFixedBody), payload);
    return valid(m) ? kSyncFixedBody + payload : 0;
}

}  // namespace

std::vector<uint8_t> encode(const SyncMessage& m, const ClusterKey* key) {
    if (!valid(m)) return {};
    std::vector<uint8_t> out = detail::start_datagram(MessageType::sync, kSyncFixedBody + m.payload.size(), key);
    append_be16(out, m.host_id);
    append_be32(out, m.seq);
    append_be32(out, m.timestamp);
    out.push_back(uint8_t(m.kind));
    append_be32(out, m.epoch);
    append_be16(out, m.index);
    append_be16(out, m.last_chunk);
    append_be16(out, uint16_t(m.payload.size()));
    out.insert(out.end(), m.payload.begin(), m.payload.end());
    return detail::finish_datagram(std::move(out), key);
}

namespace detail {

Decoded decode_sync(std::span<const uint8_t> datagram, const ClusterKey* key) noexcept {
    return decode_self_delimiting(datagram, key, MessageType::sync, kSyncFixedBody, kSyncFixedBody + kMaxSyncPayload,
                                  [](std::span<const uint8_t> body, Decoded& d) { return parse_body(body, d.sync); });
}

}  // namespace detail
}  // namespace sara::wire
