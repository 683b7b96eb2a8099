# SPDX-License-Identifier: GPL-2.0-or-later
"""keepalived (VRRP) on the two dispatchers of the namespace cluster (DESIGN §9), and what a
takeover looks like from the client: the floating next hop, its neighbour entry, a UDP stream.

    with Cluster("router", dispatchers=2) as c:
        route_vip_via_floating(c)                  # client: VIP via 198.18.1.5, not .1.1
        v1 = start_vrrp(c, 1); wait_master(c, 1, 5)
        v2 = start_vrrp(c, 2)
        t = measure_takeover(c, new=2, action=v1.crash)
        print(t.address_s, t.neighbour_s)

Dispatchers are numbered 1 and 2 as in the config ids (`--config-id dispatcher1`), i.e.
cluster.dispatchers[index - 1].

The config is etc/keepalived/keepalived.conf itself: render_config() changes only the values
of its `$NAME=` lines (and deletes `nopreempt` for preempt=True, as its comments tell an
operator to do), so the shipped file is what runs here. The notify hook is
etc/keepalived/sara-vrrp-notify.

Without sarad (until `saractl role` exists) each keepalived gets a fake saractl (a small sh
script in its work dir) that records every `role STATE` call with a timestamp, answers
`role --ready` from a file (Vrrp.set_ready) and can be made to hang (Vrrp.set_hang). Pass
saractl=/path/to/saractl and socket=... to drive a real sarad instead.

keepalived runs inside the dispatcher's namespace only (cluster.spawn: `ip netns exec NS
timeout ...`), in the foreground (--dont-fork), logging to its console log in the work dir
(--log-console --no-syslog), VRRP only (--vrrp), with every pid file in the work dir
(--pid, --vrrp_pid, --checkers_pid, --bfd_pid; the defaults are /run/keepalived*.pid). It is
stopped by PID: Vrrp.stop (SIGTERM, a clean stop: priority-0 advert, address removed) or
Vrrp.crash (SIGKILL to its whole process group at once: nothing is cleaned up).
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Optional

import topology
from processes import Proc, is_zombie, kill_group, pid_alive, run
from topology import (CLIENT_ADDR, DISPATCHER_CLIENT_ADDRS, DISPATCHER_CLIENT_ADDRS6, MACS, PYTHON, VIP, VIP6, Cluster,
                      Namespace)

TEMPLATE = topology.ROOT / "etc" / "keepalived" / "keepalived.conf"
NOTIFY_HOOK = topology.ROOT / "etc" / "keepalived" / "sara-vrrp-notify"
KEEPALIVED = "/usr/sbin/keepalived"
FLOATING_ADDR = "198.18.1.5"          # the floating next hop, client side (198.18.1.0/24)
FLOATING_ADDR6 = "2001:db8:1::5"      # its IPv6 counterpart (a cluster with ipv6=True)
CLIENT_IF = "eth0"                    # the dispatchers' client-facing interface
VRRP_NAME = "SARA"                    # the vrrp_instance name in the template
STREAM_PORT = 9999                    # UDP port of the stream receiver on node 1 (VIP)

# Lines of keepalived's log that mean the config did not do what it says: a track script that
# keepalived dropped (missing or insecure program: the resync guard would be gone), a keyword
# it does not know, a value it rejected.
_LOG_ERRORS = re.compile(r"Disabling track script|SECURITY VIOLATION|Unknown keyword|"
                         r"invalid|must be between|ignoring|WARNING - script")


# ----------------------------------------------------------------------------------------
# config
# ----------------------------------------------------------------------------------------
def template_values(text: Optional[str] = None) -> dict:
    """The `$NAME=VALUE` definitions of the template (its site values)."""
    text = TEMPLATE.read_text() if text is None else text
    return {m.group(1): m.group(2).strip()
            for m in re.finditer(r"^\$([A-Za-z_]\w*)=(.*)$", text, re.M)}


def render_config(values: Mapping[str, object], *, preempt: bool = False,
                  template: Path = TEMPLATE) -> str:
    """The template with its `$NAME=` values replaced by `values` (every name must exist in
    it: a renamed parameter fails here rather than silently keeping the shipped value).
    preempt=True deletes the `nopreempt` line."""
    text = template.read_text()
    unknown = set(values) - set(template_values(text))
    if unknown:
        raise KeyError("not parameters of %s: %s" % (template, ", ".join(sorted(unknown))))

    def sub(m):
        name = m.group(1)
        return "$%s=%s" % (name, values[name]) if name in values else m.group(0)

    text = re.sub(r"^\$([A-Za-z_]\w*)=.*$", sub, text, flags=re.M)
    if preempt:
        text, n = re.subn(r"^[ \t]*nopreempt[ \t]*\n", "", text, flags=re.M)
        if n != 1:
            raise ValueError("template has %d nopreempt lines, expected 1" % n)
    return text


def advert_int() -> float:
    return float(template_values()["ADVERT_INT"])


def master_down_s(priority: int, interval: Optional[float] = None) -> float:
    """RFC 5798 Master_Down_Interval of a backup with `priority`: 3 adverts + skew."""
    a = advert_int() if interval is None else interval
    return 3 * a + (256 - priority) * a / 256


# The fake saractl: records `role STATE` calls (roles.log: "<epoch s> <state>"), counts
# `role --ready` calls (ready.log), answers --ready from the file `ready`, hangs on role calls
# while the file `hang` exists (to check the hook's timeout). Plain sh like the hook.
_FAKE_SARACTL = r"""#!/bin/sh
# fake saractl written by tests/integration/ha.py
dir=%(dir)s
while [ $# -gt 0 ]; do case $1 in --socket) shift 2 ;; --json) shift ;; *) break ;; esac; done
[ "$1" = role ] || { echo "fake saractl: only 'role'" >&2; exit 2; }
case $2 in
    --ready) echo "$(date +%%s.%%N)" >> "$dir/ready.log"; [ -e "$dir/ready" ] ;;
    master|backup|fault)
        [ -e "$dir/hang" ] && sleep 60
        echo "$(date +%%s.%%N) $2" >> "$dir/roles.log"; echo "$2" > "$dir/role" ;;
    "") if [ -e "$dir/role" ]; then echo "role: $(cat "$dir/role")"; else echo "role: none"; fi ;;
    *) echo "fake saractl: bad role '$2'" >&2; exit 2 ;;
