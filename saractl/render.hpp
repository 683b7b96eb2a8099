// SPDX-License-Identifier: GPL-2.0-or-later
// What saractl prints for people: sarad's JSON documents (control socket, DESIGN §10) turned
// into aligned tables. Pure functions of the documents, so they are unit-tested with literal
// JSON; a field sarad does not send is shown as "-" or left out, never an error.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sara::ctl {

// Columns separated by two spaces, padded to the widest cell; a column whose cells are all
// numbers (or "-") is right-aligned. No trailing spaces; every line ends in '\n'.
std::string format_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// A JSON value as a cell: strings as is, integers plainly, reals with 3 decimals, null as "-".
std::string cell(const nlohmann::json& value);

// The node's state as people read it: an operator-drained node is "draining (operator)".
std::string node_state(const nlohmann::json& node);

std::string render_nodes(const nlohmann::json& nodes_doc);
std::string render_sessions(const nlohmann::json& sessions_doc);
std::string render_stats(const nlohmann::json& stats_doc);
std::string render_status(const nlohmann::json& stats_doc, const nlohmann::json& nodes_doc);
std::string render_role(const nlohmann::json& role_doc);
std::string render_announce(const nlohmann::json& announce_doc);
// `sessions --key/--client` (sarad's `lookup`): each session with its flows, and what the
// columns mean (the table keeps no packet counts; what "kernel" means).
std::string render_lookup(const nlohmann::json& lookup_doc);
std::string render_drain(const nlohmann::json& drain_doc);

// {"sessions":[...]} keeping only `node`'s sessions (all without one), at most `limit`.
nlohmann::json filter_sessions(const nlohmann::json& sessions_doc, std::optional<uint32_t> node, size_t limit);

}  // namespace sara::ctl
