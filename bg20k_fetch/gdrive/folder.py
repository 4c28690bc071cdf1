"""A whole Drive folder: fetch every listed file concurrently into a cache that survives runs.

A re-run after Ctrl-C, a quota stop or a crash skips every file already complete (an index
remembers size, mtime and SHA-256, so finished files are not read again) and continues with the
rest. Faults are told apart: 429/5xx pause every worker (the service is busy); a quota page
sets that one file aside while the others go on (it lasts hours); a host that cannot be reached
at all stops the fetch with one error.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from ..archive import archive_kind, sniff
from ..download import Cancelled, Opener
from ..errors import IntegrityError, SourceError
from ..fsutil import sync_filesystem
from ..hashing import JPEG_HEAD, FileInfo
from ..http import RetryableHTTPError, make_session
from ..progress import Reporter
from ..retry import RetriesExhausted, is_connect_failure
from .errors import DriveQuotaError
from .files import drive_opener
from .folder_cache import FolderCache, with_markers
from .health import HostHealth
from .listing import RemoteFile
from .outcome import Outcome
from .throttle import Concurrency

if TYPE_CHECKING:
    from ..sources.base import Fetching


def _jpeg_sniff(head: bytes) -> str | None:
    if head.startswith(JPEG_HEAD):
        return None
    return f"it starts with {head[:16]!r}, not a JPEG"


class _FileBytes:
    """A file's download feeds the folder's byte count; the folder's own phase counts files."""

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
    ctx: Fetching
    target: Path
    jobs: int | None = None  # None: adapt to what Drive answers (throttle.Concurrency)
    health: HostHealth = field(default_factory=HostHealth)

    def __post_init__(self) -> None:
        self.urls, self.reporter, self.throttle = (
            self.ctx.urls,
            self.ctx.reporter,
            self.ctx.throttle,
        )
        self._local = threading.local()
        self._report_lock = threading.Lock()
        self._stop = threading.Event()
        self.cache = FolderCache(self.target)
        self.done = self.cache.done
        self.outcome = Outcome()
        self.concurrency = Concurrency(self.jobs)

    def run(self, files: list[RemoteFile]) -> dict[str, FileInfo]:
        """Every file, keyed by its path in the cache; raises naming what is missing."""
        self.target.mkdir(parents=True, exist_ok=True)
        todo = [f for f in files if self.cache.complete(f) is None]
        self.reporter.phase(f"download {len(files)} files", len(files), "files")
        self.reporter.advance(len(self.done))
        if len(self.done):
            self.reporter.note(
                f"{len(self.done)} of {len(files)} files already complete; "
                "continuing with the rest."
            )
        with ThreadPoolExecutor(max_workers=self.concurrency.ceiling) as pool:
            futures: list[Future[None]] = [pool.submit(self._fetch_one, f) for f in todo]
            try:
                finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
                for fut in finished:
                    fut.result()  # re-raise a fatal error (host down, budget exhausted)
            except BaseException:
                # Ctrl-C or a fatal error: files in flight stop at their next chunk, keeping
                # their .part for the next run; queued ones never start.
                self._stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        sync_filesystem(self.target)  # one flush for every file fetched above
        self.outcome.raise_for_missing(len(files), len(self.done))
        return self.done

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = make_session(pool_size=2)
        return session

    def _fetch_one(self, f: RemoteFile) -> None:
        with self.concurrency:
            self._fetch_within_limit(f)

    def _fetch_within_limit(self, f: RemoteFile) -> None:
        dest = self.target / f.local
        direct = self.urls.direct_url(f.id)
        while not self._stop.is_set():
            self.throttle.wait()
            opener = drive_opener(self._session(), self.urls, f.id, first_url=direct)
            try:
                got = self.ctx.download(
                    direct,
                    dest,
                    session=self._session(),
                    expected_size=f.size,
                    sniff=self._sniffer(f.path),
                    label=f.path,
                    reporter=_FileBytes(self.reporter, self._report_lock),
                    durable=False,
                    opener=self._guarded(opener),
                    cancel=self._stop,
                )
                if f.md5 is not None:
                    _check_md5(dest, f)
            except Cancelled:
                return
            except DriveQuotaError:
                self.outcome.add(self.outcome.over_quota, f.path)  # about this file only
                return
            except RetriesExhausted as exc:
                if exc.throttled:
                    self._throttled_again(f)
                    continue
                self.health.check(len(self.done))
                self.outcome.add(self.outcome.unreachable, f.path)
                return
            except IntegrityError as exc:
                self.outcome.add(self.outcome.invalid, f"{f.path}: {exc.message}")  # others go on
                return
            self.throttle.ok()
            self.concurrency.succeeded()
            info = with_markers(dest, FileInfo(got.sha256, got.size, False))
            self.cache.remember(f, info)
            if self._sniffer(f.path) is _jpeg_sniff and not info.jpeg_ok:
                # Say it now, with the other invalid files, rather than after staging.
                self.outcome.add(self.outcome.invalid, f"{f.path}: not a complete JPEG")
            with self._report_lock:
                self.reporter.advance(1)
            return

    def _throttled_again(self, f: RemoteFile) -> None:
        pause = self.throttle.hit()
        if self.throttle.exhausted:
            raise SourceError(
                f"Google Drive kept throttling downloads; {len(self.done)} files are done and "
                "kept.",
                hint="Wait a while and run the same command again: it continues where it stopped.",
            )
        self.reporter.note(
            f"Google Drive is throttling ({f.path}); all downloads pause {pause:.1f}s."
        )

    def _guarded(self, opener: Opener) -> Opener:
        """Every request of every worker: wait out a pause, stop if the host is down, and
        tell the throttle and the health check what the answer was."""
        throttle, health = self.throttle, self.health

        def open_(headers: Mapping[str, str]) -> requests.Response:
            if getattr(self._local, "throttled", False):
                self._local.throttled = False
                self.concurrency.requeue()  # the retry waits for a slot under the cut limit
            throttle.wait()
            health.check(len(self.done))
            try:
                response = opener(headers)
            except RetryableHTTPError as exc:
                health.answered()
                throttle.hit(exc.retry_after)
                self.concurrency.throttled()
                self._local.throttled = True
                raise
            except requests.ConnectionError as exc:
                if is_connect_failure(exc):
                    health.failed(exc)
                raise
            health.answered()
            return response

        return open_

    def _sniffer(self, path: str) -> Callable[[bytes], str | None] | None:
        if path.lower().endswith((".jpg", ".jpeg")):
            return _jpeg_sniff
        return sniff if archive_kind(Path(path)) else None


def _check_md5(path: Path, f: RemoteFile) -> None:
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "md5").hexdigest()
    if digest != f.md5:
        path.unlink(missing_ok=True)
        raise IntegrityError(f"{f.path} has MD5 {digest}, but Drive lists {f.md5}; deleted.")
