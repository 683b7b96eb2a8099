#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Small GStreamer RTSP server for the integration tests and the capture corpus
(tests/captures/make-captures.sh); run with Debian's /usr/bin/python3.

    rtsp_server.py --address VIP --port 554 --media video|av \
                   --rtp-ports 31000-31099 --lifetime 20 [--mount /test] [--name node1]
                   [--clip FILE.mkv]

Serves rtsp://ADDRESS:PORT/MOUNT. Media sockets are bound to ADDRESS through a unicast
RTSPAddressPool (so RTP/RTCP leaves from the VIP, from a known port range: give each node its
own range and captures tell the nodes apart). The H.264 stream is constrained baseline so that
openh264dec (gstreamer1.0-plugins-bad) can decode it as well as avdec_h264. The video is
encoded once, before serving, into a Matroska clip (--clip, made if missing; 2 minutes) and
every client is served from that file in real time: five live x264 encodes beside the
decoders, SIPp and sarad starved a 2-core machine (issue 14). Prints
"rtsp_server: listening on ..." when ready and exits by itself after --lifetime seconds.
"""
import argparse
import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

# Small picture and low bitrate keep the captures small (a few hundred kB at most).
CLIP_FRAMES = 15 * 120
ENCODE = ("videotestsrc num-buffers=%d ! video/x-raw,width=160,height=120,framerate=15/1 ! "
          "x264enc tune=zerolatency speed-preset=ultrafast bitrate=150 key-int-max=15 ! "
          "video/x-h264,profile=constrained-baseline ! h264parse ! matroskamux ! filesink location=%s")
VIDEO = ("filesrc location=%s ! matroskademux ! h264parse ! "
         "rtph264pay name=pay0 pt=96 config-interval=1")
AUDIO = ("audiotestsrc is-live=true wave=sine samplesperbuffer=160 ! "
         "audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay name=pay1 pt=0")


def make_clip(path):
    """Encodes the video clip to `path` (through a temporary file, so a concurrent server
    never serves half a clip)."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    pipeline = Gst.parse_launch(ENCODE % (CLIP_FRAMES, tmp))
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(60 * Gst.SECOND,
                                                Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if msg is None or msg.type != Gst.MessageType.EOS:
        raise RuntimeError("rtsp_server: encoding the clip failed: %s"
                           % (msg.parse_error()[0].message if msg else "timeout"))
    os.rename(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", required=True)
    ap.add_argument("--port", type=int, default=554)
    ap.add_argument("--media", choices=["video", "av"], default="video")
    ap.add_argument("--rtp-ports", default="30000-30099")
    ap.add_argument("--lifetime", type=float, default=20.0)
    ap.add_argument("--mount", default="/test")
    ap.add_argument("--name", default="", help="shown in the log only")
    ap.add_argument("--clip", default="/tmp/sara-rtsp-clip-160x120-15fps.mkv",
                    help="the pre-encoded video (made if missing)")
    a = ap.parse_args()

    Gst.init(None)
    if not os.path.exists(a.clip):
        make_clip(a.clip)
    server = GstRtspServer.RTSPServer()
    server.set_address(a.address)
    server.set_service(str(a.port))

    lo, hi = (int(x) for x in a.rtp_ports.split("-"))
    pool = GstRtspServer.RTSPAddressPool()
    if not pool.add_range(a.address, a.address, lo, hi, 0):
        print("rtsp_server: cannot add address range", file=sys.stderr)
        return 2

    factory = GstRtspServer.RTSPMediaFactory()
    video = VIDEO % a.clip
    launch = video if a.media == "video" else video + " " + AUDIO
    factory.set_launch("( " + launch + " )")
    factory.set_shared(False)
    factory.set_address_pool(pool)
    server.get_mount_points().add_factory(a.mount, factory)

    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        print("rtsp_server: cannot listen on %s:%d" % (a.address, a.port), file=sys.stderr)
        return 2
    GLib.timeout_add(int(a.lifetime * 1000), loop.quit)
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print("rtsp_server: %s listening on rtsp://%s:%d%s (%s, media ports %s)"
          % (a.name, a.address, a.port, a.mount, a.media, a.rtp_ports), flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
