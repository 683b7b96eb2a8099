#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Derive the expected SARA session grouping of a capture with tshark, check it against what
the capture scenario configured, and write NAME.expected.json.

    expected_from_capture.py --vip VIP --client CLIENT --description TEXT --out FILE.json \
        [checks...] CAPTURE.pcap

Grouping (what `sarad replay` must reproduce):
  * SIP session = one Call-ID. Its flows: every client->VIP 5-tuple that carried a SIP message
    of that Call-ID (the signalling flow; a shared socket/connection appears in every call that
    used it) and every client->VIP UDP 5-tuple from an endpoint the client's SDP announced
    (m= port, RTCP = port+1 or a=rtcp:) to an endpoint the VIP's SDP announced.
  * RTSP session = one Session id (without ;timeout=). Its flows: the control connection(s)
    that carried a SETUP whose reply set that Session, or that carried the Session id, and the
    client->VIP UDP 5-tuples client_port->server_port of its SETUP replies' Transport
    (RTP and RTCP). Interleaved TCP adds no flow.
  * Only the client->VIP direction makes flows. ICMP errors are not flows (their quoted UDP
    header is ignored).
Every client->VIP flow must belong to some session, unless --allow-unassigned.

The tshark dissection (SIP/SDP/RTSP fields, TCP reassembly) is the source of truth; the
options below check it against what the scenario configured, and the script fails (exit 1)
when they disagree. The SIP and RTSP messages are read by the integration tests' reader
(tests/integration/capture_analysis.py, read_messages), so both see a capture alike.
"""
import argparse
import json
import re
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "integration"))
from capture_analysis import read_messages  # noqa: E402


def tshark(args):
    cmd = ["tshark", "-n", "-o", "tcp.desegment_tcp_streams:TRUE",
           "-o", "tcp.analyze_sequence_numbers:TRUE"] + args
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("tshark failed: %s\n%s" % (" ".join(cmd), r.stderr))
    return r.stdout


def ep(addr, port):
    return "%s:%d" % (addr, port)


class Flow:
    def __init__(self, proto, client, server, frame):
        self.proto, self.client, self.server = proto, client, server
        self.first = frame
        self.packets = 0

    def key(self):
        return (self.proto, self.client, self.server)

    def js(self):
        return OrderedDict([("proto", self.proto), ("client", self.client),
                            ("server", self.server)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("--vip", required=True)
    ap.add_argument("--client", required=True)
    ap.add_argument("--description", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--allow-unassigned", action="store_true")
    # checks against the scenario's configuration
    ap.add_argument("--protocol", choices=["sip", "rtsp"])
    ap.add_argument("--sessions", type=int)
    ap.add_argument("--flows", help="flows per session, comma separated, any order")
    ap.add_argument("--client-ports", help="exact set of client ports of the media flows")
    ap.add_argument("--server-ports", help="exact set of VIP ports of all flows")
    ap.add_argument("--client-port-range", help="LO-HI for client ports of media flows")
    ap.add_argument("--server-port-range", help="LO-HI for VIP ports of media flows")
    ap.add_argument("--signalling", choices=["shared", "distinct"])
    ap.add_argument("--sig-proto", choices=["udp", "tcp"])
    ap.add_argument("--complete", action="store_true",
                    help="SIP: INVITE and BYE answered 200; RTSP: PLAY 200 and a TEARDOWN")
    a = ap.parse_args()
    vip, cli = a.vip, a.client
    errors = []

    # ---- pass 1: every frame's outer 5-tuple -> client->VIP flows --------------------
    flows = OrderedDict()
    icmp_to_vip = icmp_from_vip = other = 0
    out = tshark(["-r", a.pcap, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f",
                  "-e", "frame.number", "-e", "ip.src", "-e", "ip.dst", "-e", "ip.proto",
                  "-e", "udp.srcport", "-e", "udp.dstport", "-e", "tcp.srcport",
                  "-e", "tcp.dstport", "-e", "icmp.type"])
    for line in out.splitlines():
        f = line.split("\t")
        num, src, dst, proto, us, ud, ts, td, icmp = (f + [""] * 9)[:9]
        if not src:
            other += 1          # ARP
            continue
        if icmp:
            if dst == vip:
                icmp_to_vip += 1
            else:
                icmp_from_vip += 1
            continue
        if dst != vip:
            continue
        if proto == "17":
            k = ("udp", ep(src, int(us)), ep(dst, int(ud)))
        elif proto == "6":
            k = ("tcp", ep(src, int(ts)), ep(dst, int(td)))
        else:
            other += 1
            continue
        if k not in flows:
            flows[k] = Flow(*k, int(num))
        flows[k].packets += 1

    # ---- pass 2: SIP and RTSP messages (tshark reassembles TCP, splits messages) -------
    sip = OrderedDict()   # call-id -> dict
    rtsp_conns = OrderedDict()   # flow key -> list of messages
    for m in read_messages(a.pcap, vip):
        num = m["frame"]
        if m["proto"] == "sip":
            cid = m["call_id"]
            if cid is None:
                errors.append("frame %d: SIP message without Call-ID" % num)
                continue
            s = sip.setdefault(cid, {"sig": OrderedDict(), "cep": set(), "sep": set(),
                                     "first": num, "msgs": []})
            s["msgs"].append((num, m["dir"], m["method"] or m["status"], m["cseq_method"]))
            if m["dir"] == "->":
                s["sig"].setdefault(m["conn"], num)
            for addr, rtp, rtcp in m["sdp"]:
                tgt = s["cep"] if m["dir"] == "->" else s["sep"]
                tgt.add(ep(addr, rtp))
                tgt.add(ep(addr, rtcp))
        else:
            rtsp_conns.setdefault(m["conn"], []).append(m)

    sessions = []   # dicts: protocol, key, first, sig (ordered flow keys), media set
    owner = {}

    def claim(fk, sess):
        owner.setdefault(fk, []).append(sess["key"])

    for cid, s in sip.items():
        sess = {"protocol": "sip", "key": cid, "first": s["first"], "sig": list(s["sig"]),
                "media": [], "msgs": s["msgs"]}
        for fk, fl in flows.items():
            if fk[0] == "udp" and fk[1] in s["cep"] and fk[2] in s["sep"] \
                    and fk not in s["sig"]:
                sess["media"].append(fk)
        sessions.append(sess)

    rtsp_sess = OrderedDict()
    for ck, msgs in rtsp_conns.items():
        reqs = {}
        for m in msgs:
            if m["dir"] == "->" and m["method"]:
                reqs[m["cseq"]] = m
        for m in msgs:
            sid = m["session"]
            if not sid:
                continue
            r = rtsp_sess.setdefault(sid, {"protocol": "rtsp", "key": sid, "first": m["frame"],
                                           "sig": [], "media": [], "msgs": []})
            if ck not in r["sig"]:
                r["sig"].append(ck)
            r["first"] = min(r["first"], m["frame"])
            req = reqs.get(m["cseq"]) if m["dir"] == "<-" else m
            if m["method"]:
                label = m["method"]                        # request
            else:                                          # reply: "REQUEST-METHOD STATUS"
                label = "%s %s" % (req["method"] if req else "?", m["status"])
            r["msgs"].append((m["frame"], m["dir"], label, None))
            if m["dir"] == "<-" and req and req["method"] == "SETUP" and m["transport"]:
                t = m["transport"]
                if "interleaved" in t or "/TCP" in t:
                    continue
                cp = re.search(r"client_port=(\d+)(?:-(\d+))?", t)
                sp = re.search(r"server_port=(\d+)(?:-(\d+))?", t)
                if not cp or not sp:
                    errors.append("frame %d: SETUP reply Transport without ports: %s"
                                  % (m["frame"], t))
                    continue
                cps = [int(x) for x in cp.groups() if x]
                sps = [int(x) for x in sp.groups() if x]
                for c, sv in zip(cps, sps):
                    fk = ("udp", ep(m["client_ip"], c), ep(vip, sv))
                    if fk in flows and fk not in r["media"]:
                        r["media"].append(fk)
    sessions.extend(rtsp_sess.values())
    sessions.sort(key=lambda s: s["first"])
    for s in sessions:
        s["media"].sort(key=lambda fk: flows[fk].first)
        s["sig"] = [fk for fk in s["sig"] if fk in flows]
        s["sig"].sort(key=lambda fk: flows[fk].first)
        for fk in s["sig"] + s["media"]:
            claim(fk, s)

    # ---- consistency -----------------------------------------------------------------
    for fk, fl in flows.items():
        if not fk[1].startswith(cli + ":"):
            errors.append("flow %s %s -> %s from an unexpected client address" % fk)
        if fk not in owner and not a.allow_unassigned:
            errors.append("client->VIP flow %s %s -> %s (%d packets) belongs to no session"
                          % (fk + (fl.packets,)))
    for s in sessions:
        for fk in s["media"]:
            if len(owner[fk]) > 1:
                errors.append("media flow %s claimed by sessions %s" % (fk, owner[fk]))

    # ---- checks against the configuration --------------------------------------------
    def check(cond, msg):
        if not cond:
            errors.append("check failed: " + msg)

    def ports(spec):
        return sorted(int(x) for x in spec.split(",") if x)

    def port_of(e):
        return int(e.rsplit(":", 1)[1])

    if a.protocol:
        check(all(s["protocol"] == a.protocol for s in sessions),
              "all sessions are %s" % a.protocol)
    if a.sessions is not None:
        check(len(sessions) == a.sessions, "%d sessions (found %d)" % (a.sessions, len(sessions)))
    if a.flows:
        got = sorted(len(s["sig"]) + len(s["media"]) for s in sessions)
        check(got == ports(a.flows), "flows per session %s (found %s)" % (a.flows, got))
    media = [fk for s in sessions for fk in s["media"]]
    if a.client_ports:
        got = sorted(set(port_of(fk[1]) for fk in media))
        check(got == ports(a.client_ports),
              "client media ports %s (found %s)" % (a.client_ports, got))
    if a.server_ports:
        got = sorted(set(port_of(fk[2]) for s in sessions for fk in s["sig"] + s["media"]))
        check(got == ports(a.server_ports),
              "VIP ports %s (found %s)" % (a.server_ports, got))
    for rng, side in ((a.client_port_range, 1), (a.server_port_range, 2)):
        if rng:
            lo, hi = (int(x) for x in rng.split("-"))
            bad = [fk for fk in media if not lo <= port_of(fk[side]) <= hi]
            check(not bad, "media ports in %s (outside: %s)" % (rng, bad))
    if a.signalling:
        sigs = [tuple(s["sig"]) for s in sessions]
        if a.signalling == "shared":
            check(len(set(sigs)) == 1 and len(sigs[0]) == 1,
                  "all sessions share one signalling flow (found %s)" % set(sigs))
        else:
            flat = [fk for sg in sigs for fk in sg]
            check(len(flat) == len(set(flat)) and all(len(sg) == 1 for sg in sigs),
                  "one distinct signalling flow per session (found %s)" % sigs)
    if a.sig_proto:
        check(all(fk[0] == a.sig_proto for s in sessions for fk in s["sig"]),
              "signalling over %s" % a.sig_proto)
    check(all(s["sig"] for s in sessions), "every session has a signalling flow")
    if a.complete:
        for s in sessions:
            labels = [(d, l, c) for _, d, l, c in s["msgs"]]
            if s["protocol"] == "sip":
                ok = ("->", "INVITE", "INVITE") in labels and ("->", "BYE", "BYE") in labels \
                    and ("<-", "200", "INVITE") in labels and ("<-", "200", "BYE") in labels
            else:
                ok = ("<-", "PLAY 200", None) in labels and \
                    any(d == "->" and l == "TEARDOWN" for d, l, _ in labels)
            check(ok, "session %s complete (messages: %s)" % (s["key"], labels))

    # ---- report and write ------------------------------------------------------------
    print("%s: %d sessions, %d client->VIP flows, ICMP errors to/from VIP: %d/%d"
          % (a.pcap, len(sessions), len(flows), icmp_to_vip, icmp_from_vip))
    for s in sessions:
        print("  %s %s" % (s["protocol"], s["key"]))
        for fk in s["sig"]:
            print("    sig   %s %s -> %s  (%d pkts)" % (fk + (flows[fk].packets,)))
        for fk in s["media"]:
            print("    media %s %s -> %s  (%d pkts)" % (fk + (flows[fk].packets,)))
    if errors:
        for e in errors:
            print("ERROR: " + e, file=sys.stderr)
        return 1
    doc = OrderedDict([
        ("description", a.description),
        ("vip", vip),
        ("sessions", [OrderedDict([("protocol", s["protocol"]), ("key", s["key"]),
                                   ("flows", [flows[fk].js() for fk in s["sig"] + s["media"]])])
                      for s in sessions]),
    ])
    with open(a.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
