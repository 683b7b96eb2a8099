# SPDX-License-Identifier: GPL-2.0-or-later
"""make bench-sip --perf: where the CPU time goes during one run, by `perf record -a` (every CPU,
cpu-clock sampling, call graphs) for the length of the run, reported three ways into a text
file: by process, by process and object (user code against the kernel), and sarad's own
hottest symbols. Sampling the whole machine shows what per-process counters cannot: the
kernel's forwarding, netfilter and NFQUEUE work, which runs in softirq on whichever task
was on the CPU."""
from __future__ import annotations

import shutil
import signal
import subprocess
from contextlib import contextmanager
from pathlib import Path

REPORTS = [
    ("CPU samples by process", ["--sort", "comm", "--percent-limit", "0.5"]),
    ("by process and object (the kernel is [kernel.kallsyms])",
     ["--sort", "comm,dso", "--percent-limit", "0.5"]),
    ("sarad's hottest symbols (share of sarad's samples)",
     ["--comm", "sarad", "--sort", "dso,sym", "--percentage", "relative", "--percent-limit", "1"]),
    ("the SIPps' kernel symbols (share of their kernel samples; softirq work lands here too)",
     ["--comm", "sipp", "--dso", "[kernel.kallsyms]", "--sort", "sym", "--percentage", "relative",
      "--percent-limit", "1"]),
]


def available() -> bool:
    return shutil.which("perf") is not None


@contextmanager
def record(data: Path, max_seconds: float):
    """perf record -a -g into `data` while the body runs (at most `max_seconds`)."""
    proc = subprocess.Popen(["timeout", "-s", "INT", str(int(max_seconds)), "perf", "record",
                             "-a", "-g", "-F", "499", "-o", str(data)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)        # timeout relays it; perf writes its file
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def report(data: Path, out: Path, title: str) -> str:
    """The reports above into `out`; returns the first one (by process)."""
    parts = [title]
    first = ""
    for name, args in REPORTS:
        r = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children",
                            "-g", "none", *args], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, timeout=300)
        body = "\n".join(x for x in r.stdout.splitlines() if x.strip() and not x.startswith("#"))
        parts.append("== %s\n%s" % (name, body))
        if not first:
            first = body
    out.write_text("\n\n".join(parts) + "\n")
    return first
