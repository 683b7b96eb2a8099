// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/identify/table_snapshot.hpp"

#include <charconv>
#include <istream>
#include <optional>
#include <iterator>
#include <ostream>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "daemon/identify/table_records.hpp"

namespace sara {
namespace {

constexpr std::string_view kMagic2 = "sara-snapshot 2";
constexpr std::string_view kMagic3 = "sara-snapshot 3";

std::string tag(SessionId slot, uint32_t created_ms) {
    return std::to_string(slot) + ':' + std::to_string(created_ms);
}

// "<slot>:<created_ms>" as one number; nullopt when it is not two decimal u32s.
std::optional<uint64_t> parse_tag(std::string_view tag) {
    const size_t colon = tag.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    uint32_t slot = 0, created = 0;
    const auto [p1, e1] = std::from_chars(tag.data(), tag.data() + colon, slot);
    const auto [p2, e2] = std::from_chars(tag.data() + colon + 1, tag.data() + tag.size(), created);
    if (e1 != std::errc() || p1 != tag.data() + colon || e2 != std::errc() || p2 != tag.data() + tag.size())
        return std::nullopt;
    return (uint64_t(slot) << 32) | created;
}

// Version 3, applied line by line as it is read: a session line upserts its session (a
// keyless one waits for its first flow, as in version 2 nothing else could find it), a flow
// line joins the session its tag named. Memory beyond the
// table is one line and the tags seen (16 bytes a session), not the file.
SnapshotLoad read_version3(std::istream& in, SessionTable& table) {
    SnapshotLoad result;
    absl::flat_hash_map<uint64_t, SessionId> by_tag;
    absl::flat_hash_map<uint64_t, SessionRecord> keyless;  // not created until a flow names it
    std::string text;
    for (size_t line_number = 2; std::getline(in, text); ++line_number) {
        std::string_view line = text;
        if (line.ends_with('\r')) line.remove_suffix(1);
        auto fail = [&](const std::string& why) { result.error = "line " + std::to_string(line_number) + ": " + why; };
        const bool session = line.starts_with("s "), flow = line.starts_with("f ");
        const size_t tag_end = line.find(' ', 2);
        const std::optional<uint64_t> tag =
            tag_end == std::string_view::npos ? std::nullopt : parse_tag(line.substr(2, tag_end - 2));
        if ((!session && !flow) || !tag) {
            fail("malformed record");
            break;
        }
        const std::string_view fields = line.substr(tag_end + 1);
        if (session) {
            const auto record = parse_session_record(fields);
            if (!record) {
                fail("malformed record");
                break;
            }
            if (by_tag.contains(*tag) || keyless.contains(*tag)) {
                fail("a second session with the tag " + std::string(line.substr(2, tag_end - 2)));
                break;
            }
            if (record->key.empty()) {
                keyless.emplace(*tag, *record);  // created by its first flow: nothing else names it
                continue;
            }
            const SessionId id = apply_session_record(*record, table);
            by_tag.emplace(*tag, id);  // kNoSession (the table refused it): its flows are skipped
            result.sessions += id != kNoSession;
            continue;
        }
        const auto record = parse_flow_record(fields);
        if (!record) {
            fail("malformed record");
            break;
        }
        if (const auto pending = keyless.find(*tag); pending != keyless.end()) {
            const SessionId id = apply_session_record(pending->second, table);
            by_tag.emplace(*tag, id);
            result.sessions += id != kNoSession;
            keyless.erase(pending);
        }
        const auto it = by_tag.find(*tag);
        if (it == by_tag.end()) {
            ++result.orphan_flows;
        } else if (it->second != kNoSession) {
            result.flows += apply_flow_record(*record, it->second, table);
        }
    }
    return result;
}

}  // namespace

SnapshotWriter::SnapshotWriter(std::ostream& out) : out_(out) { out_ << kMagic3 << '\n'; }

bool SnapshotWriter::step(SessionTable& table, size_t budget) {
    if (!in_flows_) {
        for (; next_slot_ < table.session_slots() && budget > 0; ++next_slot_, --budget)
            if (const Session& s = table.session(next_slot_); s.in_use) sessions_.push_back({next_slot_, s});
        if (next_slot_ < table.session_slots()) return false;
        in_flows_ = true;
    }
    return table.visit_flows(cursor_, budget, [&](const FlowKey& k, const FlowEntry& e) {
        flows_.push_back({k, e, table.session(e.session).created_ms});
    });
}

void SnapshotWriter::flush() {
    for (const SessionCopy& c : sessions_)
        out_ << "s " << tag(c.id, c.session.created_ms) << session_line(c.session).substr(1);
    for (const FlowCopy& c : flows_)
        out_ << "f " << tag(c.entry.session, c.session_created_ms) << flow_line(c.key, c.entry).substr(1);
    sessions_written_ += sessions_.size();
    sessions_.clear();
    flows_.clear();
}

void write_snapshot(SessionTable& table, std::ostream& out) {
    SnapshotWriter writer(out);
    while (!writer.step(table, SIZE_MAX)) {
    }
    writer.flush();
}

SnapshotLoad read_snapshot(std::istream& in, SessionTable& table) {
    SnapshotLoad result;
    std::string line;
    if (!std::getline(in, line) || (line != kMagic2 && line != kMagic3)) {
        result.error = "not a sarad snapshot (version 2 or 3)";
        return result;
    }
    if (line == kMagic3) return read_version3(in, table);
    const std::string text(std::istreambuf_iterator<char>(in), {});
    const RecordsApplied applied = apply_records(text, table, 2);
    result.sessions = applied.sessions;
    result.flows = applied.flows;
    result.error = applied.error;
    return result;
}

}  // namespace sara
