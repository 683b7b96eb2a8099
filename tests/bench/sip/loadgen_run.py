# SPDX-License-Identifier: GPL-2.0-or-later
"""sip-loadgen for make bench-sip, with the same interface as sipp_run (start_uas, wait_uas,
run_uac -> sipp_run.UacResult), so run.py drives either generator the same way. The UAS on
each node and the UAC in the client namespace are tests/integration/loadgen.py's.

The UAC places its calls open loop at the rate and reports when it had placed them all
(placed_in_s), so, as with SIPp, a run only counts at a rate the generator reached. Calls
still open --drain s after the last was due count as timed out (failed)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import loadgen
import procstat
import sipp_run
import topology

NAME = "loadgen"


@dataclass
class Uas:
    server: loadgen.Uas

    @property
    def node(self) -> topology.Node:
        return self.server.node

    def cpu_seconds(self) -> float:
        pid = self.server.proc.command_pid()
        return procstat.process_cpu_seconds([pid]) if pid else 0.0

    def counters(self) -> dict:
        """Its counters: it prints them when stopped, so this stops it (stop() is then a no-op)."""
        s = self.server.stop()
        return {"node": self.node.name, "calls": int(s.get("calls", 0)),
                "requests": int(s.get("received", 0)), "malformed": int(s.get("malformed", 0)),
                "retransmissions": int(s.get("invite_retransmissions", 0))}

    def stop(self) -> None:
        self.server.stop()


def start_uas(cluster, node, bind: str, run_dir: Path, lifetime: float) -> Uas:
    d = run_dir / ("uas-" + node.name)
    d.mkdir(parents=True, exist_ok=True)
    return Uas(loadgen.start_uas(cluster, node, bind, name="%s-uas-%s" % (run_dir.name, node.name),
                                 lifetime=lifetime, cwd=d))


def wait_uas(cluster, servers: list, bind_of) -> None:
    loadgen.wait_uas([s.server for s in servers])


def run_uac(cluster, target: str, run_dir: Path, *, calls: int, rate: float, transport: str,
            drain: float) -> sipp_run.UacResult:
    d = run_dir / "uac"
    d.mkdir(parents=True, exist_ok=True)
    r = loadgen.run_uac(cluster, target, calls=calls, rate=rate, transport=transport,
                        max_seconds=calls / rate + drain, name="%s-uac" % run_dir.name, cwd=d)
    s = r.summary
    placed = s.get("placed_in_s")
    return sipp_run.UacResult(
        calls, rate, transport, r.returncode, int(s.get("successful", 0)), calls - int(s.get("successful", 0)),
        int(s.get("retransmissions", 0)), placed if placed else None, r.seconds,
        procstat.parse_bash_times(r.output[-4000:]),
        {k: s.get(k) for k in ("failed", "timed_out", "not_started", "socket_errors", "unparsable",
                               "late_or_stray", "unexpected", "send_refused", "setup_latency_us",
                               "last_socket_error")} if s else {"no_summary": r.output[-500:]})
