"""The download engine's rules, in-process: ``download.Download`` against a real loopback server.

The CLI journeys cover the same ground end to end; these run in the fast layer (and so under
mutation testing), and assert what each rule leaves on disk and what it asks the server.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import stat
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import requests

from bg20k_fetch.errors import (
    ExitCode,
    HtmlInsteadOfData,
    IntegrityError,
    SourceError,
    StorageError,
)
from bg20k_fetch.transfer.download import Download
from bg20k_fetch.transfer.policy import RetryPolicy
from bg20k_fetch.transfer.retry import RetriesExhausted
from bg20k_fetch.transfer.stream import Cancelled, html_title
from tests.fileserver import Behaviour, FileServer, LoopbackServer, reply

DATA = os.urandom(300_000)  # several 64 KiB server chunks; each cut below is inside a CHUNK
SHA = hashlib.sha256(DATA).hexdigest()
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02, total_budget=5.0, max_restarts=2)


class Recorder:
    """A Reporter that remembers what it was told."""

    def __init__(self, *on_advance: threading.Event) -> None:
        self.phases: list[tuple[str, int | None, str]] = []
        self.advanced: list[int] = []
        self.starts: list[int] = []  # the first advance of each phase: where it began
        self.notes: list[str] = []
        self.on_advance = on_advance

    def phase(self, name: str, total: int | None, unit: str = "bytes") -> None:
        self.phases.append((name, total, unit))
        self.starts.append(-1)

    def advance(self, amount: int) -> None:
        self.advanced.append(amount)
        if self.starts and self.starts[-1] == -1:
            self.starts[-1] = amount
        if amount:
            for event in self.on_advance:
                event.set()

    def note(self, message: str) -> None:
        self.notes.append(message)

    def transferred(self, amount: int) -> None:
        pass


def _files(dest: Path) -> set[str]:
    return {p.name for p in dest.parent.iterdir()}


def _download(
    server: LoopbackServer, dest: Path, path: str = "/data.bin", **kwargs: object
) -> Download:
    kwargs.setdefault("policy", FAST)
    return Download(requests.Session(), server.base_url + path, dest, **kwargs)  # type: ignore[arg-type]


def _fetched_once(server: FileServer, tmp_path: Path) -> Path:
    """DATA served at /data.bin and downloaded once: a finished file with its record."""
    server.routes["/data.bin"] = Behaviour(DATA)
    dest = tmp_path / "dl" / "data.bin"
    _download(server, dest).run()
    return dest


def test_a_download_lands_under_its_name_with_its_digest(
    server: FileServer, tmp_path: Path
) -> None:
    server.routes["/data.bin"] = Behaviour(DATA)
    dest, seen = tmp_path / "dl" / "data.bin", Recorder()
    got = _download(
        server, dest, expected_sha256=SHA.upper(), expected_size=len(DATA), reporter=seen
    ).run()
    assert (got.path, got.size, got.sha256, got.reused) == (dest, len(DATA), SHA, False)
    assert got.url == server.url("/data.bin")
    assert dest.read_bytes() == DATA
    assert _files(dest) == {"data.bin", "data.bin.done.json"}  # no .part, no sidecar
    (request,) = server.requests_for("/data.bin")
    assert request.headers["Accept-Encoding"] == "identity" and "Range" not in request.headers
    assert seen.phases == [("download data.bin", len(DATA), "bytes")]
    assert seen.advanced[0] == 0 and sum(seen.advanced) == len(DATA)


def test_the_label_names_the_file_in_progress(server: FileServer, tmp_path: Path) -> None:
    server.routes["/data.bin"] = Behaviour(DATA)
    seen = Recorder()
    _download(server, tmp_path / "x", label="BG-20k.zip", reporter=seen).run()
    assert seen.phases == [("download BG-20k.zip", len(DATA), "bytes")]


def test_a_cut_transfer_resumes_from_its_last_byte(server: FileServer, tmp_path: Path) -> None:
    # Three cuts against three attempts: each attempt that moved bytes starts the count again.
    server.routes["/data.bin"] = Behaviour(DATA, cut_after=[100_000, 100_000, 50_000])
    dest, seen = tmp_path / "dl" / "data.bin", Recorder()
    got = _download(server, dest, expected_sha256=SHA, reporter=seen).run()
    assert got.sha256 == SHA and dest.read_bytes() == DATA
    gets = server.requests_for("/data.bin")
    etag = '"' + SHA[:16] + '"'
    assert [r.headers.get("Range") for r in gets] == [
        None,
        "bytes=100000-",
        "bytes=200000-",
        "bytes=250000-",
    ]
    assert all(r.headers["If-Range"] == etag for r in gets[1:])
    assert seen.starts == [
        0,
        100_000,
        200_000,
        250_000,
    ]  # each attempt starts where the file stands
    assert len([n for n in seen.notes if "retrying in" in n]) == 3


def test_an_attempt_that_gains_nothing_counts_against_the_limit(
    server: FileServer, tmp_path: Path
) -> None:
    # The server loses the file's start every time: the same 100,000 bytes, never more.
    server.routes["/data.bin"] = Behaviour(DATA, cut_after=[100_000] * 5, honour_range=False)
    dest = tmp_path / "dl" / "data.bin"
    with pytest.raises(RetriesExhausted) as caught:
        _download(server, dest).run()
    assert len(server.requests_for("/data.bin")) == FAST.attempts
    assert "after 3 attempts" in str(caught.value)
    assert (
        caught.value.hint == "The partial download is kept; run the same command again to resume."
    )
    assert (tmp_path / "dl" / "data.bin.part").stat().st_size == 100_000 and not dest.exists()


@pytest.mark.parametrize("bad_range", ["start", "total"])
def test_a_206_that_does_not_continue_the_file_starts_it_again(
    server: FileServer, tmp_path: Path, bad_range: str
) -> None:
    server.routes["/data.bin"] = Behaviour(DATA, cut_after=[100_000], bad_range=bad_range)
    dest, seen = tmp_path / "dl" / "data.bin", Recorder()
    got = _download(server, dest, expected_sha256=SHA, reporter=seen).run()
    assert got.sha256 == SHA and dest.read_bytes() == DATA
    ranges = [r.headers.get("Range") for r in server.requests_for("/data.bin")]
    assert ranges == [None, "bytes=100000-", None]
    why = (
        "answered a range from byte 0, not 100000"
        if bad_range == "start"
        else f"now has {len(DATA) + 1000} bytes, not {len(DATA)}"
    )
    assert f"{server.url('/data.bin')} {why}; starting this file again" in seen.notes


def test_restarts_are_bounded(server: FileServer, tmp_path: Path) -> None:
    server.routes["/data.bin"] = Behaviour(DATA, cut_after=[100_000] * 20, bad_range="start")
    with pytest.raises(SourceError, match="kept failing to resume") as caught:
        _download(
            server,
            tmp_path / "dl" / "data.bin",
            policy=RetryPolicy(attempts=10, base_delay=0.01, max_restarts=2),
        ).run()
    assert not isinstance(caught.value, RetriesExhausted)
    ranged = [r for r in server.requests_for("/data.bin") if "Range" in r.headers]
    assert len(ranged) == 3  # two restarts allowed, the third refused


def test_a_part_with_no_sidecar_is_started_over(server: FileServer, tmp_path: Path) -> None:
    server.routes["/data.bin"] = Behaviour(DATA)
    dest = tmp_path / "dl" / "data.bin"
    dest.parent.mkdir()
    (tmp_path / "dl" / "data.bin.part").write_bytes(
        b"x" * 5000
    )  # nothing says whose bytes these are
    got = _download(server, dest).run()
    assert got.sha256 == SHA and dest.read_bytes() == DATA
    assert "Range" not in server.requests_for("/data.bin")[0].headers


def test_a_finished_file_is_reused_after_a_304(server: FileServer, tmp_path: Path) -> None:
    dest = _fetched_once(server, tmp_path)
    seen = Recorder()
    again = _download(server, dest, expected_sha256=SHA, reporter=seen).run()
    assert again.reused and again.sha256 == SHA and again.size == len(DATA)
    second = server.requests_for("/data.bin")[1]
    assert second.headers["If-None-Match"] == '"' + SHA[:16] + '"'
    assert seen.notes == ["data.bin: the copy in the cache is current; reusing it."]
    assert seen.phases == []  # nothing was transferred


def test_a_finished_file_changed_on_disk_is_fetched_again(
    server: FileServer, tmp_path: Path
) -> None:
    dest = _fetched_once(server, tmp_path)
    dest.write_bytes(DATA[:-1] + b"!")  # same size, new mtime
    again = _download(server, dest).run()
    assert not again.reused and dest.read_bytes() == DATA
    assert "If-None-Match" not in server.requests_for("/data.bin")[1].headers


def test_a_web_page_instead_of_data_is_refused_and_nothing_kept(
    server: FileServer, tmp_path: Path
) -> None:
    page = b"\n<!DOCTYPE html><html><head><title>Quota &amp; limits</title></head></html>"
    server.routes["/data.bin"] = Behaviour(page, content_type="text/html")
    dest = tmp_path / "dl" / "data.bin"
    with pytest.raises(HtmlInsteadOfData) as caught:
        _download(server, dest).run()
    assert caught.value.message == (
        f"{server.url('/data.bin')} sent an HTML page titled 'Quota & limits' instead of data; "
        "nothing was saved."
    )
    assert caught.value.exit_code == ExitCode.INTEGRITY
    assert _files(dest) == set()


def test_the_sniffer_sees_the_first_bytes_and_its_complaint_ends_the_download(
    server: FileServer, tmp_path: Path
) -> None:
    server.routes["/data.bin"] = Behaviour(DATA, chunk=1000)
    heads: list[bytes] = []

    def sniff(head: bytes) -> str | None:
        heads.append(head)
        return None

    _download(server, tmp_path / "dl" / "ok.bin", sniff=sniff).run()
    assert len(heads) == 1 and DATA.startswith(heads[0]) and heads[0]
    dest = tmp_path / "dl" / "bad.bin"
    with pytest.raises(IntegrityError) as caught:
        _download(server, dest, sniff=lambda head: "not a zip archive").run()
    assert str(caught.value) == (
        f"{server.url('/data.bin')} did not send the expected data: not a zip archive."
    )
    assert not dest.exists() and not (tmp_path / "dl" / "bad.bin.part").exists()


def test_a_size_other_than_expected_is_refused_before_any_byte_is_written(
    server: FileServer, tmp_path: Path
) -> None:
    server.routes["/data.bin"] = Behaviour(DATA)
    dest = tmp_path / "dl" / "data.bin"
    with pytest.raises(IntegrityError) as caught:
        _download(server, dest, expected_size=len(DATA) + 1).run()
    assert f"offers {len(DATA)} bytes but {len(DATA) + 1} are expected" in str(caught.value)
    assert caught.value.hint == (
        "The mirror holds a different file; check its sha256/size or use another."
    )
    assert _files(dest) == set()


def test_a_digest_other_than_pinned_deletes_the_download(
    server: FileServer, tmp_path: Path
) -> None:
    server.routes["/data.bin"] = Behaviour(DATA)
    dest = tmp_path / "dl" / "data.bin"
    with pytest.raises(IntegrityError) as caught:
        _download(server, dest, expected_sha256="0" * 64).run()
    assert f"SHA-256 is {SHA} but {'0' * 64} was expected; the download was deleted" in str(
        caught.value
    )
    assert _files(dest) == set()


def test_a_body_shorter_than_announced_is_retried_then_reported(
    server: FileServer, tmp_path: Path
) -> None:
    server.routes["/data.bin"] = Behaviour(DATA, declared_extra=1000)
    dest = tmp_path / "dl" / "data.bin"
    with pytest.raises(RetriesExhausted) as caught:
        _download(server, dest, policy=RetryPolicy(attempts=1)).run()
    assert f"after {len(DATA)} of {len(DATA) + 1000} bytes" in str(caught.value)
    assert not dest.exists()


class _Overlong(LoopbackServer):
    """Answers a Range request with a 206 whose body runs past the total it announces."""

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        if "Range" not in h.headers:
            return reply(h, 200, DATA, "application/octet-stream", {"ETag": '"v1"'})
        # /short: a 206 that ends, at its own length, before the range it announced.
        body = DATA[1000:-500] if h.path == "/short" else DATA[1000:] + b"surplus"
        extra = {"ETag": '"v1"', "Content-Range": f"bytes 1000-{len(DATA) - 1}/{len(DATA)}"}
        return reply(h, 206, body, "application/octet-stream", extra)


def test_a_206_longer_than_its_total_is_cut_off(tmp_path: Path) -> None:
    dest = tmp_path / "dl" / "data.bin"
    dest.parent.mkdir()
    (tmp_path / "dl" / "data.bin.part").write_bytes(DATA[:1000])
    with _Overlong() as srv:
        first = _download(srv, dest, policy=RetryPolicy(attempts=1))
        first.file.save('"v1"', len(DATA))
        with pytest.raises(RetriesExhausted, match=f"sent more than the {len(DATA)} bytes"):
            first.run()
    assert not dest.exists()


def test_a_cancel_stops_the_download_and_keeps_what_arrived(
    server: FileServer, tmp_path: Path
) -> None:
    # The server holds the body until the first bytes are written; writing them asks the
    # download to stop and lets the server go on, so a next chunk is sure to arrive.
    release, cancel = threading.Event(), threading.Event()
    server.routes["/data.bin"] = Behaviour(DATA, hold=release, hold_after=100_000)
    dest = tmp_path / "dl" / "data.bin"
    seen = Recorder(cancel, release)
    download = _download(server, dest, reporter=seen, cancel=cancel)
    try:
        with pytest.raises(Cancelled) as caught:
            download.run()
    finally:
        release.set()
    assert caught.value.exit_code == ExitCode.INTERRUPTED
    kept = (tmp_path / "dl" / "data.bin.part").stat().st_size
    assert 0 < kept < len(DATA) and not dest.exists()
    got = _download(server, dest).run()  # the next run continues from there
    assert got.sha256 == SHA
    assert server.requests_for("/data.bin")[-1].headers["Range"] == f"bytes={kept}-"


def test_a_destination_that_cannot_be_made_is_a_storage_error(
    server: FileServer, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StorageError, match=r"^Cannot create .*file"):
        _download(server, tmp_path / "file" / "data.bin").run()
    assert server.log == []


@pytest.mark.parametrize(
    ("head", "title"),
    [
        (b"<!DOCTYPE html><title>Sign in</title>", "Sign in"),
        (b"\r\n  <HTML><head><TITLE>Error 403</TITLE>", "Error 403"),
        (b"<?xml version='1.0'?><Error><Code>AccessDenied</Code></Error>", "(untitled)"),
        (b"PK\x03\x04<html><title>inside a zip</title>", None),
        (b"\xff\xd8\xff\xe0<title>x</title>", None),
        (b" " * 4096 + b"<html><title>too late</title>", None),  # only the first 4 KiB
        # Data that starts with "<" by chance: a random file once did, and was refused as a page.
        (b"<\xda\xd4\x04\xc8\x99\xa1i\x0cL\xb9<\xadN\x86G\xce\xd9", None),
        (b"<" + bytes(range(256)) + b"<title>x</title>", None),
        (b"<3 not markup", None),
        (b"\xef\xbb\xbf<!DOCTYPE html><title>Quota</title>", "Quota"),  # a BOM first
        (b"\t<!-- a comment --><title>\xc3\xa9t\xc3\xa9</title>", "\u00e9t\u00e9"),
    ],
)
def test_what_counts_as_a_web_page(head: bytes, title: str | None) -> None:
    assert html_title(head) == title


def test_a_full_disk_keeps_what_arrived_and_says_so(server: FileServer, tmp_path: Path) -> None:
    server.routes["/data.bin"] = Behaviour(DATA)
    dest = tmp_path / "dl" / "data.bin"
    dest.parent.mkdir()
    (tmp_path / "dl" / "data.bin.part").symlink_to("/dev/full")  # every write: ENOSPC
    with pytest.raises(StorageError) as caught:
        _download(server, dest).run()
    assert caught.value.message == (
        f"Cannot write {dest}.part: No space left on device; what arrived so far is kept."
    )
    assert caught.value.hint == (
        "Free some space (or point BG20K_CACHE_DIR elsewhere), then run the same command."
    )
    assert caught.value.exit_code == ExitCode.STORAGE
    assert len(server.requests_for("/data.bin")) == 1  # a full disk is not retried
    assert not dest.exists()


def test_a_network_failure_with_nothing_kept_says_to_check_the_network(
    tmp_path: Path,
) -> None:
    with FileServer() as gone:
        url = gone.url("/data.bin")
    download = Download(requests.Session(), url, tmp_path / "data.bin", policy=FAST)
    with pytest.raises(RetriesExhausted) as caught:
        download.run()
    assert caught.value.hint == (
        "Check the network (and HTTPS_PROXY), then run the same command again."
    )
    assert caught.value.connect_failure


GZIPPED = gzip.compress(DATA[:5000])


class _Unsized(LoopbackServer):
    """Sends a body with no length: ended by closing the connection (``/short``, 10 bytes
    short of DATA) or chunked and cut in the middle of a chunk (``/cut``)."""

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("Connection", "close")
        if h.path == "/gzip":  # a server that labels the archive as gzip-encoded anyway
            h.send_header("Content-Encoding", "gzip")
            h.end_headers()
            h.wfile.write(GZIPPED)
        elif h.path == "/badlength":
            h.send_header("Content-Length", "many")
            h.end_headers()
            h.wfile.write(DATA)
        elif h.path == "/cut":
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            h.wfile.write(b"%x\r\n" % 100_000 + DATA[:40_000])
        else:
            h.end_headers()
            h.wfile.write(DATA[:-10])
        h.wfile.flush()
        h.close_connection = True


def test_a_body_of_unannounced_length_is_checked_against_the_expected_size(
    tmp_path: Path,
) -> None:
    dest = tmp_path / "dl" / "data.bin"
    with _Unsized() as srv, pytest.raises(IntegrityError) as caught:
        _download(srv, dest, path="/short", expected_size=len(DATA)).run()
    assert caught.value.message == (
        f"{srv.base_url}/short: "
        f"{len(DATA) - 10} bytes arrived but {len(DATA)} were expected; the download was deleted."
    )
    assert caught.value.hint == "The source serves other bytes than pinned; use another."
    assert _files(dest) == set()


def test_a_cut_with_no_announced_length_says_how_far_it_got(tmp_path: Path) -> None:
    dest = tmp_path / "dl" / "data.bin"
    with _Unsized() as srv, pytest.raises(RetriesExhausted) as caught:
        _download(srv, dest, path="/cut", policy=RetryPolicy(attempts=1)).run()
    assert re.search(r": the connection broke after \d+ bytes\.$", caught.value.message)


def test_a_part_file_that_cannot_be_opened_is_a_storage_error(
    server: FileServer, tmp_path: Path
) -> None:
    server.routes["/data.bin"] = Behaviour(DATA)
    dest = tmp_path / "dl" / "data.bin"
    dest.parent.mkdir()
    part = tmp_path / "dl" / "data.bin.part"
    part.symlink_to(tmp_path / "no" / "such" / "folder")
    with pytest.raises(StorageError) as caught:
        _download(server, dest).run()
    assert caught.value.message == (
        f"Cannot write {part}: No such file or directory; what arrived so far is kept."
    )
    assert part.is_symlink()  # not ours to remove


def test_bytes_are_kept_as_served_even_when_labelled_gzip(tmp_path: Path) -> None:
    # A pinned digest is of the bytes the server holds; decoding them would change them.
    dest = tmp_path / "dl" / "data.bin"
    with _Unsized() as srv:
        got = _download(srv, dest, path="/gzip").run()
    assert dest.read_bytes() == GZIPPED and got.sha256 == hashlib.sha256(GZIPPED).hexdigest()


def test_a_length_that_is_not_a_number_is_ignored(tmp_path: Path) -> None:
    dest = tmp_path / "dl" / "data.bin"
    with _Unsized() as srv:
        got = _download(srv, dest, path="/badlength", expected_sha256=SHA).run()
    assert got.size == len(DATA) and dest.read_bytes() == DATA


def test_where_the_kernel_has_no_boot_id_every_write_is_synced(
    server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bg20k_fetch.transfer.download as download_module
    import bg20k_fetch.transfer.resume as resume_module

    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        info = os.fstat(fd)
        synced.append("folder" if stat.S_ISDIR(info.st_mode) else f"file of {info.st_size}")
        real_fsync(fd)

    monkeypatch.setattr(download_module.os, "fsync", fsync)
    server.routes["/data.bin"] = Behaviour(DATA)
    if resume_module.boot_id() is not None:  # a boot id: a finished file's record names it
        _download(server, tmp_path / "dl" / "booted.bin").run()
        assert synced == []  # … so no fsync is needed at all
    monkeypatch.setattr(download_module, "must_fsync", lambda: True)
    monkeypatch.setattr(resume_module, "must_fsync", lambda: True)
    _download(server, tmp_path / "dl" / "data.bin").run()
    # The .part, whole, before it was renamed; then the folder, so the rename lasts.
    assert synced[-2:] == [f"file of {len(DATA)}", "folder"]
    synced.clear()
    _download(server, tmp_path / "dl" / "other.bin", durable=False).run()
    assert synced == []  # the caller syncs many small files at once


def test_a_finished_file_is_never_reused_against_a_different_pin(
    server: FileServer, tmp_path: Path
) -> None:
    dest = _fetched_once(server, tmp_path)
    with pytest.raises(IntegrityError, match="was expected"):
        _download(server, dest, expected_sha256="1" * 64).run()
    assert "If-None-Match" not in server.requests_for("/data.bin")[1].headers
    assert dest.read_bytes() == DATA and not (tmp_path / "dl" / "data.bin.part").exists()


def test_a_finished_file_the_server_has_since_changed_is_fetched_again(
    server: FileServer, tmp_path: Path
) -> None:
    dest = _fetched_once(server, tmp_path)
    server.routes["/data.bin"] = Behaviour(DATA[::-1])  # a new ETag: no 304
    again = _download(server, dest).run()
    assert not again.reused and dest.read_bytes() == DATA[::-1]


def test_a_stray_part_does_not_stop_a_finished_file_being_reused(
    server: FileServer, tmp_path: Path
) -> None:
    dest = _fetched_once(server, tmp_path)
    (tmp_path / "dl" / "data.bin.part").write_bytes(b"x" * 10)  # no sidecar: nobody's resume
    assert _download(server, dest).run().reused
    assert not (tmp_path / "dl" / "data.bin.part").exists()


def test_an_answer_that_is_neither_data_nor_retryable_fails_the_source(
    server: FileServer, tmp_path: Path
) -> None:
    with pytest.raises(SourceError) as caught:
        _download(server, tmp_path / "dl" / "data.bin", path="/missing.bin").run()
    assert caught.value.message == f"{server.url('/missing.bin')} answered HTTP 404."
    assert caught.value.hint == "Check the URL, or use another --source."


def test_an_opener_is_given_the_request_headers(server: FileServer, tmp_path: Path) -> None:
    server.routes["/data.bin"] = Behaviour(DATA)
    session = requests.Session()
    given: list[dict[str, str]] = []

    def opener(headers: Mapping[str, str]) -> requests.Response:
        given.append(dict(headers))
        return session.get(server.url("/data.bin"), headers=headers, stream=True)

    Download(session, "drive:file", tmp_path / "dl" / "x", opener=opener, policy=FAST).run()
    assert given == [{"Accept-Encoding": "identity"}]


def test_a_206_shorter_than_its_range_is_retried_then_reported(tmp_path: Path) -> None:
    dest = tmp_path / "dl" / "data.bin"
    dest.parent.mkdir()
    (tmp_path / "dl" / "data.bin.part").write_bytes(DATA[:1000])
    with _Overlong() as srv:
        short = _download(srv, dest, path="/short", policy=RetryPolicy(attempts=1))
        short.file.save('"v1"', len(DATA))
        with pytest.raises(RetriesExhausted) as caught:
            short.run()
    assert caught.value.message.endswith(
        f": connection closed after {len(DATA) - 500} of {len(DATA)} bytes."
    )
