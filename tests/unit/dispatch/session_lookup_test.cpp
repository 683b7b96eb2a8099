// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include "daemon/dispatch/packet_pipeline.hpp"
#include "daemon/dispatch/session_lookup.hpp"
#include "daemon/schedule/round_robin.hpp"
#include "tests/unit/support/ip_builder.hpp"
#include "tests/unit/support/packets.hpp"

using namespace sara;
using namespace sara::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kVip = "198.18.100.10";
constexpr const char* kClient = "198.18.1.2";

NodeEntry node(NodeId id) {
    NodeEntry n;
    n.id = id;
    n.name = "node" + std::to_string(id);
    return n;
}

// Real calls through the pipeline, so the table holds what sarad's would: a SIP call's media
// flows announced by the INVITE's SDP, confirmed by their packets.
struct LookupFixture {
    ManualClock clock;
    ServiceMap services = ServiceMap::defaults();
    SessionTable table{SessionTableLimits{}, services.timeouts(), clock};
    SessionIdentifier identifier{table, services, ip(kVip)};
    AdmitAll admit_all;
    RoundRobinScheduler scheduler;
    PacketPipeline pipeline{identifier, admit_all, scheduler, {node(1), node(2)}, ip(kVip)};
    bool mark_mode = true;

    NodeId invite(const std::string& call_id, uint16_t media_port) {
        const std::string m = sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", call_id, "1 INVITE",
                                          sdp_body(kClient, media_port));
        return pipeline.decide(udp_packet(kClient, 5070, kVip, 5060, m)).node;
    }
    void media(uint16_t client_port, uint16_t server_port) {
        pipeline.decide(udp_packet(kClient, client_port, kVip, server_port, "rtp"));
    }
    nlohmann::json lookup(std::string_view args) {
        const LookupContext context{table, services, mark_mode,
                                    [&](NodeId id) { return pipeline.node(id) ? pipeline.node(id)->name : ""; }};
        return lookup_sessions(args, context);
    }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(session_lookup)

BOOST_FIXTURE_TEST_CASE(a_call_by_its_call_id_shows_node_flows_and_the_fast_path, LookupFixture) {
    const NodeId n = invite("call-1", 20000);
    BOOST_REQUIRE(n != kNoNode);
    clock.advance(1s);
    media(20000, 30000);  // RTP confirmed; RTCP (20001) stays announced and partial
    media(20000, 30000);
    clock.advance(500ms);
    const nlohmann::json doc = lookup("key call-1");
    BOOST_REQUIRE_EQUAL(doc["sessions"].size(), 1u);
    const nlohmann::json& s = doc["sessions"][0];
    BOOST_TEST(s["protocol"] == "sip");
    BOOST_TEST(s["key"] == "call-1");
    BOOST_TEST(s["state"] == "active");
    BOOST_TEST(s["node"] == n);
    BOOST_TEST(s["node_name"] == "node" + std::to_string(n));
    BOOST_TEST(s["age_ms"] == 1500);
    BOOST_TEST(s["fast_path"] == true);
    BOOST_REQUIRE_EQUAL(s["flows"].size(), 2u);
    const nlohmann::json& rtp = s["flows"][0];
    BOOST_TEST(rtp["client"] == "198.18.1.2:20000");
    BOOST_TEST(rtp["server"] == "198.18.100.10:30000");
    BOOST_TEST(rtp["identity"] == "secondary");
    BOOST_TEST(rtp["status"] == "established");
    BOOST_TEST(rtp["packets"].is_null());  // the table counts no packets: none is invented
    BOOST_TEST(rtp["idle_ms"] == 500);
    BOOST_TEST(rtp["path"] == "kernel");
    BOOST_TEST(rtp["fast_path"] == true);
    const nlohmann::json& rtcp = s["flows"][1];
    BOOST_TEST(rtcp["client"] == "198.18.1.2:20001");
    BOOST_TEST(rtcp["server"] == "198.18.100.10:*");
    BOOST_TEST(rtcp["identity"] == "announced");
    BOOST_TEST(rtcp["path"] == "expected");
    BOOST_TEST(rtcp["fast_path"] == false);
}

BOOST_FIXTURE_TEST_CASE(raw_mode_has_no_fast_path, LookupFixture) {
    invite("call-1", 20000);
    media(20000, 30000);
    mark_mode = false;
    const nlohmann::json s = lookup("key call-1")["sessions"][0];
    BOOST_TEST(s["fast_path"] == false);
    BOOST_TEST(s["flows"][0]["path"] == "queue");
}

BOOST_FIXTURE_TEST_CASE(a_tcp_signalling_flow_stays_on_the_queue, LookupFixture) {
    const std::string m = sip_message("INVITE sip:svc@198.18.100.10 SIP/2.0", "call-tcp", "1 INVITE");
    pipeline.decide(tcp_packet(kClient, 40000, kVip, 5060, 0x02, 0));  // SYN
    pipeline.decide(tcp_packet(kClient, 40000, kVip, 5060, 0x18, 1, m));
    const nlohmann::json doc = lookup("key call-tcp");
    BOOST_REQUIRE_EQUAL(doc["sessions"].size(), 1u);
    const nlohmann::json& flows = doc["sessions"][0]["flows"];
    BOOST_REQUIRE_EQUAL(flows.size(), 1u);
    BOOST_TEST(flows[0]["proto"] == "tcp");
    BOOST_TEST(flows[0]["identity"] == "signalling");
    BOOST_TEST(flows[0]["path"] == "queue");
}

