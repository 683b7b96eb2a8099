# SPDX-License-Identifier: GPL-2.0-or-later
"""Which node saw which session: analysis of the per-node captures (peers.NodeCaptures).

    calls_by_node({"node1": "a.pcap", "node2": "b.pcap", ...})         -> {Call-ID: Sighting}
    rtsp_sessions_by_node({...})                                       -> {Session id: Sighting}

Sighting.signalling = nodes where a SIP message of the Call-ID / an RTSP message of the
Session was seen (either direction); Sighting.media = nodes where a client->VIP media packet
of the session was seen (the load-balancing decision for that flow); media_replies = nodes
that sent media of the session VIP->client (RTP echo, RTSP server RTP). A session balanced
correctly has len(s.nodes) == 1.

Media flows of a session are found from its negotiation, wherever it was seen:
  SIP: SDP of the requests to the VIP (client endpoints: m= port and RTCP = port+1 or
       a=rtcp:) and of the replies (VIP endpoints); a client->VIP UDP flow from a client
       endpoint (to a VIP endpoint, when the answer was seen) belongs to the call.
  RTSP: SETUP Transport client_port (request) and server_port (reply); interleaved
       (RTP/AVP/TCP) sessions have no UDP flow (Sighting.interleaved, media empty).
SIP/RTSP messages are dissected by tshark (TCP reassembly, several messages per segment);
the packet counts of every flow come from iter_ip, the tests' one pcap reader (ICMP errors
are skipped, so their quoted headers never count as flows). `vip` is one VIP or a tuple of
them (a dual-stack cluster: IPv4 and IPv6); IPv6 endpoints are written "[addr]:port".
"""
from __future__ import annotations

import ipaddress
import json
import os
import re
import struct
import subprocess
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

VIP = "198.18.100.10"


@dataclass
class Sighting:
    protocol: str                                   # sip | rtsp
    key: str                                        # Call-ID | Session id
    signalling: set = field(default_factory=set)    # node names
    media: set = field(default_factory=set)         # nodes with client->VIP media packets
    media_replies: set = field(default_factory=set)  # nodes sending VIP->client media
    # (proto, "client:port", "vip:port") -> {node: packets towards the VIP}
    media_flows: dict = field(default_factory=dict)
    # (node, "->"|"<-", label, cseq method) in capture order per node; label = method or
    # status (SIP), method or "METHOD STATUS" for replies (RTSP)
    messages: list = field(default_factory=list)
    interleaved: bool = False                       # RTSP media on the control connection
    client_endpoints: set = field(default_factory=set)
    server_endpoints: set = field(default_factory=set)

    @property
    def nodes(self) -> set:
        return self.signalling | self.media | self.media_replies

    @property
    def on_one_node(self) -> bool:
        return len(self.nodes) == 1

    @property
    def complete(self) -> bool:
        """SIP: INVITE and BYE sent and answered 200. RTSP: PLAY answered 200 and a TEARDOWN
        sent (or, for gst's occasional plain close, at least PLAY 200)."""
        labels = {(d, l, c) for _, d, l, c in self.messages}
        if self.protocol == "sip":
            return {("->", "INVITE", "INVITE"), ("<-", "200", "INVITE"), ("->", "BYE", "BYE"),
                    ("<-", "200", "BYE")} <= labels
        return ("<-", "PLAY 200", None) in labels

    def __repr__(self) -> str:
        return ("Sighting(%s %s sig=%s media=%s replies=%s flows=%d)"
                % (self.protocol, self.key, sorted(self.signalling), sorted(self.media),
                   sorted(self.media_replies), len(self.media_flows)))


