# SPDX-License-Identifier: GPL-2.0-or-later
"""The HA role from present evidence (issue 20), with the real keepalived and two sarads:

- sarad alone crashes on the master: keepalived still holds the floating address and the
  keepalived that said MASTER still runs, so the restarted sarad is master at once;
- the whole box crashes (keepalived and sarad SIGKILLed; the floating address stays on the
  dead box's interface, its role file says master) and returns: the returning dispatcher is
  never MASTER — neither its sarad nor its keepalived — until it holds a snapshot taken since
  it started; then a second failover loses nothing;
- the role follows the floating address at once (sarad watches it over rtnetlink): new
  sessions are forwarded by the new master within 1 s of the old one's death, idle and with
  one core kept busy.

Run as root: SARA_STRICT=1 /usr/bin/python3 -m pytest -q -s tests/integration/test_ha_role.py
"""
import signal
import subprocess
import time

import pytest

import datapath
import ha
import peers
from test_ha_failover import Pair, batch, start_pair_and_servers
from topology import CLIENT_ADDR, PYTHON, VIP

pytestmark = datapath.SARAD_MARKS


@pytest.mark.cluster(dispatcher="none", dispatchers=2)
def test_sarad_alone_crashed_on_the_master_is_master_again_at_once(cluster, sip_servers):
    pair = Pair(cluster).start()
    assert pair.master() == 1
    pair.sarads.procs[1].signal_command(signal.SIGKILL)
    pair.sarads.procs[1].wait(5)
    t0 = time.monotonic()
    pair.sarads.start_one(1)
    restart_s = time.monotonic() - t0
    role = pair.sarads.request(1, "role")
    print("sarad restarted in %.3f s: %s" % (restart_s, role))
    # keepalived's check (every 1 s, fall 2) may have missed sarad once, never twice
    assert role["role"] == "master" and role["floating_address_held"], pair.sarads.output(1)[-2000:]
    assert "role backup -> master (at start:" in pair.sarads.output(1)
    r = peers.run_sip_uac(cluster, calls=10, rate=10, transport="u1", media_packets=5)
    assert r.ok and r.rtp_ok, r.summary()
    assert ha.holders(cluster) == [1]
    assert pair.sarads.stats(1)["pipeline_standby_dropped_total"] == 0


class Watch:
    """Polls the returning dispatcher: sarad's role, readiness and applied snapshots, and
    keepalived's states, every `interval` until `until()` or `timeout`."""

    def __init__(self, pair, index):
        self.pair, self.index, self.samples = pair, index, []

    def sample(self):
        s = self.pair.sarads
        role = s.request(self.index, "role")
        applied = s.stats(self.index)["sync_snapshots_applied_total"]
        self.samples.append((time.monotonic(), role["role"], role["ready"], applied))
        return role

    def premature(self):
        """Samples where it was master, or ready before any snapshot arrived."""
        return [x for x in self.samples if x[1] == "master" or (x[2] and x[3] == 0)]


@pytest.mark.cluster(dispatcher="none", dispatchers=2)
def test_whole_box_crash_returns_out_of_master_until_resynced(cluster):
    pair = start_pair_and_servers(cluster, lifetime=300)
    assert pair.master() == 1
    # calls in the table when the box dies, so the returning one has something to miss
    uac = peers.start_sip_uac(cluster, calls=20, rate=20, transport="u1", media_packets=150)
    time.sleep(1.5)
    pair.fail("crash", 1)
    assert pair.sarads.wait(lambda: pair.sarads.request(2, "role")["role"] == "master", timeout=5)
    pair.sarads.procs[1].wait(5)
    r = datapath.uac_result(uac)
    assert r.ok, r.summary()
    # What made the stale evidence tempting: the dead keepalived's address is still up and
    # its role file says master.
    assert ha.has_floating(cluster, 1)
    assert (cluster.workdir / "vrrp1" / "vrrp.state").read_text().startswith("master ")

    pair.sarads.start_one(1)
    watch = Watch(pair, 1)
    first = watch.sample()
    assert "ha: starting as backup" in pair.sarads.output(1), pair.sarads.output(1)[-2000:]
    assert first["role"] == "backup", first
    pair.start_vrrp(1)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        role = watch.sample()
        if role["ready"] and role["role"] == "backup" and "BACKUP" in pair.vrrp[1].states():
            break
        time.sleep(0.02)
    states = pair.vrrp[1].states()
    print("returning dispatcher: %d samples, keepalived states %s, first ready %.3f s after start"
          % (len(watch.samples), states,
             next((t for t, _, ready, _ in watch.samples if ready), float("nan")) - watch.samples[0][0]))
    assert not watch.premature(), watch.premature()
    assert "MASTER" not in states and states[-1] == "BACKUP", states
    assert ha.holders(cluster) == [2]

    # the second failover, now to the returned dispatcher: nothing lost (the calls of
    # test_ha_timed_kill's batches, 3 s of new calls with the crash 2 s in, and two streams)
    m = batch(cluster, pair, lambda: pair.fail("crash", 2), label="second-failover", calls=60, rate=20,
              action_at=2.0, rtsp=[("ffmpeg", "udp"), ("gst", "tcp")])
    assert m["lost"] == {"calls": 0, "streams": 0}
    assert pair.sarads.request(1, "role")["role"] == "master"


