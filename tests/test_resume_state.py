"""A download's state on disk (``resume.PartFile``) and the header rules, without a server.

The download tests prove resume end to end; these pin each rule of the state it relies on.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
import requests

from bg20k_fetch.errors import StorageError
from bg20k_fetch.transfer.resume import (
    PartFile,
    boot_id,
    conditional_headers,
    parse_content_range,
    validator_of,
)

URL = "https://mirror.example/BG-20k.zip"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes 0-999/1000", (0, 999, 1000)),
        ("bytes 0-1000/1000", None),  # the last byte is total - 1
        ("bytes 5-4/1000", None),
        ("bytes 5-5/*", (5, 5, None)),
        ("", None),
        (None, None),
    ],
)
def test_content_range_bounds(header: str | None, expected: object) -> None:
    assert parse_content_range(header) == expected


def test_conditional_headers_follow_the_validator() -> None:
    assert conditional_headers(None) == {}
    assert conditional_headers('"abc"') == {"If-None-Match": '"abc"'}
    date = "Tue, 01 Dec 2026 00:00:00 GMT"
    assert conditional_headers(date) == {"If-Modified-Since": date}


def _finished(tmp_path: Path, data: bytes, **record: object) -> PartFile:
    dest = tmp_path / "BG-20k.zip"
    dest.write_bytes(data)
    state = PartFile(dest, URL)
    done = {
        "url": URL,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "validator": '"v1"',
        "mtime_ns": dest.stat().st_mtime_ns,
        "boot": boot_id(),
    }
    state.done.write_text(json.dumps({**done, **record}))
    return state


def test_a_file_from_an_earlier_boot_whose_bytes_changed_is_not_reused(tmp_path: Path) -> None:
    state = _finished(tmp_path, b"A" * 1000, boot="an-earlier-boot")
    stat = state.dest.stat()
    state.dest.write_bytes(b"B" * 1000)  # same size, and the same mtime put back below
    os.utime(state.dest, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert state.complete(None) is None


def test_a_file_from_an_earlier_boot_proved_intact_is_reused_and_trusted(tmp_path: Path) -> None:
    state = _finished(tmp_path, b"A" * 1000, boot="an-earlier-boot")
    got = state.complete(None)
    assert got is not None and got.reused and got.sha256 == hashlib.sha256(b"A" * 1000).hexdigest()
    assert json.loads(state.done.read_text())["boot"] == boot_id()  # not re-read next time


def test_a_pin_that_differs_means_not_complete(tmp_path: Path) -> None:
    state = _finished(tmp_path, b"A" * 10)
    assert state.complete("0" * 64) is None
    assert state.complete(hashlib.sha256(b"A" * 10).hexdigest()) is not None


def test_the_validator_is_read_only_when_it_is_text(tmp_path: Path) -> None:
    assert _finished(tmp_path, b"A").complete_validator() == '"v1"'
    assert _finished(tmp_path, b"A", validator=7).complete_validator() is None


def test_discard_removes_the_part_and_its_sidecar_and_tolerates_neither(tmp_path: Path) -> None:
    state = PartFile(tmp_path / "x.zip", URL)
    state.part.write_bytes(b"partial")
    state.save('"v1"', 100)
    state.discard()
    assert not state.part.exists() and not state.meta.exists()
    state.discard()  # nothing there: still fine


def test_a_file_from_an_earlier_boot_that_cannot_be_read_is_not_reused(tmp_path: Path) -> None:
    state = _finished(tmp_path, b"", boot="an-earlier-boot")
    state.dest.unlink()
    os.mkfifo(state.dest)  # not a regular file: hashing it is refused, not attempted
    record = json.loads(state.done.read_text())
    state.done.write_text(json.dumps({**record, "mtime_ns": state.dest.stat().st_mtime_ns}))
    assert state.complete(None) is None
    assert json.loads(state.done.read_text())["boot"] == "an-earlier-boot"


def _response(**headers: str) -> requests.Response:
    response = requests.Response()
    response.headers.update(headers)
    return response


def test_the_validator_is_a_strong_etag_else_the_last_modified_date() -> None:
    date = "Tue, 14 Nov 2023 22:13:20 GMT"
    assert validator_of(_response(ETag='"v1"', **{"Last-Modified": date})) == '"v1"'
    assert validator_of(_response(ETag='W/"v1"', **{"Last-Modified": date})) == date
    assert validator_of(_response(**{"Last-Modified": date})) == date
    assert validator_of(_response(ETag='W/"v1"')) is None
    assert validator_of(_response()) is None


def test_finishing_needs_no_sidecar_and_a_blocked_rename_keeps_the_part(tmp_path: Path) -> None:
    state = PartFile(tmp_path / "a.zip", URL)
    state.part.write_bytes(b"abc")
    state.finish("d" * 64, 3, durable=False)  # the sidecar was already gone
    assert state.dest.read_bytes() == b"abc" and not state.part.exists()
    blocked = PartFile(tmp_path / "b.zip", URL)
    blocked.part.write_bytes(b"abc")
    (tmp_path / "b.zip").mkdir()
    (tmp_path / "b.zip" / "mine.txt").write_text("a folder of the user's where the file goes")
    with pytest.raises(StorageError) as caught:
        blocked.finish("d" * 64, 3, durable=False)
    assert caught.value.message == (
        f"Cannot move {blocked.part} to {blocked.dest}: Is a directory."
    )
    assert blocked.part.read_bytes() == b"abc"


def test_a_sidecar_that_cannot_be_written_is_a_storage_error(tmp_path: Path) -> None:
    state = PartFile(tmp_path / "a.zip", URL)
    state.meta.mkdir()
    with pytest.raises(StorageError) as caught:
        state.save('"v1"', 3)
    assert caught.value.message == f"Cannot write {state.meta}: Is a directory."
    assert caught.value.hint == (
        "Free some space (or point BG20K_CACHE_DIR elsewhere), then run the same command."
    )


def test_a_finished_file_whose_size_changed_is_not_reused(tmp_path: Path) -> None:
    state = _finished(tmp_path, b"A" * 1000)
    stat = state.dest.stat()
    state.dest.write_bytes(b"A" * 1001)  # grown, with its old mtime put back
    os.utime(state.dest, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert state.complete(None) is None


def test_a_finished_file_of_this_boot_is_trusted_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bg20k_fetch.transfer.resume as resume

    state = _finished(tmp_path, b"A" * 1000)
    hashed: list[Path] = []
    monkeypatch.setattr(resume, "hash_file", lambda path: hashed.append(path))
    got = state.complete(hashlib.sha256(b"A" * 1000).hexdigest())
    assert (
        got is not None
        and got.reused
        and (got.path, got.url, got.size)
        == (
            state.dest,
            URL,
            1000,
        )
    )
    assert hashed == []  # size, mtime and this boot's record: no second read of 2 GB


@pytest.mark.parametrize("how", ["another url", "over 1 MiB", "not an object"])
def test_a_record_that_is_not_this_downloads_is_ignored(tmp_path: Path, how: str) -> None:
    state = _finished(tmp_path, b"A" * 1000)
    record = json.loads(state.done.read_text())
    if how == "another url":
        state.done.write_text(json.dumps({**record, "url": URL + "?v=2"}))
    elif how == "over 1 MiB":
        state.done.write_text(json.dumps(record) + " " * (1 << 20))
    else:
        state.done.write_text(json.dumps([record]))
    assert state.complete(None) is None
