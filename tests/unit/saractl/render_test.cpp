// SPDX-License-Identifier: GPL-2.0-or-later
// saractl's tables from literal sarad documents.
#include <boost/test/unit_test.hpp>

#include "saractl/render.hpp"

using namespace sara::ctl;
using nlohmann::json;

BOOST_AUTO_TEST_SUITE(saractl_render)

BOOST_AUTO_TEST_CASE(table_aligns_text_left_and_numbers_right) {
    BOOST_TEST(format_table({"NAME", "N"}, {{"a", "1"}, {"longer", "100"}, {"b", "-"}}) ==
               "NAME      N\n"
               "a         1\n"
               "longer  100\n"
               "b         -\n");
}

BOOST_AUTO_TEST_CASE(table_without_rows_is_its_header) {
    BOOST_TEST(format_table({"A", "BB"}, {}) == "A  BB\n");
}

BOOST_AUTO_TEST_CASE(cells) {
    BOOST_TEST(cell(json(nullptr)) == "-");
    BOOST_TEST(cell(json("up")) == "up");
    BOOST_TEST(cell(json(42)) == "42");
    BOOST_TEST(cell(json(0.25)) == "0.250");
    BOOST_TEST(cell(json(true)) == "yes");
}

BOOST_AUTO_TEST_CASE(nodes_show_an_operator_drain) {
    const json doc = json::parse(R"({"nodes":[
        {"id":1,"name":"node1","address":"198.18.2.11","state":"up","drained":true,"sessions":3,
         "load":0.5,"heartbeats_lost":0,"estimate":null},
        {"id":2,"name":"node2","address":"198.18.2.12","state":"down","drained":false,"sessions":0,
         "load":null,"heartbeats_lost":4,"estimate":0.125}]})");
    BOOST_TEST(render_nodes(doc) ==
               "ID  NAME   ADDRESS      STATE                SESSIONS   LOAD  ESTIMATE  HB-LOST\n"
               " 1  node1  198.18.2.11  draining (operator)         3  0.500         -        0\n"
               " 2  node2  198.18.2.12  down                        0      -     0.125        4\n");
}

BOOST_AUTO_TEST_CASE(sessions_filtered_by_node_and_limited) {
    const json doc = json::parse(R"({"sessions":[
        {"protocol":"sip","key":"a@x","state":"active","node":1,"flows":3},
        {"protocol":"rtsp","key":"S1","state":"active","node":2,"flows":2},
        {"protocol":"sip","key":"b@x","state":"active","node":1,"flows":1}]})");
    BOOST_TEST(filter_sessions(doc, 1u, 10)["sessions"].size() == 2u);
    BOOST_TEST(filter_sessions(doc, 1u, 1)["sessions"][0]["key"] == "a@x");
    BOOST_TEST(filter_sessions(doc, std::nullopt, 10)["sessions"].size() == 3u);
    BOOST_TEST(filter_sessions(doc, 3u, 10)["sessions"].empty());
    BOOST_TEST(render_sessions(filter_sessions(doc, 2u, 10)) ==
               "PROTOCOL  KEY  STATE   NODE  FLOWS\n"
               "rtsp      S1   active     2      2\n"
               "1 session(s)\n");
}