esac
"""


def write_fake_saractl(d: Path, *, ready: bool = True) -> Path:
    """Write the fake saractl into directory `d` (its logs go there too) and reset its state."""
    saractl = d / "saractl"
    saractl.write_text(_FAKE_SARACTL % {"dir": d})
    os.chmod(saractl, 0o755)
    for f in ("roles.log", "ready.log", "role", "hang"):
        (d / f).unlink(missing_ok=True)
    if ready:
        (d / "ready").touch()
    else:
        (d / "ready").unlink(missing_ok=True)
    return saractl


# ----------------------------------------------------------------------------------------
# keepalived
# ----------------------------------------------------------------------------------------
@dataclass(eq=False)
class Vrrp:
    """One keepalived in dispatcher `index` (1 or 2)."""
    cluster: Cluster
    index: int
    dir: Path
    config: Path
    proc: Proc
    saractl: Path
    socket: Path
    fake: bool
    priority: int

    @property
    def ns(self) -> Namespace:
        return self.cluster.dispatchers[self.index - 1]

    @property
    def config_id(self) -> str:
        return "dispatcher%d" % self.index

    def log(self) -> str:
        return self.proc.output()

    def running(self) -> bool:
        return self.proc.running()

    def daemon_pids(self) -> list:
        """keepalived's parent and its direct children (the VRRP process). Scripts are the VRRP
        process's children: keepalived forks them as "keepalived" and moves them into a process
        group of their own before the exec, so they are not counted here."""
        parent = self.proc.command_pid()
        if parent is None:
            return []
        try:
            with open("/proc/%d/task/%d/children" % (parent, parent)) as f:
                return [parent] + [int(x) for x in f.read().split()]
        except FileNotFoundError:
            return [parent]

    def crash(self) -> None:
        """SIGKILL keepalived and its VRRP child at the same instant: no priority-0 advert, no
        address removal, no STOP notification (a crash, or `kill -9`). One killpg on the
        group `timeout` leads (keepalived -n stays in it), so the child cannot see its parent
        die first and shut down cleanly (its parent-death signal is SIGTERM)."""
        pgid = self.proc.pid
        for pid in self.daemon_pids():
            try:
                # A script keepalived is running (the ready check, the notify hook with its
                # own `timeout`) sits in a group of its own and outlives the crash, as it would
                # on a real one; keepalived's own processes may not leave the group.
                if os.getpgid(pid) != pgid:
                    raise RuntimeError("keepalived pid %d left its process group" % pid)
            except ProcessLookupError:
                pass
        kill_group(pgid, signal.SIGKILL)
        # not waited for here: measure_takeover's clock starts when this returns

    def terminate(self) -> None:
        """SIGTERM (relayed by `timeout`), without waiting: a clean stop (priority-0 advert,
        address removed, STOP notification)."""
        self.proc.send_signal(signal.SIGTERM)

    def stop(self, grace: float = 8) -> int:
        """terminate() and wait for the exit."""
        return self.proc.stop(signal.SIGTERM, grace=grace)

    # -- fake saractl ---------------------------------------------------------------------
    def set_ready(self, ready: bool) -> None:
        p = self.dir / "ready"
        if ready:
            p.touch()
        else:
            p.unlink(missing_ok=True)

    def set_hang(self, hang: bool) -> None:
        p = self.dir / "hang"
        if hang:
            p.touch()
        else:
            p.unlink(missing_ok=True)

    def roles(self) -> list:
        """[(epoch seconds, "master"|"backup"|"fault")] the notify hook set, in call order."""
        try:
            lines = (self.dir / "roles.log").read_text().splitlines()
        except FileNotFoundError:
            return []
        return [(float(t), r) for t, r in (line.split() for line in lines if line.strip())]

    def role_names(self) -> list:
        return [r for _, r in self.roles()]

    def ready_checks(self) -> int:
        try:
            return len((self.dir / "ready.log").read_text().splitlines())
        except FileNotFoundError:
            return 0

    def wait_role(self, role: str, timeout: float, after: float = 0.0) -> Optional[float]:
        """Epoch time of the first `role` call at or after `after`, waiting up to `timeout` s."""
        end = time.monotonic() + timeout
        while True:
            for t, r in self.roles():
                if r == role and t >= after:
                    return t
            if time.monotonic() >= end:
                return None
            time.sleep(0.02)

    def states(self) -> list:
        """The instance's states in order, from keepalived's log ("Entering MASTER STATE")."""
        return re.findall(r"\(%s\) Entering (\w+) STATE" % VRRP_NAME, self.log())


def vrrp_dir(cluster: Cluster, index: int) -> Path:
    d = cluster.workdir / ("vrrp%d" % index)
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)       # enable_script_security: nobody else may change the scripts
    return d


def start_vrrp(cluster: Cluster, index: int, *, priority: Optional[int] = None,
               saractl: Optional[os.PathLike] = None, socket: Optional[os.PathLike] = None,
               ready: bool = True, preempt: bool = False, lifetime: float = 120,
               values: Optional[Mapping[str, object]] = None, name: Optional[str] = None,
               config_id: Optional[str] = None, start_timeout: float = 5) -> Vrrp:
    """Start keepalived in dispatcher `index` (1 or 2) with the shipped config rendered for
    this cluster, and wait until it has started (its VRRP process runs). saractl=None: the
    fake saractl, ready or not (`ready`). `values`: more `$NAME=` overrides. config_id:
    another --config-id than "dispatcher<index>" (one the template does not know)."""
    if not 1 <= index <= len(cluster.dispatchers):
        raise ValueError("no dispatcher %d (Cluster(dispatchers=2)?)" % index)
    d = vrrp_dir(cluster, index)
    fake = saractl is None
    if fake:
        saractl = write_fake_saractl(d, ready=ready)
    socket = Path(socket) if socket else d / "sarad.sock"
    tv = template_values()
    prio_key = "DISPATCHER%d_PRIORITY" % index
    v = {
        "CLIENT_IF": CLIENT_IF,
        "DISPATCHER1_ADDR": DISPATCHER_CLIENT_ADDRS[0],
        "DISPATCHER2_ADDR": DISPATCHER_CLIENT_ADDRS[1],
        "FLOATING_ADDR": FLOATING_ADDR,
        "SARACTL": saractl,
        "SARAD_SOCKET": socket,
        "NOTIFY": NOTIFY_HOOK,
        "STATE_FILE": d / "vrrp.state",   # SaradPair's sync.role_file
    }
    if priority is not None:
        v[prio_key] = priority
    v.update(values or {})
    config = d / "keepalived.conf"
    config.write_text(render_config(v, preempt=preempt))
    _clear_stale_pid_files(d)
    argv = [KEEPALIVED, "--dont-fork", "--log-console", "--log-detail", "--no-syslog", "--vrrp",
            "--use-file", config, "--config-id", config_id or "dispatcher%d" % index,
            "--pid", d / "keepalived.pid", "--vrrp_pid", d / "vrrp.pid",
            "--checkers_pid", d / "checkers.pid", "--bfd_pid", d / "bfd.pid"]
    proc = cluster.spawn(cluster.dispatchers[index - 1], argv,
                         name=name or "keepalived%d" % index, timeout=lifetime, kill_after=5)
    vr = Vrrp(cluster, index, d, config, proc, Path(saractl), socket, fake,
              int(v.get(prio_key, tv[prio_key])))
    # started: the VRRP process has run the ready check once (or dropped it, see _LOG_ERRORS)
    if not proc.wait_for_output(r"VRRP_Script\(sara_ready\) (succeeded|failed)|"
                                r"Disabling track script", start_timeout):
        proc.stop(signal.SIGTERM, grace=3)
        raise RuntimeError("keepalived %d did not start:\n%s" % (index, proc.output()[-3000:]))
    bad = [line for line in proc.output().splitlines() if _LOG_ERRORS.search(line)]
    if bad:
        proc.stop(signal.SIGTERM, grace=3)
        raise RuntimeError("keepalived %d config problems:\n%s" % (index, "\n".join(bad)))
    return vr


def _clear_stale_pid_files(d: Path) -> None:
    """keepalived refuses to start ("daemon is already running") while a pid file names a
    PID that exists. After crash() its processes are orphans of PID 1, which on these
    machines (no systemd) may leave them zombies for a while: such files are stale."""
    for f in ("keepalived.pid", "vrrp.pid", "checkers.pid", "bfd.pid"):
        p = d / f
        try:
            pid = int(p.read_text().strip())
        except (FileNotFoundError, ValueError):
            continue
        if pid_alive(pid) and not is_zombie(pid):
            raise RuntimeError("keepalived pid %d (%s) still runs" % (pid, p))
        p.unlink(missing_ok=True)


def config_test(cluster: Cluster, index: int, config: os.PathLike) -> subprocess.CompletedProcess:
    """`keepalived --config-test` of `config` inside dispatcher `index`'s namespace."""
    return cluster.dispatchers[index - 1].run(
        KEEPALIVED, "--config-test", "--use-file", str(config),
        "--config-id", "dispatcher%d" % index, check=False, timeout=10)


