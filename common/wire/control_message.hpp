// SPDX-License-Identifier: GPL-2.0-or-later
// Control messages between the node agents, the gateway and the dispatchers (DESIGN §7):
// UDP datagrams, network byte order, each with an HMAC-SHA256 trailer over everything before
// it (a shared cluster key), checked against a per-sender replay window and a timestamp bound.
//
// Datagram layout:
//   header  (4 bytes): magic 'S' 'A' | version u8 (1) | type u8
//   body    (type-specific, below)
//   trailer (32 bytes): HMAC-SHA256(key, header + body); absent only with `auth: none`
//
// Heartbeat body — the paper's 11 bytes: host_id u16 | seq u32 | flag u8 | timestamp u32
//   flag 0: node and application available; 1: node up, application down;
//   2: planned failure (drain) at `timestamp` (0 = now); 3: planned failure withdrawn (undrain).
//   timestamp: seconds since the Unix epoch when sent (the drain time for flag 2).
// Load body: host_id u16 | seq u32 | timestamp u32 | cpu u16 | memory u16 | net u16 | io u16 |
//   backlog u16 — each a fraction of capacity in [0, 1] as value/65535.
// Announce body (the gateway's): variable length, see announce_message.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/announce/announcement.hpp"
#include "common/util/counters.hpp"

namespace sara::wire {

inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kHeaderSize = 4;
inline constexpr size_t kMacSize = 32;

enum class MessageType : uint8_t { heartbeat = 1, load = 2, announce = 3, sync = 4 };

enum class HeartbeatFlag : uint8_t { available = 0, app_down = 1, drain = 2, undrain = 3 };

struct Heartbeat {
    uint16_t host_id = 0;
    uint32_t seq = 0;
    HeartbeatFlag flag = HeartbeatFlag::available;
    uint32_t timestamp = 0;
};
inline constexpr size_t kHeartbeatBodySize = 11;

struct LoadVector {
    uint16_t host_id = 0;
    uint32_t seq = 0;
    uint32_t timestamp = 0;
    double cpu = 0, memory = 0, net = 0, io = 0, backlog = 0;  // each in [0, 1]
};
inline constexpr size_t kLoadBodySize = 20;

// Encoded by encode() in announce_message.hpp, which also holds its wire layout. Defined here,
// beside the other messages, because Decoded holds one.
struct AnnounceMessage {
    uint16_t host_id = 0;  // the gateway's id (dispatcher.yaml announce.senders)
    uint32_t seq = 0;
    uint32_t timestamp = 0;  // Unix seconds when sent
    Announcement announcement;
};

// HA state sync between the two dispatchers (daemon/ha; layout in sync_message.hpp). Defined
// here, beside the other messages, because Decoded holds one.
enum class SyncKind : uint8_t {
    update = 1,    // master → backup: changed sessions (table_records blocks), every sync interval
    snapshot = 2,  // master → backup: chunk `index` (mod 65536) of full snapshot `epoch`, in order
    resync = 3,    // backup → master: a gap or a (re)start; send a snapshot now
    ack = 4,       // backup → master: update `epoch` applied (the master releases held verdicts)
};
struct SyncMessage {
    uint16_t host_id = 0;  // the sender's sync.id
    uint32_t seq = 0;
    uint32_t timestamp = 0;  // Unix seconds when sent
    SyncKind kind = SyncKind::update;
    // snapshot number (kind snapshot); for update, 0 or the number the backup acknowledges
    // with an ack of that epoch; for ack, the update's number; 0 for resync
    uint32_t epoch = 0;
    uint16_t index = 0;       // chunk number mod 65536 (kind snapshot), else 0
    uint16_t last_chunk = 0;  // 1 on a snapshot's final chunk, else 0
    std::string payload;  // table_records text; empty for resync
};

// The shared cluster key. Loaded from a file holding at least 32 bytes as hex text
// (`openssl rand -hex 32`); surrounding whitespace is ignored. The file must not be
// world-readable (it is a shared secret). On failure both return nullopt and, if `error` is not
// null, set it to one line naming the file (load_file) and what is wrong. They do not throw
// except std::bad_alloc; they run at startup and reload, never on the data plane.
struct ClusterKey {
    std::vector<uint8_t> bytes;
    static std::optional<ClusterKey> load_file(const std::string& path, std::string* error);
    static std::optional<ClusterKey> from_hex(std::string_view hex, std::string* error);
};

// Encoders: a complete datagram; with `key` null, no trailer (`auth: none`). Load fractions
// are measurements, not config: out-of-range values are clamped to [0, 1], NaN encodes as 0,
// and each is rounded to the nearest value/65535.
std::vector<uint8_t> encode(const Heartbeat& h, const ClusterKey* key);
std::vector<uint8_t> encode(const LoadVector& l, const ClusterKey* key);

enum class Reject : uint8_t { none, malformed, auth, replay, stale, unknown_host };
const char* to_string(Reject r);

#define SARA_CONTROL_COUNTERS(X)                                                              \
    X(control_accepted_total, "Control messages accepted")                                    \
    X(control_rejected_malformed_total, "Control messages dropped: malformed")               \
    X(control_rejected_auth_total, "Control messages dropped: missing or wrong HMAC")        \
    X(control_rejected_replay_total, "Control messages dropped: sequence replayed or too old") \
    X(control_rejected_stale_total, "Control messages dropped: timestamp outside the skew bound") \
    X(control_rejected_unknown_host_total, "Control messages dropped: host id not configured")
SARA_DECLARE_COUNTERS(ControlCounters, SARA_CONTROL_COUNTERS)

// Replay window per (sender, type): the highest sequence seen and a 64-bit bitmap of the 64
// before it (RFC 4303's anti-replay window). Sequences compare by their signed 32-bit
// difference, so the window follows a sender through the wrap from 2^32 - 1 to 0; a sequence
// up to 2^31 - 1 ahead counts as new, anything else not in the bitmap (64 or more behind, or
// exactly 2^31 away) as a replay. The window never guesses at restarts: a restarted sender's
// small sequence normally lies behind the window and is refused here; ControlReceiver, which
// sees the authenticated timestamp, decides whether to reset() and start over.
class ReplayWindow {
public:
    static constexpr uint32_t kSize = 64;