# ----------------------------------------------------------------------------------------
# The tests' one pcap reader (tcpdump -w output), and pass 1: flows and packet counts
# ----------------------------------------------------------------------------------------
def iter_ip(path):
    """(timestamp, IP packet) of every IPv4 and IPv6 packet in a pcap file (Ethernet with or
    without a VLAN tag, Linux cooked, raw IP), in order; other frames are passed over."""
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = struct.unpack("<I", head[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            endian = "<"
        elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
            endian = ">"
        else:
            raise ValueError("%s: not a pcap file (pcapng is not supported)" % path)
        nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
        linktype = struct.unpack(endian + "I", head[20:24])[0]
        rec = struct.Struct(endian + "IIII")
        while True:
            h = f.read(16)
            if len(h) < 16:
                break
            sec, frac, incl, _ = rec.unpack(h)
            data = f.read(incl)
            ts = sec + frac / (1e9 if nano else 1e6)
            if linktype == 1:               # Ethernet
                if len(data) < 14:
                    continue
                etype = struct.unpack("!H", data[12:14])[0]
                off = 14
                if etype == 0x8100 and len(data) >= 18:
                    etype, off = struct.unpack("!H", data[16:18])[0], 18
                if etype not in (0x0800, 0x86DD):
                    continue
                ip = data[off:]
            elif linktype == 113:           # Linux cooked (any)
                if len(data) < 16 or data[14:16] not in (b"\x08\x00", b"\x86\xdd"):
                    continue
                ip = data[16:]
            elif linktype == 101:           # raw IP
                ip = data
            else:
                continue
            if len(ip) < 20 or ip[0] >> 4 not in (4, 6) or (ip[0] >> 4 == 6 and len(ip) < 40):
                continue
            yield ts, ip


def iter_ipv4(path):
    """(timestamp, IPv4 packet) of every IPv4 packet in a pcap file (as iter_ip)."""
    for ts, ip in iter_ip(path):
        if ip[0] >> 4 == 4:
            yield ts, ip


def endpoint(addr: str, port) -> str:
    """"a.b.c.d:port" or "[v6]:port" (DESIGN §12), with the address in its compressed form."""
    if ":" in addr:
        return "[%s]:%s" % (ipaddress.IPv6Address(addr.strip("[]")).compressed, port)
    return "%s:%s" % (addr, port)


def transport_header(ip):
    """(proto, src, dst, transport bytes) of a packet that carries its transport header
    (IPv4 first fragments; IPv6 without extension headers), else None."""
    if ip[0] >> 4 == 4:
        if not first_fragment(ip):
            return None
        ihl = (ip[0] & 0x0F) * 4
        return ip[9], ".".join(map(str, ip[12:16])), ".".join(map(str, ip[16:20])), ip[ihl:]
    return (ip[6], str(ipaddress.IPv6Address(bytes(ip[8:24]))), str(ipaddress.IPv6Address(bytes(ip[24:40]))),
            ip[40:])


def first_fragment(ip) -> bool:
    """Whether an IPv4 packet carries its transport header (fragment offset 0)."""
    return not struct.unpack("!H", ip[6:8])[0] & 0x1FFF


def read_flows(path) -> dict:
    """{(proto, "src:port", "dst:port"): packets} for every UDP/TCP packet (first fragments;
    IPv6 endpoints as "[addr]:port")."""
    flows: dict = defaultdict(int)
    for _, ip in iter_ip(path):
        parsed = transport_header(ip)
        if parsed is None:
            continue
        proto, src, dst, l4 = parsed
        if proto not in (6, 17) or len(l4) < 4:
            continue
        sp, dp = struct.unpack("!HH", l4[:4])
        flows[("udp" if proto == 17 else "tcp", endpoint(src, sp), endpoint(dst, dp))] += 1
    return dict(flows)


# ----------------------------------------------------------------------------------------
# Pass 2: SIP and RTSP messages (tshark -T json, keeping duplicate keys: several messages
# in one frame appear as several "sip"/"rtsp" keys)
# ----------------------------------------------------------------------------------------
def _walk(pairs):
    if not isinstance(pairs, list):
        return
    for item in pairs:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)):
            return
        k, v = item
        yield k, v
        if isinstance(v, list):
            yield from _walk(v)


def _first(pairs, key, default=None):
    for k, v in _walk(pairs):
        if k == key:
            return v
    return default


def _rtsp_cseq(msg):
    for k, _ in _walk(msg):
        m = re.match(r"cseq:\s*(\d+)", k, re.I)
        if m:
            return int(m.group(1))
    return None


def _sdp_endpoints(sdp):
    """[(addr, rtp port, rtcp port)] of every m= line with a non-zero port."""
    sess_c, cur, medias = None, None, []
    for k, v in _walk(sdp):
        if k == "sdp.connection_info.address":
            if cur is None:
                sess_c = v
            else:
                cur["c"] = v
        elif k == "sdp.media":
            m = re.match(r"(\S+)\s+(\d+)", v)
            if m:
                cur = {"port": int(m.group(2)), "c": None, "rtcp": None}
                medias.append(cur)
        elif k == "sdp.media_attr" and cur is not None:
            m = re.match(r"rtcp:(\d+)", v)
            if m:
                cur["rtcp"] = int(m.group(1))
    return [(m["c"] or sess_c, m["port"], m["rtcp"] or m["port"] + 1)
            for m in medias if m["port"]]


