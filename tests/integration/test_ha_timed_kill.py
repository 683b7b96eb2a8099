# SPDX-License-Identifier: GPL-2.0-or-later
"""No replication window (issue 20, item 1), with the real keepalived and two sarads: the
master's whole box is killed (keepalived and sarad, SIGKILL) 5 ms after it forwarded a new
INVITE to a node, five times in a run, during calls with RTP. Every call must complete at
both ends with all its SIP and RTP on one node, judged at the nodes (captures): a call the
backup did not know would be scheduled anew after the takeover, its later packets landing on
another node (a BYE answered by the wrong node hides the loss from the caller).

The kill is timed from the master itself: a watcher in its namespace reads its LAN side
(AF_PACKET, outgoing) and, on the first INVITE it sees leave towards a node, waits 5 ms
(busy-waiting: a sleep on a loaded host overshoots) and kills both process groups.

Run as root: SARA_STRICT=1 /usr/bin/python3 -m pytest -q -s tests/integration/test_ha_timed_kill.py
"""
import json

import pytest

import datapath
from test_ha_failover import batch, start_pair_and_servers
from topology import PYTHON, VIP

pytestmark = datapath.SARAD_MARKS

KILLS = 5
DELAY_S = 0.005

_WATCHER = r"""
import json, os, re, signal, socket, struct, sys, time
ifname, vip, delay, limit = sys.argv[1], socket.inet_aton(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
pgid, pid = int(sys.argv[5]), int(sys.argv[6])
# ETH_P_ALL: the kernel shows outgoing frames only to taps of every protocol
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((ifname, 0))
s.settimeout(0.2)
print("armed", flush=True)
end = time.monotonic() + limit
while time.monotonic() < end:
    try:
        frame, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    ip = frame[14:]
    if addr[2] != socket.PACKET_OUTGOING or frame[12:14] != b"\x08\x00" or len(ip) < 28 or ip[9] != 17 or ip[16:20] != vip:
        continue
    ihl = (ip[0] & 15) * 4
    if struct.unpack("!H", ip[ihl + 2:ihl + 4])[0] != 5060 or not ip[ihl + 8:].startswith(b"INVITE "):
        continue
    t_seen = time.time()
    target = time.monotonic() + delay
    while time.monotonic() < target:
        pass
    for kill in (lambda: os.killpg(pgid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            kill()
        except ProcessLookupError:
            pass
    t_kill = time.time()
    call = re.search(rb"Call-ID: *([^\r\n]+)", ip[ihl + 8:])
    print(json.dumps({"fired": True, "seen": t_seen, "killed": t_kill,
                      "call_id": call.group(1).decode() if call else None}), flush=True)
    sys.exit(0)
print(json.dumps({"fired": False}), flush=True)
"""


def arm_and_wait(cluster, pair, index: int) -> dict:
    """Starts the watcher in dispatcher `index` and waits until it has killed the box."""
    ns = cluster.dispatchers[index - 1]
    watcher = cluster.spawn(ns, [PYTHON, "-c", _WATCHER, "eth1", VIP, DELAY_S, 4,
                                 pair.vrrp[index].proc.pid, pair.sarads.procs[index].command_pid()],
                            name="kill-watcher-%d" % index, timeout=10)
    assert watcher.wait_for_output(r"^armed", 5), watcher.output()
    watcher.wait(8)
    line = [x for x in watcher.output().splitlines() if x.startswith("{")]
    assert line, watcher.output()
    fired = json.loads(line[-1])
    assert fired["fired"], ("no INVITE left dispatcher %d while armed" % index, pair.sarads.request(index, "role"))
    return fired


@pytest.mark.cluster(dispatcher="none", dispatchers=2)
def test_kills_5_ms_after_a_new_invite_lose_no_call(cluster):
    pair = start_pair_and_servers(cluster, lifetime=300)
    report = []
    for n in range(1, KILLS + 1):
        old = pair.master()
        new = 3 - old
        fired = {}
        # 60 calls at 20/s: INVITEs still leave when the watcher is armed (0.5 s in, after the
        # replica check, which may wait up to 2 s on a busy host).
        m = batch(cluster, pair, lambda: fired.update(arm_and_wait(cluster, pair, old)),
                  label="timed-kill%d" % n, calls=60, rate=20, action_at=0.5, rtsp=())
        assert pair.sarads.wait(lambda: pair.sarads.request(new, "role")["role"] == "master", timeout=5)
        stats = pair.sarads.stats(new)
        report.append("kill %d of dispatcher %d: %.1f ms after INVITE %s left it; calls lost %d"
                      % (n, old, (fired["killed"] - fired["seen"]) * 1000, fired["call_id"], m["lost"]["calls"]))
        print(report[-1])
        assert stats["pipeline_standby_dropped_total"] == 0, stats
        pair.recover("crash", old)
    print("\n".join(report))
