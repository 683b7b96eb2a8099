#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the seeds and hostile shapes of fuzz_sync_message.

    tests/fuzz/make_sync_seeds.py        (from anywhere; writes next to this script)

tests/fuzz/corpus/sync_message/ gets real datagrams — updates, snapshot chunks and resync
requests, signed with the fixture key, unsigned, and with an ignored trailer — plus record text
on its own (the target also reads every input as records). tests/fuzz/regressions/sync_message/
gets datagrams that break one rule of the layout under a valid MAC, suffixes that are not a
trailer, the size bound, and payloads with hostile records.

The datagram layout (common/wire/sync_message.hpp) is written out here independently of the C++
encoder, and the HMAC comes from Python's hmac module, so a seed is also a check of both. The
key and the send time are read from tests/fuzz/cluster_key_fixture.hpp, the file the target
uses, so the two cannot drift apart.
"""
import hashlib
import hmac
import pathlib
import re
import struct

HERE = pathlib.Path(__file__).resolve().parent
FIXTURE = (HERE / "cluster_key_fixture.hpp").read_text()
KEY = bytes.fromhex(re.search(r'kKeyHex = "([0-9a-f]+)"', FIXTURE).group(1))
NOW = int(re.search(r"kNow = ([0-9']+);", FIXTURE).group(1).replace("'", ""))

UPDATE, SNAPSHOT, RESYNC, ACK = 1, 2, 3, 4
MAX_PAYLOAD = 1400


def datagram(host, seq, kind, payload=b"", epoch=0, index=0, last_chunk=0, timestamp=NOW, payload_len=None):
    """Header + body, unsigned. payload_len overrides the length field (for hostile shapes)."""
    n = len(payload) if payload_len is None else payload_len
    return (b"SA\x01\x04" + struct.pack(">HIIBIHHH", host, seq, timestamp, kind, epoch, index, last_chunk, n) + payload)


def signed(d):
    return d + hmac.new(KEY, d, hashlib.sha256).digest()


def block(protocol, state, node, service, confirmed, key, flows):
    lines = [f"S {protocol} {state} {node} {service} {confirmed} {key}\n"]
    lines += [f"F {proto} {src} {sport} {dst} {dport} {identity} {status}\n"
              for proto, src, sport, dst, dport, identity, status in flows]
    return "".join(lines)


SIP_CALL = block(0, 0, 2, 0, 1, "call-1@198.18.1.2", [(17, "198.18.1.2", 5070, "198.18.100.10", 5060, 0, 1)])
SIP_CALL_MEDIA = block(0, 0, 2, 0, 1, "call-1@198.18.1.2", [
    (17, "198.18.1.2", 5070, "198.18.100.10", 5060, 0, 1),
    (17, "198.18.1.2", 20000, "198.18.100.10", 6000, 1, 0),
    (17, "198.18.1.2", 20001, "198.18.100.10", 6001, 1, 0)])
RTSP_SESSION = block(1, 0, 3, 1, 1, "sess-9", [
    (6, "198.18.1.2", 41000, "198.18.100.10", 554, 0, 1),
    (17, "198.18.1.2", 5000, "198.18.100.10", 6970, 2, 0)])
RTSP_KEYLESS = block(1, 0, 3, 1, 0, "-", [(6, "198.18.1.3", 41001, "198.18.100.10", 554, 0, 0)])
SIP_V6 = block(0, 1, 4, 0, 1, "v6-call@2001:db8::2", [
    (17, "2001:db8::2", 5070, "2001:db8::a", 5060, 0, 1),
    (17, "2001:db8::2", 30000, "2001:db8::a", 7000, 2, 2)])
PLAIN = block(2, 0, 1, 2, 0, "-", [(6, "198.18.1.4", 50000, "198.18.100.10", 8080, 0, 1)])


def tagged(text, slot):
    """A table_records block as the version-3 lines a snapshot chunk carries (table_snapshot.hpp):
    each S/F line as s/f with its session's tag "<slot>:<created_ms>"."""
    return "".join(line[0].lower() + f" {slot}:1000 " + line[2:] for line in text.splitlines(keepends=True))


