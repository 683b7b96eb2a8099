// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/identify/table_snapshot.hpp"

#include <istream>
#include <iterator>
#include <ostream>

#include "daemon/identify/table_records.hpp"

namespace sara {
namespace {

constexpr const char* kMagic = "sara-snapshot 2";

}  // namespace

void write_snapshot(const SessionTable& table, std::ostream& out) {
    out << kMagic << "\n";
    for (const std::string& block : session_blocks(table)) out << block;
}

SnapshotLoad read_snapshot(std::istream& in, SessionTable& table) {
    SnapshotLoad result;
    std::string line;
    if (!std::getline(in, line) || line != kMagic) {
        result.error = "not a sarad snapshot (version 2)";
        return result;
    }
    const std::string text(std::istreambuf_iterator<char>(in), {});
    const RecordsApplied applied = apply_records(text, table, 2);
    result.sessions = applied.sessions;
    result.flows = applied.flows;
    result.error = applied.error;
    return result;
}

}  // namespace sara
