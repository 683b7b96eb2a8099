// SPDX-License-Identifier: GPL-2.0-or-later
// Several active dispatchers (issue 19) each run their own shell scheduler on the same load
// reports. Between two reports each one corrects its estimates with the sessions it assigned;
// unless it also counts the sessions its peers assigned (Scheduler::on_peer_assigned, fed by
// the mesh's replicated bindings), N dispatchers herd N times as hard to whichever node
// looked least loaded. The figures are printed with --log_level=message.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <vector>

#include "daemon/schedule/shell.hpp"

using namespace sara;

namespace {

constexpr size_t kNodes = 3;
// One report round: the nodes' loads with 30 sessions each (a session costs 0.01 of a node).
constexpr std::array<double, kNodes> kLoads{0.30, 0.35, 0.40};
constexpr uint64_t kSessionsAtReport = 30;

// `dispatchers` shell schedulers share `calls` new sessions between two reports, in turn (an
// ECMP router spreading clients); with `peer_feedback` each pick is counted by the others as
// the mesh's replication does. Returns the nodes' loads at the next report: reported load
// plus what they were given.
std::array<double, kNodes> run_round(size_t dispatchers, size_t calls, bool peer_feedback) {
    std::vector<std::unique_ptr<ShellScheduler>> schedulers;
    for (size_t d = 0; d < dispatchers; ++d) {
        schedulers.push_back(std::make_unique<ShellScheduler>(4));
        for (size_t n = 0; n < kNodes; ++n)
            schedulers.back()->on_load_report(NodeId(n + 1), kLoads[n], kSessionsAtReport);
    }
    std::vector<NodeView> nodes;
    for (size_t n = 0; n < kNodes; ++n) nodes.push_back(NodeView{NodeId(n + 1), 1, true, kSessionsAtReport});
    std::array<double, kNodes> load = kLoads;
    for (size_t c = 0; c < calls; ++c) {
        const size_t d = c % dispatchers;
        const NodeId node = schedulers[d]->pick(nodes);
        BOOST_REQUIRE(node != kNoNode);
        load[node - 1] += kLoads[node - 1] / double(kSessionsAtReport);
        if (peer_feedback)
            for (size_t other = 0; other < dispatchers; ++other)
                if (other != d) schedulers[other]->on_peer_assigned(node);
    }
    return load;
}

double spread(const std::array<double, kNodes>& load) {
    return *std::max_element(load.begin(), load.end()) - *std::min_element(load.begin(), load.end());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(mesh_herd)

BOOST_AUTO_TEST_CASE(three_dispatchers_counting_each_others_sessions_balance_as_one_does) {
    const double one = spread(run_round(1, 90, false));
    const double three_blind = spread(run_round(3, 90, false));
    const double three_mesh = spread(run_round(3, 90, true));
    BOOST_TEST_MESSAGE("node load spread at the next report, 90 new sessions between reports: N=1 " << one
                       << ", N=3 without peer counting " << three_blind << ", N=3 with it " << three_mesh);
    // One dispatcher levels the nodes to within one session's cost; so do three that count
    // each other's sessions; three that do not overshoot.
    BOOST_TEST(one <= 0.015);
    BOOST_TEST(three_mesh <= one + 0.015);
    BOOST_TEST(three_blind >= 3 * three_mesh);
}

BOOST_AUTO_TEST_SUITE_END()