# ----------------------------------------------------------------------------------------
# addresses, neighbours, links
# ----------------------------------------------------------------------------------------
def route_vip_via_floating(cluster: Cluster) -> None:
    """The client routes the VIP via the floating next hop (DESIGN §3) instead of dispatcher 1's
    own address. The floating address must be learnt by ARP: a permanent neighbour entry
    would pin it to one dispatcher and make the gratuitous ARPs of a takeover useless."""
    cluster.client.ip("route", "replace", "%s/32" % VIP, "via", FLOATING_ADDR, "dev", "eth0")
    perm = cluster.client.ip("neigh", "show", FLOATING_ADDR, "nud", "permanent").stdout
    if perm.strip():
        raise RuntimeError("client has a permanent neighbour for %s: %s" % (FLOATING_ADDR, perm))


def ipv6_only_values() -> dict:
    """start_vrrp `values` of an IPv6-only pair: adverts between the dispatchers' IPv6
    addresses (VRRPv3 over IPv6), FLOATING_ADDR6 the one floating next hop."""
    return {"DISPATCHER1_ADDR": DISPATCHER_CLIENT_ADDRS6[0], "DISPATCHER2_ADDR": DISPATCHER_CLIENT_ADDRS6[1],
            "FLOATING_ADDR": FLOATING_ADDR6, "PEER_HOPS": "min_ttl 64 max_ttl 64"}


