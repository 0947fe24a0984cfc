"""The trail's writer: the byte format, group commit, rotation, digests, fail closed, and several
processes appending at once (real files, real fsync, real processes)."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
from tests.unit.audit.helpers import event, make_signer

from strongroom.audit.digest import Signer, split_digest
from strongroom.audit.format import GENESIS, numbered, parse_line
from strongroom.audit.trail import Trail, read_events
from strongroom.audit.verify import verify
from strongroom.crypto.trail_signature import public_pem


class Clock:
    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _lines(trail_dir: Path) -> list[bytes]:
    out = []
    for _, name in numbered(trail_dir, "segments"):
        out.extend((trail_dir / "segments" / name).read_bytes().splitlines(keepends=True))
    return out


def test_lines_are_byte_exact_and_chained(tmp_path: Path, signer: Signer) -> None:
    trail = Trail(tmp_path / "trail", signer)
    events = [event(1), event(2, encryptionContext={"a": "é"}), event(3)]
    trail.commit_sync(events)
    trail.close()
    previous = GENESIS
    lines = _lines(tmp_path / "trail")
    assert len(lines) == 3
    for seq, (raw, sent) in enumerate(zip(lines, events, strict=True), 1):
        body = orjson.dumps({"seq": seq, "event": sent})
        digest = hashlib.sha256(previous + body).digest()
        assert raw == body[:-1] + b',"hash":"' + digest.hex().encode() + b'"}\n'
        previous = digest
    assert (tmp_path / "trail/segments/0000000001.jsonl").exists()
    assert list(read_events(tmp_path / "trail")) == events


async def _commit_all(trail: Trail, count: int) -> None:
    await asyncio.gather(*(trail.commit([event(n)]) for n in range(count)))


def test_concurrent_commits_share_one_flush(tmp_path: Path, signer: Signer) -> None:
    trail = Trail(tmp_path / "trail", signer)
    asyncio.run(_commit_all(trail, 64))
    # All 64 callers queue before the first flush starts: one write and one fsync for them all.
    assert trail.flushes == 1
    asyncio.run(_commit_all(trail, 10))
    assert trail.flushes == 2
    assert sorted(e["n"] for e in read_events(tmp_path / "trail")) == sorted(
        [*range(64), *range(10)]
    )
    assert [parse_line(line).seq for line in _lines(tmp_path / "trail")] == list(range(1, 75))
    trail.close()


def test_segments_rotate_by_size_and_age_and_the_chain_runs_on(
    tmp_path: Path, signer: Signer, public_key: bytes
) -> None:
    clock = Clock()
    trail = Trail(tmp_path / "trail", signer, segment_bytes=600, segment_seconds=60, now=clock)
    for n in range(1, 7):
        trail.commit_sync([event(n)])  # ~200 bytes a line: a new segment every 3 lines
    assert [name for _, name in numbered(tmp_path / "trail", "segments")] == [
        "0000000001.jsonl",
        "0000000002.jsonl",
    ]
    clock.t += 61
    trail.commit_sync([event(7)])
    assert len(numbered(tmp_path / "trail", "segments")) == 3
    trail.close()
    first = parse_line(
        (tmp_path / "trail/segments/0000000002.jsonl").read_bytes().splitlines(keepends=True)[0]
    )
    last_of_first = parse_line(
        (tmp_path / "trail/segments/0000000001.jsonl").read_bytes().splitlines(keepends=True)[-1]
    )
    assert first.seq == last_of_first.seq + 1
    assert first.chains_from(last_of_first.hash)
    report = verify(tmp_path / "trail", public_key)
    assert report.ok, report.findings
    assert report.last_seq == 7
    assert report.segments == 3


def test_digests_on_schedule_on_demand_and_when_idle(tmp_path: Path, signer: Signer) -> None:
    clock = Clock()
    trail = Trail(tmp_path / "trail", signer, digest_seconds=3600, segment_seconds=10**6, now=clock)
    trail.commit_sync([event(1), event(2)])
    assert numbered(tmp_path / "trail", "digests") == []
    clock.t += 3600
    trail.commit_sync([event(3)])  # the commit notices the digest is due
    assert [name for _, name in numbered(tmp_path / "trail", "digests")] == ["0000000001.json"]
    clock.t += 10
    assert trail.digest_now() == "0000000002.json"  # nothing logged since: written anyway
    clock.t += 10
    trail.close()
    first, second, third = (
        split_digest((tmp_path / "trail/digests" / f"000000000{n}.json").read_bytes())
        for n in (1, 2, 3)
    )
    assert first.fields["previousDigestFile"] is None
    assert first.fields["previousDigestSignature"] is None
    assert first.fields["digestStartTime"] == "2023-11-14T22:13:20Z"
    assert first.fields["digestEndTime"] == "2023-11-14T23:13:20Z"
    [segment] = first.fields["segments"]
    data = (tmp_path / "trail/segments/0000000001.jsonl").read_bytes()
    assert segment["bytes"] == len(data)
    assert segment["sha256"] == hashlib.sha256(data).hexdigest()
    assert (segment["firstSeq"], segment["lastSeq"]) == (1, 3)
    assert (
        segment["lastHash"]
        == first.fields["lastHash"]
        == parse_line(data.splitlines(True)[-1]).hash.hex()
    )
    assert second.fields["previousDigestFile"] == "0000000001.json"
    assert second.fields["previousDigestSignature"] == first.signature.hex()
    assert (
        second.fields["previousDigestSha256"]
        == hashlib.sha256((tmp_path / "trail/digests/0000000001.json").read_bytes()).hexdigest()
    )
    assert second.fields["digestStartTime"] == first.fields["digestEndTime"]
    assert third.fields["lastSeq"] == 3
    assert (
        first.fields["publicKeyFingerprint"]
        == hashlib.sha256(signer.public_key_der()).hexdigest()[:32]
    )
    assert first.fields["signatureAlgorithm"] == "Ed25519"


FAIL_CLOSED = textwrap.dedent(
    """
    import os, resource, signal, sys
    from pathlib import Path
    from strongroom.audit.trail import Trail, TrailUnavailable
    from tests.unit.audit.helpers import make_signer

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a fatal signal
    base = Path(sys.argv[1])
    trail = Trail(base / "trail", make_signer(base / "keys"))
    segment = base / "trail" / "segments" / "0000000001.jsonl"
    trail.commit_sync([{"n": 0}])
    good = segment.stat().st_size
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    # Room for half a line: the write fails part-way, as on a full disk.
    resource.setrlimit(resource.RLIMIT_FSIZE, (good + 40, hard))
    for attempt in range(2):
        try:
            trail.commit_sync([{"n": 1, "padding": "x" * 100}])
        except TrailUnavailable as exc:
            print("refused", exc)
        assert segment.stat().st_size == good, segment.stat().st_size
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    trail.commit_sync([{"n": 2}])
    trail.close()
    print("recovered")
    """
)


def test_fail_closed_then_recover(tmp_path: Path, public_key: bytes) -> None:
    result = subprocess.run(
        [sys.executable, "-c", FAIL_CLOSED, str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        cwd=Path(__file__).parents[3],
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("refused the audit trail cannot be written (EFBIG")
    assert lines[1].startswith("refused")
    assert lines[2] == "recovered"
    assert [e["n"] for e in read_events(tmp_path / "trail")] == [0, 2]
    own_key = public_pem(make_signer(tmp_path / "keys").public_key_der())
    report = verify(tmp_path / "trail", own_key)
    assert report.ok, report.findings


WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from strongroom.audit.trail import Trail
    from tests.unit.audit.helpers import make_signer

    base, who, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    trail = Trail(base / "trail", make_signer(base / "keys"), segment_bytes=4096)

    async def main():
        await asyncio.gather(*(trail.commit([{"who": who, "n": n}]) for n in range(count)))

    for n in range(count):
        trail.commit_sync([{"who": who, "n": -n - 1}])
    asyncio.run(main())
    """
)


def test_three_processes_append_to_one_trail(tmp_path: Path) -> None:
    own = make_signer(tmp_path / "keys")  # created before the writers start
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), who, "100"],
            cwd=Path(__file__).parents[3],
        )
        for who in ("a", "b", "c")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    seqs = [parse_line(line).seq for line in _lines(tmp_path / "trail")]
    assert seqs == list(range(1, len(seqs) + 1))
    events = list(read_events(tmp_path / "trail"))
    for who in "abc":
        mine = [e["n"] for e in events if e["who"] == who]
        assert sorted(mine) == [*range(-100, 0), *range(100)]
    assert len(numbered(tmp_path / "trail", "segments")) > 3
    report = verify(tmp_path / "trail", public_pem(own.public_key_der()), allow_unsigned_tail=True)
    assert report.ok, report.findings
    assert report.last_seq == len(events) == 3 * 200
