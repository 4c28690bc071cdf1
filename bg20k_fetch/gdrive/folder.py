"""A whole Drive folder: fetch every listed file concurrently into a cache that survives runs.

A re-run after Ctrl-C, a quota stop or a crash skips every file already complete (an index
remembers size, mtime and SHA-256, so finished files are not read again) and continues with the
rest. Faults are told apart: 429/5xx and "automated queries" pause every worker (the service is
busy); quota pages on several files at once block the whole client, and every worker pauses
and probes one at a time until it lifts; one file's lasting quota page sets that file aside
while the others go on (quota.py); a file Drive does not have or will not share is named at the
end; a host that cannot be reached at all stops the fetch with one error; and the pauses
together never outlast BG20K_THROTTLE_BUDGET.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from bg20k_fetch.errors import IntegrityError
from bg20k_fetch.gdrive.errors import (
    DriveAccessError,
    DriveNotFound,
    DriveQuotaError,
    DriveThrottled,
)
from bg20k_fetch.gdrive.files import drive_opener
from bg20k_fetch.gdrive.folder_cache import FolderCache, with_markers
from bg20k_fetch.gdrive.folder_files import FileBytes, check_md5, jpeg_sniff
from bg20k_fetch.gdrive.health import HostHealth
from bg20k_fetch.gdrive.listing import RemoteFile
from bg20k_fetch.gdrive.outcome import Outcome
from bg20k_fetch.gdrive.quota import QuotaWatch, Verdict
from bg20k_fetch.gdrive.throttle import Concurrency
from bg20k_fetch.transfer.archive import archive_kind, sniff
from bg20k_fetch.transfer.hashing import FileInfo
from bg20k_fetch.transfer.http import RetryableHTTPError, make_session
from bg20k_fetch.transfer.retry import RetriesExhausted, is_connect_failure
from bg20k_fetch.transfer.stream import Cancelled, Opener
from bg20k_fetch.util.fs import sync_filesystem
from bg20k_fetch.util.signals import deferred, wait_or_stop

if TYPE_CHECKING:
    from bg20k_fetch.sources.base import Fetching


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
        self.quota = QuotaWatch()
        self._later: list[RemoteFile] = []
        self._total = 0

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
        self._total = len(files)
        while todo:
            self._fetch_all(todo)
            # Files whose quota page came alone are asked again once the others are done.
            todo, self._later = self._later, []
        sync_filesystem(self.target)  # one flush for every file fetched above
        self.outcome.raise_for_missing(len(files), len(self.done))
        return self.done

    def _fetch_all(self, todo: list[RemoteFile]) -> None:
        # A fixed set of workers taking the files in turn, not a future per file: 20,000
        # queued futures (a lock and a condition each) were a third of a folder's peak memory.
        files, lock = iter(todo), threading.Lock()

        def worker() -> None:
            while not self._stop.is_set():
                with lock:
                    f = next(files, None)
                if f is None:
                    return
                self._fetch_one(f)

        workers = max(1, min(self.concurrency.ceiling, len(todo)))
        # A signal stops the workers and is raised once they have (util/signals.py: why).
        with deferred() as held, ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(worker) for _ in range(workers)]
            try:
                stopping = partial(self.reporter.note, "Stopping; partial files are kept.")
                for fut in wait_or_stop(futures, self._stop, held, on_stop=stopping):
                    fut.result()  # re-raise a fatal error (host down, budget exhausted)
            except BaseException:
                # A fatal error: the others take no other file.
                self._stop.set()
                pool.shutdown(wait=True)
                raise

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = make_session(pool_size=2)
        return session

    def _fetch_one(self, f: RemoteFile) -> None:
        with self.concurrency:
            self._fetch_within_limit(f)

    def _fetch_within_limit(self, f: RemoteFile) -> None:
        """One file, asked again after each pause for as long as Drive throttles."""
        while not self._stop.is_set() and self._attempt(f):
            pass

    def _attempt(self, f: RemoteFile) -> bool:
        """One try at a file; True when it must be asked again after a pause."""
        dest = self.target / f.local
        direct = self.urls.direct_url(f.id)
        opener = drive_opener(
            self._session(), self.urls, f.id, first_url=direct, cookies=self.ctx.cookies
        )
        try:
            got = self.ctx.download(
                direct,
                dest,
                session=self._session(),
                expected_size=f.size,
                sniff=self._sniffer(f.path),
                label=f.path,
                reporter=FileBytes(self.reporter, self._report_lock),
                durable=False,
                opener=self._guarded(opener),
                cancel=self._stop,
            )
            if f.md5 is not None:
                check_md5(dest, f)
        except Cancelled:
            return False
        except DriveQuotaError:
            return self._over_quota(f)
        except (DriveNotFound, DriveAccessError) as exc:
            # One file Drive does not have or will not share: named at the end; the others go
            # on (a folder's own refusal stops its listing, before any download).
            self.outcome.add(self.outcome.unavailable, f"{f.path} ({exc.message})")
            return False
        except RetriesExhausted as exc:
            if exc.throttled:
                self._throttled_again(f)
                return True
            self.health.check(len(self.done))
            self.outcome.add(self.outcome.unreachable, f.path)
            return False
        except IntegrityError as exc:
            self.outcome.add(self.outcome.invalid, f"{f.path}: {exc.message}")  # others go on
            return False
        self._succeeded(f, FileInfo(got.sha256, got.size, False))
        return False

    def _over_quota(self, f: RemoteFile) -> bool:
        verdict = self.quota.quota(f.path)
        if verdict is Verdict.BLOCKED:
            self._blocked(f)
            return True  # this file again, after the pause
        if verdict is Verdict.LATER:
            self.outcome.add(self._later, f)
        else:
            self.outcome.add(self.outcome.over_quota, f.path)  # about this file only
        return False

    def _succeeded(self, f: RemoteFile, got: FileInfo) -> None:
        self.throttle.ok()
        self.quota.success()
        self.concurrency.succeeded()
        info = with_markers(self.target / f.local, got)
        self.cache.remember(f, info)
        if self._sniffer(f.path) is jpeg_sniff and not info.jpeg_ok:
            # Say it now, with the other invalid files, rather than after staging.
            self.outcome.add(self.outcome.invalid, f"{f.path}: not a complete JPEG")
        with self._report_lock:
            self.reporter.advance(1)

    def _throttled_again(self, f: RemoteFile) -> None:
        pause = self.throttle.hit()
        self._within_budget()
        self.reporter.note(
            f"Google Drive is throttling ({f.path}); all downloads pause {pause:.1f}s."
        )

    def _blocked(self, f: RemoteFile) -> None:
        """Quota pages on several files at once: Drive is blocking this client as a whole."""
        self.concurrency.blocked()
        pause = self.throttle.block()
        self._within_budget()
        if pause is not None:
            self.reporter.note(
                f"Google Drive answers every file with its quota page ({f.path} among them): "
                f"it is blocking this client for a while; all downloads pause {pause:.0f}s, then "
                "one file at a time probes until it lifts."
            )

    def _within_budget(self) -> None:
        if self.throttle.exhausted:
            raise DriveThrottled(len(self.done), self._total, self.throttle.budget)

    def _guarded(self, opener: Opener) -> Opener:
        """Every request of every worker: wait out a pause, stop if the host is down, and
        tell the throttle and the health check what the answer was."""
        throttle, health = self.throttle, self.health

        def open_(headers: Mapping[str, str]) -> requests.Response:
            if getattr(self._local, "throttled", False):
                self._local.throttled = False
                self.concurrency.requeue()  # the retry waits for a slot under the cut limit
            self._within_budget()  # every request: the budget bounds the whole wait
            throttle.wait(self._stop)  # a retry too: the pause binds every request in flight
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
            return jpeg_sniff
        return sniff if archive_kind(Path(path)) else None