def dual_stack_values() -> dict:
    """start_vrrp `values` that move FLOATING_ADDR6 with the instance (dual stack)."""
    return {"FLOATING_ADDR6_ENTRY": "%s/128 dev %s" % (FLOATING_ADDR6, CLIENT_IF)}


def route_vip6_via_floating(cluster: Cluster) -> None:
    """route_vip_via_floating for VIP6 and FLOATING_ADDR6 (learnt by NDP)."""
    cluster.client.ip("-6", "route", "replace", "%s/128" % VIP6, "via", FLOATING_ADDR6, "dev", "eth0")


def has_floating6(cluster: Cluster, index: int) -> bool:
    out = cluster.dispatchers[index - 1].ip("-o", "-6", "addr", "show", "dev", CLIENT_IF).stdout
    return (" %s/128 " % FLOATING_ADDR6) in out


def has_floating(cluster: Cluster, index: int) -> bool:
    out = cluster.dispatchers[index - 1].ip("-o", "-4", "addr", "show", "dev", CLIENT_IF).stdout
    return (" %s/32 " % FLOATING_ADDR) in out


def holders(cluster: Cluster) -> list:
    """Dispatchers (1, 2) whose client interface holds the floating address."""
    return [i for i in range(1, len(cluster.dispatchers) + 1) if has_floating(cluster, i)]


