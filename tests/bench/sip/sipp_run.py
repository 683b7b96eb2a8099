# SPDX-License-Identifier: GPL-2.0-or-later
"""SIPp for make bench-sip: a UAS per node (uas.xml) and one UAC (uac.xml) placing zero-length
calls at a fixed rate, each under `timeout` in the cluster's namespaces (Cluster.spawn), and
what their -trace_stat files say once they are done.

The UAC is open loop (-l = the number of calls: it never waits for answers before placing the
next call), so a slow balancer shows as failed or retransmitted calls, and the rate SIPp really
placed its calls at is checked from its statistics rows (every 100 ms): a run only counts at a
rate the generator reached.

IPv4 or IPv6 by the addresses given (a UAS's bind address, the UAC's target): SIPp takes -i
with a bare IPv6 address and the remote as [addr]:port, and brackets the hosts of its
messages itself ([local_ip], [remote_ip]; IP[local_ip_type] in SDP).
"""
from __future__ import annotations

import csv
import os
import resource
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import peers
import procstat
import topology
from capture_analysis import endpoint

HERE = Path(__file__).resolve().parent
UAC_XML = HERE / "uac.xml"
UAS_XML = HERE / "uas.xml"
UAC_PORT = 5070
STATS_PERIOD = "100ms"
# Socket buffers of every SIPp (its default is 64 KiB): at thousands of calls per second a
# SIPp that is off the CPU for a few milliseconds would lose datagrams, and SIPp turns some
# losses into failed calls of its own making (a BYE answered with the ACK's headers). Kamailio
# gets as much (maxbuffer in kamailio.cfg.in).
BUFFER_BYTES = 2 * 1024 * 1024
# Debugging aid: more SIPp options for every UAS and UAC, e.g. "-trace_msg".
EXTRA_ARGS = os.environ.get("SARA_BENCH_SIPP_ARGS", "").split()


def read_rows(path: Path) -> list:
    """Every row of a SIPp -trace_stat CSV as a dict (the header names the columns)."""
    try:
        with open(path) as f:
            rows = list(csv.reader(f, delimiter=";"))
    except FileNotFoundError:
        return []
    return [dict(zip(rows[0], r)) for r in rows[1:]] if rows else []


def _int(row: dict, key: str) -> int:
    try:
        return int(row.get(key) or 0)
    except ValueError:
        return 0


def _epoch(stamp: str) -> float:
    """StartTime / CurrentTime as SIPp writes them: "date<TAB>time<TAB>epoch.micro"."""
    return float(stamp.split("\t")[-1])


def placement_seconds(rows: list, calls: int) -> Optional[float]:
    """Seconds from SIPp's start until it had placed `calls` calls, from its statistics rows
    (OutgoingCall(C) against CurrentTime; ElapsedTime has whole seconds only), interpolated
    between the two rows around the moment. None if it never placed them all."""
    prev_t, prev_n = None, 0
    for r in rows:
        n, t = _int(r, "OutgoingCall(C)"), _epoch(r["CurrentTime"]) - _epoch(r["StartTime"])
        if n >= calls:
            if prev_t is None or n == prev_n:
                return t
            return prev_t + (t - prev_t) * (calls - prev_n) / (n - prev_n)
        prev_t, prev_n = t, n
    return None


@dataclass
class Uas:
    node: topology.Node
    proc: topology.Proc
    stf: Path

    def cpu_seconds(self) -> float:
        pid = self.proc.command_pid()
        return procstat.process_cpu_seconds([pid]) if pid else 0.0

    def counters(self) -> dict:
        """Its counters from the last statistics row (written every STATS_PERIOD)."""
        rows = read_rows(self.stf)
        last = rows[-1] if rows else {}
        return {"node": self.node.name, "calls": _int(last, "TotalCallCreated"),
                "successful": _int(last, "SuccessfulCall(C)"), "failed": _int(last, "FailedCall(C)"),
                "retransmissions": _int(last, "Retransmissions(C)")}

    def stop(self) -> None:
        self.proc.stop(signal.SIGTERM, grace=3)


def start_uas(cluster: topology.Cluster, node: topology.Node, bind: str, run_dir: Path,
              lifetime: float) -> Uas:
    d = run_dir / ("uas-" + node.name)
    d.mkdir(parents=True, exist_ok=True)
    argv = ["sipp", "-sf", str(UAS_XML), "-i", bind, "-p", "5060", "-t", "u1",
            "-mi", bind, "-mp", str(node.sip_udp_media_port), "-nostdin", "-cp", "8881",
            "-trace_stat", "-stf", str(d / "stats.csv"), "-fd", STATS_PERIOD,
            "-trace_err", "-error_file", str(d / "errors.log"), "-buff_size", str(BUFFER_BYTES),
            *EXTRA_ARGS]
    proc = cluster.spawn(node.ns, argv, name="%s-uas-%s" % (run_dir.name, node.name),
                         timeout=lifetime, cwd=d)
    return Uas(node, proc, d / "stats.csv")


