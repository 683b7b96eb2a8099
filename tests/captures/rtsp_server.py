#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Small GStreamer RTSP server for the capture corpus (run with Debian's /usr/bin/python3).

    rtsp_server.py --address VIP --port 554 --media video|av \
                   --rtp-ports 30000-30099 --lifetime 20

Serves rtsp://ADDRESS:PORT/test. Media sockets are bound to ADDRESS through a unicast
RTSPAddressPool (so RTP/RTCP leaves from the VIP, from a known port range). The process exits
by itself after --lifetime seconds.
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

# Small picture and low bitrate keep the captures small (a few hundred kB at most).
VIDEO = ("videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=15/1 ! "
         "x264enc tune=zerolatency speed-preset=ultrafast bitrate=150 key-int-max=15 ! "
         "rtph264pay name=pay0 pt=96")
AUDIO = ("audiotestsrc is-live=true wave=sine samplesperbuffer=160 ! "
         "audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay name=pay1 pt=0")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", required=True)
    ap.add_argument("--port", type=int, default=554)
    ap.add_argument("--media", choices=["video", "av"], default="video")
    ap.add_argument("--rtp-ports", default="30000-30099")
    ap.add_argument("--lifetime", type=float, default=20.0)
    a = ap.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(a.address)
    server.set_service(str(a.port))

    lo, hi = (int(x) for x in a.rtp_ports.split("-"))
    pool = GstRtspServer.RTSPAddressPool()
    if not pool.add_range(a.address, a.address, lo, hi, 0):
        print("rtsp_server: cannot add address range", file=sys.stderr)
        return 2

    factory = GstRtspServer.RTSPMediaFactory()
    launch = VIDEO if a.media == "video" else VIDEO + " " + AUDIO
    factory.set_launch("( " + launch + " )")
    factory.set_shared(False)
    factory.set_address_pool(pool)
    server.get_mount_points().add_factory("/test", factory)

    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        print("rtsp_server: cannot listen on %s:%d" % (a.address, a.port), file=sys.stderr)
        return 2
    GLib.timeout_add(int(a.lifetime * 1000), loop.quit)
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print("rtsp_server: listening on rtsp://%s:%d/test (%s)" % (a.address, a.port, a.media),
          flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