def wait_master(cluster: Cluster, index: int, timeout: float, *, ipv6: bool = False) -> float:
    """Wait until dispatcher `index` holds the floating address (FLOATING_ADDR6 with ipv6);
    returns the seconds waited. Raises TimeoutError."""
    t0 = time.monotonic()
    held = has_floating6 if ipv6 else has_floating
    while not held(cluster, index):
        if time.monotonic() - t0 > timeout:
            raise TimeoutError("dispatcher %d has no %s after %.1f s (holders: %s)"
                               % (index, FLOATING_ADDR, timeout, holders(cluster)))
        time.sleep(0.01)
    return time.monotonic() - t0


def dispatcher_mac(index: int) -> str:
    return MACS["dispatcher.eth0" if index == 1 else "dispatcher2.eth0"]


def client_neighbour(cluster: Cluster) -> tuple:
    """(lladdr or None, state) of the client's neighbour entry for the floating address."""
    out = cluster.client.ip("neigh", "show", FLOATING_ADDR, "dev", "eth0").stdout.split()
    mac = out[out.index("lladdr") + 1] if "lladdr" in out else None
    return mac, (out[-1] if out else "NONE")


def resolve_floating(cluster: Cluster, timeout: float = 2) -> Optional[str]:
    """Make the client ARP for the floating address (a datagram to its discard port; the
    master answers the ARP) and return the MAC it learnt (None: nobody answered)."""
    cluster.client.run(PYTHON, "-c", "import socket; s = socket.socket(socket.AF_INET, "
                       "socket.SOCK_DGRAM); s.sendto(b'x', ('%s', 9))" % FLOATING_ADDR,
                       check=False)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        mac, state = client_neighbour(cluster)
        if mac:
            return mac
        time.sleep(0.02)
    return None


def switch_port(index: int) -> str:
    return "d%dc" % index            # topology: dispatcher i's client-side port on brc


