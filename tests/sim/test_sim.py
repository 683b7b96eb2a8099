# SPDX-License-Identifier: GPL-2.0-or-later
"""Smoke tests of build/sara-sim (sim/README.md): JSON shape, determinism per seed, an
uncongested cluster completes its sessions, and SA2C protects admitted sessions where no
admission collapses. SARA_BUILD picks the build folder (default build).
Run: /usr/bin/python3 -m pytest -q tests/sim"""
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SIM = ROOT / os.environ.get("SARA_BUILD", "build") / "sara-sim"
KEYS = {"offered", "capacity_per_s", "completed_per_s", "admitted", "admitted_completed", "imbalance",
        "oscillation", "rejected", "failed", "arrivals"}


def sim(*args):
    result = subprocess.run([str(SIM), *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def point(*args):
    return json.loads(sim("--json", "--warmup", "30s", "--duration", "150s", *args))


@pytest.mark.parametrize("admission", ["sa2c", "none", "oblivious"])
def test_json_has_the_documented_keys(admission):
    out = point("--offered", "2.0", "--admission", admission)
    assert KEYS <= out.keys()
    assert out["admission"] == admission and out["offered"] == 2.0
    assert out["capacity_per_s"] == pytest.approx(3 * 100 / 20)  # the defaults: 3 nodes, 100 units, 20 s


def test_same_seed_same_output_other_seed_other_output():
    args = ["--json", "--offered", "1.2", "--scheduler", "two-choices", "--duration", "60s"]
    assert sim(*args, "--seed", "7") == sim(*args, "--seed", "7")
    assert sim(*args, "--seed", "7") != sim(*args, "--seed", "8")


def test_light_load_without_admission_completes_almost_every_session():
    out = point("--offered", "0.5", "--admission", "none")
    assert out["rejected"] == 0 and out["head_lost"] == 0
    assert out["admitted_completed"] >= 0.999
    assert out["completed_per_s"] == pytest.approx(0.5 * out["capacity_per_s"], rel=0.1)


def test_sa2c_keeps_admitted_sessions_where_no_admission_collapses():
    sa2c = point("--offered", "2.0", "--admission", "sa2c")
    none = point("--offered", "2.0", "--admission", "none")
    assert sa2c["admitted_completed"] >= 0.99
    assert none["admitted_completed"] < 0.5
    assert sa2c["completed_per_s"] > 2 * none["completed_per_s"]


def test_bad_flags_are_all_reported():
    result = subprocess.run([str(SIM), "--offered", "-1", "--scheduler", "fastest"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--offered" in result.stderr and "--scheduler" in result.stderr
