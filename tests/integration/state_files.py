# SPDX-License-Identifier: GPL-2.0-or-later
"""sarad state files written by tests: a table of many sessions loaded at start (`make
bench-table`, the HA snapshot tests)."""
from pathlib import Path

import topology


def write_state_file(path: Path, sessions: int, nodes: int, *, tag: str = "bench") -> None:
    """A version-3 state file (daemon/identify/table_snapshot.hpp): SIP sessions (service 1),
    active, spread over the nodes, each with an RTP and an RTCP flow from its own client
    address and port to the VIP."""
    with open(path, "w") as f:
        f.write("sara-snapshot 3\n")
        lines = []
        for i in range(sessions):
            lines.append("s %d:1 0 0 %d 1 1 %s-%d@198.19.0.1\n" % (i, 1 + i % nodes, tag, i))
            if len(lines) >= 100000:
                f.writelines(lines)
                lines.clear()
        for i in range(sessions):
            client = "198.19.%d.%d" % ((i >> 8) & 0xff, i & 0xff)
            port = 10000 + 2 * (i >> 16)
            lines.append("f %d:1 17 %s %d %s 6000 2 1\n" % (i, client, port, topology.VIP))
            lines.append("f %d:1 17 %s %d %s 6001 2 1\n" % (i, client, port + 1, topology.VIP))
            if len(lines) >= 100000:
                f.writelines(lines)
                lines.clear()
        f.writelines(lines)