BOOST_FIXTURE_TEST_CASE(an_unknown_key_finds_nothing, LookupFixture) {
    invite("call-1", 20000);
    BOOST_TEST(lookup("key call-2")["sessions"].size() == 0u);
    BOOST_TEST(lookup("key call")["sessions"].size() == 0u);  // no prefix match
}

BOOST_FIXTURE_TEST_CASE(a_client_by_address_or_port_and_the_limit, LookupFixture) {
    invite("call-1", 20000);
    invite("call-2", 22000);
    BOOST_TEST(lookup("client 198.18.1.2")["sessions"].size() == 2u);
    BOOST_TEST(lookup("client 198.18.1.2")["truncated"] == false);
    const nlohmann::json one = lookup("client 198.18.1.2:22001");
    BOOST_REQUIRE_EQUAL(one["sessions"].size(), 1u);
    BOOST_TEST(one["sessions"][0]["key"] == "call-2");
    BOOST_TEST(lookup("client 198.18.1.2:5070")["sessions"].size() == 0u);  // SIP/UDP is no flow
    BOOST_TEST(lookup("client 198.18.1.3")["sessions"].size() == 0u);
    const nlohmann::json limited = lookup("client 198.18.1.2 1");
    BOOST_TEST(limited["sessions"].size() == 1u);
    BOOST_TEST(limited["truncated"] == true);
}

BOOST_AUTO_TEST_CASE(bad_arguments_are_errors_not_empty_answers) {
    const struct {
        const char* description;
        const char* args;
    } cases[] = {
        {"nothing", ""},
        {"unknown kind", "callid x"},
        {"key without a key", "key "},
        {"client without an endpoint", "client "},
        {"client not an address", "client node1"},
        {"client port 0", "client 198.18.1.2:0"},
        {"client port too big", "client 198.18.1.2:65536"},
        {"client limit 0", "client 198.18.1.2 0"},
        {"client limit not a number", "client 198.18.1.2 ten"},
    };
    ManualClock clock;
    const ServiceMap services = ServiceMap::defaults();
    const SessionTable table{SessionTableLimits{}, services.timeouts(), clock};
    const LookupContext context{table, services, true, [](NodeId) { return std::string(); }};
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            const nlohmann::json doc = lookup_sessions(c.args, context);
            BOOST_TEST(doc.contains("error"));
            BOOST_TEST(!doc.contains("sessions"));
        }
    }
}

BOOST_AUTO_TEST_CASE(client_endpoints) {
    const struct {
        const char* description;
        const char* text;
        const char* address;  // nullptr: rejected
        uint16_t port;
    } cases[] = {
        {"IPv4", "198.18.1.2", "198.18.1.2", 0},
        {"IPv4 and port", "198.18.1.2:5060", "198.18.1.2", 5060},
        {"bare IPv6", "2001:db8::1", "2001:db8::1", 0},
        {"bracketed IPv6", "[2001:db8::1]", "2001:db8::1", 0},
        {"bracketed IPv6 and port", "[2001:db8::1]:5060", "2001:db8::1", 5060},
        {"empty", "", nullptr, 0},
        {"port without address", ":5060", nullptr, 0},
        {"address and empty port", "198.18.1.2:", nullptr, 0},
        {"bracket not closed", "[2001:db8::1", nullptr, 0},
        {"text after the bracket", "[2001:db8::1]x", nullptr, 0},
        {"bracketed and empty port", "[2001:db8::1]:", nullptr, 0},
        {"port with a sign", "198.18.1.2:+5", nullptr, 0},
        {"a name", "node1:5060", nullptr, 0},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.description) {
            std::string error;
            const std::optional<ClientEndpoint> e = parse_client_endpoint(c.text, &error);
            BOOST_TEST(e.has_value() == (c.address != nullptr));
            if (e && c.address) {
                BOOST_TEST(e->address.to_string() == ip(c.address).to_string());
                BOOST_TEST(e->port == c.port);
            }
            if (!e) BOOST_TEST(!error.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(which_ports_carry_signalling) {
    const ServiceMap services = ServiceMap::defaults();  // sip/udp+tcp/5060, rtsp/tcp/554
    BOOST_TEST(services.is_signalling(IpProto::udp, 5060));
    BOOST_TEST(services.is_signalling(IpProto::tcp, 5060));
    BOOST_TEST(services.is_signalling(IpProto::tcp, 554));
    BOOST_TEST(!services.is_signalling(IpProto::udp, 554));  // RTSP's media may use UDP 554: data
    BOOST_TEST(!services.is_signalling(IpProto::udp, 20000));
    BOOST_TEST(!services.is_signalling(IpProto::tcp, 8080));
}

BOOST_AUTO_TEST_SUITE_END()
