#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""One RTP sender for every call of a SIPp UAC (uac_media.xml tells it about each call).

    rtp_sender.py --fifo PATH --report-dir DIR [--packets 50] [--interval 0.02] [--linger 1.0]

Reads lines "LOCAL_ADDR LOCAL_PORT REMOTE_ADDR REMOTE_PORT CALL_ID" from the FIFO (the
scenario's <exec> appends one per answered call: a /bin/sh echo, about a millisecond, where
an interpreter per call cost ~30 ms of CPU each and, on a busy 2-core machine, delayed SIPp
past its retransmission timers — issue 14). For each call it binds LOCAL_ADDR:LOCAL_PORT,
sends --packets PCMU packets 20 ms apart to REMOTE, counts the packets echoed back (SIPp's
-rtp_echo, through the gateway), and --linger seconds after its last packet writes
DIR/rtp-LOCAL_PORT-N.json (N: the call's number, so calls that reuse a port each have theirs)
{"call_id", "bind", "to", "sent", "received", "errors"}.
A line "END" means no more calls: it exits once the calls it has are done. It never runs
longer than the `timeout` it is started under.
"""
import argparse
import heapq
import json
import os
import random
import selectors
import socket
import struct
import sys
import time

PAYLOAD = b"\xff" * 160            # 20 ms of PCMU silence


class Call:
    def __init__(self, bind, to, call_id, packets):
        self.bind, self.to, self.call_id, self.packets = bind, to, call_id, packets
        self.sent = self.received = self.errors = 0
        self.ssrc = random.getrandbits(32)
        self.seq = random.getrandbits(16)
        self.ts = random.getrandbits(32)
        family = socket.AF_INET6 if ":" in bind[0] else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(bind)
        self.sock.setblocking(False)

    def send_next(self):
        i = self.sent + self.errors
        hdr = struct.pack("!BBHII", 0x80, 0x80 if i == 0 else 0, (self.seq + i) & 0xFFFF,
                          (self.ts + 160 * i) & 0xFFFFFFFF, self.ssrc)
        try:
            self.sock.sendto(hdr + PAYLOAD, self.to)
            self.sent += 1
        except (ConnectionRefusedError, BlockingIOError):
            self.errors += 1          # ICMP port unreachable for an earlier packet, or full

    def drain(self):
        while True:
            try:
                self.sock.recv(2048)
                self.received += 1
            except BlockingIOError:
                return
            except ConnectionRefusedError:
                self.errors += 1

    def report(self, report_dir, number):
        path = os.path.join(report_dir, "rtp-%d-%d.json" % (self.bind[1], number))
        with open(path + ".tmp", "w") as f:
            json.dump({"call_id": self.call_id, "bind": "%s:%d" % self.bind,
                       "to": "%s:%d" % self.to, "sent": self.sent, "received": self.received,
                       "errors": self.errors, "ssrc": self.ssrc}, f)
        os.rename(path + ".tmp", path)


def parse_line(line):
    """(bind, to, call_id) from one FIFO line, or None if it is not one."""
    parts = line.split()
    if len(parts) != 5:
        return None
    try:
        # IPv6 addresses may come bracketed ([2001:db8::1]) from SIPp's keywords.
        return (parts[0].strip("[]"), int(parts[1])), (parts[2].strip("[]"), int(parts[3])), parts[4]
    except ValueError:
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fifo", required=True)
    ap.add_argument("--report-dir", required=True)
    ap.add_argument("--packets", type=int, default=50)
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("--linger", type=float, default=1.0)
    a = ap.parse_args()

    # Opened read-write so that the FIFO never reports end-of-file between two writers.
    fifo = os.open(a.fifo, os.O_RDWR | os.O_NONBLOCK)
    sel = selectors.DefaultSelector()
    sel.register(fifo, selectors.EVENT_READ, None)
    timers = []            # (due, seq, call, what): what = "send" | "done"
    order = 0
    pending = b""
    ended = False
    live = 0
    calls_seen = 0
    print("rtp_sender: ready", flush=True)
    while not (ended and live == 0):
        now = time.monotonic()
        while timers and timers[0][0] <= now:
            _, _, call, what = heapq.heappop(timers)
            if what == "send":
                call.send_next()
                if call.sent + call.errors < call.packets:
                    due = call.start + (call.sent + call.errors) * a.interval
                    heapq.heappush(timers, (due, order, call, "send"))
                else:
                    heapq.heappush(timers, (now + a.linger, order, call, "done"))
            else:
                call.drain()
                sel.unregister(call.sock)
                call.sock.close()
                call.report(a.report_dir, call.number)
                live -= 1
            order += 1
        wait = max(0.0, timers[0][0] - time.monotonic()) if timers else 0.5
        for key, _ in sel.select(wait):
            if key.data is not None:
                key.data.drain()
                continue
            pending += os.read(fifo, 65536)
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                line = raw.decode(errors="replace").strip()
                if line == "END":
                    ended = True
                    continue
                parsed = parse_line(line)
                if parsed is None:
                    print("rtp_sender: ignored line %r" % line, flush=True)
                    continue
                try:
                    call = Call(*parsed, a.packets)
                except OSError as e:
                    print("rtp_sender: cannot bind %s:%d: %s" % (*parsed[0], e), flush=True)
                    continue
                call.start = time.monotonic()
                call.number = calls_seen
                calls_seen += 1
                sel.register(call.sock, selectors.EVENT_READ, call)
                heapq.heappush(timers, (call.start, order, call, "send"))
                order += 1
                live += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
