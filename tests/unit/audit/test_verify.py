"""``verify``: an untouched trail verifies; each kind of tampering is reported, with its place."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.audit.helpers import Clock, copied, event, make_signer

from strongroom.audit.digest import Signer
from strongroom.audit.trail import Trail
from strongroom.audit.verify import Finding, Report, verify
from strongroom.crypto.trail_signature import public_pem

SEG1 = "segments/0000000001.jsonl"
SEG2 = "segments/0000000002.jsonl"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, signer: Signer) -> Path:
    """30 events in 3 segments of 10, two digests (one mid-way, one at close)."""
    clock = Clock()
    path = tmp_path_factory.mktemp("pristine") / "trail"
    trail = Trail(path, signer, segment_bytes=1700, now=clock)
    for n in range(1, 31):
        trail.commit_sync([event(n)])
        clock.t += 60
        if n == 15:
            trail.digest_now()
    trail.close()
    return path


@pytest.fixture
def trail(pristine: Path, tmp_path: Path) -> Path:
    return copied(pristine, tmp_path)


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _kinds(report: Report) -> list[tuple[str, str, int | None, int | None]]:
    return [(f.kind, f.file, f.line, f.seq) for f in report.findings]


def test_pristine_trail_verifies(pristine: Path, public_key: bytes) -> None:
    report = verify(pristine, public_key)
    assert report.ok, report.findings
    assert (report.segments, report.events, report.digests) == (3, 30, 2)
    assert report.last_seq == report.covered_seq == 30
    assert [len(_lines(pristine / name)) for name in (SEG1, SEG2)] == [10, 10]


def test_an_edited_byte_is_reported_at_its_line(trail: Path, public_key: bytes) -> None:
    lines = _lines(trail / SEG2)
    lines[3] = lines[3].replace(b"Encrypt", b"Decrypt")
    (trail / SEG2).write_bytes(b"".join(lines))
    report = verify(trail, public_key)
    assert ("changed", SEG2, 4, 14) in _kinds(report)
    assert not report.ok


def test_a_deleted_segment_is_reported(trail: Path, public_key: bytes) -> None:
    (trail / SEG2).unlink()
    report = verify(trail, public_key)
    removed = [f for f in report.findings if f.kind == "removed"]
    assert removed[0].file == SEG2
    assert "seq 20" in removed[0].message
    assert any(f.seq == 11 and "seq 11..20 missing" in f.message for f in removed)


def test_a_deleted_event_is_reported(trail: Path, public_key: bytes) -> None:
    lines = _lines(trail / SEG1)
    del lines[4]  # seq 5
    (trail / SEG1).write_bytes(b"".join(lines))
    report = verify(trail, public_key)
    assert ("removed", SEG1, 5, 5) in _kinds(report)
    assert not any(f.kind == "changed" and f.line is not None for f in report.findings)


def test_swapped_events_are_reported(trail: Path, public_key: bytes) -> None:
    lines = _lines(trail / SEG1)
    lines[2], lines[3] = lines[3], lines[2]  # seq 3 and 4
    (trail / SEG1).write_bytes(b"".join(lines))
    report = verify(trail, public_key)
    assert ("reordered", SEG1, 4, 3) in _kinds(report)
    assert not any(f.kind in {"removed", "added"} for f in report.findings)


def test_a_truncated_tail_is_reported(trail: Path, public_key: bytes) -> None:
    last = trail / "segments/0000000003.jsonl"
    lines = _lines(last)
    last.write_bytes(b"".join(lines[:-2]))
    report = verify(trail, public_key)
    [finding] = [f for f in report.findings if f.kind == "truncated"]
    assert finding.file == "segments/0000000003.jsonl"
    assert "up to seq 30" in finding.message


def test_a_tail_cut_mid_line_is_reported(trail: Path, public_key: bytes) -> None:
    last = trail / "segments/0000000003.jsonl"
    last.write_bytes(last.read_bytes()[:-30])
    kinds = {f.kind for f in verify(trail, public_key).findings}
    assert "truncated" in kinds


def test_a_replaced_digest_is_reported(trail: Path, public_key: bytes, tmp_path: Path) -> None:
    # A forger's digest, signed by another key, over the forger's own trail.
    other = Trail(tmp_path / "forged", make_signer(tmp_path / "forger"))
    other.commit_sync([event(1)])
    other.close()
    shutil.copy(tmp_path / "forged/digests/0000000001.json", trail / "digests/0000000001.json")
    report = verify(trail, public_key)
    files = {(f.kind, f.file) for f in report.findings}
    assert ("changed", "digests/0000000001.json") in files
    assert any("replaced" in f.message for f in report.findings)


def test_an_edited_digest_is_reported(trail: Path, public_key: bytes) -> None:
    path = trail / "digests/0000000002.json"
    path.write_bytes(path.read_bytes().replace(b'"lastSeq":30', b'"lastSeq":29', 1))
    report = verify(trail, public_key)
    assert ("changed", "digests/0000000002.json", None, None) in _kinds(report)


def test_a_deleted_digest_is_reported(trail: Path, public_key: bytes) -> None:
    (trail / "digests/0000000001.json").unlink()
    report = verify(trail, public_key)
    assert any(
        f.kind == "removed" and f.file.startswith("digests/0000000001") for f in report.findings
    )


def test_an_added_event_is_reported(trail: Path, public_key: bytes) -> None:
    lines = _lines(trail / SEG2)
    forged = lines[2].replace(b"req-13", b"req-99")  # a second seq 13, in the middle
    lines.insert(3, forged)
    (trail / SEG2).write_bytes(b"".join(lines))
    report = verify(trail, public_key)
    assert ("added", SEG2, 4, 13) in _kinds(report)


def test_an_event_appended_after_the_last_digest_is_reported(
    trail: Path, public_key: bytes, signer: Signer
) -> None:
    # Appended the honest way (right seq, right hash) by someone with write access, after close.
    Trail(trail, signer, now=Clock()).commit_sync([event(31)])
    report = verify(trail, public_key)
    assert _kinds(report) == [("unsigned", "segments", None, 31)]
    assert verify(trail, public_key, allow_unsigned_tail=True).ok


def test_time_window_selects_digests(trail: Path, public_key: bytes) -> None:
    (trail / "segments/0000000003.jsonl").unlink()  # covered only by the second digest
    early = datetime(2023, 11, 14, 22, 0, tzinfo=UTC)
    first_end = datetime(2023, 11, 14, 22, 28, tzinfo=UTC)
    windowed = verify(trail, public_key, start=early, end=first_end)
    # The missing segment is still seen (numbering), but the second digest's claims are not.
    assert windowed.covered_seq == 15
    assert not any(f.kind == "truncated" for f in windowed.findings)
    assert not verify(trail, public_key).ok


def test_ecdsa_p384_signer(tmp_path: Path) -> None:
    signer = make_signer(tmp_path / "keys", "SHA384withECDSA")
    assert signer.algorithm == "SHA384withECDSA"
    trail = Trail(tmp_path / "trail", signer)
    trail.commit_sync([event(1)])
    trail.close()
    key = public_pem(signer.public_key_der())
    assert verify(tmp_path / "trail", key).ok
    assert not verify(
        tmp_path / "trail", public_pem(make_signer(tmp_path / "k2").public_key_der())
    ).ok


def _files(pristine: Path) -> list[str]:
    return sorted(
        str(p.relative_to(pristine))
        for p in pristine.rglob("*")
        if p.is_file() and p.name != "lock"
    )


@settings(max_examples=40)
@given(data=st.data())
def test_any_single_byte_change_is_reported(
    pristine: Path, public_key: bytes, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(_files(pristine)))
    original = (pristine / name).read_bytes()
    offset = data.draw(st.integers(0, len(original) - 1))
    flip = data.draw(st.integers(1, 255))
    copy = tmp_path_factory.mktemp("flip") / "trail"
    shutil.copytree(pristine, copy)
    changed = bytearray(original)
    changed[offset] ^= flip
    (copy / name).write_bytes(bytes(changed))
    report = verify(copy, public_key)
    assert not report.ok
    assert any(f.file.startswith(name[:-5]) or f.file == name for f in report.findings), (
        name,
        [str(f) for f in report.findings],
    )


def test_findings_read_well() -> None:
    finding = Finding("changed", SEG1, "its hash does not match", 3, 7)
    assert str(finding) == f"changed: {SEG1} line 3 (seq 7): its hash does not match"


def test_a_live_trail_s_line_being_written_is_not_a_finding(trail: Path, public_key: bytes) -> None:
    """Past the newest digest, a last line without its newline is being written (or was, by a
    writer that died before acknowledging it): a live trail verifies; a closed one does not."""
    last = trail / "segments/0000000003.jsonl"
    with last.open("ab") as f:
        f.write(b'{"seq":31,"event":{"eventName":"Encr')
    assert verify(trail, public_key, allow_unsigned_tail=True).ok
    kinds = {f.kind for f in verify(trail, public_key).findings}
    assert "truncated" in kinds
