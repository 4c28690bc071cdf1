"""The download engine every remote source uses: stream, hash, resume, retry, verify, rename.

Bytes go to ``<name>.part``; a sidecar ``<name>.part.json`` remembers the validator (strong ETag
or Last-Modified) and total size so a later run can resume with ``Range`` + ``If-Range``. The
file is renamed to its final name only after its size and (when known) digest match.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
from requests.exceptions import ChunkedEncodingError
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from .errors import IntegrityError, SourceError, StorageError
from .fsutil import fsync_dir
from .http import get, page_title
from .progress import NullReporter, Reporter
from .retry import RetryPolicy, with_retries

CHUNK = 64 * 1024  # small enough that a cut connection loses little of what arrived
Sniffer = Callable[[bytes], str | None]  # returns a complaint about the first bytes, or None
# Opens the response for one attempt, given the Range/If-Range headers; sources whose URL
# must be worked out per request (Google Drive's confirmation form) pass their own.
Opener = Callable[[Mapping[str, str]], requests.Response]


@dataclass(frozen=True)
class Downloaded:
    path: Path
    url: str
    size: int
    sha256: str


class _Restart(Exception):
    """The partial file cannot be continued; start over (counted against max_restarts)."""


_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$")


def parse_content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """``bytes 100-199/1000`` -> (100, 199, 1000); None when absent or malformed."""
    match = _CONTENT_RANGE.match(value or "")
    if not match:
        return None
    start, end, total = match.groups()
    if int(end) < int(start):
        return None
    return int(start), int(end), None if total == "*" else int(total)


def _validator(response: requests.Response) -> str | None:
    etag = response.headers.get("ETag")
    if etag and not etag.startswith("W/"):
        return etag  # weak ETags are not allowed in If-Range
    return response.headers.get("Last-Modified")


def html_title(head: bytes) -> str | None:
    text = head[:4096].decode("utf-8", "replace")
    if not re.match(r"\s*(<!doctype html|<html|<head|<\?xml|<)", text, re.IGNORECASE):
        return None
    return page_title(text)


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
    ) -> None:
        """``durable=False`` skips the per-file fsyncs; the caller then syncs once for many
        small files (a Drive folder), where an fsync each would cost more than the transfer."""
        self.session, self.url, self.dest = session, url, dest
        self.opener = opener
        self.durable = durable
        self.label = label or Path(urlsplit(url).path).name or url
        self.part = dest.with_name(dest.name + ".part")
        self.meta = dest.with_name(dest.name + ".part.json")
        self.expected_sha256 = expected_sha256.lower() if expected_sha256 else None
        self.expected_size = expected_size
        self.sniff = sniff
        self.reporter = reporter or NullReporter()
        self.policy = policy or RetryPolicy.from_env()

    def run(self) -> Downloaded:
        try:
            self.dest.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"Cannot create {self.dest.parent}: {exc.strerror}.") from exc
        restarts = 0

        def attempt() -> tuple[str, int]:
            nonlocal restarts
            while True:
                try:
                    return self._attempt()
                except _Restart as exc:  # a clean restart is not a failed attempt
                    restarts += 1
                    self._discard()
                    if restarts > self.policy.max_restarts:
                        raise SourceError(f"{self.url} kept failing to resume ({exc}).") from exc
                    self.reporter.note(f"{exc}; starting this file again")

        digest, size = with_retries(
            attempt,
            self.url,
            self.policy,
            self.reporter,
            hint="The partial download is kept; run the same command again to resume.",
        )
        self._finish(digest, size)
        return Downloaded(self.dest, self.url, size, digest)

    def _attempt(self) -> tuple[str, int]:
        offset = self.part.stat().st_size if self.part.exists() else 0
        meta = self._read_meta() if offset else {}
        headers = {"Accept-Encoding": "identity"}
        if offset and meta.get("validator"):
            headers["Range"] = f"bytes={offset}-"
            headers["If-Range"] = str(meta["validator"])
        elif offset:
            self._discard()  # nothing proves the server still has the same bytes
            offset = 0
        if self.opener is not None:
            response = self.opener(headers)
        else:
            response = get(self.session, self.url, headers=headers)
        with response:
            if response.status_code == 416:
                raise _Restart(f"{self.url} answered 416 Range Not Satisfiable")
            if response.status_code not in (200, 206):
                raise SourceError(
                    f"{self.url} answered HTTP {response.status_code}.",
                    hint="Check the URL, or use another --source.",
                )
            total = _total_size(response)
            if response.status_code == 206:
                rng = parse_content_range(response.headers.get("Content-Range"))
                if (
                    rng is None
                    or rng[0] != offset
                    or (meta.get("total") and rng[2] != meta["total"])
                ):
                    raise _Restart(f"{self.url} answered a range that does not continue the file")
            elif offset:
                offset = 0  # the server ignored Range or the file changed: never append
            self._check_size(total)
            self._write_meta({"url": self.url, "validator": _validator(response), "total": total})
            return self._stream(response, offset, total)

    def _stream(
        self, response: requests.Response, offset: int, total: int | None
    ) -> tuple[str, int]:
        hasher = hashlib.sha256()
        mode = "r+b" if offset else "wb"
        with open(self.part, mode) as handle:
            if offset:
                # The digest must cover the whole file, so hash the kept prefix first.
                while block := handle.read(CHUNK):
                    hasher.update(block)
                handle.seek(offset)
                handle.truncate()
            self.reporter.phase(f"download {self.label}", total, "bytes")
            self.reporter.advance(offset)
            size, first = offset, offset == 0
            try:
                for chunk in _chunks(response):
                    if first and chunk:
                        self._sniff(chunk)
                        first = False
                    handle.write(chunk)
                    hasher.update(chunk)
                    size += len(chunk)
                    self.reporter.advance(len(chunk))
            except ChunkedEncodingError:
                of = f" of {total}" if total else ""
                raise requests.ConnectionError(
                    f"the connection broke after {size}{of} bytes"
                ) from None
            finally:
                handle.flush()
                if self.durable:
                    os.fsync(handle.fileno())
        if total is not None and size != total:
            raise requests.ConnectionError(f"connection closed after {size} of {total} bytes")
        return hasher.hexdigest(), size

    def _sniff(self, head: bytes) -> None:
        title = html_title(head)
        if title is not None:
            self._discard()
            raise IntegrityError(
                f"{self.url} sent an HTML page titled {title!r} instead of data; "
                "nothing was saved.",
                hint="The server is refusing or the link is wrong: try another --source.",
            )
        problem = self.sniff(head) if self.sniff else None
        if problem:
            self._discard()
            raise IntegrityError(f"{self.url} did not send the expected data: {problem}.")

    def _check_size(self, total: int | None) -> None:
        if total is not None and self.expected_size is not None and total != self.expected_size:
            raise IntegrityError(
                f"{self.url} offers {total} bytes but {self.expected_size} are expected.",
                hint="The mirror holds a different file; check its sha256/size or use another.",
            )

    def _finish(self, digest: str, size: int) -> None:
        problem = None
        if self.expected_size is not None and size != self.expected_size:
            problem = f"{size} bytes arrived but {self.expected_size} were expected"
        elif self.expected_sha256 and digest != self.expected_sha256:
            problem = f"SHA-256 is {digest} but {self.expected_sha256} was expected"
        if problem:
            self._discard()
            raise IntegrityError(
                f"{self.url}: {problem}; the download was deleted.",
                hint="The source serves other bytes than pinned; use another.",
            )
        os.replace(self.part, self.dest)
        self.meta.unlink(missing_ok=True)
        if self.durable:
            fsync_dir(self.dest.parent)

    def _read_meta(self) -> dict[str, object]:
        try:
            data = json.loads(self.meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) and data.get("url") == self.url else {}

    def _write_meta(self, meta: dict[str, object]) -> None:
        self.meta.write_text(json.dumps(meta), encoding="utf-8")

    def _discard(self) -> None:
        self.part.unlink(missing_ok=True)
        self.meta.unlink(missing_ok=True)


def _chunks(response: requests.Response) -> Iterator[bytes]:
    """Whatever has arrived, up to CHUNK at a time.

    iter_content() waits to fill a whole chunk and, when the connection drops meanwhile, loses
    the bytes it had gathered; read1() hands them over, so the .part keeps every byte received.
    """
    raw = response.raw
    try:
        while chunk := raw.read1(CHUNK, decode_content=False):
            yield chunk
    except (ProtocolError, ReadTimeoutError) as exc:
        raise ChunkedEncodingError(exc) from exc


def _total_size(response: requests.Response) -> int | None:
    if response.status_code == 206:
        rng = parse_content_range(response.headers.get("Content-Range"))
        return rng[2] if rng else None
    length = response.headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None