def full_snapshot_chunk():
    """Whole lines up to the payload bound, as StateSync packs them: more sessions than the
    fuzz target's table holds (64) would need several chunks, so this one fills one chunk."""
    text = ""
    for i in range(200):
        b = tagged(block(0, 0, 1 + i % 4, 0, i % 2, f"c{i}", [(17, f"198.18.{1 + i // 250}.{1 + i % 250}", 5070,
                                                                "198.18.100.10", 5060, 0, 1)]), i)
        if len(text) + len(b) > MAX_PAYLOAD:
            break
        text += b
    return text.encode()


def seeds():
    call = SIP_CALL.encode()
    two_blocks = (tagged(SIP_CALL_MEDIA, 0) + tagged(RTSP_SESSION, 1)).encode()
    mixed_records = (RTSP_KEYLESS + SIP_V6 + PLAIN).encode()
    mixed = (tagged(RTSP_KEYLESS, 2) + tagged(SIP_V6, 3) + tagged(PLAIN, 70000)).encode()
    full = full_snapshot_chunk()
    assert len(full) <= MAX_PAYLOAD
    update = datagram(1, 1, UPDATE, call)
    resync = datagram(0x0102, 7, RESYNC)
    return {
        "update-signed": signed(update),
        "update-plain": update,
        "update-ignored-trailer": update + b"\xee" * 32,
        "update-empty-signed": signed(datagram(1, 2, UPDATE)),
        "update-mixed-signed": signed(datagram(2, 3, UPDATE, mixed_records)),
        "snapshot-first-chunk-signed": signed(datagram(2, 10, SNAPSHOT, two_blocks, epoch=7, index=0)),
        "snapshot-last-chunk-plain": datagram(2, 11, SNAPSHOT, mixed, epoch=7, index=1, last_chunk=1),
        "snapshot-chunk-65535-signed": signed(datagram(2, 12, SNAPSHOT, mixed, epoch=7, index=0xffff)),
        "snapshot-empty-table-signed": signed(datagram(1, 4, SNAPSHOT, epoch=1, index=0, last_chunk=1)),
        "snapshot-full-chunk-signed": signed(datagram(1, 5, SNAPSHOT, full, epoch=2, index=0, last_chunk=1)),
        "resync-signed": signed(resync),
        "resync-plain": resync,
        # A mesh (sync.peers): requests and acks name their addressee, an update its readiness.
        "mesh-resync-to-7-signed": signed(datagram(3, 8, RESYNC, index=7)),
        "mesh-ack-of-9-to-0x0102-signed": signed(datagram(3, 9, ACK, epoch=9, index=0x0102)),
        "mesh-update-ready-signed": signed(datagram(3, 10, UPDATE, call, epoch=5, index=1)),
        # Not a datagram: the target reads every input as records too.
        "records.txt": (SIP_CALL_MEDIA + RTSP_KEYLESS + RTSP_SESSION + SIP_V6 + PLAIN).encode(),
    }


