#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Per-call RTP sender for the SIPp UAC scenario (uac_media.xml runs it through <exec>).

    rtp_send.py --bind ADDR:PORT --to ADDR:PORT --packets N [--interval 0.02]
                [--linger 0.3] [--report FILE.json] [--call-id ID]

Sends N PCMU RTP packets (160-byte payload, 20 ms apart) from ADDR:PORT, counts the packets
echoed back to that socket (SIPp's -rtp_echo; they come back through the gateway) and writes
{"call_id", "bind", "to", "sent", "received"} to --report. Much lighter than a gst-launch per
call (about 30 ms of CPU to start). Exits by itself after N*interval + linger (0.3) seconds.
"""
import argparse
import json
import os
import random
import socket
import struct
import sys
import time


def endpoint(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True, type=endpoint)
    ap.add_argument("--to", required=True, type=endpoint)
    ap.add_argument("--packets", type=int, default=50)
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("--linger", type=float, default=0.3)
    ap.add_argument("--report")
    ap.add_argument("--call-id", default="")
    a = ap.parse_args()

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(a.bind)
    s.setblocking(False)
    ssrc = random.getrandbits(32)
    seq = random.getrandbits(16)
    ts = random.getrandbits(32)
    payload = b"\xff" * 160            # PCMU silence
    sent = received = errors = 0
    start = time.monotonic()

    def drain():
        nonlocal received, errors
        while True:
            try:
                s.recv(2048)
                received += 1
            except BlockingIOError:
                return
            except ConnectionRefusedError:   # ICMP port unreachable for an earlier packet
                errors += 1

    for i in range(a.packets):
        due = start + i * a.interval
        while True:
            drain()
            now = time.monotonic()
            if now >= due:
                break
            time.sleep(min(due - now, 0.005))
        hdr = struct.pack("!BBHII", 0x80, (0x80 if i == 0 else 0) | 0, (seq + i) & 0xFFFF,
                          (ts + 160 * i) & 0xFFFFFFFF, ssrc)
        try:
            s.sendto(hdr + payload, a.to)
            sent += 1
        except ConnectionRefusedError:
            errors += 1
    end = time.monotonic() + a.linger
    while time.monotonic() < end:
        drain()
        time.sleep(0.01)
    drain()
    if a.report:
        tmp = a.report + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"call_id": a.call_id, "bind": "%s:%d" % a.bind, "to": "%s:%d" % a.to,
                       "sent": sent, "received": received, "errors": errors}, f)
        os.rename(tmp, a.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
