# SPDX-License-Identifier: GPL-2.0-or-later
"""sarad's Prometheus endpoint (metrics.listen, 127.0.0.1:9740 in the dispatcher's namespace):
the exposition parses line by line, every sample belongs to a family with HELP and TYPE, and
the counters move with real SIPp calls.

Run as root: SARA_STRICT=1 /usr/bin/python3 -m pytest -q tests/integration/test_metrics.py
"""
import re

import pytest

import datapath
import peers
import topology

pytestmark = datapath.SARAD_MARKS

SAMPLE = re.compile(r'^(sara_[a-z0-9_]+)(\{[a-z_]+="(?:[^"\\]|\\.)*"(?:,[a-z_]+="(?:[^"\\]|\\.)*")*\})? '
                    r'(-?[0-9.e+-]+|NaN|[+-]Inf)$')


def scrape(cluster, path="/metrics", ns=None) -> tuple:
    """(HTTP status, body) of GET path from sarad in `ns` (default: the dispatcher)."""
    code = ("import urllib.request, urllib.error, sys\n"
            "try:\n"
            "    r = urllib.request.urlopen('http://127.0.0.1:9740%s', timeout=5)\n"
            "    print(r.status); print(r.headers['Content-Type']); sys.stdout.write(r.read().decode())\n"
            "except urllib.error.HTTPError as e:\n"
            "    print(e.code)\n" % path)
    out = (ns or cluster.dispatcher).run(topology.PYTHON, "-c", code, timeout=10).stdout
    status, _, rest = out.partition("\n")
    return int(status), rest


def parse(text: str) -> dict:
    """{(name, labels): value}; asserts the exposition's shape."""
    families, samples = {}, {}
    content_type, _, body = text.partition("\n")
    assert content_type.startswith("text/plain; version=0.0.4")
    for line in body.splitlines():
        if line.startswith("# HELP "):
            families.setdefault(line.split()[2], {})["help"] = True
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert kind in ("counter", "gauge"), line
            families.setdefault(name, {})["type"] = kind
            if kind == "counter":
                assert name.endswith("_total"), name
        else:
            m = SAMPLE.match(line)
            assert m, "not an exposition line: %r" % line
            assert m.group(1) in families and families[m.group(1)].keys() == {"help", "type"}, line
            samples[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return samples


@pytest.mark.cluster(dispatcher="sarad", config_overrides=datapath.LEAST_SESSIONS)
def test_metrics_expose_counters_nodes_and_admission(cluster, sip_servers):
    status, text = scrape(cluster)
    assert status == 200
    before = parse(text)
    r = peers.run_sip_uac(cluster, calls=6, rate=10, transport="u1", media_packets=5)
    assert r.ok, r.summary()
    after = parse(scrape(cluster)[1])
    assert after[("sara_pipeline_sessions_assigned_total", "")] - \
        before[("sara_pipeline_sessions_assigned_total", "")] == 6
    assert after[("sara_sessions_completed_total", "")] >= 6
    for n in cluster.nodes:
        assert after[("sara_node_up", '{node="%d",name="%s"}' % (n.id, n.name))] == 1
    assert ("sara_admission_load_ratio", "") in after
    assert scrape(cluster, "/")[0] == 404
