# SPDX-License-Identifier: GPL-2.0-or-later
"""Active sarads in a mesh (issue 19, DESIGN §9b): one in each dispatcher namespace of
Cluster(dispatchers=3, dispatcher="none"), each with `sync.peers` naming the others over the
LAN and a shared cluster key. Every one carries sessions; the client reaches them through an
ECMP route over all of them (`route_client_ecmp`), the route an upstream router would hold
for the VIP learnt from each dispatcher over BGP.

    mesh = SaradMesh(cluster).start()            # all active, ready once synced
    mesh.route_client_ecmp([1, 2, 3])
    mesh.request(2, "role")                      # the set as dispatcher 2 sees it

Dispatchers are numbered from 1 (cluster.dispatchers[index - 1]); sync ids are 1001, 1002, ...
"""
from __future__ import annotations

import topology
from sarad_pair import SYNC_PORT, SaradPair


class SaradMesh(SaradPair):
    def __init__(self, cluster, **kw):
        if len(cluster.dispatchers) < 2:
            raise ValueError("SaradMesh needs Cluster(dispatchers=2 or 3)")
        super().__init__(cluster, **kw, _any_size=True)

    @property
    def indices(self) -> list:
        return list(range(1, len(self.cluster.dispatchers) + 1))

    def config(self, index: int) -> dict:
        doc = self.base_config(index)
        form = "%s:%d"
        addrs = topology.DISPATCHER_LAN_ADDRS
        doc["sync"] = {"listen": form % (addrs[index - 1], SYNC_PORT), "id": 1000 + index,
                       "peers": [{"id": 1000 + i, "address": form % (addrs[i - 1], SYNC_PORT)}
                                 for i in self.indices if i != index],
                       **self.sync_overrides}
        return doc

    def start(self) -> "SaradMesh":
        for i in self.indices:
            self.start_one(i)
        return self

    def ready(self, index: int) -> bool:
        return bool(self.request(index, "role ready").get("ready"))

    def route_client_ecmp(self, indices, *, l4: bool = True) -> None:
        """The client's route for the VIP over the dispatchers `indices`, as an upstream router
        holds it (one next hop per dispatcher announcing the VIP). l4: the router hashes ports
        too (fib_multipath_hash_policy 1), so the flows of one call — its SIP socket, its RTP —
        may each take another dispatcher: the harshest case for the replication. l4=False
        hashes addresses only (policy 0), what DESIGN §9b asks of the router."""
        client = self.cluster.client
        client.sysctl({"net.ipv4.fib_multipath_hash_policy": 1 if l4 else 0})
        hops = []
        for i in indices:
            hops += ["nexthop", "via", topology.DISPATCHER_CLIENT_ADDRS[i - 1], "dev", "eth0", "weight", "1"]
        client.run("ip", "route", "replace", "%s/32" % topology.VIP, *hops)
