// SPDX-License-Identifier: GPL-2.0-or-later
#include <boost/test/unit_test.hpp>

#include <limits>

#include "daemon/control/prometheus_text.hpp"

using namespace sara;

BOOST_AUTO_TEST_SUITE(prometheus_text)

BOOST_AUTO_TEST_CASE(families_samples_and_escaping) {
    PrometheusText t;
    t.counter("sara_pipeline_packets_total", "Queued packets decided", 42);
    t.gauge("sara_sessions", "Sessions in the table", 7);
    t.family("sara_node_load", "gauge", "A node's load\\n, 0..1");
    t.sample("sara_node_load", 0.25, {{"node", "1"}, {"name", "a \"quoted\"\\name\n"}});
    BOOST_TEST(t.text() ==
               "# HELP sara_pipeline_packets_total Queued packets decided\n"
               "# TYPE sara_pipeline_packets_total counter\n"
               "sara_pipeline_packets_total 42\n"
               "# HELP sara_sessions Sessions in the table\n"
               "# TYPE sara_sessions gauge\n"
               "sara_sessions 7\n"
               "# HELP sara_node_load A node's load\\\\n, 0..1\n"
               "# TYPE sara_node_load gauge\n"
               "sara_node_load{node=\"1\",name=\"a \\\"quoted\\\"\\\\name\\n\"} 0.25\n");
}

BOOST_AUTO_TEST_CASE(special_values) {
    PrometheusText t;
    t.sample("x", std::numeric_limits<double>::quiet_NaN());
    t.sample("y", std::numeric_limits<double>::infinity());
    t.sample("z", 0.1);
    BOOST_TEST(t.text() == "x NaN\ny +Inf\nz 0.10000000000000001\n");
}

BOOST_AUTO_TEST_SUITE_END()

#include "daemon/control/metrics_server.hpp"

BOOST_AUTO_TEST_SUITE(metrics_http)

BOOST_AUTO_TEST_CASE(get_metrics_and_the_rest) {
    const auto body = [] { return std::string("sara_x 1\n"); };
    const std::string ok = metrics_http_response("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", body);
    BOOST_TEST(ok == "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                     "Content-Length: 9\r\nConnection: close\r\n\r\nsara_x 1\n");
    BOOST_TEST(metrics_http_response("GET /metrics?x=1 HTTP/1.1\r\n\r\n", body).rfind("HTTP/1.0 200", 0) == 0u);
    const std::string head = metrics_http_response("HEAD /metrics HTTP/1.1\r\n\r\n", body);
    BOOST_TEST(head.rfind("HTTP/1.0 200", 0) == 0u);
    BOOST_TEST(head.find("sara_x") == std::string::npos);
    BOOST_TEST(metrics_http_response("GET / HTTP/1.1\r\n\r\n", body).rfind("HTTP/1.0 404", 0) == 0u);
    BOOST_TEST(metrics_http_response("POST /metrics HTTP/1.1\r\n\r\n", body).rfind("HTTP/1.0 405", 0) == 0u);
    BOOST_TEST(metrics_http_response("garbage\r\n\r\n", body).rfind("HTTP/1.0 400", 0) == 0u);
    BOOST_TEST(metrics_http_response("", body).rfind("HTTP/1.0 400", 0) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