def hostile_records():
    """Payloads the receiver must survive; the fuzz target's table has 4 flows per session,
    2 announced, 32-byte keys, 64 sessions and 256 flows."""
    flows5 = block(0, 0, 1, 0, 0, "five-flows", [(17, "198.18.1.2", 20000 + i, "198.18.100.10", 6000 + i, 2, 0)
                                                  for i in range(5)])
    announced3 = block(0, 0, 1, 0, 0, "three-announced", [(17, "198.18.1.2", 21000 + i, "198.18.100.10", 7000 + i, 1, 0)
                                                          for i in range(3)])
    # A flow moved from one session to another, and a keyless session left without flows.
    moves = (block(1, 1, 1, 1, 0, "-", [(6, "198.18.1.2", 41000, "198.18.100.10", 554, 0, 1)]) +
             block(1, 0, 1, 1, 0, "sess-a", []) +
             block(1, 0, 2, 1, 0, "sess-a", [(6, "198.18.1.2", 41000, "198.18.100.10", 554, 0, 1)]))
    # Announced flows gathered by moves past the announced limit.
    gather = "".join(block(0, 0, 1, 0, 0, f"a{i}", [(17, "198.18.1.9", 22000 + i, "198.18.100.10", 8000 + i, 1, 0)])
                     for i in range(3))
    gather += block(0, 0, 1, 0, 0, "g", [(17, "198.18.1.9", 22000 + i, "198.18.100.10", 8000 + i, 1, 0)
                                        for i in range(3)])
    return {
        "records-key-at-and-over-limit": (block(0, 0, 1, 0, 0, "k" * 32, [(17, "198.18.1.2", 5070, "198.18.100.10", 5060, 0, 1)]) +
                                          block(0, 0, 1, 0, 0, "k" * 33, [(17, "198.18.1.2", 5071, "198.18.100.10", 5060, 0, 1)])),
        "records-flows-over-session-limit": flows5,
        "records-announced-over-limit": announced3,
        "records-flow-moves": moves,
        "records-announced-gathered-by-moves": gather,
        "records-node-0-and-ipv6": block(0, 0, 0, 0, 0, "n0", [(17, "2001:db8::2", 5070, "2001:db8::a", 5060, 0, 1)]),
        "records-crlf": SIP_CALL.replace("\n", "\r\n"),
        "records-empty-line": SIP_CALL + "\n" + RTSP_SESSION,
        "records-no-final-newline": SIP_CALL.rstrip("\n"),
        "records-mixed-families": "S 0 0 1 0 0 x\nF 17 198.18.1.2 1 2001:db8::a 2 0 0\n",
        "records-nul-in-address": "S 0 0 1 0 0 x\nF 17 198.18.1.2\0junk 1 198.18.100.10 2 0 0\n",
    }


def regressions():
    call = SIP_CALL.encode()
    update = datagram(1, 1, UPDATE, call)
    out = {
        "kind-0-valid-mac": signed(datagram(1, 1, 0, call)),
        "kind-4-valid-mac": signed(datagram(1, 1, 4, call)),
        "snapshot-last-chunk-2-valid-mac": signed(datagram(1, 1, SNAPSHOT, call, epoch=1, index=0, last_chunk=2)),
        "snapshot-last-chunk-0xffff-valid-mac": signed(datagram(1, 1, SNAPSHOT, call, epoch=1, index=2, last_chunk=0xffff)),
        "update-epoch-1-valid-mac": signed(datagram(1, 1, UPDATE, call, epoch=1)),
        "update-last-chunk-1-valid-mac": signed(datagram(1, 1, UPDATE, call, last_chunk=1)),
        "update-index-2-valid-mac": signed(datagram(1, 1, UPDATE, call, index=2)),
        "resync-with-payload-valid-mac": signed(datagram(1, 1, RESYNC, b"x")),
        "payload-len-one-short-valid-mac": signed(datagram(1, 1, UPDATE, call, payload_len=len(call) - 1)),
        "payload-len-one-long-valid-mac": signed(datagram(1, 1, UPDATE, call, payload_len=len(call) + 1)),
        # Without a key the last 32 payload bytes are read as a trailer and ignored.
        "payload-len-32-short-plain": datagram(1, 1, UPDATE, call, payload_len=len(call) - 32),
        "payload-1401-valid-mac": signed(datagram(1, 1, UPDATE, b"x" * 1401)),
        "payload-1400-valid-mac": signed(datagram(1, 1, UPDATE, b"x" * 1400)),
        "suffix-31-plain": update + b"\0" * 31,
        "suffix-33-plain": update + b"\0" * 33,
        "trailing-byte-valid-mac": signed(update + b"\0"),
        "truncated-signed": signed(update)[:-1],
        "fixed-body-short-by-one": datagram(1, 1, RESYNC)[:-1],
        "heartbeat-typed-as-sync": signed(b"SA\x01\x04" + struct.pack(">HIBI", 1, 1, 0, NOW)),
    }
    for name, text in hostile_records().items():
        payload = text.encode()
        assert len(payload) <= MAX_PAYLOAD, name
        out[name + "-signed"] = signed(datagram(1, 20, UPDATE, payload))
    return out


def write(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


if __name__ == "__main__":
    write(HERE / "corpus" / "sync_message", seeds())
    write(HERE / "regressions" / "sync_message", regressions())
