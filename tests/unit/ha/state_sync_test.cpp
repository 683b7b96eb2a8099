// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include "common/proto/service.hpp"
#include "daemon/ha/state_sync.hpp"

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

    Pair() { master.set_role(HaRole::master, master_table); }
    SyncReply deliver(wire::SyncMessage m) {
        m.seq = seq++;
        return backup.on_message(m, backup_table);
    }
    void new_call(std::string_view call_id, NodeId node) {
        const SessionId id = master_table.create_session(ServiceProtocol::sip, call_id, 0);
        master_table.session(id).node = node;
        master_table.mark_changed(id);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(state_sync)

BOOST_AUTO_TEST_CASE(the_backup_acknowledges_a_numbered_update_once_it_applied_it) {
    Pair p;
    for (auto& m : p.master.tick(p.master_table)) p.deliver(m);  // the first tick: a snapshot
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
    for (auto& m : p.master.tick(p.master_table)) p.deliver(m);
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

BOOST_AUTO_TEST_SUITE_END()
