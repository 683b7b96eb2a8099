// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon/identify/state_file.hpp"

#include <cstdio>
#include <filesystem>

namespace sara {

std::optional<SnapshotLoad> load_state(SessionTable& table, const std::string& path, bool remove_after,
                                       const Logger& log) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    const SnapshotLoad load = read_snapshot(in, table);
    log.notice("state: reloaded " + std::to_string(load.sessions) + " sessions, " + std::to_string(load.flows) +
               " flows from " + path);
    if (!load.error.empty()) log.warning("state: " + path + ": " + load.error + "; the rest was ignored");
    if (remove_after) std::remove(path.c_str());
    return load;
}

std::string state_tmp_path(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    return path + ".tmp";
}

bool commit_state(const std::string& path, std::ofstream& out, const Logger& log) {
    const std::string tmp = path + ".tmp";
    if (!out.flush()) {
        log.error("state: cannot write " + tmp + "; sessions will not survive a restart");
        return false;
    }
    out.close();
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        log.error("state: cannot rename " + tmp + " to " + path);
        return false;
    }
    return true;
}

bool save_state(SessionTable& table, const std::string& path, const Logger& log) {
    std::ofstream out(state_tmp_path(path), std::ios::trunc);
    write_snapshot(table, out);
    if (!commit_state(path, out, log)) return false;
    log.notice("state: saved " + std::to_string(table.session_count()) + " sessions to " + path);
    return true;
}

}  // namespace sara
