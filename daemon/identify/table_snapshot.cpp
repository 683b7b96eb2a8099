// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/identify/table_snapshot.hpp"

#include <istream>
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

// Version 3: the session and flow lines regrouped as version-2 blocks (S then its F lines),
// applied with the sync's own record code.
SnapshotLoad read_version3(std::string_view text, SessionTable& table) {
    SnapshotLoad result;
    struct Block {
        std::string text;
        size_t line = 0;
    };
    std::vector<Block> blocks;
    absl::flat_hash_map<std::string, size_t> by_tag;
    size_t line_number = 1;
    while (!text.empty()) {
        const size_t end = std::min(text.find('\n'), text.size());
        std::string_view line = text.substr(0, end);
        if (line.ends_with('\r')) line.remove_suffix(1);
        text.remove_prefix(std::min(end + 1, text.size()));
        ++line_number;
        const bool session = line.starts_with("s "), flow = line.starts_with("f ");
        const size_t tag_end = line.find(' ', 2);
        if ((!session && !flow) || tag_end == std::string_view::npos || tag_end == 2) {
            result.error = "line " + std::to_string(line_number) + ": malformed record";
            break;
        }
        const std::string key(line.substr(2, tag_end - 2));
        const std::string record = std::string(session ? "S" : "F") + std::string(line.substr(tag_end)) + "\n";
        if (session) {
            if (!by_tag.emplace(key, blocks.size()).second) {
                result.error = "line " + std::to_string(line_number) + ": a second session tagged " + key;
                break;
            }
            blocks.push_back({record, line_number});
        } else if (const auto it = by_tag.find(key); it != by_tag.end()) {
            blocks[it->second].text += record;
        } else {
            ++result.orphan_flows;
        }
    }
    for (const Block& b : blocks) {
        const RecordsApplied applied = apply_records(b.text, table, b.line);
        result.sessions += applied.sessions;
        result.flows += applied.flows;
        if (!applied.error.empty()) {
            result.error = applied.error;  // the block's S line number: its own or one of its flows'
            break;
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
    const std::string text(std::istreambuf_iterator<char>(in), {});
    if (line == kMagic3) return read_version3(text, table);
    const RecordsApplied applied = apply_records(text, table, 2);
    result.sessions = applied.sessions;
    result.flows = applied.flows;
    result.error = applied.error;
    return result;
}

}  // namespace sara
