// SPDX-License-Identifier: GPL-2.0-or-later
// The `auth:` section the three daemons share (dispatcher, node agent, gateway): the cluster
// key file that signs heartbeats, load vectors, announcements and sync messages. Kept apart
// from the YAML reader so code that only needs the struct does not pull yaml-cpp in.
#pragma once

#include <string>

namespace sara {

// `auth: none` (lab use only) sets enabled = false.
struct AuthConfig {
    bool enabled = true;
    std::string key_file = "/etc/sara/cluster.key";
    // Where key_file is written in the config (1-based; 0 = not in the file, the default), so
    // `--check-config` reports a key it cannot read at file:line:col.
    int key_file_line = 0;
    int key_file_column = 0;
    // The same key: a reload compares these, and a moved line changes nothing.
    friend bool operator==(const AuthConfig& a, const AuthConfig& b) {
        return a.enabled == b.enabled && a.key_file == b.key_file;
    }
};

}  // namespace sara
