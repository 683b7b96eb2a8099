#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The real overload run of issue 5: SIPp calls at a multiple of the cluster's capacity through
sarad, with SA2C on and off, side by side. Run as root (make overload):

    /usr/bin/python3 tests/overload/run.py [--offered 2.0] [--capacity 10] [--media 4] [--duration 40]

Each node's capacity is `capacity` concurrent calls, made physical: the node's egress (its RTP
echo and SIP replies) is shaped with tbf to what `capacity` calls need (+5 % for SIP), so a node with
more calls loses echoed RTP for all of them. Its load, reported to sarad with the cluster key
every 200 ms, is active calls / capacity (call_load_reporter.py, counting the RTP sources it
receives). A call is *completed* when SIPp completed it and at least 90 % of its RTP came back;
an admitted call with less is a *failed established* call; a refused call got sarad's 503.

Offered calls/s = offered × 3 × capacity / (media + 0.4 s) (the call's holding time). The run is
bounded: every process lives in the run's namespaces under `timeout`, and the namespaces are
removed at the end, also on failure.
"""
import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

import agents      # noqa: E402
import datapath    # noqa: E402
import peers       # noqa: E402
import topology    # noqa: E402

RTP_BITS_PER_S = (160 + 12 + 8 + 20 + 14) * 8 * 50   # one PCMU call's RTP at 20 ms, with headers


def run_mode(mode: str, a, workdir: Path) -> dict:
    hold_s = a.media + 0.4
    capacity_per_s = 3 * a.capacity / hold_s
    rate = a.offered * capacity_per_s
    calls = int(round(rate * a.duration))
    shutil.rmtree(workdir / mode, ignore_errors=True)     # the previous run's logs
    with topology.Cluster("none", workdir=workdir / mode) as c:
        key = agents.write_key(c)
        config = agents.health_overrides(c, key)
        config.update(admission={"enabled": mode == "sa2c"}, scheduler={"algorithm": "shell"})
        c.start_sarad(**config)
        peers.start_sip_servers(c, ("udp",), lifetime=a.duration + a.media + 60)
        for n in c.nodes:
            kbit = int(a.capacity * RTP_BITS_PER_S * 1.05 / 1000)   # + 5 %: SIP
            n.ns.run("tc", "qdisc", "replace", "dev", n.ifname, "root", "tbf", "rate", "%dkbit" % kbit,
                     "burst", "6kb", "latency", "60ms")
            c.spawn(n.ns, [topology.PYTHON, str(HERE / "call_load_reporter.py"), "--key", str(key),
                           "--host", str(n.id), "--to", agents.health_listen(), "--ifname", n.ifname,
                           "--media", "%s:%d" % (topology.VIP, n.sip_udp_media_port),
                           "--capacity", str(a.capacity), "--duration", str(a.duration + a.media + 50)],
                    name="reporter-%s" % n.name, timeout=a.duration + a.media + 60)
        if not agents.wait_states(c, {n.id: "up" for n in c.nodes}, 5):
            raise RuntimeError("nodes not up: %s" % agents.node_states(c))
        t0 = time.monotonic()
        uac = peers.start_sip_uac(c, calls=calls, rate=rate, transport="u1",
                                  media_packets=int(a.media * 50), timeout=a.duration + a.media + 40,
                                  extra_args=["-l", str(calls)])
        samples = []
        while uac.proc.running() and time.monotonic() - t0 < a.duration + a.media + 40:
            s = datapath.sarad_stats(c)
            samples.append({k: s.get(k) for k in ("admission_m", "admission_measured", "admission_p_new",
                                                   "admission_p_established",
                                                   "admission_t2", "admission_t3")})
            time.sleep(0.5)
        r = uac.result()
        stats = datapath.sarad_stats(c)
    good = [x for x in r.rtp.values() if x["sent"] > 0 and x["received"] >= 0.9 * x["sent"]]
    # Steady state: calls offered after a warm-up of two holding times (the cluster fills) and
    # at least one holding time before the end (it drains); call k starts at k / rate and uses
    # client RTP port base + 2k (peers.start_sip_uac).
    base = min(uac.ports)
    lo, hi = int(2 * hold_s * rate), int((a.duration - hold_s) * rate)
    steady = {p: x for p, x in r.rtp.items() if lo <= (p - base) // 2 < hi}
    steady_good = [x for x in steady.values() if x["sent"] > 0 and x["received"] >= 0.9 * x["sent"]]
    steady_s = max(1e-9, (hi - lo) / rate)
    degraded = [x for x in r.rtp.values() if not (x["sent"] > 0 and x["received"] >= 0.9 * x["sent"])]
    peak_p_est = max((s["admission_p_established"] or 0) for s in samples) if samples else 0
    return {
        "mode": mode, "offered": a.offered, "capacity_calls": 3 * a.capacity,
        "capacity_per_s": round(capacity_per_s, 3), "offered_per_s": round(rate, 3), "calls": calls,
        "sipp_successful": r.successful, "sipp_failed": r.failed,
        "admitted": len(r.rtp), "completed": len(good), "failed_established": len(degraded),
        "refused_503": stats.get("refusals_sip_503_sent_total", 0),
        "completed_per_s": round(len(good) / a.duration, 3),
        "completed_per_s_over_capacity": round(len(good) / a.duration / capacity_per_s, 3),
        "steady_offered": max(0, hi - lo), "steady_admitted": len(steady), "steady_completed": len(steady_good),
        "steady_completed_per_s": round(len(steady_good) / steady_s, 3),
        "steady_completed_per_s_over_capacity": round(len(steady_good) / steady_s / capacity_per_s, 3),
        "peak_p_established": peak_p_est,
        "degraded_drops_queued": stats.get("pipeline_degraded_dropped_total", 0),
        "samples": samples,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--offered", type=float, default=2.0)
    ap.add_argument("--capacity", type=int, default=10, help="concurrent calls per node")
    ap.add_argument("--media", type=float, default=4.0, help="seconds of RTP per call")
    ap.add_argument("--duration", type=float, default=40.0, help="seconds of offered calls, at most 120")
    ap.add_argument("--modes", default="sa2c,off")
    ap.add_argument("--out", default=str(topology.ROOT / "build" / "overload"))
    a = ap.parse_args()
    a.duration = min(a.duration, 120)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    topology.cleanup_stale()
    results = [run_mode(m, a, out) for m in a.modes.split(",")]
    (out / "result.json").write_text(json.dumps(results, indent=1) + "\n")
    keys = ["offered_per_s", "capacity_per_s", "calls", "admitted", "refused_503", "completed",
            "failed_established", "completed_per_s", "completed_per_s_over_capacity", "steady_offered",
            "steady_admitted", "steady_completed", "steady_completed_per_s", "steady_completed_per_s_over_capacity",
            "peak_p_established"]
    print("%-32s" % "" + "".join("%14s" % r["mode"] for r in results))
    for k in keys:
        print("%-32s" % k + "".join("%14s" % r[k] for r in results))
    print("written: %s" % (out / "result.json"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
