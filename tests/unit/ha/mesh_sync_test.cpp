// SPDX-License-Identifier: GPL-2.0-or-later
// StateSync in a mesh of active dispatchers (sync.peers; issue 19): each one replicates its own
// sessions to every peer, applies theirs without echoing them, merges a ready peer's snapshot
// when it joins, and releases held verdicts once every acknowledging peer has the binding.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <string>

#include "common/proto/service.hpp"
#include "daemon/ha/state_sync.hpp"
#include "tests/unit/support/packets.hpp"

using namespace sara;
using namespace std::chrono_literals;

namespace {

// Dispatchers 1, 2 and 3 under one manual clock. Every datagram a dispatcher sends reaches
// every other one, stamped with the sender's next sequence number (what send_sync does).
struct Mesh {
    ManualClock clock{1000s};
    ServiceMap services = ServiceMap::defaults();
    std::array<std::unique_ptr<SessionTable>, 3> tables;
    std::array<std::unique_ptr<StateSync>, 3> syncs;
    std::array<uint32_t, 3> seq{100, 5000, 90000};
    std::array<bool, 3> up{true, true, true};  // a down one neither sends nor receives
    std::array<bool, 3> mute{};                // a muted one's datagrams are lost

    static SyncSettings settings(uint16_t id) {
        SyncSettings s;
        s.id = id;
        for (uint16_t peer = 1; peer <= 3; ++peer)
            if (peer != id) s.mesh_peers.push_back(peer);
        return s;
    }
    Mesh() {
        for (size_t i = 0; i < 3; ++i) {
            tables[i] = std::make_unique<SessionTable>(SessionTableLimits{}, services.timeouts(), clock);
            restart(i);
        }
    }
    StateSync& sync(size_t i) { return *syncs[i]; }
    SessionTable& table(size_t i) { return *tables[i]; }
    // A (re)started sarad: a fresh StateSync, active, over the table it kept (its state file).
    void restart(size_t i) {
        syncs[i] = std::make_unique<StateSync>(settings(uint16_t(i + 1)), clock);
        BOOST_TEST(!sync(i).set_role(HaRole::active, table(i)));
    }
    // Sends `out` from dispatcher `from` (0-based) to all others, and their answers back, to
    // the end. Returns the answers' count.
    size_t send(size_t from, std::vector<wire::SyncMessage> out) {
        size_t answers = 0;
        for (wire::SyncMessage& m : out) {
            if (!up[from] || mute[from]) return answers;
            m.seq = seq[from]++;
            for (size_t to = 0; to < 3; ++to) {
                if (to == from || !up[to]) continue;
                SyncReply reply = sync(to).on_message(m, table(to));
                if (reply.send) answers += 1 + send(to, {*reply.send});
            }
        }
        return answers;
    }
    void tick(size_t i) { send(i, sync(i).tick(table(i))); }
    void tick_all() {
        for (size_t i = 0; i < 3; ++i) tick(i);
    }
    // Every due snapshot slice of every dispatcher, until none is left.
    void stream_snapshots() {
        for (bool any = true; any;) {
            any = false;
            for (size_t i = 0; i < 3; ++i) {
                const std::optional<MonoTime> due = sync(i).next_slice();
                if (!due) continue;
                any = true;
                if (*due > clock.now()) clock.set(*due);
                if (auto stream = sync(i).snapshot_copy(table(i)))
                    send(i, sync(i).snapshot_messages(stream, stream->format()));
            }
        }
    }
    SessionId new_call(size_t at, const std::string& call_id, NodeId node) {
        const SessionId id = table(at).create_session(ServiceProtocol::sip, call_id, 0);
        table(at).session(id).node = node;
        table(at).mark_changed(id);
        table(at).add_flow(test::udp_key("198.18.1." + std::to_string(2 + at), 5060, "198.18.100.10", 5060), id,
                            FlowIdentity::signalling);
        return id;
    }
    bool has(size_t at, const std::string& call_id) {
        return table(at).find_session(ServiceProtocol::sip, call_id) != kNoSession;
    }
    Session& session(size_t at, const std::string& call_id) {
        return table(at).session(table(at).find_session(ServiceProtocol::sip, call_id));
    }
    // Past ready_wait nobody is ready to copy: the first to send is ready alone, the others
    // hear it, ask it for its snapshot and merge it.
    void all_ready() {
        clock.advance(SyncSettings{}.ready_wait + 1ms);
        tick_all();
        tick_all();  // the snapshot asked for starts at the next tick
        stream_snapshots();
        for (size_t i = 0; i < 3; ++i) BOOST_TEST(sync(i).ready(), "dispatcher " << i + 1);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(mesh_sync)

BOOST_AUTO_TEST_CASE(each_dispatcher_replicates_its_own_sessions_to_every_peer_and_none_echoes) {
    Mesh m;
    m.all_ready();
    m.new_call(0, "a@client", 1);
    m.new_call(1, "b@client", 2);
    m.tick(0);
    m.tick(1);
    BOOST_TEST(m.has(1, "a@client"));
    BOOST_TEST(m.has(2, "a@client"));
    BOOST_TEST(m.has(0, "b@client"));
    BOOST_TEST(m.has(2, "b@client"));
    BOOST_TEST(m.session(2, "a@client").node == 1);
    BOOST_TEST(m.session(0, "b@client").node == 2);
    // What a peer applied is not in its own journal: the next round carries nothing.
    for (size_t i = 0; i < 3; ++i) {
        const std::vector<wire::SyncMessage> out = m.sync(i).flush(m.table(i));
        BOOST_TEST_REQUIRE(out.size() == 1u);
        BOOST_TEST(out[0].payload.empty(), "dispatcher " << i + 1 << " echoed: " << out[0].payload);
    }
    // A session a peer touches after a rehash (its client moved there) is replicated again.
    const SessionId moved = m.table(2).find_session(ServiceProtocol::sip, "a@client");
    m.table(2).set_state(moved, SessionState::completed);  // its BYE came through dispatcher 3
    m.table(2).mark_changed(moved);
    m.tick(2);
    BOOST_TEST(int(m.session(0, "a@client").state) == int(SessionState::completed));
}

BOOST_AUTO_TEST_CASE(a_peers_assignment_reaches_the_scheduler_once) {
    Mesh m;
    m.all_ready();
    std::vector<NodeId> seen;
    m.sync(1).set_on_peer_applied([&](const RecordsApplied& a) { seen.insert(seen.end(), a.assigned.begin(), a.assigned.end()); });
    m.new_call(0, "a@client", 3);
    m.new_call(0, "b@client", 2);
    m.tick(0);
    BOOST_TEST((seen == std::vector<NodeId>{3, 2}));
    // The same sessions again (a later touch, a retransmitted update): not new assignments.
    m.table(0).mark_changed(m.table(0).find_session(ServiceProtocol::sip, "a@client"));
    m.tick(0);
    BOOST_TEST(seen.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_peers_offer_of_a_used_client_port_is_a_claim_the_receiver_acts_on) {
    // Regression (test_mesh.py's reused-port test split 6 of 9 calls): a call's media flows
    // through dispatcher 3, which holds them; the next call from the same client port is
    // placed by dispatcher 1. Its offer (a partial flow) and the exact flow it takes over are
    // claims at 3, whose kernel entries carry the previous call's node.
    Mesh m;
    m.all_ready();
    std::vector<FlowKey> claimed;
    m.sync(2).set_on_peer_applied([&](const RecordsApplied& a) { claimed.insert(claimed.end(), a.claimed.begin(), a.claimed.end()); });
    const FlowKey partial = test::udp_key("198.18.1.2", 30000, "198.18.100.10", 0);
    const FlowKey exact = test::udp_key("198.18.1.2", 30000, "198.18.100.10", 6000);
    const SessionId first = m.new_call(0, "first@client", 1);
    m.table(0).add_flow(partial, first, FlowIdentity::announced);
    m.tick(0);
    BOOST_TEST_REQUIRE(claimed.size() == 1u);
    BOOST_TEST((claimed[0] == partial));
    // The media's first packet at 3 made the exact flow (classify_data); nothing to claim there.
    const SessionId at3 = m.table(2).find_session(ServiceProtocol::sip, "first@client");
    m.table(2).remove_flow(partial);
    m.table(2).add_flow(exact, at3, FlowIdentity::announced);
    claimed.clear();
    // The second call: its offer at 1, and later 1 sees the media too and takes the exact flow.
    const SessionId second = m.new_call(0, "second@client", 2);
    m.table(0).remove_flow(partial);  // the newest offer takes the port (announce_partial)
    m.table(0).add_flow(partial, second, FlowIdentity::announced);
    m.tick(0);
    BOOST_TEST_REQUIRE(claimed.size() == 1u);
    BOOST_TEST((claimed[0] == partial));
    m.table(0).add_flow(exact, first, FlowIdentity::announced);
    m.table(0).move_flow(exact, second);
    m.tick(0);
    BOOST_TEST(std::count(claimed.begin(), claimed.end(), exact) == 1);
    // The same records again claim nothing.
    claimed.clear();
    m.table(0).mark_changed(second);
    m.tick(0);
    BOOST_TEST(claimed.empty());
}

BOOST_AUTO_TEST_CASE(held_verdicts_wait_until_every_acknowledging_peer_has_the_update) {
    Mesh m;
    m.all_ready();
    m.clock.advance(200ms);  // the acks of all_ready's updates are old now
    m.new_call(0, "a@client", 1);
    const uint32_t number = m.sync(0).next_update();
    std::vector<wire::SyncMessage> update = m.sync(0).flush(m.table(0));
    BOOST_TEST_REQUIRE(update.back().epoch == number);
    update.back().seq = m.seq[0]++;
    // Dispatcher 2 acknowledges it; 3 acknowledged only the one before.
    const SyncReply from2 = m.sync(1).on_message(update.back(), m.table(1));
    BOOST_TEST_REQUIRE(from2.send.has_value());
    BOOST_TEST(int(from2.send->kind) == int(wire::SyncKind::ack));
    BOOST_TEST(from2.send->index == 1);  // addressed to dispatcher 1
    BOOST_TEST(from2.send->epoch == number);
    wire::SyncMessage older = *from2.send;
    older.host_id = 3;
    older.epoch = number - 1;
    BOOST_TEST(m.sync(0).on_message(older, m.table(0)).acked.value_or(0) == number - 1);
    BOOST_TEST(m.sync(0).on_message(*from2.send, m.table(0)).acked.value_or(0) == number - 1,
               "2's ack alone does not release what 3 has not acknowledged");
    // An ack meant for another dispatcher of the mesh is not ours.
    wire::SyncMessage for_3 = *from2.send;
    for_3.index = 3;
    BOOST_TEST(!m.sync(0).on_message(for_3, m.table(0)).acked);
    // 3 goes silent: after 3 intervals only 2 counts, as a pair's master stops holding for a dead backup.
    m.clock.advance(200ms);
    BOOST_TEST(!m.sync(0).peer_acking());
    BOOST_TEST(m.sync(0).on_message(*from2.send, m.table(0)).acked.value_or(0) == number);
    BOOST_TEST(m.sync(0).peer_acking());
}

BOOST_AUTO_TEST_CASE(a_joining_dispatcher_merges_a_ready_peers_snapshot_before_it_is_ready) {
    Mesh m;
    m.all_ready();
    for (int i = 0; i < 50; ++i) m.new_call(0, "a" + std::to_string(i) + "@client", NodeId(1 + i % 3));
    m.new_call(1, "b@client", 2);
    m.up[2] = false;  // dispatcher 3 is away meanwhile
    m.tick(0);
    m.tick(1);
    BOOST_TEST(m.has(1, "a49@client"));
    BOOST_TEST(!m.has(2, "a49@client"));

    // 3 restarts over an emptied table, and has a session of its own before it syncs.
    m.tables[2] = std::make_unique<SessionTable>(SessionTableLimits{}, m.services.timeouts(), m.clock);
    m.restart(2);
    m.up[2] = true;
    m.new_call(2, "own@client", 3);
    BOOST_TEST(!m.sync(2).ready());
    const uint64_t applied_by_2 = m.sync(1).counters().sync_snapshots_applied_total;
    // It hears ready dispatcher 1 and asks it at its next tick (index 1); only 1 streams a snapshot.
    m.tick(0);
    m.tick(2);
    BOOST_TEST(m.sync(2).counters().sync_mesh_snapshots_requested_total == 1u);
    m.tick(0);
    m.tick(1);
    BOOST_TEST(m.sync(0).next_slice().has_value());
    BOOST_TEST(!m.sync(1).next_slice().has_value());
    m.stream_snapshots();
    BOOST_TEST(m.sync(2).synced());
    BOOST_TEST(m.sync(2).ready());
    BOOST_TEST(m.has(2, "a0@client"));
    BOOST_TEST_REQUIRE(m.has(2, "a49@client"));
    BOOST_TEST(m.has(2, "b@client"), "1's table carries 2's sessions too");
    BOOST_TEST(m.has(2, "own@client"), "merged, not swapped: its own session stays");
    BOOST_TEST(m.session(2, "a7@client").node == NodeId(1 + 7 % 3));
    // Dispatcher 2 did not ask: it ignored the chunks.
    BOOST_TEST(m.sync(1).counters().sync_snapshots_applied_total == applied_by_2);
    BOOST_TEST(m.sync(1).counters().sync_ignored_total > 0u);
}

BOOST_AUTO_TEST_CASE(a_snapshot_longer_than_the_askers_patience_is_not_asked_for_again) {
    // Regression: the joiner asked again a second after its request even while the chunks
    // came, so a table that takes longer than a second to stream never reached it.
    Mesh m;
    m.all_ready();
    for (int i = 0; i < 3000; ++i) m.new_call(0, "a" + std::to_string(i) + "@client", NodeId(1 + i % 3));
    m.tick(0);
    m.tables[2] = std::make_unique<SessionTable>(SessionTableLimits{}, m.services.timeouts(), m.clock);
    m.restart(2);
    // Dispatcher 1 streams 1000 records a second: 3000 sessions and their flows take 6 s.
    SyncSettings paced = Mesh::settings(1);
    paced.snapshot_rate = 1000;
    m.syncs[0] = std::make_unique<StateSync>(paced, m.clock);
    BOOST_TEST(!m.sync(0).set_role(HaRole::active, m.table(0)));
    m.clock.advance(SyncSettings{}.ready_wait + 1ms);  // 1 is ready alone again
    m.tick(0);
    m.tick(2);  // 3 asks 1
    m.tick(0);  // the snapshot starts
    for (int step = 0; step < 400 && !m.sync(2).synced(); ++step) {
        m.clock.advance(50ms);
        m.tick(0);
        m.tick(1);
        m.tick(2);
        // Every slice due, as the sync thread takes them: one over empty shards only copies
        // nothing and makes the next one due at once.
        while (auto stream = m.sync(0).snapshot_copy(m.table(0)))
            m.send(0, m.sync(0).snapshot_messages(stream, stream->format()));
    }
    BOOST_TEST(m.sync(2).synced());
    BOOST_TEST(m.sync(2).counters().sync_mesh_snapshots_requested_total == 1u);
    BOOST_TEST(m.sync(0).counters().sync_snapshots_restarted_total == 0u);
    BOOST_TEST(m.has(2, "a2999@client"));
}

BOOST_AUTO_TEST_CASE(a_lost_datagram_asks_its_sender_for_a_snapshot_and_a_returning_peer_does_not) {
    Mesh m;
    m.all_ready();
    m.new_call(0, "lost@client", 2);
    (void)m.sync(0).flush(m.table(0));
    m.seq[0]++;  // lost on the way to everyone
    m.tick(0);
    BOOST_TEST(m.sync(1).counters().sync_gaps_total == 1u);
    BOOST_TEST(m.sync(2).counters().sync_gaps_total == 1u);
    m.tick(0);
    m.stream_snapshots();
    BOOST_TEST(m.has(1, "lost@client"), "the snapshot of dispatcher 1 brought what the lost update carried");
    BOOST_TEST(m.has(2, "lost@client"));

    // Dispatcher 1 dies; it returns with a new sequence: not a loss.
    const uint64_t gaps = m.sync(1).counters().sync_gaps_total;
    m.up[0] = false;
    m.clock.advance(1s);
    m.up[0] = true;
    m.seq[0] += 12345;
    m.tick(0);
    BOOST_TEST(m.sync(1).counters().sync_gaps_total == gaps);
}

BOOST_AUTO_TEST_CASE(a_dispatcher_is_not_ready_while_a_ready_peer_it_could_copy_is_heard) {
    Mesh m;
    m.all_ready();
    // Dispatcher 1 restarts, and its requests are lost: it hears ready peers, so it waits for a
    // snapshot however long that takes, rather than carry sessions without their bindings.
    m.restart(0);
    m.mute[0] = true;
    m.tick(1);
    m.clock.advance(SyncSettings{}.ready_wait + 1ms);
    m.tick(1);
    m.tick(2);
    BOOST_TEST(!m.sync(0).ready());
    m.mute[0] = false;
    m.clock.advance(1s);
    m.tick(0);  // asks again: its last request went unanswered for a second
    m.tick(1);
    m.tick(2);
    m.stream_snapshots();
    BOOST_TEST(m.sync(0).ready());
    // Once ready it stays so when others turn ready (no flapping of new-session admission).
    m.tick_all();
    BOOST_TEST(m.sync(0).ready());
    // Every peer silent for ready_wait: ready alone (the first of the set, or all restarted).
    StateSync lone{Mesh::settings(1), m.clock};
    BOOST_TEST(!lone.set_role(HaRole::active, m.table(0)));
    BOOST_TEST(!lone.ready());
    m.clock.advance(SyncSettings{}.ready_wait + 1ms);
    BOOST_TEST(lone.ready());
}

BOOST_AUTO_TEST_SUITE_END()
