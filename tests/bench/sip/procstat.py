# SPDX-License-Identifier: GPL-2.0-or-later
"""CPU counters for make bench-sip: a balancer's own CPU time (per process, summed over its
processes: Kamailio forks workers, sarad has threads in one process), the SIPps' and the
softirq threads'.

This kernel accounts CPU time by tick (no IRQ time accounting): a tick that falls in softirq
is charged to the task it interrupted as system time. Forwarding, netfilter and NFQUEUE work
of the dispatcher namespace mostly runs in softirq raised by the sender (veth), so it lands
in the sending SIPp's (or a balancer's) system time, or in ksoftirqd; the sum over every
process of the run plus ksoftirqd is the run's whole cost, without the other tenants of a
shared machine. (/proc/stat's busy time is no use here: it includes those tenants, and on
this tick-sampled kernel it does not even add up with the per-process times.)"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterable, Optional

CLK_TCK = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pids: Iterable[int]) -> float:
    """utime + stime (fields 14 and 15 of /proc/PID/stat, all threads) of the live `pids`."""
    ticks = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        ticks += int(fields[11]) + int(fields[12])   # fields[0] is field 3 (state)
    return ticks / CLK_TCK


def pid_alive(pid: int) -> bool:
    return Path("/proc/%d" % pid).exists()


def ksoftirqd_pids() -> list:
    """The softirq kernel threads (ksoftirqd/N): network receive work that overflows from the
    sending process's context lands there."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().startswith("ksoftirqd/"):
                    out.append(int(d.name))
            except OSError:
                pass
    return out


def parse_bash_times(text: str) -> Optional[float]:
    """User + system seconds of a shell's children from bash's `times` output (its second
    line, "XmY.YYYs XmY.YYYs"), the last one in `text`."""
    found = re.findall(r"^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$", text, re.M)
    if len(found) < 2:
        return None
    um, us, sm, ss = found[-1]
    return int(um) * 60 + float(us) + int(sm) * 60 + float(ss)
