// SPDX-License-Identifier: GPL-2.0-or-later
// Readers for the parts several SARA config files have in common, so that a field means and
// accepts the same thing in dispatcher.yaml, nodeagent.yaml and gateway.yaml, with the same
// error text: an interface name, a list of dispatcher endpoints, `auth`, and `services`.
// Like yaml_reader.hpp's readers, each reports every problem with its position and never
// throws; an absent field leaves `out` at its default.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/config/auth_config.hpp"
#include "common/config/yaml_reader.hpp"
#include "common/net/vip_set.hpp"
#include "common/proto/service.hpp"

namespace sara {

// A Linux network interface name as dev_valid_name() accepts it: 1..15 bytes, not "." or
// "..", no '/', ':' or whitespace.
bool read_interface_name(ConfigErrorList& errors, const Field& field, std::string& out);

// A list of 1..max_count unique ADDRESS:PORT endpoints, none with an unspecified address.
// Writes `out` only if every element is valid.
void read_endpoint_list(ConfigErrorList& errors, const Field& field, std::vector<Endpoint>& out, size_t max_count);

// One IP address, or a list of an IPv4 and an IPv6 one (a dual-stack `vip`, the node
// setup's `gateway`); none unspecified. Writes `out` and returns true only if all is valid.
bool read_address_pair(ConfigErrorList& errors, const Field& field, VipSet& out);

// `auth: none` (enabled = false, key_file cleared; lab use only) or `auth: {key_file: PATH}`
// with an absolute PATH (enabled stays true).
void read_auth(ConfigErrorList& errors, const Field& field, AuthConfig& auth);

// A `services` list: items {name, protocol: sip|rtsp|tcp|udp, transport: udp|tcp|[udp, tcp],
// port, flow_timeout}; protocol tcp and udp become ServiceProtocol::plain. Names are unique and
// no transport/port pair belongs to two services. An empty list is an error; absent keeps
// `out` (the caller's defaults). Writes `out` only if every item is valid.
void read_services(ConfigErrorList& errors, const Field& field, std::vector<Service>& out);

}  // namespace sara
