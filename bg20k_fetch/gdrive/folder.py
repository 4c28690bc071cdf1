"""A whole Drive folder: list it recursively, then fetch every file concurrently.

Files land under a cache directory that survives interruptions: a re-run after Ctrl-C, a quota
stop or a crash skips every file already complete (an index remembers size, mtime and SHA-256,
so finished files are not read again) and continues with the rest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import requests

from ..archive import archive_kind, sniff
from ..download import Download, Opener
from ..errors import Bg20kError, IntegrityError, SourceError
from ..http import RetryableHTTPError, make_session
from ..progress import Reporter
from ..retry import RetriesExhausted, RetryPolicy
from ..staging import JPEG_HEAD, FileInfo, hash_file, jpeg_markers_ok
from .files import DriveQuotaError, drive_opener
from .links import DriveUrls
from .listing import RemoteFile
from .throttle import Throttle

INDEX_NAME = ".bg20k-index.jsonl"


def _jpeg_sniff(head: bytes) -> str | None:
    if head.startswith(JPEG_HEAD):
        return None
    return f"it starts with {head[:16]!r}, not a JPEG"


class _BytesOnly:
    """Per-file downloads feed the folder's byte count; the folder's phase counts files."""

    def __init__(self, inner: Reporter, lock: threading.Lock) -> None:
        self.inner, self.lock = inner, lock

    def phase(self, name: str, total: int | None, unit: str = "bytes") -> None:
        pass

    def advance(self, amount: int) -> None:
        with self.lock:
            self.inner.transferred(amount)

    def note(self, message: str) -> None:
        with self.lock:
            self.inner.note(message)

    def transferred(self, amount: int) -> None:
        pass


@dataclass
class FolderFetch:
    urls: DriveUrls
    target: Path
    reporter: Reporter
    jobs: int = 8
    policy: RetryPolicy | None = None
    throttle: Throttle | None = None

    def __post_init__(self) -> None:
        self.throttle = self.throttle or Throttle.from_env()
        self._local = threading.local()
        self._index_lock = threading.Lock()
        self._report_lock = threading.Lock()
        self._stop = threading.Event()
        self.done: dict[str, FileInfo] = {}

    def run(self, files: list[RemoteFile]) -> dict[str, FileInfo]:
        self.target.mkdir(parents=True, exist_ok=True)
        index = self._read_index()
        todo = []
        for f in files:
            info = self._complete(f, index.get(f.path))
            if info is None:
                todo.append(f)
            else:
                self.done[f.path] = info
        self.reporter.phase(f"download {len(files)} files", len(files), "files")
        self.reporter.advance(len(self.done))
        if len(self.done):
            self.reporter.note(
                f"{len(self.done)} of {len(files)} files already complete; "
                "continuing with the rest."
            )
        errors: list[Bg20kError] = []
        with ThreadPoolExecutor(max_workers=max(1, self.jobs)) as pool:
            futures: list[Future[None]] = [pool.submit(self._one, f, errors) for f in todo]
            try:
                finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
                for fut in finished:
                    fut.result()  # re-raise a fatal error (access, budget exhausted)
            except BaseException:
                self._stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        os.sync()  # one flush for every file fetched above, instead of an fsync each
        if errors:
            raise (
                errors[0]
                if len(errors) == 1
                else IntegrityError(
                    f"{len(errors)} files of the Drive folder were not valid data, e.g. "
                    f"{errors[0].message}",
                    hint="Re-running fetches only the missing files.",
                )
            )
        return self.done

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = make_session(pool_size=2)
        return session

    def _one(self, f: RemoteFile, errors: list[Bg20kError]) -> None:
        assert self.throttle is not None
        dest = self.target / f.path
        direct = self.urls.direct_url(f.id)
        while not self._stop.is_set():
            self.throttle.wait()
            opener = drive_opener(self._session(), self.urls, f.id, first_url=direct)
            try:
                got = Download(
                    self._session(),
                    direct,
                    dest,
                    expected_size=f.size,
                    sniff=self._sniffer(f.path),
                    policy=self.policy,
                    label=f.path,
                    reporter=_BytesOnly(self.reporter, self._report_lock),
                    durable=False,
                    opener=self._throttled(opener),
                ).run()
                if f.md5 is not None:
                    _check_md5(dest, f)
            except (DriveQuotaError, RetriesExhausted):
                self._throttled_again(f)
                continue
            except IntegrityError as exc:
                errors.append(exc)  # the other files go on; the fetch fails at the end
                return
            self.throttle.ok()
            info = _with_markers(dest, FileInfo(got.sha256, got.size, False))
            self._remember(f, info, dest)
            with self._report_lock:
                self.reporter.advance(1)
            return

    def _throttled_again(self, f: RemoteFile) -> None:
        assert self.throttle is not None
        pause = self.throttle.hit()
        if self.throttle.exhausted:
            raise SourceError(
                f"Google Drive kept throttling or refusing downloads; {len(self.done)} files are "
                "done and kept.",
                hint="Wait a while and run the same command again: it continues where it stopped.",
            )
        self.reporter.note(
            f"Google Drive is throttling ({f.path}); all downloads pause {pause:.1f}s."
        )

    def _throttled(self, opener: Opener) -> Opener:
        assert self.throttle is not None
        throttle = self.throttle

        def open_(headers: Mapping[str, str]) -> requests.Response:
            throttle.wait()
            try:
                return opener(headers)
            except RetryableHTTPError as exc:
                throttle.hit(exc.retry_after)
                raise

        return open_

    def _sniffer(self, path: str) -> Callable[[bytes], str | None] | None:
        if path.lower().endswith((".jpg", ".jpeg")):
            return _jpeg_sniff
        return sniff if archive_kind(Path(path)) else None

    def _complete(self, f: RemoteFile, known: dict[str, object] | None) -> FileInfo | None:
        path = self.target / f.path
        try:
            stat = path.stat()
        except OSError:
            return None
        if f.size is not None and stat.st_size != f.size:
            return None
        if (
            known
            and known.get("size") == stat.st_size
            and known.get("mtime_ns") == stat.st_mtime_ns
        ):
            return _with_markers(path, FileInfo(str(known["sha256"]), stat.st_size, False))
        info = hash_file(path)  # finished before the index line was written: hash it once
        self._remember(f, info, path)
        return info

    def _remember(self, f: RemoteFile, info: FileInfo, path: Path) -> None:
        line = json.dumps(
            {
                "path": f.path,
                "id": f.id,
                "size": info.size,
                "sha256": info.sha256,
                "mtime_ns": path.stat().st_mtime_ns,
            }
        )
        with self._index_lock:
            self.done[f.path] = info
            with (self.target / INDEX_NAME).open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    def _read_index(self) -> dict[str, dict[str, object]]:
        index: dict[str, dict[str, object]] = {}
        with contextlib.suppress(FileNotFoundError):
            for line in (self.target / INDEX_NAME).read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(ValueError):
                    item = json.loads(line)
                    if isinstance(item, dict) and isinstance(item.get("path"), str):
                        index[item["path"]] = item
        return index


def _with_markers(path: Path, info: FileInfo) -> FileInfo:
    """The JPEG start/end markers, from two small reads instead of the whole file."""
    with path.open("rb") as handle:
        head = handle.read(3)
        handle.seek(max(0, info.size - 64))
        tail = handle.read()
    return FileInfo(info.sha256, info.size, jpeg_markers_ok(head, tail))


def _check_md5(path: Path, f: RemoteFile) -> None:
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "md5").hexdigest()
    if digest != f.md5:
        path.unlink(missing_ok=True)
        raise IntegrityError(f"{f.path} has MD5 {digest}, but Drive lists {f.md5}; deleted.")
