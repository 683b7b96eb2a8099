# SPDX-License-Identifier: GPL-2.0-or-later
"""Kamailio for `make bench-sip`: install Debian's package if it is missing, write the
dispatcher proxy's config, run it in the dispatcher namespace.

Kamailio is a peer to measure against, not a dependency of SARA: it is installed here, by the
benchmark that needs it, never by tools/install-deps.sh (`make check` must not need it).

Installing a Debian package that ships a service may start it in the ROOT namespace (its
postinst runs invoke-rc.d). The install therefore runs behind /usr/sbin/policy-rc.d exiting
101 ("action forbidden"; put there for the install and removed afterwards unless it was there
before), and afterwards every kamailio process that was not running before the install is
stopped by its PID.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "integration"))  # also when run alone
from capture_analysis import endpoint  # noqa: E402

KAMAILIO = Path("/usr/sbin/kamailio")
SIP_PORT = 5060
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
HERE = Path(__file__).resolve().parent
CONFIG_TEMPLATE = HERE / "kamailio.cfg.in"


def _pids_of(exe: Path) -> set:
    """PIDs whose executable is `exe` (by /proc/PID/exe, never by name)."""
    out = set()
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if os.readlink(d / "exe") == str(exe):
                out.add(int(d.name))
        except OSError:
            pass
    return out


def _apt_install(log) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "kamailio"]
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=600)
    if r.returncode != 0:
        # A fresh machine may have no package lists yet (or stale ones).
        log("kamailio: apt-get install failed, running apt-get update first")
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True, timeout=600)
        r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError("apt-get install kamailio failed:\n" + r.stdout[-3000:])


def ensure_installed(log=print) -> str:
    """Install Debian's kamailio if /usr/sbin/kamailio is missing; return its version line."""
    if not KAMAILIO.exists():
        if os.geteuid() != 0:
            raise RuntimeError("kamailio is missing and installing it needs root")
        log("kamailio: not installed; installing Debian's package (services kept from starting)")
        before = _pids_of(KAMAILIO)
        own_policy = not POLICY_RC_D.exists()
        if own_policy:
            POLICY_RC_D.write_text("#!/bin/sh\n# temporary, tests/bench/sip/kamailio.py: start no "
                                   "service during the install\nexit 101\n")
            POLICY_RC_D.chmod(0o755)
        try:
            _apt_install(log)
        finally:
            if own_policy:
                POLICY_RC_D.unlink(missing_ok=True)
        # Nothing should have started; if something did anyway, it is the install's: stop it.
        time.sleep(0.5)
        strays = sorted(_pids_of(KAMAILIO) - before)
        for pid in strays:
            log("kamailio: the install started PID %d in the root namespace; stopping it" % pid)
            _stop_pid(pid)
        if not KAMAILIO.exists():
            raise RuntimeError("kamailio installed but %s is missing" % KAMAILIO)
    r = subprocess.run([str(KAMAILIO), "-v"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=10)
    return (r.stdout.splitlines() or ["?"])[0].strip()


def _stop_pid(pid: int, grace: float = 5) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    end = time.monotonic() + grace
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def write_config(path: Path, *, client_addr: str, lan_addr: str, nodes: list,
                 children: int) -> Path:
    """kamailio.cfg from the template, and its dispatcher list (nodes: their SIP URIs'
    host addresses) next to it. IPv4 or IPv6 addresses: Kamailio writes an IPv6 host in
    brackets in its sockets (listen=udp:[addr]:5060) and SIP URIs (sip:[addr]:5060), as
    endpoint() does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    dlist = path.with_name("dispatcher.list")
    dlist.write_text("".join("1 sip:%s\n" % endpoint(a, SIP_PORT) for a in nodes))
    text = CONFIG_TEMPLATE.read_text()
    for k, v in {"CLIENT_SOCKET": endpoint(client_addr, SIP_PORT), "LAN_SOCKET": endpoint(lan_addr, SIP_PORT),
                 "CHILDREN": str(children), "DISPATCHER_LIST": str(dlist)}.items():
        text = text.replace("@%s@" % k, v)
    left = re.findall(r"@[A-Z_]+@", text)
    assert not left, "%s: no value for %s" % (CONFIG_TEMPLATE, left)
    path.write_text(text)
    return path


def check_config(path: Path) -> None:
    r = subprocess.run([str(KAMAILIO), "-c", "-f", str(path)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("kamailio -c %s failed:\n%s" % (path, r.stdout[-3000:]))


def argv(config: Path, shm_mb: int = 2048, pkg_mb: int = 16) -> list:
    """Foreground (-DD: the main process stays, its workers forked as usual), log to stderr
    (-E), our config, our run dir for its control files. Shared memory: every transaction
    (INVITE and BYE of each call) stays in it for tm's 5 s wait timer after it ends, more when
    retransmissions keep it; 256 MB ran out at 4500 calls/s (calls failed with 500s), so 2 GB,
    allocated by use."""
    return [str(KAMAILIO), "-DD", "-E", "-f", str(config), "-m", str(shm_mb), "-M", str(pkg_mb),
            "-Y", str(config.parent), "-P", str(config.parent / "kamailio.pid")]


def process_tree(root_pid: int) -> list:
    """root_pid and all its descendants (Kamailio forks its workers from the main process)."""
    out, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        out.append(pid)
        try:
            for task in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                    todo.extend(int(x) for x in f.read().split())
        except OSError:
            pass
    return out


def main_pid(timeout_pid: int, wait: float = 5) -> Optional[int]:
    """Kamailio's main process: the child of the `timeout` that Cluster.spawn started."""
    end = time.monotonic() + wait
    while time.monotonic() < end:
        try:
            with open("/proc/%d/task/%d/children" % (timeout_pid, timeout_pid)) as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        except OSError:
            return None
        time.sleep(0.05)
    return None


if __name__ == "__main__":
    print(ensure_installed())
    print("kamailio still installed at", shutil.which("kamailio") or KAMAILIO)
