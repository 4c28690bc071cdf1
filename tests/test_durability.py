"""Durability without an fsync per download: a finished file's record names the boot it was
finished in, and anything from an earlier boot (when a crash may have lost unsynced bytes) is
proved again or started over. And the SHA-256 that runs on a thread of its own gives the same
digest as hashlib, whatever the chunking."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
from pathlib import Path

import pytest

from bg20k_fetch.transfer.download import Download
from bg20k_fetch.transfer.hashing import Sha256Behind
from bg20k_fetch.transfer.http import make_session
from bg20k_fetch.transfer.resume import boot_id
from tests.fileserver import Behaviour, FileServer

DATA = secrets.token_bytes(3 * 2**20 + 17)  # past Sha256Behind.INLINE: the thread takes over


def fetch(server: FileServer, dest: Path) -> Download:
    download = Download(make_session(), server.url("/f.bin"), dest)
    return download


def test_this_machine_has_a_boot_id() -> None:
    # Linux CI: without it every download would fall back to an fsync (still correct).
    assert boot_id()


def test_a_finished_download_from_an_earlier_boot_is_proved_before_reuse(
    server: FileServer, tmp_path: Path
) -> None:
    server.routes["/f.bin"] = Behaviour(DATA)
    dest = tmp_path / "f.bin"
    first = fetch(server, dest).run()
    assert first.sha256 == hashlib.sha256(DATA).hexdigest() and not first.reused
    record_path = dest.with_name("f.bin.done.json")
    record = json.loads(record_path.read_text())
    assert record["boot"] == boot_id()

    record_path.write_text(json.dumps({**record, "boot": "an-earlier-boot"}))
    again = fetch(server, dest).run()
    assert again.reused  # the bytes survived: re-read once, not downloaded again
    assert json.loads(record_path.read_text())["boot"] == boot_id()
    last = server.requests_for("/f.bin")[-1]
    assert "If-None-Match" in last.headers  # a conditional request, answered 304

    # The same record, but the crash lost bytes (size and mtime unchanged): fetched again.
    stat = dest.stat()
    with dest.open("r+b") as handle:
        handle.seek(2**20)
        handle.write(b"\0" * 4096)
    os.utime(dest, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    record_path.write_text(json.dumps({**record, "boot": "an-earlier-boot"}))
    third = fetch(server, dest).run()
    assert not third.reused and dest.read_bytes() == DATA
    assert "If-None-Match" not in server.requests_for("/f.bin")[-1].headers


@pytest.mark.parametrize(("boot", "resumed"), [("same", True), ("an-earlier-boot", False)])
def test_a_part_from_an_earlier_boot_is_started_over(
    server: FileServer, tmp_path: Path, boot: str, resumed: bool
) -> None:
    server.routes["/f.bin"] = Behaviour(DATA)
    etag = '"' + hashlib.sha256(DATA).hexdigest()[:16] + '"'
    dest = tmp_path / "f.bin"
    half = len(DATA) // 2
    dest.with_name("f.bin.part").write_bytes(DATA[:half])
    dest.with_name("f.bin.part.json").write_text(
        json.dumps(
            {
                "url": server.url("/f.bin"),
                "validator": etag,
                "total": len(DATA),
                "boot": boot_id() if boot == "same" else boot,
            }
        )
    )
    got = fetch(server, dest).run()
    assert got.sha256 == hashlib.sha256(DATA).hexdigest() and dest.read_bytes() == DATA
    (request,) = server.requests_for("/f.bin")
    assert (request.headers.get("Range") == f"bytes={half}-") is resumed


@pytest.mark.parametrize(
    "size", [0, 1, Sha256Behind.INLINE - 1, Sha256Behind.INLINE, Sha256Behind.INLINE + 1, 5 << 20]
)
def test_sha256_behind_matches_hashlib(size: int) -> None:
    data = secrets.token_bytes(size)
    hasher = Sha256Behind(depth=2)
    at, step = 0, 1
    while at < size:  # uneven chunks, as a socket hands them over
        hasher.update(data[at : at + step])
        at += step
        step = step * 3 + 1 if step < 300_000 else 7
    assert hasher.hexdigest() == hashlib.sha256(data).hexdigest()
    assert not [t for t in threading.enumerate() if t.name == "sha256"]


def test_sha256_behind_stops_its_thread_when_abandoned() -> None:
    hasher = Sha256Behind()
    hasher.update(secrets.token_bytes(Sha256Behind.INLINE + 10))
    assert any(t.name == "sha256" for t in threading.enumerate())
    hasher.close()  # what a download that failed half-way does
    hasher.close()
    assert not [t for t in threading.enumerate() if t.name == "sha256"]


def test_fsync_only_where_there_is_no_boot_id(monkeypatch: pytest.MonkeyPatch) -> None:
    from bg20k_fetch.transfer import resume as resume

    assert resume.must_fsync() is False  # this machine has a boot id (test above)
    monkeypatch.setattr(resume, "boot_id", lambda: None)
    assert resume.must_fsync() is True
