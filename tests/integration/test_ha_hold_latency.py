# SPDX-License-Identifier: GPL-2.0-or-later
"""What holding new sessions' verdicts costs (issue 20, item 1): the time an INVITE spends in
the master, from its client-side interface (eth0) to its LAN side (eth1), with the backup
acknowledging the bindings (sync.hold_timeout 50ms, shipped) and without holding (0s), 60
calls at 20/s each. Printed as p50/p99; the held run must have every held verdict released
by the backup's ack or the timeout, and no INVITE may wait as long as SIP's T1.

Run as root: SARA_STRICT=1 /usr/bin/python3 -m pytest -q -s tests/integration/test_ha_hold_latency.py
"""
import re

import pytest

import datapath
import peers
from sarad_pair import SaradPair
from topology import VIP

pytestmark = datapath.SARAD_MARKS

CALLS = 60


def invite_times(pcap) -> dict:
    """{Call-ID: first time an INVITE of it was seen}."""
    out = {}
    for ts, _, _, dst, dport, payload in datapath.iter_udp(pcap):
        if dst == VIP and dport == 5060 and payload.startswith(b"INVITE "):
            m = re.search(rb"Call-ID: *([^\r\n]+)", payload)
            if m:
                out.setdefault(m.group(1), ts)
    return out


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


@pytest.mark.parametrize("hold", ["50ms", "0s"])
@pytest.mark.cluster(dispatcher="none", dispatchers=2)
def test_held_new_session_latency(cluster, hold):
    datapath.start_sip_servers(cluster, transports=("udp",), lifetime=120)
    pair = SaradPair(cluster, sync_overrides={"hold_timeout": hold}).start()
    pair.set_role(1, "master")
    pair.route_client_to(1)
    master = cluster.dispatchers[0]
    bpf = ["udp", "and", "dst", "host", VIP, "and", "dst", "port", "5060"]
    caps = [peers.start_capture(cluster, master, ifname, cluster.workdir / ("hold-%s.pcap" % ifname), bpf=bpf)
            for ifname in ("eth0", "eth1")]
    # the backup acknowledges every update: the master holds from its first ack on
    assert pair.wait(lambda: pair.stats(1)["sync_acks_received_total"] > 0 or hold == "0s", timeout=3)
    # Whether each call completes is the failover tests' subject (and SIPp stalls on a loaded
    # host with or without holding); here: every INVITE that came in went out, and when.
    r = datapath.uac_result(peers.start_sip_uac(cluster, calls=CALLS, rate=20, transport="u1", media_packets=5,
                                                scenario=datapath.uac_scenario(cluster)))
    ingress, egress = (invite_times(c.stop()) for c in caps)
    latency_ms = [(egress[k] - ingress[k]) * 1000 for k in ingress if k in egress]
    assert len(ingress) == CALLS and len(latency_ms) == CALLS, (len(ingress), len(egress), r.summary())
    stats = {k: 0 for k in ("sync_verdicts_held_total", "sync_verdicts_released_acked_total",
                            "sync_verdicts_released_late_total", "sync_verdicts_unheld_total")}
    stats.update(pair.stats(1))  # no held-verdict counters without holding
    print("hold_timeout %s: INVITE through the master p50 %.2f ms, p99 %.2f ms, max %.2f ms; held %d, "
          "released by ack %d, late %d, unheld %d"
          % (hold, percentile(latency_ms, 50), percentile(latency_ms, 99), max(latency_ms),
             stats["sync_verdicts_held_total"], stats["sync_verdicts_released_acked_total"],
             stats["sync_verdicts_released_late_total"], stats["sync_verdicts_unheld_total"]))
    if hold == "0s":
        assert stats["sync_verdicts_held_total"] == 0
        return
    assert stats["sync_verdicts_held_total"] + stats["sync_verdicts_unheld_total"] == CALLS, stats
    assert stats["sync_verdicts_held_total"] == (stats["sync_verdicts_released_acked_total"]
                                                 + stats["sync_verdicts_released_late_total"]), stats
    # Held at most the timeout plus the host's scheduling delay (the queue threads and the sync
    # thread both release what waited too long; on the shared 2-core host stalls of 100-300 ms
    # were seen). The user-visible line: never as long as SIP's T1 (500 ms), after which the
    # client would retransmit the INVITE.
    assert max(latency_ms) < 500, sorted(latency_ms)[-5:]