def cut_link(cluster: Cluster, index: int) -> None:
    """Pull dispatcher `index`'s client-side cable: the switch end of its veth goes down, so
    both ends lose carrier (the dispatcher's eth0 stays administratively up and turns
    NO-CARRIER, as with a real cable or a dead switch port). Done on the switch side so that
    nothing in the dispatcher's own namespace is touched: keepalived learns of it the way it
    would in production, from the kernel's carrier change."""
    cluster.switch.ip("link", "set", switch_port(index), "down")


def restore_link(cluster: Cluster, index: int) -> None:
    cluster.switch.ip("link", "set", switch_port(index), "up")


def blackhole_link(cluster: Cluster, index: int) -> None:
    """A gray failure of dispatcher `index`'s switch port: it stops forwarding (bridge port
    state disabled) while both ends keep carrier, so keepalived sees no link event. Neither
    dispatcher hears the other: both become master (split brain)."""
    run(["bridge", "-n", cluster.switch.name, "link", "set", "dev", switch_port(index),
         "state", "0"])


def unblackhole_link(cluster: Cluster, index: int) -> None:
    run(["bridge", "-n", cluster.switch.name, "link", "set", "dev", switch_port(index),
         "state", "3"])


def dispatcher_forwarded(cluster: Cluster, index: int) -> int:
    """Packets dispatcher `index` sent out of its LAN side (eth1 tx): how much it forwarded."""
    out = cluster.dispatchers[index - 1].run("cat", "/sys/class/net/eth1/statistics/tx_packets")
    return int(out.stdout)


# ----------------------------------------------------------------------------------------
# takeover timing
# ----------------------------------------------------------------------------------------
@dataclass
class Takeover:
    """Seconds from the action (kill, cable cut) to: the floating address on the new master
    (`address_s`), the client's neighbour entry naming its MAC (`neighbour_s`). The clock
    starts when the action returns: a command such as `ip link set` acts at its very end,
    after its own start-up (`action_s`, up to 0.2 s on a busy host), which is not the
    takeover's. Polled through `ip`, so each figure is late by at most one poll
    (`resolution_s`)."""
    address_s: Optional[float]
    neighbour_s: Optional[float]
    resolution_s: float
    t_action: float            # time.monotonic() when the action returned
    t_action_epoch: float      # time.time() of the same (for the fake saractl's stamps)
    action_s: float = 0.0      # how long the action took before that

    def __str__(self):
        def f(x):
            return "never" if x is None else "%.3f s" % x
        return "address %s, client neighbour %s (poll resolution %.0f ms, action %.0f ms)" % (
            f(self.address_s), f(self.neighbour_s), self.resolution_s * 1000,
            self.action_s * 1000)


def measure_takeover(cluster: Cluster, new: int, action: Callable[[], None],
                     timeout: float = 5) -> Takeover:
    """Run `action` and time the floating address and the client's neighbour entry moving to
    dispatcher `new`. The client must have resolved the floating address before (a running
    stream, or resolve_floating), or there is no entry to move."""
    mac = dispatcher_mac(new)
    start = time.monotonic()
    action()
    t_epoch = time.time()
    t0 = time.monotonic()
    action_s = t0 - start
    addr_t = neigh_t = None
    polls, last = 0, t0
    while time.monotonic() - t0 < timeout and (addr_t is None or neigh_t is None):
        now = time.monotonic()
        if addr_t is None and has_floating(cluster, new):
            addr_t = now - t0
        if neigh_t is None and client_neighbour(cluster)[0] == mac:
            neigh_t = now - t0
        polls += 1
        last = time.monotonic()
        time.sleep(0.002)        # leave the (2) CPUs to keepalived and the stream
    resolution = (last - t0) / polls if polls else 0.0
    return Takeover(addr_t, neigh_t, resolution, t0, t_epoch, action_s)


