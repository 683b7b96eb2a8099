// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <vector>

#include "daemon/schedule/scheduler.hpp"

using namespace sara;

BOOST_AUTO_TEST_SUITE(least_sessions)

BOOST_AUTO_TEST_CASE(choice_sequences) {
    struct Case {
        const char* description;
        std::vector<NodeView> nodes;
        std::vector<NodeId> expected;  // successive picks; each pick adds a session to the node
    };
    const Case cases[] = {
        {"equal nodes take turns", {{1, 1, true, 0}, {2, 1, true, 0}, {3, 1, true, 0}}, {1, 2, 3, 1, 2, 3}},
        {"the emptiest node first", {{1, 1, true, 5}, {2, 1, true, 3}, {3, 1, true, 4}}, {2, 3, 2, 3, 1, 2}},
        {"weights scale the share", {{1, 2, true, 0}, {2, 1, true, 0}}, {1, 2, 1, 2, 1, 1}},  // 4:2 after six picks
        {"unavailable nodes are never chosen", {{1, 1, false, 0}, {2, 1, true, 9}}, {2, 2, 2}},
        {"no node available", {{1, 1, false, 0}}, {kNoNode, kNoNode}},
        {"weight 0 is never chosen", {{1, 0, true, 0}, {2, 1, true, 4}}, {2, 2}},
    };
    for (const Case& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            LeastSessionsScheduler scheduler;
            std::vector<NodeView> nodes = c.nodes;
            std::vector<NodeId> got;
            for (size_t i = 0; i < c.expected.size(); ++i) {
                const NodeId id = scheduler.pick(nodes);
                got.push_back(id);
                for (NodeView& v : nodes)
                    if (v.id == id) ++v.sessions;
            }
            BOOST_TEST(got == c.expected, boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