BOOST_AUTO_TEST_CASE(one_call_with_its_flows_and_path) {
    const json doc = json::parse(R"({"sessions":[
        {"protocol":"sip","key":"a@x","state":"active","node":2,"node_name":"node2","age_ms":75500,"idle_ms":850,
         "fast_path":true,"signalling":"per message by Call-ID",
         "flows":[{"proto":"udp","client":"198.18.1.2:20000","server":"198.18.100.10:30000","identity":"secondary",
                   "status":"established","packets":null,"idle_ms":12300,"path":"kernel","fast_path":true},
                  {"proto":"udp","client":"198.18.1.2:20001","server":"198.18.100.10:*","identity":"announced",
                   "status":"new","packets":null,"idle_ms":900,"path":"expected","fast_path":false}]}],
        "truncated":true})");
    const std::string text = render_lookup(doc);
    BOOST_TEST(text.starts_with(
        "sip a@x: active, node 2 (node2), age 1 min 15 s, last packet 850 ms ago, kernel fast path: yes\n"
        "  signalling: per message by Call-ID\n"
        "  PROTO  CLIENT            SERVER               IDENTITY   STATUS       IDLE    PATH\n"
        "  udp    198.18.1.2:20000  198.18.100.10:30000  secondary  established  12.3 s  kernel\n"
        "  udp    198.18.1.2:20001  198.18.100.10:*      announced  new          900 ms  expected\n"
        "(more sessions match: raise --limit)\n"));
    BOOST_TEST(text.find("(sarad keeps no packet\ncounts)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(lookup_of_nothing_or_of_odd_documents) {
    BOOST_TEST(render_lookup(json::parse(R"({"sessions":[]})")) == "no session found\n");
    BOOST_TEST(render_lookup(json::parse("[1,2]")) == "no session found\n");
    // A session without the optional fields still prints (a sarad of another version).
    const std::string text = render_lookup(json::parse(R"({"sessions":[{"protocol":"plain","key":"","flows":"x"}]})"));
    BOOST_TEST(text.starts_with("plain (no key): -, node -, age -, last packet - ago, kernel fast path: no\n  no flows\n"));
}

BOOST_AUTO_TEST_CASE(status_summarises_stats_and_nodes) {
    const json stats = json::parse(R"({"sessions":4,"flows":9,"admission_m":0.25,"admission_p_new":0.0,
        "pipeline_sessions_assigned_total":10,"sessions_completed_total":6,
        "pipeline_admission_rejected_total":2,"sip_malformed_total":0,"packets_total":99})");
    const json nodes = json::parse(R"({"nodes":[{"id":1,"state":"up","drained":true},
        {"id":2,"state":"up","drained":false},{"id":3,"state":"down","drained":false}]})");
    BOOST_TEST(render_status(stats, nodes) ==
               "nodes                              1/3 up, 1 drained by the operator\n"
               "sessions                           4\n"
               "flows                              9\n"
               "admission                          m 0.250, p_new 0.000\n"
               "pipeline_sessions_assigned_total   10\n"
               "sessions_completed_total           6\n"
               "pipeline_admission_rejected_total  2\n");
    BOOST_TEST(render_status(json::parse(R"({"sessions":0,"flows":0,"vip":"198.18.100.10"})"),
                             json::parse(R"({"nodes":[]})"))
                   .starts_with("vip        198.18.100.10\nnodes      0/0 up\n"));
    BOOST_TEST(render_status(json::object(), json::object()).find("admission  disabled\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(role_and_drain_lines) {
    BOOST_TEST(render_role(json::parse(R"({"role":"single","detail":"no sync configured"})")) ==
               "role: single (no sync configured)\n");
    BOOST_TEST(render_role(json::parse(R"({"role":"backup","ready":false,"synced":false,"sessions":0})")) ==
               "role: backup, not ready (no replica yet), 0 sessions\n");
    BOOST_TEST(render_role(json::parse(R"({"role":"master","ready":true,"synced":true,"sessions":12})")) ==
               "role: master, ready (replica synced), 12 sessions\n");
    BOOST_TEST(render_role(json::parse(R"({"role":"master","ready":true,"synced":false,"sessions":3,)"
                                       R"("floating_address_held":true,"ignored":"late backup"})")) ==
               "role: master, ready (no replica yet), 3 sessions, holds the floating address; ignored: late backup\n");
    BOOST_TEST(render_drain(json::parse(R"({"node":1,"name":"n1","drained":true,"changed":true})")) ==
               "node 1 (n1): drained: no new sessions, established ones continue\n");
    const json undrained = json::parse(R"({"node":1,"name":"n1","drained":false,"changed":true,"available":false})");
    BOOST_TEST(render_drain(undrained) ==
               "node 1 (n1): undrained; not available until its health is up\n");
    BOOST_TEST(render_drain(json::parse(R"({"node":1,"name":"n1","drained":true,"changed":false})")) ==
               "node 1 (n1): already drained\n");
}

BOOST_AUTO_TEST_SUITE_END()
