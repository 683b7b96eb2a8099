// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/identify/table_snapshot.hpp"

#include <charconv>
#include <istream>
#include <optional>
#include <iterator>
#include <ostream>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "common/util/chunked_vector.hpp"
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

// Version 3, applied line by line as it is read: memory beyond the table is one line and
// the tags seen, not the file.
SnapshotLoad read_version3(std::istream& in, SessionTable& table) {
    SnapshotLoader loader(table);
    std::string text;
    for (size_t line_number = 2; std::getline(in, text); ++line_number)
        if (!loader.add_line(text, line_number)) break;
    return loader.result();
}

}  // namespace

// The sessions read so far, by tag. SnapshotWriter writes one session per slot, so an array
// indexed by slot holds them in 12 bytes a session: a hash map of tags took 34 MiB at 1M
// sessions (51 MiB while it grew), the peak RSS of a start with a full table (issue 16's
// 256 MiB goal). Slots beyond the table's bound, and a second session in one slot (another
// writer, a hand-edited file), go to a hash map.
class SessionsByTag {
public:
    explicit SessionsByTag(size_t dense_slots) : dense_slots_(dense_slots) {}
    // The session of `tag` (kNoSession when the table refused it), or nullptr if not read.
    const SessionId* find(uint64_t tag) const {
        const uint64_t slot = tag >> 32;
        if (slot < dense_.size() && dense_[slot].present && dense_[slot].created_ms == uint32_t(tag))
            return &dense_[slot].id;
        const auto it = sparse_.find(tag);
        return it == sparse_.end() ? nullptr : &it->second;
    }
    void add(uint64_t tag, SessionId id) {
        const uint64_t slot = tag >> 32;
        if (slot < dense_slots_) {
            while (dense_.size() <= slot) dense_.emplace_back();
            Entry& e = dense_[slot];
            if (!e.present) {
                e = Entry{uint32_t(tag), id, true};
                return;
            }
        }
        sparse_.emplace(tag, id);
    }

private:
    struct Entry {
        uint32_t created_ms = 0;
        SessionId id = kNoSession;
        bool present = false;
    };
    size_t dense_slots_;
    ChunkedVector<Entry, 14> dense_;  // chunks of 192 KiB: mmapped, so given back after the load
    absl::flat_hash_map<uint64_t, SessionId> sparse_;
};

SnapshotLoader::SnapshotLoader(SessionTable& table)
    : table_(table), by_tag_(std::make_unique<SessionsByTag>(table.limits().max_sessions)) {}

SnapshotLoader::~SnapshotLoader() = default;

bool SnapshotLoader::add_line(std::string_view line, size_t line_number) {
    if (!result_.error.empty()) return false;
    if (line.ends_with('\r')) line.remove_suffix(1);
    auto fail = [&](const std::string& why) {
        result_.error = "line " + std::to_string(line_number) + ": " + why;
        return false;
    };
    const bool session = line.starts_with("s "), flow = line.starts_with("f ");
    const size_t tag_end = line.find(' ', 2);
    const std::optional<uint64_t> tag =
        tag_end == std::string_view::npos ? std::nullopt : parse_tag(line.substr(2, tag_end - 2));
    if ((!session && !flow) || !tag) return fail("malformed record");
    const std::string_view fields = line.substr(tag_end + 1);
    if (session) {
        const auto record = parse_session_record(fields);
        if (!record) return fail("malformed record");
        if (by_tag_->find(*tag) || keyless_.contains(*tag))
            return fail("a second session with the tag " + std::string(line.substr(2, tag_end - 2)));
        if (record->key.empty()) {
            keyless_.emplace(*tag, *record);  // created by its first flow: nothing else names it
            return true;
        }
        const SessionId id = apply_session_record(*record, table_);
        by_tag_->add(*tag, id);  // kNoSession (the table refused it): its flows are skipped
        result_.sessions += id != kNoSession;
        return true;
    }
    const auto record = parse_flow_record(fields);
    if (!record) return fail("malformed record");
    if (const auto pending = keyless_.find(*tag); pending != keyless_.end()) {
        const SessionId id = apply_session_record(pending->second, table_);
        by_tag_->add(*tag, id);
        result_.sessions += id != kNoSession;
        keyless_.erase(pending);
    }
    const SessionId* id = by_tag_->find(*tag);
    if (!id) {
        ++result_.orphan_flows;
    } else if (*id != kNoSession) {
        result_.flows += apply_flow_record(*record, *id, table_);
    }
    return true;
}

bool SnapshotLoader::add_lines(std::string_view text, size_t first_line) {
    for (size_t n = first_line; !text.empty(); ++n) {
        const size_t end = text.find('\n');
        if (!add_line(text.substr(0, end), n)) return false;
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    }
    return true;
}

SnapshotWriter::SnapshotWriter(std::ostream& out, bool header) : out_(out) {
    if (header) out_ << kMagic3 << '\n';
}

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
