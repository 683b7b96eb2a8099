# SPDX-License-Identifier: GPL-2.0-or-later
"""The SIPp scenarios the tests and `make demo` drive behave as real user agents do on a slow
host (issue 14): the UAS answers a retransmitted INVITE that reaches it after its 200 OK
with the 200 again, and a retransmitted BYE with its 200, instead of aborting the call.
On a busy 2-core machine the caller's 500 ms INVITE retransmission often arrives after the
200, and the old scenario (a 180 first) aborted 26 to 46 of 60 `make demo` calls.

Runs with the plain-router dispatcher: the scenario, not sarad, is under test.
"""
import json

import pytest

import peers
from conftest import require_tools
from topology import CLIENT_ADDR, PYTHON, VIP

pytestmark = pytest.mark.router


def test_uas_answers_invite_and_bye_retransmissions(cluster):
    require_tools("sipp")
    uas = peers.start_sip_uas(cluster, 1, "udp")
    probe = cluster.spawn(cluster.client, [PYTHON, str(peers.PEERS_DIR / "sip_retransmit_probe.py"),
                                           "--bind", "%s:5099" % CLIENT_ADDR,
                                           "--to", "%s:%d" % (VIP, peers.SIP_PORT)],
                          name="retransmit-probe", timeout=20)
    assert probe.wait(20) == 0, probe.output()
    steps = {s["step"]: s for s in json.loads(probe.output().strip().splitlines()[-1])}
    assert steps["INVITE"]["first_200_s"] is not None, steps
    # Sent 0.6 s after the first 200: past the UAS's own 500 ms retransmission of it, so a
    # 200 within 0.6 s is an answer to this INVITE (the next timer retransmission is at 1.5 s).
    assert steps["INVITE retransmission"]["first_200_s"] is not None, steps
    assert steps["BYE"]["first_200_s"] is not None, steps
    assert steps["BYE retransmission"]["first_200_s"] is not None, steps
    stats = uas.stop()
    assert stats is not None and stats.successful == 1 and stats.failed == 0, stats
    errors = (uas.stf.parent / "errors.log")
    text = errors.read_text(errors="replace") if errors.exists() else ""
    assert "Aborting call" not in text and "Dead call" not in text, text[-2000:]
