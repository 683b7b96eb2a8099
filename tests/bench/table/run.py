#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The dispatcher with a full session table (issue 16): does the queue path stall while the
table expires, is saved and reloaded? Run as root (make bench-table, about 4 minutes):

    /usr/bin/python3 tests/bench/table/run.py [--sessions 1000000] [--seconds 60] [--rate 20000]

Two runs in the same script, in namespaces of our own (tests/integration/topology.py,
198.18.0.0/15 only): a baseline with an empty table, then sarad started from a state file
holding --sessions SIP sessions (each with its RTP and RTCP flow, on the cluster's nodes).
During each run, SIP datagrams with one Call-ID (every one queued, one session) go to the VIP
at --rate packets/s for --seconds; sarad saves its table every 5 s (control.save_interval),
is sent SIGHUP (a reload) at a third of the run, and the loaded sessions, idle since the
start, expire at about half the run (sip flow_timeout = seconds/4: purged after twice that).
sarad is also an HA master (`sync:`, made master with `saractl role master`) streaming its
table to a peer address on the LAN where a sink discards the datagrams: the journal's updates
every 50 ms and full snapshots in paced slices (sync.snapshot_rate, 100,000 records/s: one
snapshot of a million sessions with two flows each takes 30 s, then the next 2 s after it).
No backup applies them (its one-go apply is a known limit, docs/architecture.md).
Measured: the one-way latency of those datagrams at the node (udp_blast recv: percentiles
and maximum), sarad's own lock counters (the longest wait of a queued packet for the
dispatcher's lock, waits over 1 ms, the longest hold by its periodic work), the snapshot
datagrams sent, and sarad's peak RSS (VmHWM).

Prints a table and, per figure, the full run against the baseline; JSON in
$BUILD/bench/table.json. Every process is bounded by `timeout`; namespaces are removed at the
end, also on failure.
"""
import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import datapath  # noqa: E402
from state_files import write_state_file  # noqa: E402
import topology  # noqa: E402

BUILD = topology.ROOT / os.environ.get("SARA_BUILD", "build")
UDP_BLAST = BUILD / "tools" / "udp_blast"


# The HA peer's stand-in: binds <address>:7401 and discards what comes, for <seconds> at most.
SYNC_SINK = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.bind((sys.argv[1], 7401))
s.settimeout(1)
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    try:
        s.recv(2048)
    except socket.timeout:
        pass
"""


def peak_rss_kib(pid: int) -> int:
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run(label: str, sessions: int, a, workdir: Path) -> dict:
    with topology.Cluster("none", nodes=2, workdir=workdir / label) as c:
        state = c.workdir / "sessions.snapshot"
        t0 = time.monotonic()
        if sessions:
            write_state_file(state, sessions, 2)
        written = time.monotonic() - t0
        timeout = max(2, int(a.seconds / 4))
        sink_addr = c.nodes[1].address
        c.spawn(c.nodes[1].ns, ["/usr/bin/python3", "-c", SYNC_SINK, sink_addr, str(a.seconds + 150)],
                       name="sync-sink", timeout=a.seconds + 170)
        sync = {"listen": "%s:7401" % topology.DISPATCHER_LAN_ADDRS[0], "peer": "%s:7401" % sink_addr,
                "id": 1, "peer_id": 2, "role_file": str(c.workdir / "vrrp.state")}
        config = dict(control={"state_file": str(state), "save_interval": "5s"},
                      sync=sync if a.sync else None,
                      services=[{"name": "sip", "protocol": "sip", "transport": ["udp", "tcp"], "port": 5060,
                                 "flow_timeout": "%ds" % timeout}],
                      limits={"max_sessions": max(sessions + 1000, 1000000)})
        t0 = time.monotonic()
        c.start_sarad(ready_timeout=120, lifetime=a.seconds + 180, **config)
        started = time.monotonic() - t0
        pid = c.sarad.command_pid()
        loaded = datapath.sarad_stats(c, timeout=30)
        role = datapath.sarad_request(c, "role master", timeout=30) if a.sync else {}
        node = c.nodes[0]
        recv = c.spawn(node.ns, [str(UDP_BLAST), "recv", "--bind",
                                 "%s:5060" % topology.VIP, "--duration", str(a.seconds + 10), "--idle", "3"],
                       name="recv", timeout=a.seconds + 20)
        send = c.spawn(c.client, [str(UDP_BLAST), "send", "--src", c.client_addr,
                                  "--dst", topology.VIP, "--sport", "40000", "--dport", "5060",
                                  "--count", str(int(a.rate * a.seconds)), "--duration", str(a.seconds),
                                  "--rate", str(a.rate), "--call-id", "bench-table-probe"],
                       name="send", timeout=a.seconds + 20)
        time.sleep(a.seconds / 3)
        c.sarad.signal_command(signal.SIGHUP)  # not via `timeout`: it would stop sarad
        send.wait(a.seconds + 30)
        recv.wait(30)
        if not c.sarad.running():
            raise RuntimeError("sarad exited with %s:\n%s" % (c.sarad.returncode, c.sarad.output()[-3000:]))
        after = datapath.sarad_stats(c, timeout=30)
        result = {
            "label": label, "sessions_loaded": sessions, "state_file_written_s": round(written, 1),
            "sarad_start_s": round(started, 1),
            "sessions_at_start": loaded.get("sessions"), "sessions_at_end": after.get("sessions"),
            "latency": json.loads(recv.output().strip().splitlines()[-1]),
            "sent": json.loads(send.output().strip().splitlines()[-1]),
            "queue_lock_wait_max_us": after.get("queue_lock_wait_max_us"),
            "queue_lock_waits_over_1ms_total": after.get("queue_lock_waits_over_1ms_total"),
            "queue_lock_waits_over_100us_total": after.get("queue_lock_waits_over_100us_total"),
            "main_lock_hold_max_us": after.get("main_lock_hold_max_us"),
            "lock_hold_max_us": after.get("lock_hold_max_us"),
            "lock_hold_longest": after.get("lock_hold_longest"),
            "lock_holds_over_1ms": after.get("lock_holds_over_1ms"),
            "sessions_aborted_total": after.get("sessions_aborted_total"),
            "role": role.get("role"),
            "sync_snapshots_sent_total": after.get("sync_snapshots_sent_total"),
            "sync_snapshot_chunks_sent_total": after.get("sync_snapshot_chunks_sent_total"),
            "sync_updates_sent_total": after.get("sync_updates_sent_total"),
            "peak_rss_mib": round(peak_rss_kib(pid) / 1024, 1),
            "reloaded": "reload: applied" in c.sarad.output(),
        }
        return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=1000000)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--rate", type=int, default=20000)
    p.add_argument("--out", default=str(BUILD / "bench" / "table.json"))
    p.add_argument("--no-sync", dest="sync", action="store_false", help="sarad without HA sync (single dispatcher)")
    a = p.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="sara-bench-table-"))
    results = [run("empty", 0, a, workdir), run("full", a.sessions, a, workdir)]
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(results, indent=1) + "\n")
    rows = [("sessions loaded", "sessions_loaded"), ("sessions at the end", "sessions_at_end"),
            ("sessions aborted (expired)", "sessions_aborted_total"),
            ("HA snapshots sent (complete)", "sync_snapshots_sent_total"),
            ("HA snapshot datagrams sent", "sync_snapshot_chunks_sent_total"),
            ("queue lock wait max (us)", "queue_lock_wait_max_us"),
            ("queue lock waits > 100 us", "queue_lock_waits_over_100us_total"),
            ("queue lock waits > 1 ms", "queue_lock_waits_over_1ms_total"),
            ("periodic work lock hold max (us)", "main_lock_hold_max_us"),
            ("peak RSS (MiB)", "peak_rss_mib")]
    print("%-36s %14s %14s" % ("", "empty table", "full table"))
    for title, k in rows:
        print("%-36s %14s %14s" % (title, results[0].get(k), results[1].get(k)))
    for task in sorted((results[1].get("lock_hold_max_us") or {}).keys()):
        print("%-36s %14s %14s" % ("  of which %s (us)" % task, (results[0].get("lock_hold_max_us") or {}).get(task),
                                   results[1]["lock_hold_max_us"][task]))
    # Where each task's longest hold went: its thread's CPU time, minor faults and preemptions
    # in that hold, the times it was preempted and the times it waited itself (a long hold with
    # little CPU was the holder off the CPU, not working).
    print("%-36s %14s %14s" % ("longest hold: us/cpu us/faults/preempted/waited", "empty table", "full table"))
    for task in sorted((results[1].get("lock_hold_longest") or {}).keys()):
        def cell(r):
            c = (r.get("lock_hold_longest") or {}).get(task) or {}
            return "%s/%s/%s/%s/%s" % (c.get("us"), c.get("cpu_us"), c.get("minor_faults"), c.get("preemptions"),
                                       c.get("waits"))
        print("%-36s %14s %14s" % ("  %s" % task, cell(results[0]), cell(results[1])))
    for task in sorted((results[1].get("lock_holds_over_1ms") or {}).keys()):
        print("%-36s %14s %14s" % ("  holds > 1 ms by %s" % task, (results[0].get("lock_holds_over_1ms") or {}).get(task),
                                   results[1]["lock_holds_over_1ms"][task]))
    for pct in ("p50_us", "p99_us", "p999_us", "max_us"):
        print("%-36s %14s %14s" % ("latency " + pct, results[0]["latency"].get(pct), results[1]["latency"].get(pct)))
    print("%-36s %14s %14s" % ("datagrams received", results[0]["latency"].get("received"),
                               results[1]["latency"].get("received")))
    full, empty = results[1], results[0]
    stall = full.get("queue_lock_wait_max_us") or 0
    print("longest queue stall with %d sessions (expiry, saves, a reload): %d us (goal <= 1000 us: %s)"
          % (a.sessions, stall, "met" if stall <= 1000 else "NOT met"))
    if empty["latency"].get("p99_us") and full["latency"].get("p99_us"):
        print("latency p99 full/empty: %.2f" % (full["latency"]["p99_us"] / empty["latency"]["p99_us"]))
    print("peak RSS %.0f MiB with %d sessions (goal <= 256 MiB: %s)"
          % (full["peak_rss_mib"], a.sessions, "met" if full["peak_rss_mib"] <= 256 else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
