"""Resuming a download: what each answer means for the bytes on disk, and where they are.

``judge()`` is a pure function of the status, the ``Content-Range`` and what is on disk (a
table of cases tests it, like httpie's ``parse_content_range``); ``PartFile`` holds one file's
state — the ``.part``, its sidecar (validator and total, for ``Range`` + ``If-Range``) and the
finished file's record (for revalidation with one conditional request).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path

import requests

from bg20k_fetch.errors import Bg20kError, StorageError
from bg20k_fetch.transfer.hashing import hash_file
from bg20k_fetch.util.fs import fsync_dir, read_limited
from bg20k_fetch.util.jsonio import load_json


@dataclass(frozen=True)
class Downloaded:
    path: Path
    url: str
    size: int
    sha256: str
    reused: bool = False


@cache
def boot_id() -> str | None:
    """This boot of the kernel (Linux). Bytes written in the same boot are in the page cache or
    on disk, so a file finished in this boot can be trusted without an fsync; only a crash of
    the machine loses unsynced bytes, and that changes the boot id. None where there is none:
    then every finished download is fsynced."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            return handle.read(64).strip() or None
    except OSError:
        return None


def must_fsync() -> bool:
    return boot_id() is None


_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$")


def parse_content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """``bytes 100-199/1000`` -> (100, 199, 1000); None when absent or malformed."""
    match = _CONTENT_RANGE.match(value or "")
    if not match:
        return None
    start, end, total = match.groups()
    if int(end) < int(start) or (total != "*" and int(end) >= int(total)):
        return None
    return int(start), int(end), None if total == "*" else int(total)


class Verdict(Enum):
    CONTINUE = "continue the .part from the offset asked for"
    FROM_ZERO = "write from the first byte (the answer is the whole file)"
    RESTART = "discard the .part and ask again from zero"
    REUSE = "the complete file on disk is current"
    FAIL = "give up on this source"


def judge(
    status: int,
    content_range: str | None,
    *,
    offset: int,
    saved_total: int | None,
    conditional: bool = False,
) -> tuple[Verdict, str]:
    """What an answer means for the bytes on disk. Pure: a table of cases tests it."""
    if status == 304 and conditional:
        return Verdict.REUSE, "not modified"
    if status == 416:
        return Verdict.RESTART, "answered 416 Range Not Satisfiable"
    if status == 206:
        rng = parse_content_range(content_range)
        if rng is None:
            return Verdict.RESTART, "answered 206 without a valid Content-Range"
        if rng[0] != offset:
            return Verdict.RESTART, f"answered a range from byte {rng[0]}, not {offset}"
        if offset and saved_total is not None and rng[2] != saved_total:
            now = "an unknown number of" if rng[2] is None else rng[2]
            return Verdict.RESTART, f"now has {now} bytes, not {saved_total}"
        return Verdict.CONTINUE, "continues the file"
    if status == 200:
        # A 200 to a Range request: the server ignored it or the file changed. Never append.
        return Verdict.FROM_ZERO, "sent the whole file" if offset else "ok"
    return Verdict.FAIL, f"answered HTTP {status}"


def validator_of(response: requests.Response) -> str | None:
    etag = response.headers.get("ETag")
    if etag and not etag.startswith("W/"):
        return etag  # weak ETags are not allowed in If-Range
    return response.headers.get("Last-Modified")


class PartFile:
    """One download's state on disk: the ``.part``, its sidecar, and the finished file's record."""

    def __init__(self, dest: Path, url: str) -> None:
        self.dest, self.url = dest, url
        self.part = dest.with_name(dest.name + ".part")
        self.meta = dest.with_name(dest.name + ".part.json")
        self.done = dest.with_name(dest.name + ".done.json")

    def offset(self) -> int:
        try:
            return self.part.stat().st_size
        except FileNotFoundError:
            return 0

    def _read(self, path: Path) -> dict[str, object]:
        try:
            data = load_json(read_limited(path, 1 << 20))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) and data.get("url") == self.url else {}

    def saved(self) -> dict[str, object]:
        """The sidecar of the ``.part``; empty (so the part is started over) when it was
        written before the machine last went down, which may have lost its unsynced tail."""
        meta = self._read(self.meta)
        return meta if meta.get("boot") == boot_id() else {}

    def save(self, validator: str | None, total: int | None) -> None:
        meta = {"url": self.url, "validator": validator, "total": total, "boot": boot_id()}
        _write_side_file(self.meta, json.dumps(meta))

    def complete(self, expected_sha256: str | None) -> Downloaded | None:
        """The finished file, if its record matches what is on disk (and any pin)."""
        record = self._read(self.done)
        try:
            stat = self.dest.stat()
        except OSError:
            return None
        if not record or record.get("size") != stat.st_size:
            return None
        if record.get("mtime_ns") != stat.st_mtime_ns:
            return None
        sha = str(record.get("sha256"))
        if expected_sha256 and sha != expected_sha256:
            return None
        if record.get("boot") != boot_id() and not self._still_intact(record, sha):
            return None
        return Downloaded(self.dest, self.url, stat.st_size, sha, reused=True)

    def _still_intact(self, record: dict[str, object], sha: str) -> bool:
        """Finished in an earlier boot without an fsync: re-read it once to prove the bytes
        survived, then trust it in this boot too."""
        try:
            if hash_file(self.dest).sha256 != sha:
                return False
        except Bg20kError:  # unreadable: not reusable, fetched again
            return False
        _write_side_file(self.done, json.dumps({**record, "boot": boot_id()}))
        return True

    def complete_validator(self) -> str | None:
        value = self._read(self.done).get("validator")
        return value if isinstance(value, str) else None

    def finish(self, digest: str, size: int, durable: bool) -> None:
        validator = self.saved().get("validator")
        try:
            os.replace(self.part, self.dest)
        except OSError as exc:
            raise StorageError(f"Cannot move {self.part} to {self.dest}: {exc.strerror}.") from exc
        self.meta.unlink(missing_ok=True)
        record = {
            "url": self.url,
            "size": size,
            "sha256": digest,
            "validator": validator,
            "mtime_ns": self.dest.stat().st_mtime_ns,
            "boot": boot_id(),
        }
        _write_side_file(self.done, json.dumps(record))
        if durable and must_fsync():
            fsync_dir(self.dest.parent)

    def discard(self) -> None:
        self.part.unlink(missing_ok=True)
        self.meta.unlink(missing_ok=True)


def conditional_headers(validator: str | None) -> dict[str, str]:
    if not validator:
        return {}
    if validator.startswith('"'):
        return {"If-None-Match": validator}
    return {"If-Modified-Since": validator}


def _write_side_file(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise StorageError(
            f"Cannot write {path}: {exc.strerror}.",
            hint="Free some space (or point BG20K_CACHE_DIR elsewhere), then run the same command.",
        ) from exc
