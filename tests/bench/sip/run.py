#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""make bench-sip (issues 9 and 16): SARA against Kamailio's dispatcher module, side by side, on
the same machine and the same SIP traffic. Run as root:

    /usr/bin/python3 tests/bench/sip/run.py [--sarad build/sarad] [--loadgen build/sip-loadgen]
                                            [--out build/bench/sip.json] [--ipv6]

One namespace cluster (tests/integration/topology.py: client, dispatcher, gateway, three nodes;
198.18.0.0/15 only), one UAC in the client namespace, a UAS on each node, and in turn
(modes.py): direct (the UAC calls one UAS through a plain router: the generator's own limit),
kamailio (Debian's kamailio as a transaction-stateful round-robin dispatcher proxy with
record-route, installed here if missing), sara (sarad, default config). --ipv6 (make bench-sip
with IP_VERSION=6): the same over IPv6, in a dual-stack cluster (topology ipv6=True): the UAC
calls VIP6 2001:db8:100::10 (kamailio: the dispatcher's 2001:db8:1::1) from 2001:db8:1::2,
sarad's config holds both VIPs, the output goes to sip6.json.

Two generators (--generators), one after the other: first sip-loadgen (tests/loadgen,
loadgen_run.py: a C++ UAC with sendmmsg/recvmmsg and a stateless UAS, issue 16), whose figures
are the results and the targets; then SIPp (sipp_run.py, uac.xml, uas.xml), kept for comparison
with a shorter ramp of its own (--sipp-rates, --sipp-reps, --sipp-refine) in the time left
(--budget; the loadgen ramp stops --sipp-budget s before it).

The call rate ramps (ramp.py): the rates of the list until a rate fails, then --refine
bisection steps between the last rate passed and the first failed. A run places max(--min-calls,
rate x --seconds) zero-length calls, over UDP with one socket (-t u1) and
with a socket per call (-t un). A run succeeds when every call succeeded and the generator placed them
at >= --placed-fraction of the rate (else the rate was not offered); a rate passes for a mode
and socket mode when --reps repetitions in a row succeed. Modes and socket modes alternate run
by run, in an order that rotates, so that the drifts of a shared machine hit all of them alike;
the whole run has a session of its own with nice -20 (in_own_session). Recorded per run:
retransmissions (UAC + UASes), the balancer's CPU seconds per 1000 calls (utime + stime from
/proc/PID/stat of its processes), the whole run's (balancer, SIPps, ksoftirqd: procstat.py),
the calls per node, and what the balancer reports (sarad's counters and queue drops, errors
in Kamailio's log).

Output: a table, per generator the summary, the targets (from sip-loadgen's runs), and the
line `sara N cps, kamailio N cps, direct N cps` (sip-loadgen: the highest rate at which every
call succeeded with both socket modes; SIPp's in brackets); everything in --out (JSON).
Bounded: every process runs under `timeout` in our namespaces, every run has a time limit, the
ramp stops when --budget seconds are used up, and the namespaces are removed at the end, also on
failure or Ctrl-C (topology.Cluster).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "integration"))

import kamailio   # noqa: E402
import loadgen    # noqa: E402
import loadgen_run  # noqa: E402
import modes      # noqa: E402
import procstat   # noqa: E402
import perf_profile  # noqa: E402
import ramp       # noqa: E402
import report     # noqa: E402
import sipp_run   # noqa: E402
import topology   # noqa: E402

UAS_SETTLE = 0.3         # s for the UASes to write a statistics row after the UAC is done
GENERATOR_TITLES = {"loadgen": "sip-loadgen (the results)", "sipp": "SIPp (for comparison)"}
RUN_OVERHEAD = 6.0       # s a run costs besides placing and draining its calls (budget check)


GENERATORS = {"loadgen": loadgen_run, "sipp": sipp_run}


def run_point(gen, c, mode, transport, rate, calls, rep, index, work: Path, drain: float) -> dict:
    """One run: `gen` (loadgen_run or sipp_run) places `calls` calls at `rate` through `mode`."""
    gen_name = "sipp" if gen is sipp_run else "loadgen"
    run_dir = work / ("%03d-%s-%s-%s-%d-%d" % (index, gen_name, mode.name, transport, rate, rep))
    run_dir.mkdir(parents=True)
    t0 = time.monotonic()
    servers = []
    mode.start(run_dir)
    try:
        lifetime = calls / rate + drain + 60
        servers = [gen.start_uas(c, n, mode.uas_address(n), run_dir, lifetime) for n in mode.nodes]
        gen.wait_uas(c, servers, mode.uas_address)
        pids = mode.balancer_pids()
        soft = procstat.ksoftirqd_pids()
        bal0, soft0 = procstat.process_cpu_seconds(pids), procstat.process_cpu_seconds(soft)
        uas0 = sum(s.cpu_seconds() for s in servers)
        uac = gen.run_uac(c, mode.target, run_dir, calls=calls, rate=rate,
                          transport=transport, drain=drain)
        bal1, soft1 = procstat.process_cpu_seconds(pids), procstat.process_cpu_seconds(soft)
        uas1 = sum(s.cpu_seconds() for s in servers)
        alive = all(procstat.pid_alive(p) for p in pids)
        # Every INVITE reached its UAS before the UAC was done: the UASes' next statistics
        # rows count them all. What they still do afterwards (timewait) no call needs.
        time.sleep(UAS_SETTLE)
        uas = [s.counters() for s in servers]
        balancer_stats = mode.run_stats()
    finally:
        for s in servers:
            s.stop()
        mode.stop()
    per_node = {u["node"]: u["calls"] for u in uas}
    balancer = bal1 - bal0 if pids else None
    ours = (balancer or 0) + (uas1 - uas0) + (soft1 - soft0) + (uac.cpu_seconds or 0)
    rec = {
        "generator": gen_name, "mode": mode.name, "transport": transport, "rate": rate, "rep": rep, "calls": calls,
        "successful": uac.successful, "failed": uac.failed, "sipp_rc": uac.returncode,
        "placed_in_s": uac.placed_in, "placed_rate": uac.placed_rate,
        "uac_seconds": round(uac.seconds, 3),
        "retransmissions_uac": uac.retransmissions,
        "retransmissions_uas": sum(u["retransmissions"] for u in uas),
        "balancer_cpu_s": balancer, "balancer_alive_at_end": alive if pids else None,
        "uac_cpu_s": uac.cpu_seconds, "uas_cpu_s": uas1 - uas0, "ksoftirqd_cpu_s": soft1 - soft0,
        "all_cpu_s": ours if uac.cpu_seconds is not None else None,
        "per_node": per_node, "uas": uas, "uac_detail": uac.extra,
        "balancer_stats": balancer_stats,
        "run_seconds": round(time.monotonic() - t0, 2),
    }
    rec["retransmissions"] = rec["retransmissions_uac"] + rec["retransmissions_uas"]
    k = 1000.0 / calls
    rec["balancer_cpu_s_per_1000"] = rec["balancer_cpu_s"] * k if pids else None
    rec["all_cpu_s_per_1000"] = rec["all_cpu_s"] * k if rec["all_cpu_s"] is not None else None
    return rec


def profile_sara(c, mode, rp, a, transport, work: Path, out: Path) -> dict:
    """One more sara run, not part of the ramp, under perf record -a: where the time goes at
    the rate where SARA first failed (or --perf-rate)."""
    rate = a.perf_rate or rp.failed or rp.passed or int(a.rates.split(",")[0])
    calls = max(a.min_calls, int(rate * a.seconds))
    data = work / "perf.data"
    with perf_profile.record(data, calls / rate + a.drain + 60):
        rec = run_point(loadgen_run, c, mode, transport, rate, calls, 1, 999, work, a.drain)
    rec["why"] = run_verdict(rec, a.placed_fraction)
    text_out = out.with_name(out.stem + "-perf.txt")
    title = ("perf record -a -g during one sara run, -t %s, %d calls/s, %d calls: %s"
             % (transport, rate, calls, rec["why"] or "every call succeeded"))
    by_process = perf_profile.report(data, text_out, title)
    print("\n" + title + " (under perf)\n" + by_process + "\nwritten: %s" % text_out, flush=True)
    return {"rate": rate, "transport": transport, "run": rec, "report": str(text_out)}


def run_verdict(rec: dict, placed_fraction: float) -> str:
    """"" when the run succeeded, else why not: calls that did not succeed, or a rate the
    generator could not place its calls at (then the point was not measured at its rate)."""
    why = []
    if rec["failed"] or rec["successful"] != rec["calls"]:
        why.append("%d calls failed" % (rec["calls"] - rec["successful"]))
    if rec["placed_rate"] is None or rec["placed_rate"] < placed_fraction * rec["rate"]:
        why.append("placed below %.0f%% of the rate" % (100 * placed_fraction))
    return "; ".join(why)


def in_own_session(nice: int) -> Optional[int]:
    """Run this script again in a session of its own whose scheduling group gets `nice`, as
    tests/bench/datapath/run.sh does: with autogroup scheduling every session gets an equal
    share of the CPUs whatever its processes' nice values, so on a shared machine a build in
    another session would take half of the CPU time the SIPps and balancers need, and its
    drift would land on whichever mode happens to run. This process only forwards Ctrl-C and
    SIGTERM to the child (whose Cluster cleans up) and returns its exit status; None in the
    child, and with nice 0 (no session of its own)."""
    if nice == 0:
        return None
    if os.environ.get("SARA_BENCH_SIP_SESSION"):
        try:
            with open("/proc/self/autogroup", "w") as f:
                f.write(str(nice))
        except OSError:
            pass
        try:
            os.setpriority(os.PRIO_PROCESS, 0, nice)
        except OSError:
            pass
        return None
    child = subprocess.Popen([sys.executable, *sys.argv], start_new_session=True,
                             env=dict(os.environ, SARA_BENCH_SIP_SESSION="1"))

    def forward(signum, frame):
        try:
            child.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, forward)
    while True:
        try:
            return child.wait()
        except InterruptedError:
            continue


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sarad", default=str(topology.ROOT / "build" / "sarad"))
    ap.add_argument("--loadgen", default=str(loadgen.LOADGEN), help="the sip-loadgen binary")
    ap.add_argument("--generators", default="loadgen,sipp",
                    help="loadgen (the results) and/or sipp (for comparison), run in this order")
    ap.add_argument("--out", help="the JSON (default: build/bench/sip.json, sip6.json with --ipv6)")
    ap.add_argument("--ipv6", action="store_true",
                    help="everything over IPv6 (a dual-stack cluster; the UAC calls VIP6 from CLIENT_ADDR6)")
    # sip-loadgen outruns the balancers: its ramp starts where SIPp's old one was half way.
    ap.add_argument("--rates", default="1600,3200,6400,12800,25600,51200,102400",
                    help="sip-loadgen's rates (calls/s)")
    ap.add_argument("--sipp-rates", default="1600,3200,6400,12800,25600")
    ap.add_argument("--sipp-reps", type=int, default=1)
    ap.add_argument("--sipp-refine", type=int, default=1)
    ap.add_argument("--sipp-budget", type=float, default=270,
                    help="s of --budget kept for the SIPp ramp after sip-loadgen's")
    ap.add_argument("--modes", default="direct,kamailio,sara")
    ap.add_argument("--transports", default="u1,un")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--refine", type=int, default=2,
                    help="bisection steps between the last passed and the first failed rate")
    ap.add_argument("--min-calls", type=int, default=3000, help="calls per run, at least")
    ap.add_argument("--seconds", type=float, default=2.0,
                    help="a run places max(min-calls, rate x seconds) calls")
    ap.add_argument("--drain", type=float, default=5.0,
                    help="s the calls get after the last was placed before SIPp stops")
    ap.add_argument("--placed-fraction", type=float, default=0.9)
    # Kamailio's UDP workers per listening socket. The dispatcher README's example has 4; on
    # this 2-core machine 2 did better (A/B, alternated twice: all-success 6400 calls/s with
    # 2 against 4500 with 4; 8 was no better than 4), and Kamailio is measured at its best.
    ap.add_argument("--kamailio-children", type=int, default=2,
                    help="Kamailio's UDP workers per listening socket")
    ap.add_argument("--sara-admission", choices=("off", "on"), default="off",
                    help="sarad's admission control (SA2C); off by default, see modes.py")
    ap.add_argument("--budget", type=float, default=780, help="s for both ramps, at most")
    ap.add_argument("--perf", action="store_true",
                    help="after the ramp, one more sara run under `perf record -a` (OUT-perf.txt)")
    ap.add_argument("--perf-rate", type=int, help="its rate (default: sara's first failing rate)")
    ap.add_argument("--keep-work", action="store_true", help="keep the SIPp/Kamailio/sarad logs")
    ap.add_argument("--nice", type=int, default=-20,
                    help="nice value of the run's own session and processes (0: stay in this session)")
    a = ap.parse_args()
    rc = in_own_session(a.nice) if os.geteuid() == 0 else None
    if rc is not None:
        return rc

    if os.geteuid() != 0:
        print("bench-sip: needs root (network namespaces)", file=sys.stderr)
        return 2
    generators = a.generators.split(",")
    loadgen.LOADGEN = Path(a.loadgen).resolve()
    if "loadgen" in generators and not loadgen.LOADGEN.exists():
        print("bench-sip: %s is missing (make %s)" % (loadgen.LOADGEN, a.loadgen), file=sys.stderr)
        return 2
    for tool in ("sipp", "ip", "conntrack", "ss", "timeout"):
        if not shutil.which(tool):
            print("bench-sip: %s is missing (make deps)" % tool, file=sys.stderr)
            return 2
    sarad = Path(a.sarad).resolve()
    if not sarad.exists():
        print("bench-sip: %s is missing (make %s)" % (sarad, a.sarad), file=sys.stderr)
        return 2
    rates = {"loadgen": [int(x) for x in a.rates.split(",")],
             "sipp": [int(x) for x in a.sipp_rates.split(",")]}
    reps = {"loadgen": a.reps, "sipp": a.sipp_reps}
    refine = {"loadgen": a.refine, "sipp": a.sipp_refine}
    # Where each generator's ramp must stop: sip-loadgen's leaves --sipp-budget for SIPp's.
    budget_end = {"loadgen": a.budget - (a.sipp_budget if "sipp" in generators else 0), "sipp": a.budget}
    mode_names = a.modes.split(",")
    transports = a.transports.split(",")
    t_start = time.monotonic()
    kam_version = kamailio.ensure_installed() if "kamailio" in mode_names else None
    topology.cleanup_stale()

    out = Path(a.out or topology.ROOT / "build" / "bench" / ("sip6.json" if a.ipv6 else "sip.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="sara-bench-sip-"))
    records, perf = [], None
    ramps = {(g, m, t): ramp.Ramp(rates[g], reps[g], refine[g])
             for g in generators for m in mode_names for t in transports}
    stopped_by_budget = False
    print("bench-sip: IPv%d; %s; generators %s; sip-loadgen rates %s calls/s, %d refinement steps, %d reps; "
          "SIPp rates %s, %d refinement steps, %d reps; work dir %s"
          % (6 if a.ipv6 else 4, kam_version or "no kamailio", a.generators, a.rates, a.refine, a.reps,
             a.sipp_rates, a.sipp_refine, a.sipp_reps, work), flush=True)
    print(report.run_header(), flush=True)
    try:
        with topology.Cluster("none", sarad=sarad, workdir=work / "cluster", ipv6=a.ipv6) as c:
            all_modes = {"direct": modes.Direct(c), "sara": modes.Sara(c, a.sara_admission == "on"),
                         "kamailio": modes.Kamailio(c, a.kamailio_children, kam_version or "")}
            index = 0
            for g in generators:
                # Rounds: every mode and socket mode still ramping runs once per round, in an
                # order that rotates from round to round.
                for round_no in range(10000):
                    keys = [k for k, r in ramps.items() if k[0] == g and not r.done]
                    if not keys:
                        break
                    shift = round_no % len(keys)
                    for key in keys[shift:] + keys[:shift]:
                        rp = ramps[key]
                        rate = rp.current
                        calls = max(a.min_calls, int(rate * a.seconds))
                        if time.monotonic() - t_start + calls / rate + RUN_OVERHEAD + a.drain > budget_end[g]:
                            rp.stop("time budget used up")
                            stopped_by_budget = True
                            continue
                        index += 1
                        rec = run_point(GENERATORS[g], c, all_modes[key[1]], key[2], rate, calls,
                                        rp.reps_done + 1, index, work, a.drain)
                        rec["why"] = run_verdict(rec, a.placed_fraction)
                        rec["ok"] = not rec["why"]
                        records.append(rec)
                        print(report.run_line(rec), flush=True)
                        rp.record(rec["ok"])
            if a.perf and "sara" in mode_names and "loadgen" in generators:
                perf = profile_sara(c, all_modes["sara"], ramps[("loadgen", "sara", transports[0])], a,
                                    transports[0], work, out)
            descriptions = {m: all_modes[m].describe() for m in mode_names}
    finally:
        if not a.keep_work:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - t_start
    summary = {}
    for g in generators:
        best = {k[1:]: r.passed for k, r in ramps.items() if k[0] == g}
        verdicts = {k[1:]: r.how_it_ended for k, r in ramps.items() if k[0] == g}
        summary[g] = report.summarize([r for r in records if r["generator"] == g], best, verdicts,
                                      mode_names, transports)
    doc = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "command": "IP_VERSION=6 make bench-sip" if a.ipv6 else "make bench-sip",
        "ip_version": 6 if a.ipv6 else 4,
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                    "cpu_model": report.cpu_model()},
        "versions": {"kamailio": kam_version, "sipp": report.sipp_version(),
                     "sarad": str(sarad), "git": report.git_rev(topology.ROOT)},
        "parameters": {k: getattr(a, k) for k in ("generators", "rates", "modes", "transports", "reps", "refine",
                                                   "sipp_rates", "sipp_reps", "sipp_refine", "sipp_budget",
                                                   "min_calls", "seconds", "drain", "placed_fraction",
                                                   "kamailio_children", "sara_admission", "budget")},
        "modes": descriptions,
        "stopped_by_time_budget": stopped_by_budget,
        "perf": perf,
        "elapsed_s": round(elapsed, 1),
        "runs": records,
        "summary": summary,
    }
    out.write_text(json.dumps(doc, indent=1) + "\n")
    for g in generators:
        print(report.render_summary(summary[g], mode_names, transports, GENERATOR_TITLES[g],
                                    targets=(g == generators[0])))
    if stopped_by_budget:
        print("NOTE: the time budget (%.0f s) stopped a ramp before every rate was run" % a.budget)
    print("written: %s (%.0f s)" % (out, elapsed))
    print(("IPv6: " if a.ipv6 else "") + report.final_line(summary[generators[0]])
          + "".join("  (%s: %s)" % (g, report.final_line(summary[g])) for g in generators[1:]))
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        # Cluster.close() has run (namespaces and processes gone) by the time we get here.
        print("bench-sip: interrupted", file=sys.stderr)
        raise SystemExit(130)