def wait_uas(cluster: topology.Cluster, servers: list, bind_of) -> None:
    for s in servers:
        if not peers.wait_listening(s.node.ns, "udp", bind_of(s.node), 5060, timeout=5):
            raise RuntimeError("SIPp UAS on %s did not start:\n%s"
                               % (s.node.name, s.proc.output()[-2000:]))


@dataclass
class UacResult:
    calls: int
    rate: float
    transport: str
    returncode: Optional[int]
    successful: int
    failed: int
    retransmissions: int
    placed_in: Optional[float]      # seconds SIPp took to place every call (stats rows)
    seconds: float                  # wall time of the UAC, start to exit
    cpu_seconds: Optional[float]    # the UAC's user + system time (bash's `times`)
    extra: dict = field(default_factory=dict)

    @property
    def placed_rate(self) -> Optional[float]:
        return self.calls / self.placed_in if self.placed_in else None


def _children(pid: Optional[int]) -> list:
    if pid is None:
        return []
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def max_sockets(calls: int) -> int:
    """-max_socket for -t un (PEERS-NOTES): SIPp refuses to start unless it is below the
    open-files limit, and its default (50000) is above this host's. Past it SIPp would share
    the sockets already open among new calls; zero-length calls close their socket at their
    end, so far fewer than `calls` are open at once."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft == resource.RLIM_INFINITY:
        return calls
    return max(2, min(calls, soft - 200))


def run_uac(cluster: topology.Cluster, target: str, run_dir: Path, *, calls: int, rate: float,
            transport: str, drain: float) -> UacResult:
    """Place `calls` calls at `rate` calls/s to target:5060 from the client's address of the
    target's family; wait until SIPp is done, or until
    the calls had `drain` s after the last should have been placed: then SIPp is stopped and
    every call not completed counts as failed. (SIPp's own -timeout does not do: with calls
    still open it prints its last screen and goes on waiting for them.)"""
    d = run_dir / "uac"
    d.mkdir(parents=True, exist_ok=True)
    deadline = calls / rate + drain
    client = topology.CLIENT_ADDR6 if ":" in target else topology.CLIENT_ADDR
    argv = [endpoint(target, 5060), "-sf", str(UAC_XML), "-s", "service",
            "-i", client, "-p", str(UAC_PORT), "-t", transport,
            "-m", str(calls), "-r", str(rate), "-l", str(calls), "-nostdin", "-cp", "8888",
            "-trace_stat", "-stf", str(d / "stats.csv"), "-fd", STATS_PERIOD,
            "-trace_err", "-error_file", str(d / "errors.log"), "-buff_size", str(BUFFER_BYTES),
            *EXTRA_ARGS]
    if transport == "un":
        argv += ["-max_socket", str(max_sockets(calls))]
    # bash reports SIPp's CPU time once it has exited (`times`: its children's user and system
    # time); /proc/PID/stat is gone by then.
    shell = ["bash", "-c", 'sipp "$@"; rc=$?; times; exit $rc', "uac", *argv]
    t0 = time.monotonic()
    proc = cluster.spawn(cluster.client, shell, name="%s-uac" % run_dir.name,
                         timeout=deadline + 20, cwd=d)
    try:
        rc = proc.wait(deadline)
    except subprocess.TimeoutExpired:
        # SIGTERM to SIPp itself (bash's child), so that bash still reports its CPU time.
        for pid in _children(proc.command_pid()):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            rc = proc.wait(5)
        except subprocess.TimeoutExpired:
            rc = proc.stop(signal.SIGTERM, grace=3)
    seconds = time.monotonic() - t0
    rows = read_rows(d / "stats.csv")
    last = rows[-1] if rows else {}
    placed_in = placement_seconds(rows, calls)
    successful = _int(last, "SuccessfulCall(C)")
    return UacResult(calls, rate, transport, rc, successful, calls - successful,
                     _int(last, "Retransmissions(C)"), placed_in, seconds,
                     procstat.parse_bash_times(proc.output()[-4000:]),
                     {"failed_reported": _int(last, "FailedCall(C)"),
                      "created": _int(last, "TotalCallCreated"),
                      "dead_call_msgs": _int(last, "DeadCallMsgs(C)"),
                      "unexpected_msgs": _int(last, "FailedUnexpectedMessage(C)"),
                      "max_retrans_failures": _int(last, "FailedMaxUDPRetrans(C)"),
                      "timeouts": _int(last, "FailedCallRejected(C)") + _int(last, "FailedCmdNotSent(C)")})