    // True if `seq` is new; records it. False (and nothing recorded) for a replay.
    bool accept(uint32_t seq);
    // True if accept(seq) would refuse `seq` for lying behind the window (64 or more behind the
    // highest, or exactly 2^31 away), as opposed to being a duplicate inside it.
    bool behind(uint32_t seq) const;
    void reset() { initialised_ = false; }

    bool initialised() const { return initialised_; }
    uint32_t highest() const { return highest_; }

private:
    bool initialised_ = false;
    uint32_t highest_ = 0;
    uint64_t seen_ = 0;  // bit i: highest_ - i seen
};

struct Decoded {
    Reject reject = Reject::none;
    MessageType type = MessageType::heartbeat;
    Heartbeat heartbeat;  // type heartbeat
    LoadVector load;      // type load
    AnnounceMessage announce;  // type announce
    SyncMessage sync;          // type sync
};

// Parses and authenticates one datagram (no replay/timestamp checks: those need state, see
// ControlReceiver). Any byte sequence is a valid input. It does not throw: the only allocation
// is an announcement's key (a std::string of up to 255 bytes), and running out of memory there
// terminates the process, as it would anywhere else in the daemon.
//   - A datagram is exactly header + body, or header + body + trailer. Any other length
//     (truncated, a partial trailer, trailing bytes), a wrong magic or version, a type this
//     build does not decode or a heartbeat flag above 3 is
//     Reject::malformed. An announce body has no fixed size: announce_message.hpp says how
//     decode() finds its end and the trailer, and which field values are malformed.
//   - With `key`: the trailer is required (header + body alone is Reject::auth) and compared in
//     constant time; a wrong one is Reject::auth. The MAC is checked before the body's fields
//     are interpreted, so a bad flag under a bad MAC is Reject::auth.
//   - With `key` null (`auth: none`, lab use): a trailer is accepted and ignored, so a lab node
//     can talk to a dispatcher that has auth switched off without reconfiguring the node.
Decoded decode(std::span<const uint8_t> datagram, const ClusterKey* key) noexcept;

}  // namespace sara::wire
