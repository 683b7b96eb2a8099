// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <vector>

#include "daemon/forward/verdict.hpp"

using namespace sara;

namespace {

struct RecordingSink final : VerdictSink {
    std::vector<std::pair<uint32_t, Verdict>> verdicts;
    void add_verdict(uint32_t id, const Verdict& v) override { verdicts.emplace_back(id, v); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(packet_lease)

BOOST_AUTO_TEST_CASE(a_handed_over_lease_gives_no_verdict_of_its_own) {
    RecordingSink sink;
    SharedCounter undecided;
    {
        PacketLease lease(sink, 9, Verdict::drop(), &undecided);
        BOOST_TEST(lease.hand_over() == 9u);  // the caller gives it later, by id
        BOOST_TEST(lease.decided());
        lease.decide(Verdict::accept());  // ignored: it is no longer the lease's to give
    }
    BOOST_TEST(sink.verdicts.empty());
    BOOST_TEST(undecided.load() == 0u);
}

BOOST_AUTO_TEST_CASE(exactly_one_verdict_per_packet) {
    RecordingSink sink;
    SharedCounter undecided;
    {
        PacketLease decided(sink, 1, Verdict::drop(), &undecided);
        decided.decide(Verdict::accept_with_mark(7));
        decided.decide(Verdict::drop());  // ignored: the first verdict stands
        PacketLease forgotten(sink, 2, Verdict::drop(), &undecided);
        PacketLease moved_from(sink, 3, Verdict::accept(), &undecided);
        PacketLease moved_to(std::move(moved_from));
        moved_to.decide(Verdict::accept());
    }
    BOOST_REQUIRE(sink.verdicts.size() == 3u);
    BOOST_TEST(sink.verdicts[0].first == 1u);
    BOOST_TEST(sink.verdicts[0].second.mark == 7u);
    BOOST_TEST(sink.verdicts[1].first == 3u);
    BOOST_TEST(sink.verdicts[2].first == 2u);  // the fail policy, at destruction
    BOOST_TEST((sink.verdicts[2].second.kind == Verdict::Kind::drop));
    BOOST_TEST(undecided.load() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
