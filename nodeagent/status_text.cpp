// SPDX-License-Identifier: GPL-2.0-or-later
#include "nodeagent/status_text.hpp"

#include <cstdio>

namespace sara::nodeagent {
namespace {

std::string text_of(const nlohmann::json& j, const char* key) {
    if (!j.is_object() || !j.contains(key)) return "-";
    const nlohmann::json& v = j[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_float()) {
        char buffer[32];
        std::snprintf(buffer, sizeof(buffer), "%.3f", v.get<double>());
        return buffer;
    }
    if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
    return v.dump();
}

const nlohmann::json& member(const nlohmann::json& j, const char* key) {
    static const nlohmann::json empty = nlohmann::json::object();
    return j.is_object() && j.contains(key) && j[key].is_object() ? j[key] : empty;
}

}  // namespace

const char* heartbeat_flag_name(unsigned flag) {
    switch (flag) {
    case 0: return "available";
    case 1: return "app-down";
    case 2: return "drain";
    case 3: return "undrain";
    }
    return "?";
}

std::string format_status_text(const nlohmann::json& status) {
    std::string out;
    std::string dispatchers;
    if (status.is_object() && status.contains("dispatchers") && status["dispatchers"].is_array())
        for (const nlohmann::json& d : status["dispatchers"])
            dispatchers += (dispatchers.empty() ? "" : ", ") + (d.is_string() ? d.get<std::string>() : d.dump());
    out += "node " + text_of(status, "node_id") + " -> " + (dispatchers.empty() ? "-" : dispatchers) + " (auth " +
           text_of(status, "auth") + ")\n";

    const nlohmann::json& hb = member(status, "heartbeat");
    std::string flag = text_of(hb, "flag");
    if (hb.contains("flag") && hb["flag"].is_number_unsigned())
        flag += " " + std::string(heartbeat_flag_name(hb["flag"].get<unsigned>()));
    out += "heartbeat    every " + text_of(hb, "interval_ms") + "ms, last: seq " + text_of(hb, "seq") + ", flag " +
           flag + ", timestamp " + text_of(hb, "timestamp") + ", " + text_of(hb, "bytes") + " bytes\n";

    const nlohmann::json& load = member(status, "load");
    out += "load         every " + text_of(load, "interval_ms") + "ms, last: seq " + text_of(load, "seq") + ", cpu " +
           text_of(load, "cpu") + ", memory " + text_of(load, "memory") + ", net " + text_of(load, "net") + ", io " +
           text_of(load, "io") + ", backlog " + text_of(load, "backlog") + ", " + text_of(load, "bytes") + " bytes\n";

    const nlohmann::json& app = member(status, "application");
    out += "application  " + text_of(app, "check") + ": " +
           (app.contains("up") && app["up"].is_boolean() ? (app["up"].get<bool>() ? "up" : "down") : "-");
    if (app.contains("problem") && app["problem"].is_string() && !app["problem"].get<std::string>().empty() &&
        !(app.contains("up") && app["up"] == true))
        out += " (" + app["problem"].get<std::string>() + ")";
    out += "\n";

    const nlohmann::json& drain = member(status, "drain");
    out += "drain        " + text_of(drain, "state");
    if (drain.contains("at") && drain["at"].is_number() && text_of(drain, "state") == "draining")
        out += ", planned failure at " + text_of(drain, "at");
    out += "\n";

    const nlohmann::json& counters = member(status, "counters");
    out += "sent         " + text_of(counters, "heartbeats_sent_total") + " heartbeats, " +
           text_of(counters, "load_vectors_sent_total") + " load vectors, " +
           text_of(counters, "send_errors_total") + " send errors\n";
    return out;
}

}  // namespace sara::nodeagent
