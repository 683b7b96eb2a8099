#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile and broken packets towards the VIP, for the data-path tests (run it in the client
namespace with Debian's python3 and python3-scapy):

    ip netns exec CLIENT_NS /usr/bin/python3 bad_input.py --vip 198.18.100.10 \
        --dst-mac 02:00:00:00:01:01 [--iface eth0] [--src 198.18.1.2] [--spoof 198.18.1.77] \
        [--control /path/sarad.sock] [--only CAT,CAT] [--list]

Sends each category (crafted frames on --iface with scapy, or real TCP connections for the
*-conn-* categories) and prints one JSON line per category:
    {"category", "sent", "seconds", "delta": {sarad counter: change}}
("delta" only with --control: sarad's stats before and after the category, 0.3 s after
its last packet). Every category is bounded (at most a few hundred frames, 64 KiB per
message) and the script exits by itself. Crafted TCP segments come from --spoof, an address
nobody holds, so no host answers the nodes' SYN/ACKs with a RST that would end the stream
sarad inspects. Addresses must be from 198.18.0.0/15.
"""
import argparse
import ipaddress
import json
import random
import socket
import sys
import time

from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw, conf, fragment  # noqa: E402

BENCH = ipaddress.ip_network("198.18.0.0/15")
SIP_PORT, RTSP_PORT, DATA_PORT = 5060, 554, 20999
rng = random.Random(1234)


def garbage(n):
    return rng.randbytes(n)


def sip_request(call_id="bad-input-%d@198.18.1.2", method="OPTIONS", extra="", body=b"",
                content_length=None):
    cid = call_id % rng.getrandbits(32) if "%d" in call_id else call_id
    head = ("%s sip:service@198.18.100.10:5060 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 198.18.1.2:5099;branch=z9hG4bK-%d\r\n"
            "From: bad <sip:bad@198.18.1.2:5099>;tag=%d\r\n"
            "To: service <sip:service@198.18.100.10:5060>\r\n"
            % (method, rng.getrandbits(32), rng.getrandbits(32)))
    if cid:
        head += "Call-ID: %s\r\n" % cid
    head += "CSeq: 1 %s\r\nMax-Forwards: 70\r\n%s" % (method, extra)
    head += "Content-Length: %d\r\n\r\n" % (len(body) if content_length is None else content_length)
    return head.encode() + body


def big_sip_header(size=65000):
    """A SIP request whose header block alone is `size` bytes (one huge header)."""
    pad = "X-Pad: " + "a" * (size - 400) + "\r\n"
    return sip_request(extra=pad)


def big_rtsp_header(size=65000):
    pad = "X-Pad: " + "a" * (size - 200) + "\r\n"
    return ("OPTIONS rtsp://198.18.100.10:554/test RTSP/1.0\r\nCSeq: 1\r\n%s\r\n" % pad).encode()


class Sender:
    def __init__(self, a):
        self.a = a
        self.sock = conf.L2socket(iface=a.iface)
        self.eth = Ether(src=a.src_mac, dst=a.dst_mac, type=0x0800)

    def frame(self, pkt):
        """pkt: scapy IP packet or raw IP bytes."""
        if isinstance(pkt, (bytes, bytearray)):
            return self.eth / Raw(bytes(pkt))
        return self.eth / pkt

    def send(self, pkts):
        n = 0
        for p in pkts:
            self.sock.send(self.frame(p))
            n += 1
        return n

    def ip(self, src=None, **kw):
        return IP(src=src or self.a.src, dst=self.a.vip, **kw)

    def raw_ip(self, proto, payload, *, ihl=5, total=None, src=None):
        """An IPv4 header built by hand (scapy would fix lengths), correct checksum."""
        import struct
        src_b = socket.inet_aton(src or self.a.src)
        dst_b = socket.inet_aton(self.a.vip)
        opts = b"\x01" * max(0, ihl * 4 - 20)
        tot = (20 + len(opts) + len(payload)) if total is None else total
        hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot, rng.getrandbits(16), 0, 64,
                          proto, 0, src_b, dst_b) + opts
        s = 0
        for i in range(0, len(hdr), 2):
            s += (hdr[i] << 8) | hdr[i + 1]
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        hdr = hdr[:10] + struct.pack("!H", ~s & 0xFFFF) + hdr[12:]
        return hdr + payload

    # -- TCP without a handshake (from the spoofed address: nobody answers the SYN/ACK) --
    def tcp_stream(self, dport, data, *, seg=1400):
        sport = rng.randrange(20000, 60000)
        seq = rng.getrandbits(32)
        pkts = [self.ip(src=self.a.spoof) / TCP(sport=sport, dport=dport, flags="S", seq=seq)]
        seq += 1
        for i in range(0, len(data), seg):
            pkts.append(self.ip(src=self.a.spoof) / TCP(sport=sport, dport=dport, flags="PA",
                                                        seq=(seq + i) & 0xFFFFFFFF, ack=1)
                        / Raw(data[i:i + seg]))
        return pkts


def conn_send(a, port, data, timeout=3.0):
    """A real TCP connection from the client to VIP:port; sends `data`, closes."""
    s = socket.socket()
    s.settimeout(timeout)
    try:
        s.bind((a.src, 0))
        s.connect((a.vip, port))
        s.sendall(data)
        time.sleep(0.2)
        return 1
    except OSError as e:
        print("conn %d: %s" % (port, e), file=sys.stderr)
        return 0
    finally:
        s.close()


def categories(a, tx):
    """name -> function returning the number of frames (or connections) sent."""
    def udp(dport, payload, **kw):
        return tx.ip(**kw) / UDP(sport=5099, dport=dport) / Raw(payload)

    c = {}
    # -- IP header: the kernel's ip_rcv drops these before netfilter ----------------------
    c["ip-truncated-header"] = lambda: tx.send([tx.raw_ip(17, b"")[:12]] * 5)
    c["ip-bad-ihl"] = lambda: tx.send([bytes([0x44]) + tx.raw_ip(17, garbage(16))[1:]] * 5)
    c["ip-total-length-too-big"] = lambda: tx.send([tx.raw_ip(17, garbage(30), total=1000)] * 5)
    c["ip-bad-checksum"] = lambda: tx.send(
        [bytes(tx.ip(chksum=0x1234) / UDP(sport=5099, dport=SIP_PORT) / Raw(sip_request()))] * 5)
    # -- transport headers ----------------------------------------------------------------
    c["udp-truncated-header"] = lambda: tx.send(
        [tx.raw_ip(17, b"\x13\xdb\x13\xc4")] * 3 + [tx.raw_ip(17, b"\x13\xdb\x51\xe7\x00")] * 3)
    c["udp-length-too-big"] = lambda: tx.send(
        [tx.raw_ip(17, bytes(UDP(sport=5099, dport=SIP_PORT, len=1400) / Raw(sip_request())))] * 5
        + [tx.raw_ip(17, bytes(UDP(sport=5099, dport=DATA_PORT, len=900) / Raw(garbage(40))))] * 5)
    c["udp-length-too-small"] = lambda: tx.send(
        [tx.raw_ip(17, bytes(UDP(sport=5099, dport=SIP_PORT, len=4) / Raw(sip_request())))] * 5)
    c["tcp-truncated-header"] = lambda: tx.send(
        [tx.raw_ip(6, bytes(TCP(sport=40001, dport=p, flags="S"))[:12])
         for p in (SIP_PORT, RTSP_PORT)] * 3)
    c["tcp-data-offset-too-big"] = lambda: tx.send(
        [tx.raw_ip(6, bytes(TCP(sport=40002, dport=p, flags="S", dataofs=15))[:20], src=a.spoof)
         for p in (SIP_PORT, RTSP_PORT, DATA_PORT)] * 3)
    c["tcp-data-offset-too-small"] = lambda: tx.send(
        [tx.raw_ip(6, bytes(TCP(sport=40003, dport=p, flags="S", dataofs=2))[:20], src=a.spoof)
         for p in (SIP_PORT, RTSP_PORT, DATA_PORT)] * 3)
    # -- no ports: ICMP, another protocol ---------------------------------------------------
    c["icmp-and-gre"] = lambda: tx.send([tx.ip() / ICMP() / Raw(garbage(32))] * 3
                                        + [tx.raw_ip(47, garbage(24))] * 3)
    # -- IP fragments --------------------------------------------------------------------
    # A 3 kB SIP OPTIONS in 1000-byte fragments; its Call-ID names the category, so the
    # test can tell from sarad's session table which of them reached sarad.
    def big_options(cat):
        return sip_request(call_id="bad-input-%s@198.18.1.2" % cat,
                           body=b"v=0\r\n" + b"a=x-pad:" + b"b" * 2900 + b"\r\n")
    c["fragments-complete-sip"] = lambda: tx.send(
        fragment(udp(SIP_PORT, big_options("fragments-complete-sip"), id=rng.getrandbits(16)),
                 fragsize=1000))
    c["fragments-first-only"] = lambda: tx.send(
        fragment(udp(SIP_PORT, big_options("fragments-first-only"), id=rng.getrandbits(16)),
                 fragsize=1000)[:1] * 2)
    c["fragments-later-only"] = lambda: tx.send(
        fragment(udp(SIP_PORT, big_options("fragments-later-only"), id=rng.getrandbits(16)),
                 fragsize=1000)[1:])

    def overlapping():
        fr = fragment(udp(SIP_PORT, big_options("fragments-overlapping"), id=rng.getrandbits(16)),
                      fragsize=1000)
        dup = fr[1].copy()
        dup.frag -= 16                      # overlaps the first fragment by 128 bytes
        dup[Raw].load = garbage(len(dup[Raw].load))
        return tx.send([fr[0], dup] + fr[1:])
    c["fragments-overlapping"] = overlapping
    c["fragments-tiny-tcp"] = lambda: tx.send(
        fragment(tx.ip(src=a.spoof, id=rng.getrandbits(16))
                 / TCP(sport=40004, dport=SIP_PORT, flags="S") / Raw(b"x" * 40), fragsize=8))
    # -- UDP/5060 datagrams ----------------------------------------------------------------
    c["udp-5060-garbage"] = lambda: tx.send([udp(SIP_PORT, garbage(rng.randrange(1, 1400)))
                                             for _ in range(20)])
    c["udp-5060-no-call-id"] = lambda: tx.send([udp(SIP_PORT, sip_request(call_id=""))] * 5)
    c["udp-5060-bad-content-length"] = lambda: tx.send(
        [udp(SIP_PORT, sip_request(content_length=99999999))] * 3
        + [udp(SIP_PORT, sip_request(body=b"v=0\r\n", content_length=-5))] * 2)
    c["udp-5060-64k-garbage"] = lambda: tx.send(
        fragment(udp(SIP_PORT, garbage(65507), id=rng.getrandbits(16)), fragsize=1480))
    c["udp-5060-64k-sip"] = lambda: tx.send(
        fragment(udp(SIP_PORT, big_sip_header(65000), id=rng.getrandbits(16)), fragsize=1480))
    # -- TCP/5060 and TCP/554 streams without a handshake (spoofed source) -----------------
    c["tcp-5060-stream-garbage"] = lambda: tx.send(tx.tcp_stream(SIP_PORT, garbage(4000)))
    c["tcp-5060-stream-64k"] = lambda: tx.send(tx.tcp_stream(SIP_PORT, big_sip_header(65536)))
    c["tcp-554-stream-garbage"] = lambda: tx.send(tx.tcp_stream(RTSP_PORT, garbage(4000)))
    c["tcp-554-stream-64k"] = lambda: tx.send(tx.tcp_stream(RTSP_PORT, big_rtsp_header(65536)))
    # -- real connections to the node's servers ---------------------------------------------
    c["tcp-5060-conn-garbage"] = lambda: conn_send(a, SIP_PORT, garbage(8000))
    c["tcp-5060-conn-64k"] = lambda: conn_send(a, SIP_PORT, big_sip_header(65536))
    c["tcp-5060-conn-bad-content-length"] = lambda: conn_send(
        a, SIP_PORT, sip_request(content_length=99999999) + garbage(2000))
    c["tcp-554-conn-garbage"] = lambda: conn_send(a, RTSP_PORT, garbage(8000))
    c["tcp-554-conn-64k"] = lambda: conn_send(a, RTSP_PORT, big_rtsp_header(65536))
    return c


def stats(path):
    if not path:
        return None
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(path)
    s.sendall(b"stats\n")
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vip", required=True)
    ap.add_argument("--dst-mac", required=True, help="the dispatcher's MAC on the client side")
    ap.add_argument("--iface", default="eth0")
    ap.add_argument("--src", default="198.18.1.2")
    ap.add_argument("--spoof", default="198.18.1.77")
    ap.add_argument("--control", help="sarad's control socket: print counter deltas")
    ap.add_argument("--only", help="comma-separated categories")
    ap.add_argument("--settle", type=float, default=0.3)
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    for addr in (a.vip, a.src, a.spoof):
        if ipaddress.ip_address(addr) not in BENCH:
            sys.exit("%s is not in %s" % (addr, BENCH))
    a.src_mac = open("/sys/class/net/%s/address" % a.iface).read().strip()
    conf.verb = 0
    tx = Sender(a)
    cats = categories(a, tx)
    if a.list:
        print("\n".join(cats))
        return 0
    names = a.only.split(",") if a.only else list(cats)
    for name in names:
        before = stats(a.control)
        t0 = time.monotonic()
        sent = cats[name]()
        secs = time.monotonic() - t0
        time.sleep(a.settle)
        after = stats(a.control)
        out = {"category": name, "sent": sent, "seconds": round(secs, 3)}
        if before is not None:
            out["delta"] = {k: v - before.get(k, 0) for k, v in after.items()
                            if isinstance(v, int) and v != before.get(k, 0)}
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
