#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A caller that retransmits as a real UA does when answers are slow, to check that a UAS
scenario answers retransmissions (RFC 3261 17.2.1) instead of aborting the call.

    sip_retransmit_probe.py --bind ADDR:PORT --to ADDR:PORT [--call-id ID]

Sends INVITE; once its 200 arrives, waits `--gap` s (past the UAS's first 200
retransmission, 500 ms) and sends the same INVITE again; then ACK, BYE, and the same BYE
again once its 200 came. Prints one JSON document: for each step, the status lines received
and the seconds from the request to the first 200.
"""
import argparse
import json
import socket
import sys
import time


def endpoint(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def request(method, a, cseq, to_tag=""):
    host, port = a.bind
    return ("%s sip:service@%s:%d SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%s-%d\r\n"
            "From: probe <sip:probe@%s:%d>;tag=probe1\r\n"
            "To: service <sip:service@%s:%d>%s\r\n"
            "Call-ID: %s\r\nCSeq: %d %s\r\nContact: <sip:probe@%s:%d>\r\nMax-Forwards: 70\r\n"
            "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s"
            % (method, a.to[0], a.to[1], host, port, a.call_id, cseq, host, port, a.to[0], a.to[1],
               to_tag, a.call_id, cseq, method, host, port, len(a.sdp if method == "INVITE" else ""),
               a.sdp if method == "INVITE" else "")).encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", required=True, type=endpoint)
    ap.add_argument("--to", required=True, type=endpoint)
    ap.add_argument("--call-id", default="retransmit-probe-1")
    ap.add_argument("--gap", type=float, default=0.6)
    a = ap.parse_args()
    a.sdp = ("v=0\r\no=probe 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
             "m=audio 40998 RTP/AVP 0\r\n" % (a.bind[0], a.bind[0]))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(a.bind)
    to_tag = ""

    def exchange(name, data, wait):
        nonlocal to_tag
        s.sendto(data, a.to)
        sent = time.monotonic()
        step = {"step": name, "received": [], "first_200_s": None}
        end = sent + wait
        while time.monotonic() < end:
            s.settimeout(max(0.01, end - time.monotonic()))
            try:
                msg = s.recv(65536).decode(errors="replace")
            except socket.timeout:
                break
            status = msg.split("\r\n", 1)[0]
            step["received"].append(status)
            if " 200 " in status and step["first_200_s"] is None:
                step["first_200_s"] = round(time.monotonic() - sent, 3)
                for line in msg.split("\r\n"):
                    if line.lower().startswith("to:") and ";tag=" in line:
                        to_tag = ";tag=" + line.split(";tag=", 1)[1].strip()
        return step

    steps = [exchange("INVITE", request("INVITE", a, 1), 0.1)]
    # Wait for the 200 (the first exchange may have returned before it under load).
    if steps[0]["first_200_s"] is None:
        steps[0] = exchange("INVITE", request("INVITE", a, 1), 3)
    time.sleep(a.gap)
    steps.append(exchange("INVITE retransmission", request("INVITE", a, 1), 0.6))
    s.sendto(request("ACK", a, 1, to_tag), a.to)
    steps.append(exchange("BYE", request("BYE", a, 2, to_tag), 0.4))
    steps.append(exchange("BYE retransmission", request("BYE", a, 2, to_tag), 0.4))
    print(json.dumps(steps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
