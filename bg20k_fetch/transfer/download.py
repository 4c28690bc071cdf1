"""The download engine every remote source uses: stream, hash, resume, retry, verify, rename.

Bytes go to ``<name>.part``, hashed as they arrive; the file is renamed to its final name only
after its size and (when known) digest match. Resuming, revalidating and what each answer
means live in ``resume.py``; retrying in ``retry.py``; reading a response's body and writing
it in ``stream.py``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import requests
from requests.exceptions import ChunkedEncodingError
from urllib3.exceptions import ReadTimeoutError

from bg20k_fetch.errors import (
    HtmlInsteadOfData,
    IntegrityError,
    SourceError,
    StorageError,
)
from bg20k_fetch.progress import NullReporter, Reporter
from bg20k_fetch.transfer.hashing import Sha256Behind
from bg20k_fetch.transfer.http import get
from bg20k_fetch.transfer.policy import RetryPolicy
from bg20k_fetch.transfer.resume import (
    Downloaded,
    PartFile,
    Verdict,
    conditional_headers,
    judge,
    must_fsync,
    validator_of,
)
from bg20k_fetch.transfer.retry import with_retries
from bg20k_fetch.transfer.settings import read_timeout
from bg20k_fetch.transfer.stream import (
    CHUNK,
    Cancelled,
    Opener,
    Sniffer,
    cancellable_sleep,
    cannot_write,
    chunks,
    html_title,
    total_size,
    write_all,
)


class _Restart(Exception):
    """The partial file cannot be continued; start over (counted against max_restarts)."""


class Download:
    def __init__(
        self,
        session: requests.Session,
        url: str,
        dest: Path,
        *,
        expected_sha256: str | None = None,
        expected_size: int | None = None,
        sniff: Sniffer | None = None,
        reporter: Reporter | None = None,
        policy: RetryPolicy | None = None,
        opener: Opener | None = None,
        label: str | None = None,
        durable: bool = True,
        cancel: threading.Event | None = None,
    ) -> None:
        """``durable=False`` skips the per-file fsyncs; the caller then syncs once for many
        small files (a Drive folder), where an fsync each would cost more than the transfer.
        Where the kernel has a boot id, no fsync is needed at all: a finished file's record
        names the boot, and a file from an earlier boot is re-hashed before it is reused."""
        self.session, self.url, self.dest = session, url, dest
        self.opener, self.durable, self.cancel = opener, durable, cancel
        self.label = label or Path(urlsplit(url).path).name or url
        self.file = PartFile(dest, url)
        self.expected_sha256 = expected_sha256.lower() if expected_sha256 else None
        self.expected_size = expected_size
        self.sniff = sniff
        self.reporter = reporter or NullReporter()
        self.policy = policy or RetryPolicy.from_env()
        # The furthest the file has ever reached: only an attempt that gets further than any
        # before it counts as progress (a server that restarts from zero every time does not).
        self.high_water = 0

    def run(self) -> Downloaded:
        try:
            self.dest.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"Cannot create {self.dest.parent}: {exc.strerror}.") from exc
        restarts = 0

        def attempt() -> Downloaded:
            nonlocal restarts
            while True:
                try:
                    return self._attempt()
                except _Restart as exc:  # a clean restart is not a failed attempt
                    restarts += 1
                    self.file.discard()
                    if restarts > self.policy.max_restarts:
                        raise SourceError(f"{self.url} kept failing to resume ({exc}).") from exc
                    self.reporter.note(f"{exc}; starting this file again")

        return with_retries(
            attempt,
            self.url,
            self.policy,
            self.reporter,
            hint=self._hint,
            progress=lambda: self.high_water,
            sleep=cancellable_sleep(self.cancel, self.label),
        )

    def _hint(self) -> str:
        if self.file.offset():
            return "The partial download is kept; run the same command again to resume."
        return "Check the network (and HTTPS_PROXY), then run the same command again."

    def _attempt(self) -> Downloaded:
        offset = self.file.offset()
        saved = self.file.saved() if offset else {}
        headers = {"Accept-Encoding": "identity"}
        if offset and saved.get("validator"):
            headers["Range"] = f"bytes={offset}-"
            headers["If-Range"] = str(saved["validator"])
        elif offset:
            self.file.discard()  # nothing proves the server still has the same bytes
            offset = 0
        complete = None if offset else self.file.complete(self.expected_sha256)
        conditional = conditional_headers(self.file.complete_validator()) if complete else {}
        headers.update(conditional)
        response = (
            self.opener(headers) if self.opener else get(self.session, self.url, headers=headers)
        )
        with response:
            saved_total = saved.get("total")
            verdict, why = judge(
                response.status_code,
                response.headers.get("Content-Range"),
                offset=offset,
                saved_total=saved_total if isinstance(saved_total, int) else None,
                conditional=bool(conditional),
            )
            if verdict is Verdict.REUSE and complete is not None:
                self.reporter.note(f"{self.label}: the copy in the cache is current; reusing it.")
                return complete
            if verdict is Verdict.RESTART:
                raise _Restart(f"{self.url} {why}")
            if verdict is Verdict.FAIL:
                raise SourceError(
                    f"{self.url} {why}.", hint="Check the URL, or use another --source."
                )
            if verdict is Verdict.FROM_ZERO:
                offset = 0
            total = total_size(response)
            self._check_size(total)
            self.file.save(validator_of(response), total)
            digest, size = self._stream(response, offset, total)
        self._verify(digest, size)
        self.file.finish(digest, size, self.durable)
        return Downloaded(self.dest, self.url, size, digest)

    def _stream(
        self, response: requests.Response, offset: int, total: int | None
    ) -> tuple[str, int]:
        hasher = Sha256Behind()
        try:
            return self._stream_into(hasher, response, offset, total)
        finally:
            hasher.close()

    def _stream_into(
        self, hasher: Sha256Behind, response: requests.Response, offset: int, total: int | None
    ) -> tuple[str, int]:
        mode = "r+b" if offset else "wb"
        # Unbuffered: every byte received is on disk at once, for a resume after a kill.
        try:
            handle = open(self.file.part, mode, buffering=0)  # noqa: SIM115 - closed below
        except OSError as exc:
            raise cannot_write(self.file.part, exc) from exc
        with handle:
            if offset:
                # The digest must cover the whole file, so hash the kept prefix first.
                while block := handle.read(CHUNK):
                    hasher.update(block)
                handle.seek(offset)
                handle.truncate()
            self.reporter.phase(f"download {self.label}", total, "bytes")
            self.reporter.advance(offset)
            size, first = offset, offset == 0
            of = f" of {total}" if total else ""
            try:
                for chunk in chunks(response):
                    if self.cancel is not None and self.cancel.is_set():
                        raise Cancelled(f"Stopped {self.label}; the partial file is kept.")
                    if first and chunk:
                        self._sniff(chunk)
                        first = False
                    if total is not None and size + len(chunk) > total:
                        raise requests.ConnectionError(
                            f"the server sent more than the {total} bytes it announced"
                        )
                    write_all(handle, chunk, self.file.part)
                    hasher.update(chunk)
                    size += len(chunk)
                    self.high_water = max(self.high_water, size)
                    self.reporter.advance(len(chunk))
            except ReadTimeoutError:
                raise requests.ReadTimeout(
                    f"no data for {read_timeout():g}s after {size}{of} bytes"
                ) from None
            except ChunkedEncodingError:
                raise requests.ConnectionError(
                    f"the connection broke after {size}{of} bytes"
                ) from None
            finally:
                handle.flush()
                if self.durable and must_fsync():
                    os.fsync(handle.fileno())
        if total is not None and size != total:
            raise requests.ConnectionError(f"connection closed after {size}{of} bytes")
        return hasher.hexdigest(), size

    def _sniff(self, head: bytes) -> None:
        title = html_title(head)
        if title is not None:
            self.file.discard()
            raise HtmlInsteadOfData(self.url, title)
        problem = self.sniff(head) if self.sniff else None
        if problem:
            self.file.discard()
            raise IntegrityError(f"{self.url} did not send the expected data: {problem}.")

    def _check_size(self, total: int | None) -> None:
        if total is not None and self.expected_size is not None and total != self.expected_size:
            raise IntegrityError(
                f"{self.url} offers {total} bytes but {self.expected_size} are expected.",
                hint="The mirror holds a different file; check its sha256/size or use another.",
            )

    def _verify(self, digest: str, size: int) -> None:
        problem = None
        if self.expected_size is not None and size != self.expected_size:
            problem = f"{size} bytes arrived but {self.expected_size} were expected"
        elif self.expected_sha256 and digest != self.expected_sha256:
            problem = f"SHA-256 is {digest} but {self.expected_sha256} was expected"
        if problem:
            self.file.discard()
            raise IntegrityError(
                f"{self.url}: {problem}; the download was deleted.",
                hint="The source serves other bytes than pinned; use another.",
            )