# New sessions: a fresh INVITE (its own Call-ID) every 10 ms from the client to the VIP; the
# first one the new master forwards to a node after the kill is when it took new sessions.
_INVITES = r"""
import socket, sys, time
vip, src, interval, duration = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
port = s.getsockname()[1]
t0, n = time.monotonic(), 0
while n * interval <= duration:
    delay = t0 + n * interval - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    msg = ("INVITE sip:probe@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%d\r\n"
           "From: <sip:p@%s>;tag=%d\r\nTo: <sip:probe@%s>\r\nCall-ID: takeover-probe-%d\r\n"
           "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
           % (vip, src, port, n, src, n, vip, n))
    try:
        s.sendto(msg.encode(), (vip, 5060))
    except OSError:
        pass
    n += 1
print("sent %d" % n, flush=True)
"""


def forwarded_invites(pcap) -> list:
    return sorted(ts for ts, _, _, dst, dport, payload in datapath.iter_udp(pcap)
                  if dst == VIP and dport == 5060 and payload.startswith(b"INVITE ")
                  and b"takeover-probe-" in payload)


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "one-core-busy"])
@pytest.mark.cluster(dispatcher="none", dispatchers=2)
def test_new_master_takes_new_sessions_within_a_second(cluster, busy):
    pair = Pair(cluster).start()
    old, new = 1, 2
    cap = peers.start_capture(cluster, cluster.dispatchers[new - 1], "eth1",
                              cluster.workdir / "takeover-d2.pcap",
                              bpf=["udp", "and", "dst", "host", VIP, "and", "dst", "port", "5060"])
    hog = None
    if busy:
        # bounded in time, stopped by its PID below
        hog = subprocess.Popen(["timeout", "60", "sh", "-c", "while :; do :; done"])
    try:
        sender = cluster.spawn(cluster.client, [PYTHON, "-c", _INVITES, VIP, CLIENT_ADDR, 0.01, 3.5],
                               name="invites", timeout=15)
        time.sleep(1.0)
        t = ha.measure_takeover(cluster, new, lambda: pair.fail("crash", old))
        sender.wait(10)
    finally:
        if hog:
            hog.terminate()
            hog.wait(5)
    pcap = cap.stop()
    after = [ts for ts in forwarded_invites(pcap) if ts > t.t_action_epoch]
    assert after, (str(t), pair.sarads.output(new)[-2000:])
    accepted_s = after[0] - t.t_action_epoch
    role_line = [line for line in pair.sarads.output(new).splitlines() if "-> master" in line]
    print("%s: kill -> floating address %s, -> first new session forwarded %.3f s "
          "(address -> forwarding %.3f s); %s"
          % ("one core busy" if busy else "idle", "%.3f s" % t.address_s if t.address_s is not None else "never",
             accepted_s, accepted_s - (t.address_s or 0), role_line[-1:] or "no role line"))
    assert t.address_s is not None, str(t)
    assert accepted_s < 1.0, (accepted_s, str(t))
    assert pair.sarads.request(new, "role")["role"] == "master"
