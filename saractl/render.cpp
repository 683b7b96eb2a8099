// SPDX-License-Identifier: GPL-2.0-or-later
#include "saractl/render.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace sara::ctl {
namespace {

bool numeric(const std::string& s) {
    if (s.empty() || s == "-") return true;
    // At most one '.': an IPv4 address is text, not a number.
    return s.find_first_not_of("0123456789.-+e") == std::string::npos && std::isdigit(uint8_t(s.back())) &&
           std::count(s.begin(), s.end(), '.') <= 1;
}

const nlohmann::json& array_of(const nlohmann::json& doc, const char* key) {
    static const nlohmann::json empty = nlohmann::json::array();
    return doc.is_object() && doc.contains(key) && doc[key].is_array() ? doc[key] : empty;
}

std::string field(const nlohmann::json& obj, const char* key) {
    return obj.is_object() && obj.contains(key) ? cell(obj[key]) : "-";
}

// Counters an operator looks at first: what was refused, dropped, lost or broken.
bool of_note(const std::string& name) {
    static const char* const kWords[] = {"drop", "reject", "refus", "error", "lost", "full", "malformed",
                                         "no_node", "limit", "undecided"};
    return std::any_of(std::begin(kWords), std::end(kWords),
                       [&](const char* w) { return name.find(w) != std::string::npos; });
}

}  // namespace

std::string cell(const nlohmann::json& v) {
    if (v.is_null()) return "-";
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
    if (v.is_number_float()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.3f", v.get<double>());
        return buf;
    }
    return v.dump();
}

std::string format_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
    const size_t columns = header.size();
    std::vector<size_t> width(columns);
    std::vector<bool> right(columns, true);
    for (size_t c = 0; c < columns; ++c) width[c] = header[c].size();
    for (const auto& row : rows)
        for (size_t c = 0; c < columns && c < row.size(); ++c) {
            width[c] = std::max(width[c], row[c].size());
            if (!numeric(row[c])) right[c] = false;
        }
    if (rows.empty()) std::fill(right.begin(), right.end(), false);
    auto line = [&](const std::vector<std::string>& cells) {
        std::string out;
        for (size_t c = 0; c < columns; ++c) {
            const std::string& s = c < cells.size() ? cells[c] : std::string();
            const std::string pad(width[c] - s.size(), ' ');
            if (c) out += "  ";
            out += right[c] ? pad + s : s + pad;
        }
        while (!out.empty() && out.back() == ' ') out.pop_back();
        return out + "\n";
    };
    std::string out = line(header);
    for (const auto& row : rows) out += line(row);
    return out;
}

std::string node_state(const nlohmann::json& node) {
    if (node.value("drained", false)) return "draining (operator)";
    return field(node, "state");
}

std::string render_nodes(const nlohmann::json& doc) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& n : array_of(doc, "nodes"))
        rows.push_back({field(n, "id"), field(n, "name"), field(n, "address"), node_state(n), field(n, "sessions"),
                        field(n, "load"), field(n, "estimate"), field(n, "heartbeats_lost")});
    return format_table({"ID", "NAME", "ADDRESS", "STATE", "SESSIONS", "LOAD", "ESTIMATE", "HB-LOST"}, rows);
}

std::string render_sessions(const nlohmann::json& doc) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : array_of(doc, "sessions"))
        rows.push_back({field(s, "protocol"), field(s, "key"), field(s, "state"), field(s, "node"), field(s, "flows")});
    return format_table({"PROTOCOL", "KEY", "STATE", "NODE", "FLOWS"}, rows) + std::to_string(rows.size()) +
           " session(s)\n";
}

std::string render_stats(const nlohmann::json& doc) {
    std::vector<std::vector<std::string>> rows;
    if (doc.is_object())
        for (const auto& [name, value] : doc.items()) rows.push_back({name, cell(value)});
    return format_table({"NAME", "VALUE"}, rows);
}

std::string render_status(const nlohmann::json& stats, const nlohmann::json& nodes) {
    const nlohmann::json& list = array_of(nodes, "nodes");
    size_t up = 0, drained = 0;
    for (const auto& n : list) {
        if (n.value("drained", false)) ++drained;
        else if (n.value("state", "") == "up") ++up;
    }
    std::vector<std::vector<std::string>> rows;
    if (stats.contains("vip")) rows.push_back({"vip", cell(stats["vip"])});
    std::string node_line = std::to_string(up) + "/" + std::to_string(list.size()) + " up";
    if (drained) node_line += ", " + std::to_string(drained) + " drained by the operator";
    rows.push_back({"nodes", node_line});
    rows.push_back({"sessions", field(stats, "sessions")});
    rows.push_back({"flows", field(stats, "flows")});
    rows.push_back({"admission", stats.contains("admission_m") ? "m " + field(stats, "admission_m") + ", p_new " +
                                                                     field(stats, "admission_p_new")
                                                               : std::string("disabled")});
    for (const char* name : {"pipeline_sessions_assigned_total", "sessions_completed_total", "sessions_aborted_total"})
        if (stats.contains(name)) rows.push_back({name, field(stats, name)});
    if (stats.is_object())
        for (const auto& [name, value] : stats.items())
            if (of_note(name) && value.is_number() && value != 0) rows.push_back({name, cell(value)});
    // Two columns without a header: a summary, not a table of records.
    std::string out = format_table({"", ""}, rows);
    return out.substr(out.find('\n') + 1);
}

