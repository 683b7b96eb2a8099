# SPDX-License-Identifier: GPL-2.0-or-later
"""Broken and hostile input to the VIP while calls run: sarad survives, counts, and the calls
complete. The packets come from peers/bad_input.py (scapy, client namespace).

Run as root:
    SARA_STRICT=1 /usr/bin/python3 -m pytest -q tests/integration/test_datapath_bad_input.py
"""
import json
import time

import pytest

import datapath
from datapath import tolerant_sip_servers  # noqa: F401 (a fixture, used by name)
import peers
import topology

pytestmark = datapath.SARAD_MARKS

BAD_INPUT = peers.PEERS_DIR / "bad_input.py"
BAD_COUNTERS = ("pipeline_decode_errors_total", "pipeline_no_ports_dropped_total",
                "pipeline_malformed_dropped_total", "sip_malformed_total",
                "sip_without_call_id_total", "rtsp_malformed_total", "stream_overflow_total",
                "pipeline_refused_dropped_total", "signalling_truncated_total")

# category -> the bad counters it must move, by how much ("sent": by the frames sent; (lo, hi):
# a range). Every other bad counter must stay put during the category.
EXPECTED = {
    # IP header errors: the kernel's ip_rcv drops them before netfilter (nothing to count)
    "ip-truncated-header": {}, "ip-bad-ihl": {}, "ip-total-length-too-big": {},
    "ip-bad-checksum": {},
    # transport header errors reach sarad's decoder and are dropped there
    "udp-truncated-header": {"pipeline_decode_errors_total": "sent"},
    "udp-length-too-big": {"pipeline_decode_errors_total": "sent"},
    "udp-length-too-small": {"pipeline_decode_errors_total": "sent"},
    "tcp-truncated-header": {"pipeline_decode_errors_total": "sent"},
    "tcp-data-offset-too-big": {"pipeline_decode_errors_total": "sent"},
    "tcp-data-offset-too-small": {"pipeline_decode_errors_total": "sent"},
    "icmp-and-gre": {"pipeline_no_ports_dropped_total": "sent"},
    # fragments: conntrack's defrag reassembles complete sets (sarad sees one datagram) and
    # holds or drops the rest (incomplete, overlapping): sarad never sees a fragment
    "fragments-complete-sip": {}, "fragments-first-only": {}, "fragments-later-only": {},
    "fragments-overlapping": {}, "fragments-tiny-tcp": {},
    # SIP/UDP: unparsable, no Call-ID, impossible Content-Length; 64 KiB datagrams
    "udp-5060-garbage": {"sip_malformed_total": "sent", "pipeline_malformed_dropped_total": "sent"},
    "udp-5060-no-call-id": {"sip_without_call_id_total": "sent",
                            "pipeline_malformed_dropped_total": "sent"},
    "udp-5060-bad-content-length": {"sip_malformed_total": "sent",
                                    "pipeline_malformed_dropped_total": "sent"},
    # 65535-byte datagram: NFQUEUE hands sarad at most 65531 bytes -> decoded on its headers
    # (NFQA_CAP_LEN), but signalling cut short cannot be parsed: counted, dropped
    "udp-5060-64k-garbage": {"signalling_truncated_total": 1, "pipeline_malformed_dropped_total": 1},
    # a 65000-byte header block is over limits.max_header_bytes (16384)
    "udp-5060-64k-sip": {"sip_malformed_total": 1, "pipeline_malformed_dropped_total": 1},
    # TCP streams (crafted, no handshake; and real connections to the node's servers): the
    # stream is marked broken once (one malformed count), its packets still follow the
    # connection's node
    "tcp-5060-stream-garbage": {"sip_malformed_total": 1},
    "tcp-5060-stream-64k": {"sip_malformed_total": 1},
    "tcp-554-stream-garbage": {"rtsp_malformed_total": 1},
    "tcp-554-stream-64k": {"rtsp_malformed_total": 1},
    # Real connections: once more if a segment of the connection comes after its FIN or RST
    # (sarad forgets the broken stream on FIN/RST and inspects the late segment afresh).
    "tcp-5060-conn-garbage": {"sip_malformed_total": (1, 2)},
    "tcp-5060-conn-64k": {"sip_malformed_total": (1, 2)},
    "tcp-5060-conn-bad-content-length": {"sip_malformed_total": (1, 2)},
    "tcp-554-conn-garbage": {"rtsp_malformed_total": (1, 2)},
    "tcp-554-conn-64k": {"rtsp_malformed_total": (1, 2)},
}


