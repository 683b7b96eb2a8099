// SPDX-License-Identifier: GPL-2.0-or-later
// Endpoint and MacAddress text: what the config files accept and the canonical form they are
// printed in (saractl, logs, error messages).
#include <boost/test/unit_test.hpp>

#include <optional>
#include <vector>

#include "common/net/endpoint.hpp"
#include "common/net/mac_address.hpp"

namespace sara {

BOOST_AUTO_TEST_SUITE(endpoint_and_mac)

BOOST_AUTO_TEST_CASE(parse_endpoint_and_mac_values) {
    struct TextCase {
        const char* text;
        const char* expected;  // canonical form, or nullptr for invalid
    };
    const std::vector<TextCase> endpoints = {
        {"198.18.2.1:7400", "198.18.2.1:7400"}, {"[2001:db8::1]:80", "[2001:db8::1]:80"},
        {"[198.18.2.1]:80", nullptr},           {"2001:db8::1:80", nullptr},
        {"198.18.2.1:65536", nullptr},          {"198.18.2.1:", nullptr},
        {":80", nullptr},                       {"[::1]80", nullptr},
        {"198.18.2.1:80x", nullptr},            {"[::1", nullptr},
    };
    for (const TextCase& c : endpoints) {
        BOOST_TEST_CONTEXT(c.text) {
            const std::optional<Endpoint> got = Endpoint::parse(c.text);
            BOOST_TEST(got.has_value() == (c.expected != nullptr));
            if (got && c.expected) BOOST_TEST(got->to_string() == c.expected);
        }
    }
    const std::vector<TextCase> macs = {
        {"02:00:00:00:02:11", "02:00:00:00:02:11"}, {"02:AB:cd:EF:00:01", "02:ab:cd:ef:00:01"},
        {"02-00-00-00-02-11", nullptr},             {"02:00:00:00:02:1", nullptr},
        {"02:00:00:00:02:111", nullptr},            {"0g:00:00:00:02:11", nullptr},
        {"+2:00:00:00:02:11", nullptr},
    };
    for (const TextCase& c : macs) {
        BOOST_TEST_CONTEXT(c.text) {
            const std::optional<MacAddress> got = MacAddress::parse(c.text);
            BOOST_TEST(got.has_value() == (c.expected != nullptr));
            if (got && c.expected) BOOST_TEST(got->to_string() == c.expected);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace sara
