// SPDX-License-Identifier: GPL-2.0-or-later
// The messages of sip-loadgen's zero-length call (INVITE with SDP, 100 + 200 with SDP, ACK,
// BYE, 200), built into caller-owned strings so a busy loop reuses their storage.
//
// Call-IDs name the call: "<index>-<run>@sip-loadgen", run a random 32-bit hex per UAC
// process; the UAC finds a response's call from it without a lookup table, and answers for
// another run are told apart.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tests/loadgen/sip_fields.hpp"

namespace sara::loadgen {

struct Endpoint {
    std::string host;   // IPv4 address in dotted form, or IPv6 address in RFC 5952 form (no brackets)
    uint16_t port = 0;
    // Only IPv6 text has colons: the one test every message builder needs, without parsing.
    bool is_v6() const { return host.find(':') != std::string::npos; }
};

// "host:port", IPv6 in brackets ("[2001:db8::1]:5060"), as SIP URIs and Via write it
// (RFC 3261 §19.1.1, RFC 5118) and the summaries print it.
void append_host_port(std::string& out, const Endpoint& e);
std::string to_string(const Endpoint& e);

std::string call_id(uint32_t run, uint64_t index);
// The call index of a Call-ID of this run; nullopt for anything else.
std::optional<uint64_t> call_index(std::string_view call_id, uint32_t run);

// What a UAC keeps of the 200 to its INVITE for the in-dialog requests (RFC 3261 §12.1.2):
// the To header with the UAS's tag, the remote target (Contact) and the route set (the
// Record-Route values in reverse order).
struct Dialog {
    std::string to_value;
    std::string request_uri;
    std::string routes;   // ready-made "Route: ...\r\n" lines, empty without a proxy
};
Dialog dialog_from(const SipFields& ok_to_invite, std::string_view fallback_uri);

struct UacCall {
    const Endpoint& local;    // our socket's address (Via, From, Contact, SDP)
    const Endpoint& target;   // where every request goes (the VIP, a proxy, a UAS)
    std::string_view service; // the Request-URI's user part
    uint32_t run = 0;
    uint64_t index = 0;
    uint16_t media_port = 6000;
};

std::string invite_uri(const UacCall& c);
void build_invite(std::string& out, const UacCall& c);
void build_ack(std::string& out, const UacCall& c, const Dialog& d);
void build_bye(std::string& out, const UacCall& c, const Dialog& d);
// The ACK of a non-2xx final response (RFC 3261 §17.1.1.3): the INVITE's branch and URI,
// the response's To.
void build_error_ack(std::string& out, const UacCall& c, std::string_view to_value);

// The stateless UAS's answer to a request: 0, 1 or 2 responses (INVITE: 100 and 200 with
// SDP; BYE, OPTIONS, CANCEL: 200; ACK: none; anything else: 501). The same request always
// gets the same bytes (the To tag is a hash of the Call-ID), so retransmissions are answered
// identically.
struct UasAnswer {
    int count = 0;
    std::string response[2];
};
void answer_request(UasAnswer& out, const SipFields& request, const Endpoint& contact, uint16_t media_port);

// The To tag the UAS gives a call.
std::string uas_tag(std::string_view call_id);

}  // namespace sara::loadgen
