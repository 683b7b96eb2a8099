# SPDX-License-Identifier: GPL-2.0-or-later
"""Small network-namespace helpers for integration tests that need a namespace or two of their
own (the full cluster of DESIGN §11 is topology.py's job).

    ns = Netns.create("sara-ks-")          # named sara-ks-<pid>-<n>, loopback up
    ns.run("ip", "link", "add", "lan0", "type", "veth", "peer", "name", "lan0p")
    ns.delete()

Everything happens inside namespaces created here: `run` always goes through
`ip netns exec NAME`, and the root namespace is only asked to add and delete namespaces.
cleanup_stale(prefix) removes the namespaces of a run killed before it could delete them
(prefix<pid>- with a dead pid); it never touches those of a live process.
"""
from __future__ import annotations

import itertools
import os
import re
import subprocess
from pathlib import Path
from typing import Optional, Sequence

_counter = itertools.count(1)


class NetnsError(RuntimeError):
    pass


def run(argv: Sequence[str], *, check: bool = True, timeout: float = 30,
        input: Optional[str] = None) -> subprocess.CompletedProcess:
    """Run a short command; NetnsError with its stderr if check and it fails."""
    r = subprocess.run(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, input=input)
    if check and r.returncode != 0:
        raise NetnsError("%s: exit %d: %s" % (" ".join(argv), r.returncode,
                                               (r.stderr or r.stdout).strip()))
    return r


class Netns:
    """A network namespace this process created."""

    def __init__(self, name: str):
        self.name = name

    @classmethod
    def create(cls, prefix: str) -> "Netns":
        ns = cls("%s%d-%d" % (prefix, os.getpid(), next(_counter)))
        run(["ip", "netns", "add", ns.name])
        try:
            ns.run("ip", "link", "set", "lo", "up")
        except Exception:
            ns.delete()
            raise
        return ns

    def argv(self, *cmd: str) -> list:
        return ["ip", "netns", "exec", self.name, *cmd]

    def run(self, *cmd: str, check: bool = True, timeout: float = 30,
            input: Optional[str] = None) -> subprocess.CompletedProcess:
        return run(self.argv(*cmd), check=check, timeout=timeout, input=input)

    def exists(self) -> bool:
        return Path("/run/netns", self.name).exists()

    def delete(self) -> None:
        """Delete the namespace (its interfaces go with it); no-op if it is gone."""
        if self.exists():
            run(["ip", "netns", "del", self.name], check=False)

    def __str__(self) -> str:
        return self.name


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cleanup_stale(prefix: str) -> list:
    """Delete namespaces PREFIX<pid>-* whose creating process is gone; returns their names.
    A namespace that still holds processes is left alone (they are not ours to stop)."""
    r = run(["ip", "netns", "list"], check=False)
    removed = []
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        m = re.match(re.escape(prefix) + r"(\d+)-", name)
        if not m or _pid_alive(int(m.group(1))):
            continue
        pids = run(["ip", "netns", "pids", name], check=False).stdout.split()
        if pids:
            continue
        run(["ip", "netns", "del", name], check=False)
        removed.append(name)
    return removed
