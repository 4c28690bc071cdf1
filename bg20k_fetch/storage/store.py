"""Object stores (S3 and compatibles, and any fsspec URL whose package is installed): opening
them with errors that say what to do, and the few operations bg20k needs.

Credentials and endpoints come from where their own tools look (the AWS variables and files,
``AWS_ENDPOINT_URL``, fsspec's configuration); bg20k takes no flag for a secret and masks any
that reaches a message. S3 keeps a SHA-256 per object (``ChecksumSHA256``): uploads send the
digest bg20k already knows, so S3 checks the bytes on arrival, and a later check needs no
download. An ETag is never taken for a content hash.
"""

from __future__ import annotations

import base64
import binascii
import errno
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

from bg20k_fetch.errors import SourceError, StorageError, UsageError
from bg20k_fetch.redact import redact
from bg20k_fetch.storage.errors import endpoint_of, first_line, store_errors
from bg20k_fetch.storage.s3client import aio_session, s3_options
from bg20k_fetch.transfer.policy import RetryPolicy
from bg20k_fetch.transfer.settings import read_timeout

SCHEMES = ("s3", "gs", "gcs", "az", "abfs")
PUBLISHED_MARKER = ".bg20k-published"  # written last, conditionally: a prefix without it is
# never a dataset


def is_store_url(text: str) -> bool:
    return urlsplit(text).scheme.lower() in SCHEMES


def require_store_url(text: str) -> str:
    """An object-store URL with a bucket (``s3://bucket[/prefix]``), checked before any work:
    UsageError (2) for a path, another scheme or a URL without a bucket."""
    parts = urlsplit(text)
    if parts.scheme.lower() not in SCHEMES:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise UsageError(
            f"{redact(text)!r} is not an object-store URL ({known}).",
            hint="Give the bucket and prefix to publish to, e.g. s3://lab-data/datasets.",
        )
    if not parts.netloc.rpartition("@")[2]:
        raise UsageError(
            f"{redact(text)!r} names no bucket.",
            hint="Give the bucket and prefix to publish to, e.g. s3://lab-data/datasets.",
        )
    return text


PROBE_TIMEOUT = 10.0  # a store that answers nothing to one HEAD in this long is not there


