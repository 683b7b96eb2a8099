#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""An RTSP client that reconnects: DESCRIBE and SETUP on one TCP connection, which it then
closes, and PLAY (with its Session) on a new one — as a client does after a network change
or a control-connection timeout. Receives the RTP on its UDP ports for --seconds, then
TEARDOWN on the second connection.

    rtsp_reconnect.py --url rtsp://VIP:554/test --client-port 26000 [--seconds 2]

Prints one JSON document: the status of each request, the Session, the two connections'
local ports, the RTP packets received. (GStreamer's RTSP server drops a session's media when
the connection that set it up closes, so it answers this PLAY 404 even on the right node;
servers that keep sessions apart from connections, such as live555's, play it.)
"""
import argparse
import json
import re
import socket
import sys
import time
from urllib.parse import urlparse


def request(sock, method, url, cseq, headers=()):
    text = "%s %s RTSP/1.0\r\nCSeq: %d\r\n%s\r\n" % (method, url, cseq, "".join(h + "\r\n" for h in headers))
    sock.sendall(text.encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"Content-Length:\s*(\d+)", head, re.I)
    while m and len(body) < int(m.group(1)):
        body += sock.recv(65536)
    lines = head.decode(errors="replace").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    fields = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
    return status, fields, body.decode(errors="replace")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--client-port", type=int, default=26000)
    ap.add_argument("--seconds", type=float, default=2.0)
    a = ap.parse_args()
    u = urlparse(a.url)
    server = (u.hostname, u.port or 554)
    out = {"steps": []}
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("0.0.0.0", a.client_port))
    rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtcp.bind(("0.0.0.0", a.client_port + 1))

    first = socket.create_connection(server, timeout=5)
    status, _, sdp = request(first, "DESCRIBE", a.url, 1, ["Accept: application/sdp"])
    out["steps"].append({"DESCRIBE": status})
    control = re.search(r"a=control:(\S+)", sdp.split("m=", 1)[-1]) if "m=" in sdp else None
    track = control.group(1) if control else ""
    track_url = track if track.startswith("rtsp://") else a.url.rstrip("/") + "/" + track
    status, fields, _ = request(first, "SETUP", track_url, 2,
                                ["Transport: RTP/AVP;unicast;client_port=%d-%d" % (a.client_port, a.client_port + 1)])
    session = fields.get("session", "").split(";")[0]
    out["steps"].append({"SETUP": status})
    out["session"] = session
    out["ports"] = [first.getsockname()[1]]
    first.close()
    time.sleep(0.2)

    second = socket.create_connection(server, timeout=5)
    out["ports"].append(second.getsockname()[1])
    status, _, _ = request(second, "PLAY", a.url, 3, ["Session: " + session])
    out["steps"].append({"PLAY": status})
    rtp.settimeout(0.2)
    packets = 0
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        try:
            rtp.recv(65536)
            packets += 1
        except socket.timeout:
            pass
    out["rtp_packets"] = packets
    status, _, _ = request(second, "TEARDOWN", a.url, 4, ["Session: " + session])
    out["steps"].append({"TEARDOWN": status})
    second.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