def run_bad_input(cluster, *, only=None, timeout=60):
    argv = [topology.PYTHON, str(BAD_INPUT), "--vip", topology.VIP,
            "--dst-mac", topology.MACS["dispatcher.eth0"], "--src", topology.CLIENT_ADDR,
            "--control", str(datapath.sarad_socket(cluster)), "--settle", "0.15"]
    if only:
        argv += ["--only", ",".join(only)]
    r = cluster.client.run(*argv, timeout=timeout, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


@pytest.mark.cluster(dispatcher="sarad", config_overrides=datapath.LEAST_SESSIONS)
@pytest.mark.usefixtures("tolerant_sip_servers")
def test_bad_input_during_calls(cluster, rtsp_servers, node_captures):
    """While 60 calls over UDP (-t u1, 10 calls/s) and 30 over TCP (-t t1, 5 calls/s) run with
    RTP, the client sends every category of peers/bad_input.py: IP header errors, truncated
    and mis-sized UDP/TCP headers, ICMP/GRE, complete/incomplete/overlapping fragments,
    garbage, Call-ID-less and 64 KiB SIP datagrams (fragmented), garbage and 64 KiB streams on
    tcp/5060 and tcp/554 (crafted and over real connections to the nodes' SIPp and GStreamer
    servers). sarad keeps running and answering, every category moves exactly the expected
    drop/malformed counters (printed), the reassembled fragmented SIP message reached sarad
    (its Call-ID is in the session table) and the incomplete ones did not, and every call
    completes with its RTP on one node.
    Run time: about 14 s (cluster and servers 2 s, bad input 6 s, calls 7 s, analysis 2 s)."""
    datapath.require_peers("gst-launch-1.0")
    datapath.require_scapy()
    before = datapath.sarad_stats(cluster)
    scenario = datapath.uac_scenario(cluster)
    uacs = [peers.start_sip_uac(cluster, calls=60, rate=10, transport="u1", media_packets=25,
                                scenario=scenario),
            peers.start_sip_uac(cluster, calls=30, rate=5, transport="t1", media_packets=25,
                                port_base=42000, local_port=5074, extra_args=["-cp", "8890"],
                                scenario=scenario)]
    time.sleep(0.5)                          # calls under way first
    t0 = time.monotonic()
    lines = run_bad_input(cluster)
    print("bad input sent in %.1f s" % (time.monotonic() - t0))
    results = [datapath.uac_result(u) for u in uacs]
    pcaps = node_captures.stop()
    assert cluster.sarad.running(), cluster.sarad.output()[-3000:]
    after = datapath.sarad_stats(cluster)

    print("\n%-34s %5s  %s" % ("category", "sent", "bad counters moved"))
    seen = set()
    problems = []
    for line in lines:
        cat, sent, delta = line["category"], line["sent"], line["delta"]
        seen.add(cat)
        moved = {k: v for k, v in delta.items() if k in BAD_COUNTERS}
        print("%-34s %5d  %s" % (cat, sent, moved or "-"))
        want = {k: (sent, sent) if v == "sent" else v if isinstance(v, tuple) else (v, v)
                for k, v in EXPECTED[cat].items()}
        if set(moved) != set(want) or any(not lo <= moved[k] <= hi for k, (lo, hi) in want.items()):
            problems.append((cat, "want", want, "got", moved))
    assert seen == set(EXPECTED), set(EXPECTED) ^ seen
    assert not problems, problems

    keys = {s["key"] for s in datapath.sarad_request(cluster, "sessions 100000")["sessions"]}
    assert "bad-input-fragments-complete-sip@198.18.1.2" in keys
    for cat in ("fragments-first-only", "fragments-later-only", "fragments-overlapping"):
        assert "bad-input-%s@198.18.1.2" % cat not in keys, cat

    summary = "; ".join(r.summary() for r in results)
    print(summary)
    for r in results:
        assert r.ok, summary + "\n" + datapath.sipp_diagnostics(cluster, results)
    assert not datapath.rtp_short(results), (summary, datapath.rtp_short(results))
    datapath.check_calls(cluster, peers.calls_by_node(pcaps), results)
    total = datapath.counter_deltas(before, after)
    print("sarad counters over the whole test:", total)
    assert total.get("queue_receive_errors_total", 0) == 0, total


@pytest.mark.cluster(dispatcher="sarad", config_overrides=datapath.LEAST_SESSIONS)
def test_largest_udp_datagram_is_forwarded(cluster):
    """A 65000-byte and a 65507-byte UDP datagram (fragmented by the client, reassembled by
    the dispatcher's conntrack) to a data port of the VIP, each a new flow: both must be
    decided (data verdict) and reach a node (reassembled there: IpReasmOKs), none may be a
    decode error. The 65,535-byte IP packet is longer than NFQUEUE's copy range (65,531
    bytes): sarad decides on the headers of its truncated copy (regression, issue 16).
    Run time: about 2 s."""
    before = datapath.sarad_stats(cluster)
    sent = {}
    script = ("import socket,sys\n"
              "for port, size in ((31001, 65000), (31002, 65507)):\n"
              "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
              "    s.bind(('%s', port)); s.sendto(b'x' * size, ('%s', 20999)); s.close()\n"
              % (topology.CLIENT_ADDR, topology.VIP))
    reasm0 = _node_reassembled(cluster)
    cluster.client.run(topology.PYTHON, "-c", script)
    sent = {65000: 31001, 65507: 31002}
    time.sleep(0.5)
    delta = datapath.counter_deltas(before, datapath.sarad_stats(cluster))
    reassembled = _node_reassembled(cluster) - reasm0
    print("sent %s; sarad: %s; datagrams reassembled on the nodes: %d" % (sent, delta, reassembled))
    assert delta.get("pipeline_decode_errors_total", 0) == 0, delta
    assert delta.get("pipeline_data_verdicts_total", 0) == 2, delta
    assert reassembled == 2


def _node_reassembled(cluster) -> int:
    total = 0
    for n in cluster.nodes:
        out = n.ns.run("cat", "/proc/net/snmp").stdout.splitlines()
        ip = [line.split() for line in out if line.startswith("Ip:")]
        total += int(dict(zip(ip[0], ip[1]))["ReasmOKs"])
    return total
