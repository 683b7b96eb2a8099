# SPDX-License-Identifier: GPL-2.0-or-later
"""pytest fixtures for the namespace cluster (topology.py) and its real peers (peers.py).

Run as root with Debian's python: /usr/bin/python3 -m pytest -q tests/integration

Fixtures
  cluster          a started Cluster per test; `@pytest.mark.cluster(dispatcher=..., nodes=...,
                   route_to=..., ...)` passes Cluster arguments (default dispatcher="router")
  cluster_factory  make_cluster(**kwargs) -> started Cluster, closed at the end of the test
  module_cluster   one Cluster("router") shared by a test module (tests must leave it as found)
  sip_servers      SIPp UAS (udp and tcp) on every node of `cluster`
  rtsp_servers     GStreamer RTSP server on every node of `cluster`
  node_captures    tcpdump on every node of `cluster` (already started; call .stop() to get
                   .pcaps = {node name: path})
Markers
  router   runs with the plain-router dispatcher (no sarad needed)
  sarad    needs a sarad that runs as a daemon (`sarad --config FILE`)
  cluster  Cluster(**kwargs) for the `cluster` fixture

Each cluster lives in the test's tmp_path (peer logs, pcaps, configs: pytest keeps the last
three runs); on failure the test report gets the tail of every peer log. Stale namespaces of
killed runs (sara-it-<dead pid>-*) are removed at session start.
"""
import os
import shutil
import signal

import pytest

import topology

REQUIRED_TOOLS = ["ip", "bridge", "ethtool", "ss", "timeout"]


def pytest_configure(config):
    config.addinivalue_line("markers", "router: runs with the plain-router dispatcher namespace")
    config.addinivalue_line("markers", "sarad: needs build/sarad running as a daemon")
    config.addinivalue_line("markers", "cluster(**kwargs): arguments of the cluster fixture's Cluster")


def pytest_sessionstart(session):
    if os.geteuid() == 0 and shutil.which("ip"):
        for name in topology.cleanup_stale():
            print("removed stale namespace", name)


def require_tools(*tools):
    """Skip the test if a tool is missing."""
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.skip("missing tools: " + " ".join(missing))


def require_rtsp_clients(*tools):
    """Skip the test unless the RTSP clients can play: ffmpeg, gst-launch-1.0 (and `tools`) and
    a GStreamer H.264 decoder (the gst client counts decoded frames)."""
    require_tools("ffmpeg", "gst-launch-1.0", *tools)
    import peers
    if peers.gst_h264_decoder() is None:
        pytest.skip("no GStreamer H.264 decoder (gstreamer1.0-libav or gstreamer1.0-plugins-bad)")


def _require_root():
    if os.geteuid() != 0:
        pytest.skip("integration tests need root (network namespaces)")
    require_tools(*REQUIRED_TOOLS)


def _report_logs(request, cluster):
    """On failure: the cluster's layout and the tail of every peer log in the report."""
    failed = any(getattr(request.node, "rep_" + w, None) is not None
                 and getattr(request.node, "rep_" + w).failed for w in ("setup", "call"))
    if not failed:
        return
    parts = [cluster.describe()]
    for p in cluster.procs:
        tail = p.output().splitlines()[-15:]
        parts.append("--- %s (rc %s) %s\n%s" % (p.name, p.returncode, p.log, "\n".join(tail)))
    request.node.add_report_section("teardown", "cluster logs", "\n".join(parts))


def _make(tmp_path, name, **kwargs):
    workdir = tmp_path / name
    return topology.Cluster(workdir=workdir, **kwargs).start()


@pytest.fixture
def cluster(request, tmp_path):
    _require_root()
    marker = request.node.get_closest_marker("cluster")
    kwargs = dict(marker.kwargs) if marker else {}
    # parametrize("cluster", [...], indirect=True): each param is a dict of Cluster arguments
    # on top of the marker's (one test, e.g. on the netfilter and on the BPF fast path).
    kwargs.update(getattr(request, "param", None) or {})
    kwargs.setdefault("dispatcher", "router")
    c = _make(tmp_path, "cluster", **kwargs)
    try:
        yield c
    finally:
        try:
            _report_logs(request, c)
        finally:
            c.close()


@pytest.fixture
def cluster_factory(request, tmp_path):
    _require_root()
    made = []

    def make(**kwargs):
        c = _make(tmp_path, "cluster%d" % (len(made) + 1), **kwargs)
        made.append(c)
        return c

    try:
        yield make
    finally:
        for c in made:
            try:
                _report_logs(request, c)
            finally:
                c.close()


@pytest.fixture(scope="module")
def module_cluster(tmp_path_factory):
    _require_root()
    c = topology.Cluster("router", workdir=tmp_path_factory.mktemp("module-cluster")).start()
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def sip_servers(cluster):
    require_tools("sipp")
    import peers
    servers = peers.start_sip_servers(cluster)
    yield servers
    for s in servers:
        s.proc.stop(signal.SIGTERM, grace=2)


@pytest.fixture
def rtsp_servers(cluster):
    require_tools("gst-launch-1.0")
    import peers
    servers = peers.start_rtsp_servers(cluster)
    yield servers
    for s in servers:
        s.stop()


@pytest.fixture
def node_captures(cluster):
    require_tools("tcpdump", "tshark")
    import peers
    caps = peers.capture_nodes(cluster).start()
    yield caps
    caps.stop()


# One hook (a second function of the same name in this module would replace the first):
# keeps each phase's report on the item for _report_logs, and under SARA_STRICT=1 (make check,
# CI) makes a skipped test a failure: a check that did not run must never be reported as passing.
@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)
    if os.environ.get("SARA_STRICT") == "1" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = "skipped under SARA_STRICT=1: %s" % (report.longrepr,)