@dataclass
class Store:
    """One prefix in one object store, as an fsspec file system and a path within it."""

    url: str
    fs: Any
    base: str  # "bucket/prefix" without a trailing slash

    @property
    def is_s3(self) -> bool:
        return urlsplit(self.url).scheme.lower() == "s3"

    def key(self, rel: str) -> str:
        return f"{self.base}/{rel}" if rel else self.base

    def listing(self) -> dict[str, int]:
        """Every object under the prefix: relative path -> size."""
        with store_errors(self.url):
            found = self.fs.find(self.base, detail=True)
        prefix = self.base + "/"
        return {
            path[len(prefix) :]: int(info.get("size") or 0)
            for path, info in found.items()
            if path.startswith(prefix) and info.get("type", "file") != "directory"
        }

    def sha256(self, rel: str) -> str | None:
        """The SHA-256 the store keeps for an object, hex, or None when it keeps none."""
        if not self.is_s3:
            return None
        bucket, _, key = self.key(rel).partition("/")
        with store_errors(self.url):
            head = self.fs.call_s3("head_object", Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        value = head.get("ChecksumSHA256")
        if not value or "-" in value:  # a multipart upload's checksum covers the parts
            return None
        try:
            return base64.b64decode(value).hex()
        except (binascii.Error, ValueError):
            return None

    def put(self, local: str, rel: str, sha256: str) -> None:
        extra: dict[str, object] = {}
        if self.is_s3:
            extra = {
                "ChecksumAlgorithm": "SHA256",
                "ChecksumSHA256": base64.b64encode(bytes.fromhex(sha256)).decode(),
            }
        with store_errors(self.url):
            self.fs.put_file(local, self.key(rel), **extra)

    def pipe(self, rel: str, data: bytes) -> None:
        """A small object written whole (bg20k's own: the lease, the journal)."""
        with store_errors(self.url):
            self.fs.pipe_file(self.key(rel), data)

    def put_once(self, rel: str, data: bytes) -> bool:
        """Write an object only if none exists (``If-None-Match: *``); False if one does."""
        extra = {"IfNoneMatch": "*"} if self.is_s3 else {}
        try:
            with store_errors(self.url):
                self.fs.pipe_file(self.key(rel), data, **extra)
        except FileExistsError:
            return False
        except SourceError as exc:
            if "pre-condition" in exc.message or "PreconditionFailed" in exc.message:
                return False
            raise
        return True

    def read(self, rel: str, limit: int = 256 << 20) -> bytes | None:
        """A small object's bytes, or None when it does not exist."""
        # One ranged GET (opening a file would HEAD it first): a request less per receipt read.
        with store_errors(self.url):
            try:
                data: bytes = self.fs.cat_file(self.key(rel), start=0, end=limit + 1)
            except FileNotFoundError:
                return None
            except OSError as exc:
                if exc.errno != errno.EINVAL or "range" not in str(exc).lower():
                    raise
                data = b""  # no range from byte 0 is satisfiable: the object is empty
        if len(data) > limit:
            raise StorageError(f"{self.url}/{rel} is larger than {limit} bytes; refused.")
        return data

    @contextmanager
    def open(self, rel: str) -> Iterator[IO[bytes]]:
        with store_errors(self.url), self.fs.open(self.key(rel), "rb") as handle:
            yield handle

    def delete(self, rels: list[str]) -> None:
        if rels:
            try:
                with store_errors(self.url):
                    self.fs.rm([self.key(r) for r in rels])
            except FileNotFoundError:
                pass  # already gone: what deleting it was for


def open_store(url: str, *, probe: bool = True) -> Store:
    """The store behind ``url``, checked to answer (``probe``): UsageError (2) naming the
    extra to install when its fsspec implementation is missing or the URL is unusable,
    SourceError (4) when the store cannot be reached or the bucket does not exist."""
    scheme = urlsplit(url).scheme.lower()
    try:
        import fsspec
    except ImportError as exc:
        raise UsageError(
            f"{scheme}:// URLs need bg20k's object-store extra.",
            hint="Install it with: pip install 'bg20k[s3]'",
        ) from exc
    policy = RetryPolicy.from_env()
    # One botocore session for the store and its prober: making one costs 10 ms of CPU (its
    # handlers registered one by one), and both are made now, from the same credentials.
    sessions: list[Any] = []
    fs, base = _filesystem(fsspec, url, read_timeout(), policy.attempts, sessions)
    store = Store(url.rstrip("/"), fs, str(base).rstrip("/"))
    if probe and store.is_s3:
        timeout = min(PROBE_TIMEOUT, read_timeout())
        prober, _ = _filesystem(fsspec, url, timeout, 2, sessions)
        _probe(prober, store, timeout)
    return store


def _filesystem(
    fsspec: Any, url: str, timeout: float, attempts: int, sessions: list[Any]
) -> tuple[Any, str]:
    scheme = urlsplit(url).scheme.lower()
    # A fresh instance each time: fsspec's instance and listing caches would otherwise keep an
    # old endpoint or credentials, or a listing from before an upload.
    options: dict[str, object] = {"skip_instance_cache": True, "use_listings_cache": False}
    if scheme == "s3":
        options |= s3_options(timeout, attempts)
    try:
        if scheme == "s3":
            if not sessions:
                sessions.append(aio_session())
            options["session"] = sessions[0]
        fs, base = fsspec.core.url_to_fs(url, **options)
    except ImportError as exc:
        raise UsageError(
            f"{scheme}:// URLs need a package that is not installed ({exc}).",
            hint="Install it with: pip install 'bg20k[s3]'"
            if scheme == "s3"
            else "Install the fsspec implementation for it (gcsfs, adlfs).",
        ) from exc
    except ValueError as exc:
        raise UsageError(f"{redact(url)} is not a usable URL: {first_line(exc)}.") from exc
    if hasattr(fs, "retries"):
        fs.retries = 1  # s3fs's own loop would multiply botocore's attempts by five
    return fs, str(base)


def _probe(fs: Any, store: Store, timeout: float) -> None:
    """One HEAD of the bucket, with a short timeout: a store that answers nothing, a bucket that
    does not exist or an endpoint that is not S3 is said at once, in words, not after minutes."""
    bucket = store.base.split("/", 1)[0]
    where = endpoint_of(store.url)
    try:
        with store_errors(store.url):
            fs.call_s3("head_bucket", Bucket=bucket)
    except FileNotFoundError as exc:
        raise SourceError(
            f"The bucket {bucket!r} does not exist at {where}.",
            hint="Check the bucket's name in the URL (and AWS_ENDPOINT_URL for the store).",
        ) from exc
    except SourceError as exc:
        if "timed out" in exc.message or "Timeout" in exc.message:
            raise SourceError(
                f"The object store at {where} did not answer within {timeout:g} s "
                f"({redact(store.url)}).",
                hint="Check AWS_ENDPOINT_URL and the network, then run the same command again.",
            ) from exc
        raise
