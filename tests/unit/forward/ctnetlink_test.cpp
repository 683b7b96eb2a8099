// SPDX-License-Identifier: GPL-2.0-or-later
// ctnetlink messages (no kernel): a tuple put by ct_put_tuple reads back through
// ct_parse_entry in both families, with the request's nfgen family set to match; truncated
// or foreign entries are refused, not half-read.
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <boost/test/unit_test.hpp>

#include <vector>

#include "daemon/forward/ctnetlink.hpp"
#include "tests/unit/support/packets.hpp"

using namespace sara;
using namespace sara::test;

namespace {

// An entry message as the kernel sends one: the original tuple and a mark.
std::vector<char> entry_message(const FlowKey& k, uint32_t mark) {
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = uint16_t((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW);
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = ct_family(k);
    ct_put_tuple(nlh, CTA_TUPLE_ORIG, k);
    mnl_attr_put_u32(nlh, CTA_MARK, htonl(mark));
    buf.resize(nlh->nlmsg_len);
    return buf;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ctnetlink)

BOOST_AUTO_TEST_CASE(tuples_read_back_in_both_families) {
    for (const FlowKey& k : {FlowKey{ip("198.18.1.2"), ip("198.18.100.10"), 40000, 6100, IpProto::udp},
                             FlowKey{ip("2001:db8:1::2"), ip("2001:db8:100::10"), 40002, 6200, IpProto::udp}}) {
        BOOST_TEST_CONTEXT(k.src.to_string()) {
            BOOST_TEST(ctnetlink_supported(k));
            const std::vector<char> m = entry_message(k, 2);
            const auto e = ct_parse_entry(reinterpret_cast<const nlmsghdr*>(m.data()));
            BOOST_REQUIRE(e.has_value());
            BOOST_TEST((e->orig == k));
            BOOST_TEST(e->mark == 2u);
        }
    }
    BOOST_TEST(ct_family(FlowKey{ip("2001:db8:1::2"), ip("2001:db8:100::10"), 1, 2, IpProto::udp}) == AF_INET6);
    BOOST_TEST(ct_family(FlowKey{ip("198.18.1.2"), ip("198.18.100.10"), 1, 2, IpProto::udp}) == AF_INET);
}

BOOST_AUTO_TEST_CASE(mixed_families_and_tcp_are_not_conntrack_fast_path_keys) {
    BOOST_TEST(!ctnetlink_supported(FlowKey{ip("198.18.1.2"), ip("2001:db8:100::10"), 1, 2, IpProto::udp}));
    BOOST_TEST(!ctnetlink_supported(FlowKey{ip("2001:db8:1::2"), ip("2001:db8:100::10"), 1, 2, IpProto::tcp}));
}

BOOST_AUTO_TEST_CASE(an_entry_without_its_ports_is_refused) {
    FlowKey k{ip("2001:db8:1::2"), ip("2001:db8:100::10"), 0, 6200, IpProto::udp};  // no source port put
    const std::vector<char> m = entry_message(k, 1);
    BOOST_TEST(!ct_parse_entry(reinterpret_cast<const nlmsghdr*>(m.data())).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
