# SPDX-License-Identifier: GPL-2.0-or-later
"""sip-loadgen (tests/loadgen, build/sip-loadgen) in the cluster's namespaces: the stateless
UAS on a node and the UAC in the client namespace, each under `timeout` (Cluster.spawn), and
the JSON summary each prints at its end. Used by tests/integration/test_loadgen_vs_sipp.py
and make bench-sip (tests/bench/sip/loadgen_run.py). IPv4 or IPv6, by the address given: a UAS
on an IPv6 address, a UAC towards an IPv6 target from the client's IPv6 address (CLIENT_ADDR6;
a cluster with ipv6=True).

The binary: $SARA_LOADGEN, else $SARA_BUILD/sip-loadgen (SARA_BUILD defaults to build)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import peers
import topology
from capture_analysis import endpoint

LOADGEN = Path(os.environ.get("SARA_LOADGEN", topology.ROOT / os.environ.get("SARA_BUILD", "build")
                              / "sip-loadgen"))
SIP_PORT = 5060
UAC_PORT = 5070


def summary_of(text: str) -> dict:
    """The last JSON object line of a sip-loadgen output ({} if none: it did not finish)."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return {}


@dataclass
class Uas:
    node: topology.Node
    proc: object            # processes.Proc
    bind: str
    summary: Optional[dict] = None

    def stop(self) -> dict:
        """SIGTERM: it prints its counters and exits; returns them (also kept in .summary)."""
        if self.summary is None:
            self.proc.stop(signal.SIGTERM, grace=3)
            self.summary = summary_of(self.proc.output())
        return self.summary


def start_uas(cluster, node, bind: str, *, name: str, lifetime: float, cwd: Optional[Path] = None,
              sockets: int = 1) -> Uas:
    argv = [str(LOADGEN), "uas", "--listen", endpoint(bind, SIP_PORT), "--sockets", str(sockets),
            "--max-seconds", str(lifetime), "--media-port", str(node.sip_udp_media_port)]
    proc = cluster.spawn(node.ns, argv, name=name, timeout=lifetime + 5, cwd=cwd)
    return Uas(node, proc, bind)


def wait_uas(servers: list, timeout: float = 5) -> None:
    for s in servers:
        if not peers.wait_listening(s.node.ns, "udp", s.bind, SIP_PORT, timeout=timeout):
            raise RuntimeError("sip-loadgen uas on %s did not start:\n%s"
                               % (s.node.name, s.proc.output()[-2000:]))


@dataclass
class UacRun:
    summary: dict                  # the UAC's JSON ({} if it never printed one)
    returncode: Optional[int]
    seconds: float                 # wall time, start to exit
    output: str                    # ends with bash's `times` (the UAC's CPU time)

    @property
    def successful(self) -> int:
        return int(self.summary.get("successful", 0))

    def call_ids(self) -> list:
        """Every Call-ID the run used (they are "<index>-<run>@sip-loadgen")."""
        run = self.summary.get("run")
        return ["%d-%s@sip-loadgen" % (i, run) for i in range(int(self.summary.get("calls", 0)))] if run else []


def run_uac(cluster, target: str, *, calls: int, rate: float, transport: str, max_seconds: float,
            name: str, cwd: Optional[Path] = None, local_port: int = UAC_PORT) -> UacRun:
    """Places `calls` calls at `rate` to target:5060 from the client namespace, from its address
    of the target's family; returns when the UAC exits (it stops by itself after `max_seconds`,
    every call still open counted timed out)."""
    client = topology.CLIENT_ADDR6 if ":" in target else topology.CLIENT_ADDR
    local = endpoint(client, local_port) if transport == "u1" else client
    argv = [str(LOADGEN), "uac", "--target", endpoint(target, SIP_PORT), "--local", local,
            "--transport", transport, "--rate", str(rate), "--calls", str(calls),
            "--max-seconds", str(max_seconds)]
    # bash reports the UAC's CPU time once it has exited (`times`).
    shell = ["bash", "-c", '"$@"; rc=$?; times; exit $rc', "uac", *argv]
    t0 = time.monotonic()
    proc = cluster.spawn(cluster.client, shell, name=name, timeout=max_seconds + 15, cwd=cwd)
    try:
        rc = proc.wait(max_seconds + 20)
    except subprocess.TimeoutExpired:
        rc = proc.stop(signal.SIGTERM, grace=3)
    out = proc.output()
    return UacRun(summary_of(out), rc, time.monotonic() - t0, out)
