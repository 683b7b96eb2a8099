# SPDX-License-Identifier: GPL-2.0-or-later
"""Two sarads replicating their session tables (issue 7, DESIGN §9): one in each dispatcher
namespace of Cluster(dispatchers=2, dispatcher="none"), each with `sync:` towards the other
over the LAN, and a shared cluster key.

    pair = SaradPair(cluster).start()          # both start as backup
    pair.set_role(1, "master")
    pair.request(2, "sessions")                # dispatcher 2's replica
    pair.route_client_to(2)                    # the client's next hop for the VIP

Dispatchers are numbered 1 and 2 (cluster.dispatchers[index - 1]); sync ids are 1001 and 1002.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Optional

import agents
import datapath
import topology
from sarad_config import to_yaml

SYNC_PORT = 7401
SYNC_IDS = (1001, 1002)
SARACTL = topology.ROOT / os.environ.get("SARA_BUILD", "build") / "saractl"


class SaradPair:
    def __init__(self, cluster, *, key: Optional[Path] = None, sync_overrides: Optional[dict] = None,
                 _any_size: bool = False, **config_overrides):
        if len(cluster.dispatchers) != 2 and not _any_size:   # SaradMesh: 2 or 3
            raise ValueError("SaradPair needs Cluster(dispatchers=2)")
        self.cluster = cluster
        self.key = key or agents.write_key(cluster)
        self.sync_overrides = sync_overrides or {}
        self.config_overrides = config_overrides
        self.procs = {}

    # -- files ---------------------------------------------------------------------------
    def socket(self, index: int) -> Path:
        return Path("/tmp") / ("%ssarad%d.sock" % (self.cluster.prefix, index))

    def base_config(self, index: int) -> dict:
        """Dispatcher `index`'s config without `sync`: the cluster key, its own socket and state file."""
        doc = self.cluster.dispatcher_config(**self.config_overrides)
        doc["auth"] = {"key_file": str(self.key)}
        doc["control"] = {"socket": str(self.socket(index)),
                          "state_file": str(self.cluster.workdir / ("sessions%d.snapshot" % index))}
        return doc

    def config(self, index: int) -> dict:
        me, peer = index - 1, 2 - index
        doc = self.base_config(index)
        # A dual-stack cluster (ipv6=True) syncs over IPv6.
        addrs, form = ((topology.DISPATCHER_LAN_ADDRS6, "[%s]:%d") if self.cluster.ipv6
                       else (topology.DISPATCHER_LAN_ADDRS, "%s:%d"))
        doc["sync"] = {"listen": form % (addrs[me], SYNC_PORT),
                       "peer": form % (addrs[peer], SYNC_PORT),
                       "id": SYNC_IDS[me], "peer_id": SYNC_IDS[peer],
                       # where ha.start_vrrp's notify hook writes the role
                       "role_file": str(self.cluster.workdir / ("vrrp%d" % index) / "vrrp.state"),
                       **self.sync_overrides}
        return doc

    def write_config(self, index: int) -> Path:
        path = self.cluster.workdir / ("dispatcher%d.yaml" % index)
        path.write_text(to_yaml(self.config(index)))
        return path

    # -- processes -----------------------------------------------------------------------
    def start_one(self, index: int, timeout: float = 10):
        """Starts sarad in dispatcher `index`'s namespace and waits for its control socket."""
        ns = self.cluster.dispatchers[index - 1]
        self.socket(index).unlink(missing_ok=True)
        proc = self.cluster.spawn(ns, [str(self.cluster.sarad_path), "--config", str(self.write_config(index))],
                                  name="sarad%d" % index, timeout=600, kill_after=5)
        self.procs[index] = proc
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not proc.running():
                raise RuntimeError("sarad%d exited:\n%s" % (index, proc.output()[-3000:]))
            if "ready" in proc.output() and self.socket(index).exists():
                return proc
            time.sleep(0.05)
        raise RuntimeError("sarad%d not ready:\n%s" % (index, proc.output()[-3000:]))

    def start(self) -> "SaradPair":
        self.start_one(1)
        self.start_one(2)
        return self

    def output(self, index: int) -> str:
        return self.procs[index].output()

    # -- control -------------------------------------------------------------------------
    def request(self, index: int, line: str) -> dict:
        return datapath.sarad_request(self.cluster, line, path=self.socket(index))

    def set_role(self, index: int, role: str) -> dict:
        doc = self.request(index, "role " + role)
        assert doc.get("role") == role, doc
        return doc

    def stats(self, index: int) -> dict:
        return self.request(index, "stats")

    def sessions(self, index: int) -> dict:
        """{key: node} of the sessions in dispatcher `index`'s table."""
        return {s["key"]: s["node"] for s in self.request(index, "sessions 100000")["sessions"] if s["key"]}

    def wait(self, predicate, timeout: float, interval: float = 0.05):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            v = predicate()
            if v:
                return v
            time.sleep(interval)
        return predicate()

    # -- client side ---------------------------------------------------------------------
    def route_client_to(self, index: int) -> None:
        """The client's route for the VIP via dispatcher `index` (what a VRRP takeover does
        to the floating next hop, without keepalived)."""
        via = topology.DISPATCHER_CLIENT_ADDRS[index - 1]
        self.cluster.client.run("ip", "route", "replace", "%s/32" % topology.VIP, "via", via, "dev", "eth0")

    def sync_addr(self, index: int) -> tuple:
        return topology.DISPATCHER_LAN_ADDRS[index - 1], SYNC_PORT