std::string render_role(const nlohmann::json& doc) {
    std::string out = "role: " + field(doc, "role");
    if (doc.contains("detail")) out += " (" + field(doc, "detail") + ")";
    if (doc.contains("synced"))
        out += std::string(doc.value("ready", false) ? ", ready" : ", not ready") +
               (doc.value("synced", false) ? " (replica synced)" : " (no replica yet)");
    if (doc.contains("sessions")) out += ", " + field(doc, "sessions") + " sessions";
    if (doc.contains("floating_address_held"))
        out += doc.value("floating_address_held", false) ? ", holds the floating address" : ", floating address elsewhere";
    // A hook's role the address contradicted (a late notification): say so in its log.
    if (doc.contains("ignored")) out += "; ignored: " + field(doc, "ignored");
    out += "\n";
    // A mesh (sync.peers): the dispatcher set as this one sees it.
    if (doc.contains("peers") && doc["peers"].is_array()) {
        std::vector<std::vector<std::string>> rows;
        for (const nlohmann::json& p : doc["peers"]) {
            const double age = p.value("last_heard_s", -1.0);
            rows.push_back({cell(p.value("id", 0)), age < 0 ? "never" : cell(std::round(age * 1000) / 1000) + " s ago",
                            p.value("ready", false) ? "ready" : "not ready", p.value("acking", false) ? "acking" : "silent",
                            cell(p.value("unacked_updates", 0))});
        }
        out += format_table({"PEER", "HEARD", "STATE", "ACKS", "UNACKED"}, rows);
    }
    return out;
}

std::string render_announce(const nlohmann::json& doc) {
    if (!doc.value("configured", false)) return "announce: no route_announce configured\n";
    std::string out = "announce: table " + field(doc, "table") + ", route " +
                      (doc.value("announced", false) ? "announced" : "withdrawn");
    if (doc.value("withdrawn_by_operator", false)) out += " (withdrawn by the operator: saractl announce on)";
    else if (!doc.value("ready", false)) out += " (not ready)";
    return out + "\n";
}

namespace {

// Milliseconds as people read an age: "850 ms", "12.3 s", "4 min 05 s".
std::string duration(const nlohmann::json& ms) {
    if (!ms.is_number()) return "-";
    const double v = ms.get<double>();
    char buf[64];
    if (v < 1000) std::snprintf(buf, sizeof buf, "%.0f ms", v);
    else if (v < 60000) std::snprintf(buf, sizeof buf, "%.1f s", v / 1000);
    else std::snprintf(buf, sizeof buf, "%.0f min %02.0f s", std::floor(v / 60000), std::floor(std::fmod(v, 60000) / 1000));
    return buf;
}

}  // namespace

std::string render_lookup(const nlohmann::json& doc) {
    const nlohmann::json& sessions = array_of(doc, "sessions");
    if (sessions.empty()) return "no session found\n";
    std::string out;
    for (const auto& s : sessions) {
        const std::string key = field(s, "key");
        out += field(s, "protocol") + " " + (key.empty() ? "(no key)" : key) + ": " + field(s, "state") + ", node " +
               field(s, "node");
        if (s.contains("node_name") && s["node_name"].is_string() && !s["node_name"].get<std::string>().empty())
            out += " (" + field(s, "node_name") + ")";
        out += ", age " + duration(s.value("age_ms", nlohmann::json())) + ", last packet " +
               duration(s.value("idle_ms", nlohmann::json())) + " ago, kernel fast path: " +
               (s.value("fast_path", false) ? "yes" : "no") + "\n";
        if (s.contains("signalling")) out += "  signalling: " + field(s, "signalling") + "\n";
        std::vector<std::vector<std::string>> rows;
        for (const auto& f : array_of(s, "flows"))
            rows.push_back({field(f, "proto"), field(f, "client"), field(f, "server"), field(f, "identity"),
                            field(f, "status"), duration(f.value("idle_ms", nlohmann::json())), field(f, "path")});
        if (rows.empty()) {
            out += "  no flows\n";
            continue;
        }
        const std::string table = format_table({"PROTO", "CLIENT", "SERVER", "IDENTITY", "STATUS", "IDLE", "PATH"}, rows);
        for (size_t at = 0; at < table.size();) {
            const size_t nl = table.find('\n', at);
            out += "  " + table.substr(at, nl + 1 - at);
            at = nl + 1;
        }
    }
    if (doc.value("truncated", false)) out += "(more sessions match: raise --limit)\n";
    out += "STATUS new = one packet seen (none if expected), established = more (sarad keeps no packet\n"
           "counts). IDLE: since the last packet sarad saw. PATH kernel = the kernel fast path carries it (its mark is saved in\n"
           "conntrack; sarad no longer sees its packets), bpf = the BPF fast path's flow map carries it,\n"
           "queue = every packet through sarad, expected = announced, no packet yet, none = no node.\n";
    return out;
}

std::string render_drain(const nlohmann::json& doc) {
    const bool drained = doc.value("drained", false);
    std::string out = "node " + field(doc, "node") + " (" + field(doc, "name") + "): ";
    if (!doc.value("changed", true)) out += drained ? "already drained" : "was not drained";
    else out += drained ? "drained: no new sessions, established ones continue" : "undrained";
    if (!drained) out += doc.value("available", false) ? "; available" : "; not available until its health is up";
    return out + "\n";
}

nlohmann::json filter_sessions(const nlohmann::json& doc, std::optional<uint32_t> node, size_t limit) {
    nlohmann::json out = {{"sessions", nlohmann::json::array()}};
    for (const auto& s : array_of(doc, "sessions")) {
        if (out["sessions"].size() >= limit) break;
        if (node && !(s.contains("node") && s["node"].is_number() && s["node"].get<uint64_t>() == *node)) continue;
        out["sessions"].push_back(s);
    }
    return out;
}

}  // namespace sara::ctl
