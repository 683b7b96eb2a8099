# SPDX-License-Identifier: GPL-2.0-or-later
"""The shipped Grafana dashboard and Prometheus alert rules (monitoring/, issue 21) against
sarad's real exposition: every sara_* metric they use exists in /metrics of a sarad with every
optional section on (health:, announce:, sync:, admission), so neither can drift from the code;
and promtool accepts the rules and their unit tests (alerts fire on what should raise them).

Run as root: SARA_STRICT=1 /usr/bin/python3 -m pytest -q tests/integration/test_monitoring.py
"""
import json
import re
import shutil
import subprocess

import pytest

import agents
import datapath
import topology
from sarad_pair import SaradPair
from test_metrics import parse, scrape
from test_gateway import ANNOUNCE_PORT, GATEWAY_ID

MONITORING = topology.ROOT / "monitoring"
DASHBOARD = MONITORING / "grafana" / "sara-dispatcher.json"
RULES = MONITORING / "prometheus" / "sara-alerts.yml"
RULE_TESTS = MONITORING / "prometheus" / "sara-alerts.test.yml"
METRIC = re.compile(r"\bsara_[a-z0-9_]+")

pytestmark = datapath.SARAD_MARKS


def dashboard_exprs() -> list:
    doc = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in doc["panels"] for t in p["targets"]]
    exprs += [v["definition"] for v in doc["templating"]["list"] if "definition" in v]
    return exprs


def rule_exprs() -> list:
    # The `expr:` lines (one line each in this file); comments and annotations name metrics as
    # hints to people and are not checked.
    return [line.split("expr:", 1)[1] for line in RULES.read_text().splitlines()
            if line.strip().startswith("expr:")]


def test_dashboard_and_rules_use_metrics_at_all():
    """The extraction itself: a dashboard or rules file whose expressions the regex missed would
    pass the exposition check vacuously."""
    assert len(dashboard_exprs()) >= 11
    used = {m for e in dashboard_exprs() + rule_exprs() for m in METRIC.findall(e)}
    assert {"sara_sessions_completed_total", "sara_node_state", "sara_ha_synced",
            "sara_queue_kernel_dropped_total", "sara_admission_t1_ratio"} <= used, used
    assert any('up{job="sara"}' in e for e in rule_exprs())


def test_promtool_accepts_the_rules_and_their_tests():
    assert shutil.which("promtool"), "promtool missing: make deps installs Debian's prometheus"
    check = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: 5 rules found" in check.stdout, check.stdout
    unit = subprocess.run(["promtool", "test", "rules", RULE_TESTS.name], cwd=RULE_TESTS.parent,
                          capture_output=True, text=True)
    assert unit.returncode == 0, unit.stdout + unit.stderr


@pytest.mark.cluster(dispatcher="none", dispatchers=2)
def test_every_metric_the_dashboard_and_rules_use_is_exposed(cluster):
    overrides = agents.health_overrides(cluster, None)
    overrides.pop("auth")  # SaradPair sets the shared key
    overrides["announce"] = {"listen": "%s:%d" % (topology.DISPATCHER_LAN_ADDRS[0], ANNOUNCE_PORT),
                             "senders": [GATEWAY_ID]}
    # One sarad of the pair is enough: with `sync:` it exports the HA families whether or not
    # its peer answers (and the health and announce addresses are dispatcher 1's).
    pair = SaradPair(cluster, **overrides)
    pair.start_one(1)
    status, text = scrape(cluster, ns=cluster.dispatchers[0])
    assert status == 200
    exposed = {name for name, _ in parse(text)}
    used = {m for e in dashboard_exprs() + rule_exprs() for m in METRIC.findall(e)}
    missing = sorted(used - exposed)
    assert not missing, "used by monitoring/ but not in sarad's /metrics: %s" % missing