# ----------------------------------------------------------------------------------------
# a UDP stream through the floating next hop: client -> VIP (node 1 by the dispatchers'
# static routes), received on node 1; each datagram carries its sequence number
# ----------------------------------------------------------------------------------------
_SENDER = r"""
import json, socket, struct, sys, time
dst, port = sys.argv[1], int(sys.argv[2])
interval, duration = float(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[5], 0))
n = errors = 0
t0, t0_epoch = time.monotonic(), time.time()
while n * interval <= duration:
    delay = t0 + n * interval - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    try:
        s.sendto(struct.pack("!I", n), (dst, port))
    except OSError:          # EHOSTUNREACH after failed ARP: the datagram is lost, go on
        errors += 1
    n += 1
print(json.dumps({"sent": n, "errors": errors, "t0": t0_epoch, "interval": interval}),
      flush=True)
"""

_RECEIVER = r"""
import json, select, socket, struct, sys, time
addr, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[5]
limit, idle = float(sys.argv[3]), float(sys.argv[4])    # seconds in all, of silence at the end
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
# kernel receive timestamps: a receiver descheduled on a busy host must not squeeze the
# arrivals that waited in its buffer into one burst
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)    # Linux; Python 3.11 lacks the name
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
s.bind((addr, port))
print("ready", flush=True)
got = []
end = time.monotonic() + limit
while time.monotonic() < end:
    r, _, _ = select.select([s], [], [], idle if got else 1.0)
    if not r:
        if got:
            break          # the stream is over
        continue
    data, anc, _, _ = s.recvmsg(64, 64)
    t = time.time()
    for level, kind, value in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack("qq", value[:16])
            t = sec + nsec / 1e9
    got.append((struct.unpack("!I", data[:4])[0], t))
with open(out, "w") as f:
    json.dump(got, f)
print("done %d" % len(got), flush=True)
"""


@dataclass
class StreamResult:
    sent: int
    interval: float
    t0: float                                # time.time() of datagram 0
    arrivals: list = field(repr=False)      # [(seq, kernel receive time, epoch seconds)]

    @property
    def received(self) -> int:
        return len(self.arrivals)

    @property
    def lost(self) -> int:
        return self.sent - len({s for s, _ in self.arrivals})

    def largest_gap(self) -> tuple:
        """(seconds, t_before, t_after): the longest silence between consecutive arrivals
        (epoch times, comparable with Takeover.t_action_epoch)."""
        times = sorted(t for _, t in self.arrivals)
        best = (0.0, None, None)
        for a, b in zip(times, times[1:]):
            if b - a > best[0]:
                best = (b - a, a, b)
        return best


class Stream:
    """`rate` datagrams/s for `duration` s from the client to VIP:STREAM_PORT through the
    floating next hop, received on node 1. start() returns once the receiver listens."""

    def __init__(self, cluster: Cluster, *, rate: float = 500, duration: float = 8,
                 name: str = "stream"):
        self.cluster, self.rate, self.duration, self.name = cluster, rate, duration, name
        self.out = cluster.workdir / ("%s-arrivals.json" % name)
        self.receiver = self.sender = None

    def start(self) -> "Stream":
        c = self.cluster
        node = c.nodes[c.route_to - 1]
        self.out.unlink(missing_ok=True)
        self.receiver = c.spawn(node.ns, [PYTHON, "-c", _RECEIVER, VIP, STREAM_PORT,
                                          self.duration + 10, 1.5, self.out],
                                name=self.name + "-rx", timeout=self.duration + 20)
        if not self.receiver.wait_for_output(r"^ready", 5):
            raise RuntimeError("stream receiver did not start: " + self.receiver.output())
        self.sender = c.spawn(c.client, [PYTHON, "-c", _SENDER, VIP, STREAM_PORT,
                                         1.0 / self.rate, self.duration, CLIENT_ADDR],
                              name=self.name + "-tx", timeout=self.duration + 10)
        return self

    def result(self) -> StreamResult:
        self.sender.wait(self.duration + 12)
        self.receiver.wait(15)
        line = [l for l in self.sender.output().splitlines() if l.startswith("{")]
        if not line:
            raise RuntimeError("stream sender said nothing: " + self.sender.output())
        info = json.loads(line[-1])
        arrivals = [tuple(x) for x in json.loads(self.out.read_text())]
        return StreamResult(info["sent"], info["interval"], info["t0"], arrivals)
