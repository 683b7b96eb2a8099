# SPDX-License-Identifier: GPL-2.0-or-later
"""Offline replay of the capture corpus (tests/data): every capture must group into exactly
its expected sessions. Run with Debian's pytest: /usr/bin/python3 -m pytest tests/replay."""
import json
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SARAD = ROOT / "build" / "sarad"
DATA = ROOT / "tests" / "data"
CAPTURES = sorted(DATA.glob("*.expected.json"))


def replay(*args):
    return subprocess.run([str(SARAD), "replay", *args], capture_output=True, text=True, timeout=120)


def grouping(sessions):
    """{(protocol, key): {(proto, client, server)}} over flows that carried packets."""
    out = {}
    for s in sessions:
        flows = {(f["proto"], f["client"], f["server"]) for f in s["flows"] if f.get("packets", 1) > 0}
        if flows:
            out[(s["protocol"], s["key"])] = flows
    return out


def test_corpus_is_present():
    assert CAPTURES, f"no *.expected.json in {DATA}: run 'make captures'"


@pytest.mark.parametrize("expected_file", CAPTURES, ids=lambda p: p.name.replace(".expected.json", ""))
def test_capture_replays_to_its_expected_grouping(expected_file):
    expected = json.loads(expected_file.read_text())
    pcap = expected_file.with_name(expected_file.name.replace(".expected.json", ".pcap"))
    result = replay("--vip", expected["vip"], "--json", str(pcap))
    assert result.returncode == 0, result.stderr
    got = grouping(json.loads(result.stdout)["sessions"])
    want = {(s["protocol"], s["key"]): {(f["proto"], f["client"], f["server"]) for f in s["flows"]}
            for s in expected["sessions"]}
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    assert not missing, f"sessions not found: {missing}"
    assert not extra, f"sessions not expected: {[(k, sorted(got[k])) for k in extra]}"
    for key in want:
        assert got[key] == want[key], f"session {key}: flows differ\n got {sorted(got[key])}\nwant {sorted(want[key])}"


def test_every_session_has_a_state_and_packet_counts():
    for expected_file in CAPTURES[:1]:
        expected = json.loads(expected_file.read_text())
        pcap = expected_file.with_name(expected_file.name.replace(".expected.json", ".pcap"))
        doc = json.loads(replay("--vip", expected["vip"], "--json", str(pcap)).stdout)
        for s in doc["sessions"]:
            assert s["state"] in ("active", "completed", "aborted")
            assert set(s) >= {"protocol", "key", "state", "node", "flows"}
            for f in s["flows"]:
                assert set(f) == {"proto", "client", "server", "identity", "packets"}
                assert f["identity"] in ("signalling", "announced", "secondary")


def test_human_table_without_json():
    expected_file = CAPTURES[0]
    expected = json.loads(expected_file.read_text())
    pcap = expected_file.with_name(expected_file.name.replace(".expected.json", ".pcap"))
    result = replay("--vip", expected["vip"], str(pcap))
    assert result.returncode == 0, result.stderr
    assert "sessions:" in result.stdout and "packets:" in result.stdout


@pytest.mark.parametrize("args, code, message", [
    ([], 2, "--vip is required"),
    (["--vip", "not-an-address", "x.pcap"], 2, "not an IP address"),
    (["--vip", "198.18.100.10"], 2, "no capture file"),
    (["--vip", "198.18.100.10", "--service", "sip/sctp/5060", "x.pcap"], 2, "PROTO/TRANSPORT/PORT"),
    (["--vip", "198.18.100.10", "--bogus", "x.pcap"], 2, "unknown option"),
    (["--vip", "198.18.100.10", "/nonexistent/capture.pcap"], 1, "/nonexistent/capture.pcap"),
])
def test_bad_command_lines_fail_clearly(args, code, message):
    result = replay(*args)
    assert result.returncode == code
    assert message in result.stderr


def test_truncated_and_garbage_captures_fail_clearly(tmp_path):
    good = next(DATA.glob("*.pcap"))
    truncated = tmp_path / "truncated.pcap"
    truncated.write_bytes(good.read_bytes()[:1000])
    result = replay("--vip", "198.18.100.10", "--json", str(truncated))
    # libpcap reports the cut-off last record: a clear error naming the file, not a crash.
    assert result.returncode == 1, result.stderr
    assert "truncated.pcap" in result.stderr and "truncated" in result.stderr.split("truncated.pcap", 1)[1]
    garbage = tmp_path / "garbage.pcap"
    garbage.write_bytes(b"\x00not a capture at all" * 10)
    result = replay("--vip", "198.18.100.10", str(garbage))
    assert result.returncode == 1
    assert "garbage.pcap" in result.stderr
