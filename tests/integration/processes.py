# SPDX-License-Identifier: GPL-2.0-or-later
"""Processes of the integration tests: short commands, and long-running peers started inside
network namespaces under `timeout` (so every one of them stops by itself), stopped by PID.
Used by topology.Cluster (spawn, close); nothing here ever signals a process by name."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterable, Optional, Sequence

class CommandError(RuntimeError):
    pass


def run(argv: Sequence[str], *, check: bool = True, timeout: float = 30,
        input: Optional[str] = None) -> subprocess.CompletedProcess:
    """Run a short command (in the root namespace only for `ip netns add/del` and `ip -n`)."""
    r = subprocess.run(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, input=input)
    if check and r.returncode != 0:
        raise CommandError("%s: exit %d: %s" % (" ".join(argv), r.returncode,
                                                 (r.stderr or r.stdout).strip()))
    return r



class Proc:
    """A process we started inside a namespace (through `timeout`). Output goes to `log`.
    `ns` is the topology.Namespace it runs in."""

    def __init__(self, name: str, ns, argv: list, popen: subprocess.Popen,
                 log: Path, cwd: Path):
        self.name, self.ns, self.argv, self.popen, self.log, self.cwd = name, ns, argv, popen, log, cwd

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> Optional[int]:
        return self.popen.poll()

    def running(self) -> bool:
        return self.popen.poll() is None

    def wait(self, timeout: Optional[float] = None) -> int:
        return self.popen.wait(timeout)

    def send_signal(self, sig: int) -> None:
        if self.popen.poll() is None:
            try:
                os.kill(self.popen.pid, sig)      # `timeout` relays it to the command
            except ProcessLookupError:
                pass

    def command_pid(self) -> Optional[int]:
        """The command's own PID (the child of `timeout`), for signals `timeout` does not
        relay (it relays TERM, INT, HUP, QUIT, ALRM; others would stop `timeout` itself)."""
        try:
            with open("/proc/%d/task/%d/children" % (self.pid, self.pid)) as f:
                kids = f.read().split()
        except FileNotFoundError:
            return None
        return int(kids[0]) if kids else None

    def signal_command(self, sig: int) -> None:
        pid = self.command_pid()
        if pid is not None:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, sig: int = signal.SIGTERM, grace: float = 3.0) -> int:
        """Send `sig`, wait up to `grace` s, then SIGKILL `timeout` and its command's group."""
        self.send_signal(sig)
        try:
            return self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            pass
        kill_group(self.popen.pid, signal.SIGKILL)
        return self.popen.wait(5)

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_output(self, pattern: str, timeout: float) -> bool:
        """Wait until `pattern` (a regex) appears in the log; False if it exits or time runs out."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if rx.search(self.output()):
                return True
            if not self.running():
                return bool(rx.search(self.output()))
            time.sleep(0.05)
        return False

    def __repr__(self) -> str:
        return "<Proc %s pid=%d in %s rc=%s>" % (self.name, self.pid, self.ns.role, self.returncode)


def kill_group(pid: int, sig: int) -> None:
    """Signal the process group led by `pid` (a `timeout` we started leads its own group)."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
            return
    except ProcessLookupError:
        return
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True



def stop_pids(pids: Iterable[int], grace: float = 2.0) -> None:
    pids = [p for p in pids if p != os.getpid()]
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    end = time.monotonic() + grace
    while pids and time.monotonic() < end:
        pids = [p for p in pids if pid_alive(p) and not is_zombie(p)]
        if pids:
            time.sleep(0.05)
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def is_zombie(pid: int) -> bool:
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, IndexError, ProcessLookupError):
        return True
