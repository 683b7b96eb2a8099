// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <string>

#include "common/proto/service.hpp"
#include "daemon/ha/state_sync.hpp"
#include "tests/unit/support/packets.hpp"

using namespace sara;
using namespace std::chrono_literals;

namespace {

// A master and a backup, each with its table, under one manual clock; messages are handed
// over by the test with consecutive transport sequence numbers (what send_sync stamps).
struct Pair {
    ManualClock clock{1000s};
    ServiceMap services = ServiceMap::defaults();
    SessionTable master_table{SessionTableLimits{}, services.timeouts(), clock};
    SessionTable backup_table{SessionTableLimits{}, services.timeouts(), clock};
    StateSync master{SyncSettings{1, 2}, clock};
    StateSync backup{SyncSettings{2, 1}, clock};
    uint32_t seq = 100;
    size_t retired_sessions = 0;  // in the tables the backup handed back to be freed

    Pair() { BOOST_TEST(!master.set_role(HaRole::master, master_table)); }
    SyncReply deliver(wire::SyncMessage m) {
        m.seq = seq++;
        SyncReply reply = backup.on_message(m, backup_table);
        if (reply.retired) retired_sessions += reply.retired->session_count();
        return reply;
    }
    SessionId new_call(std::string_view call_id, NodeId node) {
        const SessionId id = master_table.create_session(ServiceProtocol::sip, call_id, 0);
        master_table.session(id).node = node;
        master_table.mark_changed(id);
        return id;
    }
    // A call with its RTP and RTCP flows from client port 10000 + 2i of 198.18.(i/250).(i%250).
    void new_call_with_media(int i) {
        const SessionId id = new_call("call-" + std::to_string(i) + "@client", NodeId(1 + i % 4));
        const std::string client = "198.18." + std::to_string(i / 250) + "." + std::to_string(i % 250);
        master_table.add_flow(test::udp_key(client, 10000, "198.18.100.10", 6000), id, FlowIdentity::secondary);
        master_table.add_flow(test::udp_key(client, 10001, "198.18.100.10", 6001), id, FlowIdentity::secondary);
    }
    // The master's slices as they come due, each delivered: the chunks sent. Stops after the
    // snapshot's last chunk, or at `max_slices` (to interleave something).
    size_t stream_snapshot(size_t max_slices = SIZE_MAX) {
        size_t chunks = 0;
        for (size_t n = 0; n < max_slices; ++n) {
            const std::optional<MonoTime> due = master.next_slice();
            if (!due) break;
            if (*due > clock.now()) clock.set(*due);
            for (auto& m : slice()) {
                ++chunks;
                deliver(m);
            }
        }
        return chunks;
    }
    // The master's next slice, as the sync thread takes it (the lock: copy, messages).
    std::vector<wire::SyncMessage> slice() {
        const std::shared_ptr<SnapshotStream> stream = master.snapshot_copy(master_table);
        return stream ? master.snapshot_messages(stream, stream->format()) : std::vector<wire::SyncMessage>{};
    }
    // The first tick (it starts a snapshot) and the whole snapshot, delivered.
    void sync_all() {
        for (auto& m : master.tick(master_table)) deliver(m);
        stream_snapshot();
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(state_sync)

BOOST_AUTO_TEST_CASE(the_backup_acknowledges_a_numbered_update_once_it_applied_it) {
    Pair p;
    p.sync_all();
    BOOST_TEST(p.backup.synced());
    p.new_call("call-1@client", 2);
    const uint32_t number = p.master.next_update();
    const std::vector<wire::SyncMessage> update = p.master.flush(p.master_table);
    BOOST_TEST_REQUIRE(update.size() == 1u);
    BOOST_TEST(update.back().epoch == number);
    BOOST_TEST(p.master.next_update() == number + 1);
    const SyncReply reply = p.deliver(update.back());
    BOOST_TEST(p.backup_table.find_session(ServiceProtocol::sip, "call-1@client") != kNoSession);
    BOOST_TEST_REQUIRE(reply.send.has_value());
    BOOST_TEST((reply.send->kind == wire::SyncKind::ack));
    BOOST_TEST(reply.send->epoch == number);
    BOOST_TEST(!p.master.peer_acking());
    const SyncReply at_master = p.master.on_message(*reply.send, p.master_table);
    BOOST_TEST(at_master.acked.value() == number);
    BOOST_TEST(!at_master.send.has_value());
    BOOST_TEST(p.master.peer_acking());
    p.clock.advance(150ms);  // three intervals of 50 ms without an ack: no longer acking
    BOOST_TEST(!p.master.peer_acking());
}

BOOST_AUTO_TEST_CASE(after_a_gap_the_backup_asks_for_a_resync_instead_of_acknowledging) {
    Pair p;
    p.sync_all();
    p.new_call("call-1@client", 2);
    p.master.flush(p.master_table);  // lost on the way
    p.seq++;
    p.new_call("call-2@client", 3);
    const SyncReply reply = p.deliver(p.master.flush(p.master_table).back());
    BOOST_TEST_REQUIRE(reply.send.has_value());
    BOOST_TEST((reply.send->kind == wire::SyncKind::resync));  // call-1 is missing: no ack
}

BOOST_AUTO_TEST_CASE(acks_are_for_the_master_only) {
    Pair p;
    wire::SyncMessage ack;
    ack.host_id = 1;
    ack.kind = wire::SyncKind::ack;
    ack.epoch = 3;
    const SyncReply reply = p.backup.on_message(ack, p.backup_table);
    BOOST_TEST(!reply.acked.has_value());
    BOOST_TEST(p.backup.counters().sync_ignored_total == 1u);
    BOOST_TEST(p.master.flush(p.master_table).size() == 1u);
    BOOST_TEST(p.backup.flush(p.backup_table).empty());  // a backup sends no updates
}

// Issue 16: the snapshot is streamed a slice at a time, paced at snapshot_rate, and the
// backup's replica is replaced only at its last chunk (a stale session stays until then).
BOOST_AUTO_TEST_CASE(a_snapshot_streams_in_paced_slices_and_replaces_the_replica_at_its_end) {
    Pair p;
    for (int i = 0; i < 3000; ++i) p.new_call_with_media(i);
    p.backup_table.create_session(ServiceProtocol::sip, "ended-on-the-master@client", 0);
    for (auto& m : p.master.tick(p.master_table)) p.deliver(m);
    const MonoTime start = p.clock.now();
    const size_t first = p.stream_snapshot(1);
    BOOST_TEST(first >= 1u);
    BOOST_TEST(!p.backup.synced());
    BOOST_TEST(p.backup_table.find_session(ServiceProtocol::sip, "ended-on-the-master@client") != kNoSession);
    const size_t chunks = first + p.stream_snapshot();
    // 9000 records of ~60 bytes: hundreds of datagrams, 36 slices of 256 records at 100k/s.
    BOOST_TEST(chunks > 100u);
    BOOST_TEST(p.master.counters().sync_snapshot_chunks_sent_total == chunks);
    const double seconds = std::chrono::duration<double>(p.clock.now() - start).count();
    BOOST_TEST(seconds >= 0.08);  // 9000 records at 100,000 a second, less the first slice
    BOOST_TEST(seconds <= 0.10);
    BOOST_TEST(p.backup.synced());
    BOOST_TEST(p.backup_table.session_count() == 3000u);
    BOOST_TEST(p.backup_table.flow_count() == 6000u);
    BOOST_TEST(p.backup_table.find_session(ServiceProtocol::sip, "ended-on-the-master@client") == kNoSession);
    // The old replica (the first tick's update had brought the 3000 calls to it too), handed
    // back to be freed without the lock.
    BOOST_TEST(p.retired_sessions == 3001u);
    const SessionId last = p.backup_table.find_session(ServiceProtocol::sip, "call-2999@client");
    BOOST_REQUIRE(last != kNoSession);
    BOOST_TEST(p.backup_table.session(last).node == NodeId(1 + 2999 % 4));
    BOOST_TEST(p.backup_table.find_flow(test::udp_key("198.18.11.249", 10001, "198.18.100.10", 6001))->session == last);
    BOOST_TEST(p.master.counters().sync_snapshots_sent_total == 1u);
    BOOST_TEST(!p.master.next_slice().has_value());  // the next one after snapshot_interval
}

// A session changed after its slice was copied, and one created meanwhile, travel in updates
// that the backup applies again on top of the snapshot when it completes.
BOOST_AUTO_TEST_CASE(changes_made_while_a_snapshot_streams_reach_the_replica) {
    Pair p;
    SessionId first = kNoSession;
    for (int i = 0; i < 2000; ++i) p.new_call_with_media(i);
    first = p.master_table.find_session(ServiceProtocol::sip, "call-0@client");
    for (auto& m : p.master.tick(p.master_table)) p.deliver(m);
    p.stream_snapshot(3);  // call-0's slice is behind the walk now
    p.master_table.set_node(first, 9);
    p.master_table.mark_changed(first);
    p.new_call("during-the-snapshot@client", 5);
    for (auto& m : p.master.flush(p.master_table)) p.deliver(m);
    p.stream_snapshot();
    BOOST_TEST_REQUIRE(p.backup.synced());
    const SessionId b = p.backup_table.find_session(ServiceProtocol::sip, "call-0@client");
    BOOST_REQUIRE(b != kNoSession);
    BOOST_TEST(p.backup_table.session(b).node == 9);
    const SessionId during = p.backup_table.find_session(ServiceProtocol::sip, "during-the-snapshot@client");
    BOOST_REQUIRE(during != kNoSession);
    BOOST_TEST(p.backup_table.session(during).node == 5);
    BOOST_TEST(p.backup_table.session_count() == 2001u);
}

// A lost datagram while a snapshot streams: the backup drops it and asks again; the master
// starts a new one at its next tick.
BOOST_AUTO_TEST_CASE(a_gap_drops_the_snapshot_in_progress_and_the_master_starts_over) {
    Pair p;
    for (int i = 0; i < 2000; ++i) p.new_call_with_media(i);
    for (auto& m : p.master.tick(p.master_table)) p.deliver(m);
    p.stream_snapshot(2);
    p.seq++;  // one lost
    std::optional<wire::SyncMessage> resync;
    p.clock.set(*p.master.next_slice());
    for (auto& m : p.slice())
        if (auto r = p.deliver(m).send) resync = r;
    BOOST_TEST_REQUIRE(resync.has_value());
    BOOST_TEST((resync->kind == wire::SyncKind::resync));
    BOOST_TEST(p.backup.counters().sync_snapshots_incomplete_total == 1u);
    p.master.on_message(*resync, p.master_table);
    for (auto& m : p.master.tick(p.master_table)) p.deliver(m);
    BOOST_TEST(p.master.counters().sync_snapshots_restarted_total == 1u);
    p.stream_snapshot();
    BOOST_TEST(p.backup.synced());
    BOOST_TEST(p.backup_table.session_count() == 2000u);
    BOOST_TEST(p.master.counters().sync_snapshots_sent_total == 1u);
}

// A takeover in the middle of a snapshot: the backup keeps its replica (the last whole
// snapshot and the updates since), and hands the half-loaded table back to be freed by the
// caller, not under the lock as the role changes.
BOOST_AUTO_TEST_CASE(a_takeover_mid_snapshot_keeps_the_replica_and_hands_back_the_half_loaded_one) {
    Pair p;
    for (int i = 0; i < 1000; ++i) p.new_call_with_media(i);
    p.sync_all();
    BOOST_TEST_REQUIRE(p.backup_table.session_count() == 1000u);
    for (int i = 1000; i < 3000; ++i) p.new_call_with_media(i);
    p.clock.advance(2001ms);  // past snapshot_interval (2 s): the next tick starts snapshot 2
    for (auto& m : p.master.tick(p.master_table)) p.deliver(m);  // the 2000 new calls as an update
    BOOST_TEST_REQUIRE(p.backup_table.session_count() == 3000u);
    p.stream_snapshot(3);                                          // snapshot 2 begun, not ended
    const std::unique_ptr<SessionTable> dropped = p.backup.set_role(HaRole::master, p.backup_table);
    BOOST_TEST_REQUIRE(dropped != nullptr);
    BOOST_TEST(dropped->session_count() > 0u);
    BOOST_TEST(dropped->session_count() < 3000u);
    BOOST_TEST(p.backup_table.session_count() == 3000u);
    BOOST_TEST(p.backup.counters().sync_snapshots_incomplete_total == 1u);
    BOOST_TEST(p.backup.counters().sync_snapshots_applied_total == 1u);
    // Nothing left to drop at the next change.
    BOOST_TEST(!p.backup.set_role(HaRole::backup, p.backup_table));
}

// A snapshot may run past 65,536 datagrams (a million sessions need ~140,000): the chunk number
// wraps, and the backup follows it in order.
BOOST_AUTO_TEST_CASE(chunk_numbers_wrap_past_65535) {
    Pair p;
    auto chunk = [&](uint16_t index, bool last, std::string payload) {
        wire::SyncMessage m;
        m.host_id = 1;
        m.kind = wire::SyncKind::snapshot;
        m.epoch = 5;
        m.index = index;
        m.last_chunk = last;
        m.payload = std::move(payload);
        return m;
    };
    p.deliver(chunk(0, false, "s 0:1 0 0 3 0 1 first@client\n"));
    for (uint32_t i = 1; i <= 0xffff; ++i) p.deliver(chunk(uint16_t(i), false, ""));
    BOOST_TEST(!p.backup.synced());
    p.deliver(chunk(0, true, "s 1:1 0 0 4 0 1 last@client\n"));
    BOOST_TEST_REQUIRE(p.backup.synced());
    BOOST_TEST(p.backup_table.session_count() == 2u);
    BOOST_TEST(p.backup.counters().sync_snapshots_incomplete_total == 0u);
    // Out of order: dropped (the sequence gap that goes with it asks for a resync).
    p.deliver(chunk(0, false, "s 0:1 0 0 3 0 1 other@client\n"));
    p.deliver(chunk(2, true, ""));
    BOOST_TEST(p.backup.counters().sync_snapshots_incomplete_total == 1u);
    BOOST_TEST(p.backup_table.find_session(ServiceProtocol::sip, "other@client") == kNoSession);
}

BOOST_AUTO_TEST_SUITE_END()