def _vips(vip) -> tuple:
    """One VIP or several, as a tuple of compressed address strings."""
    vips = (vip,) if isinstance(vip, str) else tuple(vip)
    return tuple(ipaddress.ip_address(v).compressed for v in vips)


def _endpoint_address(ep: str) -> str:
    return ep.rsplit(":", 1)[0].strip("[]")


def read_messages(path, vip=VIP) -> list:
    """SIP and RTSP messages of a capture, in order: dicts with proto, frame (its number in
    the capture), dir ("->" to the VIP), conn (transport, client ep, vip ep) and the fields
    used below. Also what tests/captures/expected_from_capture.py reads the corpus with."""
    cmd = ["tshark", "-n", "-r", str(path), "-o", "tcp.desegment_tcp_streams:TRUE",
           "-Y", "(sip or rtsp) and not icmp", "-T", "json"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("tshark failed on %s: %s" % (path, r.stderr.strip()))
    vips = _vips(vip)
    if not r.stdout.strip():
        return []
    frames = json.loads(r.stdout, object_pairs_hook=lambda p: [list(x) for x in p])
    out = []
    for fr in frames:
        layers = dict(dict(fr)["_source"])["layers"]
        lmap = list(layers)
        ipl = next((v for k, v in lmap if k == "ip"), None)
        ip6l = next((v for k, v in lmap if k == "ipv6"), None)
        if ipl is not None:
            src, dst = _first(ipl, "ip.src"), _first(ipl, "ip.dst")
        elif ip6l is not None:
            src, dst = _first(ip6l, "ipv6.src"), _first(ip6l, "ipv6.dst")
        else:
            continue
        tp = "udp" if any(k == "udp" for k, _ in lmap) else "tcp"
        tl = next(v for k, v in lmap if k == tp)
        sp, dp = int(_first(tl, tp + ".srcport")), int(_first(tl, tp + ".dstport"))
        to_vip = dst in vips
        if not to_vip and src not in vips:
            continue
        frame = int(_first(layers, "frame.number"))
        conn = (tp, endpoint(src, sp), endpoint(dst, dp)) if to_vip else \
            (tp, endpoint(dst, dp), endpoint(src, sp))
        client_ip = src if to_vip else dst
        for k, msg in lmap:
            if k == "sip":
                out.append({"proto": "sip", "frame": frame, "dir": "->" if to_vip else "<-",
                            "conn": conn,
                            "call_id": _first(msg, "sip.Call-ID"),
                            "method": _first(msg, "sip.Method"),
                            "status": _first(msg, "sip.Status-Code"),
                            "cseq_method": _first(msg, "sip.CSeq.method"),
                            "sdp": _sdp_endpoints(_first(msg, "sdp", []))})
            elif k == "rtsp":
                method, status = _first(msg, "rtsp.method"), _first(msg, "rtsp.status")
                if method is None and status is None:
                    continue                # interleaved RTP/RTCP on the control connection
                session = _first(msg, "rtsp.session")
                out.append({"proto": "rtsp", "frame": frame, "dir": "->" if to_vip else "<-",
                            "conn": conn,
                            "client_ip": client_ip, "vip": dst if to_vip else src,
                            "method": method, "status": status,
                            "cseq": _rtsp_cseq(msg),
                            "session": session.split(";")[0].strip() if session else None,
                            "transport": _first(msg, "rtsp.transport")})
    return out


# ----------------------------------------------------------------------------------------
# Both passes over every node's capture (in parallel), grouped into sessions
# ----------------------------------------------------------------------------------------
_cache: dict = {}


def _load(pcaps: Mapping[str, os.PathLike], vip):
    key = _vips(vip) + tuple(sorted((str(n), str(p), Path(p).stat().st_mtime_ns, Path(p).stat().st_size)
                                for n, p in pcaps.items()))
    if key in _cache:
        return _cache[key]
    with ThreadPoolExecutor(max_workers=max(1, len(pcaps))) as ex:
        msgs = {n: ex.submit(read_messages, p, vip) for n, p in pcaps.items()}
        flows = {n: read_flows(p) for n, p in pcaps.items()}
        msgs = {n: f.result() for n, f in msgs.items()}
    _cache.clear()
    _cache[key] = (flows, msgs)
    return flows, msgs


def _attach_media(sessions: dict, flows: dict, vip, signalling_conns: set) -> None:
    """Assign client->VIP UDP flows (and VIP->client replies) to sessions by endpoints."""
    vips = _vips(vip)
    by_client = defaultdict(list)
    for s in sessions.values():
        for ep in s.client_endpoints:
            by_client[ep].append(s)
    for node, fl in flows.items():
        for (proto, src, dst), n in fl.items():
            if proto != "udp":
                continue
            if _endpoint_address(dst) in vips and (proto, src, dst) not in signalling_conns:
                client, server, towards = src, dst, True
            elif _endpoint_address(src) in vips:
                client, server, towards = dst, src, False
            else:
                continue
            for s in by_client.get(client, ()):
                if s.server_endpoints and server not in s.server_endpoints:
                    continue
                if towards:
                    s.media.add(node)
                    s.media_flows.setdefault((proto, client, server), {})
                    s.media_flows[(proto, client, server)][node] = n
                else:
                    s.media_replies.add(node)


def analyze(pcaps: Mapping[str, os.PathLike], vip=VIP) -> dict:
    """{"sip": {Call-ID: Sighting}, "rtsp": {Session: Sighting}} over every node's capture."""
    flows, msgs = _load(pcaps, vip)
    sip: dict = {}
    rtsp: dict = {}
    sig_conns = set()
    for node, ms in msgs.items():
        requests = {}               # (conn, cseq) -> RTSP request, to label its reply
        for m in ms:
            if m["proto"] == "sip":
                if not m["call_id"]:
                    continue
                s = sip.setdefault(m["call_id"], Sighting("sip", m["call_id"]))
                s.signalling.add(node)
                label = m["method"] or m["status"]
                s.messages.append((node, m["dir"], label, m["cseq_method"]))
                if m["dir"] == "->":
                    sig_conns.add(m["conn"])
                eps = s.client_endpoints if m["dir"] == "->" else s.server_endpoints
                for addr, rtp, rtcp in m["sdp"]:
                    eps.update({endpoint(addr, rtp), endpoint(addr, rtcp)})
                continue
            # RTSP
            t = m["transport"] or ""
            if m["dir"] == "->":
                requests[(m["conn"], m["cseq"])] = m
                if m["session"]:
                    s = rtsp.setdefault(m["session"], Sighting("rtsp", m["session"]))
                    s.signalling.add(node)
                    s.messages.append((node, "->", m["method"], None))
                continue
            req = requests.pop((m["conn"], m["cseq"]), None)
            if not m["session"]:
                continue
            s = rtsp.setdefault(m["session"], Sighting("rtsp", m["session"]))
            s.signalling.add(node)
            s.messages.append((node, "<-", "%s %s" % (req["method"] if req else "?", m["status"]),
                               None))
            if req and req["method"] == "SETUP" and (t or req["transport"]):
                client_ip, req_t = req["client_ip"], req["transport"] or ""
                tt = t or req_t
                if "interleaved" in tt or "/TCP" in tt:
                    s.interleaved = True
                    continue
                cp = re.search(r"client_port=(\d+)(?:-(\d+))?", tt) or \
                    re.search(r"client_port=(\d+)(?:-(\d+))?", req_t)
                sp = re.search(r"server_port=(\d+)(?:-(\d+))?", t)
                if cp:
                    s.client_endpoints.update(endpoint(client_ip, x) for x in cp.groups() if x)
                if sp:
                    s.server_endpoints.update(endpoint(req["vip"], x) for x in sp.groups() if x)
    _attach_media(sip, flows, vip, sig_conns)
    _attach_media(rtsp, flows, vip, set())
    return {"sip": sip, "rtsp": rtsp}


def calls_by_node(pcaps: Mapping[str, os.PathLike], vip=VIP) -> dict:
    """{Call-ID: Sighting} from the nodes' captures ({node name: pcap path})."""
    return analyze(pcaps, vip)["sip"]


def rtsp_sessions_by_node(pcaps: Mapping[str, os.PathLike], vip=VIP) -> dict:
    """{RTSP Session id: Sighting} from the nodes' captures ({node name: pcap path})."""
    return analyze(pcaps, vip)["rtsp"]


def client_flows_by_node(pcaps: Mapping[str, os.PathLike], vip=VIP) -> dict:
    """{node: {(proto, client, vip): packets}} of every client->VIP flow (sanity checks:
    e.g. a node that should have seen nothing)."""
    flows, _ = _load(pcaps, vip)
    vips = _vips(vip)
    return {n: {k: c for k, c in fl.items() if _endpoint_address(k[2]) in vips}
            for n, fl in flows.items()}
