#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`make demo`: SARA end to end on this machine. Builds the namespace cluster of DESIGN §11
(client, dispatcher running build/sarad, gateway, three nodes; 198.18.0.0/15 only), runs real
SIPp calls with RTP (one UDP socket for many calls, a socket per call, TCP) and RTSP streams
(ffmpeg and gst-launch, UDP and interleaved TCP) through sarad, prints what happened, and tears
everything down — also on Ctrl-C. Run as root with Debian's /usr/bin/python3."""
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import agents  # noqa: E402
import datapath  # noqa: E402
import peers  # noqa: E402
import topology  # noqa: E402

SIP_RUNS = [("u1", 60, "one UDP socket for every call"), ("un", 30, "one UDP socket per call"),
            ("t1", 20, "one TCP connection")]
RTSP_CLIENTS = [("ffmpeg", "udp"), ("ffmpeg", "udp"), ("gst", "udp"), ("ffmpeg", "tcp"), ("gst", "tcp")]


def sarad_request(cluster, request):
    path = cluster.dispatcher_config(**cluster.config_overrides)["control"]["socket"]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(request.encode() + b"\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return json.loads(data)


def node_rx_packets(cluster):
    return {n.name: int(n.ns.run("cat", "/sys/class/net/eth0/statistics/rx_packets").stdout)
            for n in cluster.nodes}


def print_failure_reasons(cluster, sip_results, rtsp_results):
    """What went wrong, from the peers' own words: SIPp's message tables and errors, the
    calls whose RTP was not echoed, the RTSP clients' last log lines."""
    print("\nwhy the demo failed:")
    for r in sip_results:
        if not r.ok:
            print("  SIPp UAC -t %s: %d of %d calls completed, %d failed, exit status %s"
                  % (r.transport, r.successful, r.calls, r.failed, r.returncode))
        short = [rep for rep in r.reports if rep["sent"] == 0 or rep["received"] < 0.9 * rep["sent"]]
        for rep in short:
            print("  call %s: RTP %d sent, %d echoed" % (rep["call_id"], rep["sent"], rep["received"]))
        if len(r.reports) < r.calls:
            print("  -t %s: %d of %d calls started their RTP" % (r.transport, len(r.reports), r.calls))
        sender_log = cluster.workdir / (r.workdir.name + "-rtp.log")
        if sender_log.exists():
            for line in sender_log.read_text(errors="replace").splitlines():
                if line.startswith("rtp_sender:") and "ready" not in line:
                    print("  -t %s: %s" % (r.transport, line))
    print("  " + datapath.sipp_diagnostics(cluster, sip_results).replace("\n", "\n  "))
    for r in rtsp_results:
        if not r.ok:
            tail = r.log.read_text(errors="replace").splitlines()[-5:] if r.log.exists() else []
            print("  RTSP %s over %s: exit status %s, %d frames; its last lines:\n    %s"
                  % (r.tool, r.transport, r.returncode, r.frames, "\n    ".join(tail)))
    errors = sorted(cluster.workdir.glob("*/errors.log"))
    for f in errors:
        lines = [l for l in f.read_text(errors="replace").splitlines() if "Aborting" in l or "Dead call" in l]
        if lines:
            print("  %s: %d aborted/dead calls, first: %s" % (f.parent.name, len(lines), lines[0][:200]))


def main():
    if os.geteuid() != 0:
        sys.exit("demo: run as root (network namespaces)")
    topology.cleanup_stale()
    started = time.monotonic()
    with topology.Cluster(dispatcher="none") as c:
        # sarad with the node agents' channel (HMAC key), SA2C and the shell scheduler; a
        # sara-nodeagent on every node sends heartbeats and load vectors.
        key = agents.write_key(c)
        c.config_overrides = agents.health_overrides(c, key)
        c.config_overrides["scheduler"] = {"algorithm": "shell"}
        c.start_sarad(**c.config_overrides)
        print("cluster up in %.1f s: client 198.18.1.2 -> sarad on 198.18.1.1 -> nodes %s; VIP %s"
              % (c.setup_seconds, ", ".join(n.address for n in c.nodes), topology.VIP))
        # The UAS answers a retransmitted BYE for 4 s (datapath.uas_scenario), not 600 ms: on
        # a starved host SIPp itself stalls for seconds (its watchdog said 3.9 s with one core
        # busy and a compiler on the other) and retransmits a BYE whose 200 it did not read.
        sip_servers = datapath.start_sip_servers(c)
        agents.start_agents(c, key)
        if not agents.wait_states(c, {n.id: "up" for n in c.nodes}, 5):
            print("node agents: not every node came up: %s" % agents.node_states(c))
        print("node agents up: heartbeats every %d ms, load vectors every %d ms, HMAC-SHA256"
              % (agents.HEARTBEAT_S * 1000, agents.LOAD_S * 1000))
        rtsp_servers = peers.start_rtsp_servers(c)
        rx_before = node_rx_packets(c)
        t0 = time.monotonic()
        rtsp = [peers.start_rtsp_client(c, tool, transport, index=k, duration=8)
                for k, (tool, transport) in enumerate(RTSP_CLIENTS)]
        sip_results = []
        for transport, calls, what in SIP_RUNS:
            r = peers.run_sip_uac(c, calls=calls, rate=20, transport=transport, media_packets=50)
            sip_results.append((transport, what, r))
        rtsp_results = [client.result(30) for client in rtsp]
        elapsed = time.monotonic() - t0
        time.sleep(1.5)  # sarad's once-a-second recount
        stats = sarad_request(c, "stats")
        nodes = sarad_request(c, "nodes")["nodes"]
        by_node = {}
        for sess in sarad_request(c, "sessions 100000")["sessions"]:
            by_node.setdefault(sess["node"], {}).setdefault(sess["protocol"], 0)
            by_node[sess["node"]][sess["protocol"]] += 1
        rx_after = node_rx_packets(c)
        for s in sip_servers:
            s.proc.stop(signal.SIGTERM, grace=2)   # their counters are not needed here
        for s in rtsp_servers:
            s.stop()

        print("\nSIP calls through sarad (SIPp, 20 calls/s, 1 s of RTP each):")
        for transport, what, r in sip_results:
            print("  %-3s %-30s %3d calls: %3d completed, %d failed, RTP echoed: %s"
                  % (transport, what, r.calls, r.successful, r.failed, "yes" if r.rtp_ok else "NO"))
        print("\nRTSP streams through sarad (%d concurrent clients):" % len(rtsp_results))
        for r in rtsp_results:
            print("  %-7s over %-4s decoded %4s frames  %s" % (r.tool, r.transport, r.frames,
                                                          "ok" if r.ok else "FAILED"))
        print("\nsessions per node (sarad's shell scheduler; %d sessions assigned):"
              % stats["pipeline_sessions_assigned_total"])
        for n in nodes:
            counts = by_node.get(n["id"], {})
            print("  %-6s %-12s %-4s load %.3f  %s" % (n["name"], n["address"], n["state"], n["load"] or 0,
                  ", ".join("%s %d" % kv for kv in sorted(counts.items())) or "none"))
        print("admission control (SA2C): m %.3f (cluster %.3f, head %.3f), new sessions refused %d"
              % (stats["admission_m"], stats["admission_cluster_load"], stats["admission_head_load"],
                 stats["pipeline_admission_rejected_total"]))
        completed = stats["sessions_completed_total"]
        print("\ncompleted sessions: %d in %.1f s = %.1f completed sessions/s (aborted %d)"
              % (completed, elapsed, completed / elapsed, stats["sessions_aborted_total"]))
        delivered = sum(rx_after[k] - rx_before[k] for k in rx_after)
        queued = stats["queue_packets_total"]
        print("packets: %d reached the nodes; %d went through sarad's queue (%d signalling, %d first "
              "packets of data flows); %d stayed in the kernel (conntrack-mark fast path)"
              % (delivered, queued, stats["pipeline_signalling_verdicts_total"],
                 stats["pipeline_data_verdicts_total"], max(0, delivered - queued)))
        ok = all(r.ok and r.rtp_ok for _, _, r in sip_results) and all(r.ok for r in rtsp_results)
        if not ok:
            print_failure_reasons(c, [r for _, _, r in sip_results], rtsp_results)
    print("\ndemo %s in %.0f s; namespaces torn down." % ("passed" if ok else "FAILED",
                                                         time.monotonic() - started))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
