"""Hashing and the JPEG check, done while bytes pass by so no file is read twice.

A file's SHA-256, its size and whether it starts with a JPEG's start-of-image and ends with its
end-of-image marker are taken in one pass, whether it is being copied out of an archive,
downloaded, or read where it lies.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from bg20k_fetch.errors import DamagedData, IntegrityError
from bg20k_fetch.util.fs import open_regular

# Reads of 256 KiB, not 1 MiB: each read is a fresh buffer, and freed 1 MiB buffers stay in
# glibc's heap once one has been returned (transfer/stream.py says how; issue 25).
CHUNK = 1 << 18
JPEG_HEAD = b"\xff\xd8\xff"
JPEG_TAIL = b"\xff\xd9"


class Readable(Protocol):
    """What consume() reads from: a file, a zip member, a response's raw stream."""

    def read(self, size: int, /) -> bytes: ...


@dataclass(frozen=True, slots=True)  # one per file: 20,000 of them
class FileInfo:
    sha256: str
    size: int
    jpeg_ok: bool


class Sha256Behind:
    """SHA-256 of a stream, computed on a second thread once the stream is big enough to be
    worth it, so hashing overlaps receiving and writing (hashlib releases the GIL while it
    hashes). Small files stay on the calling thread: a thread would cost more than it saves.
    At most ``depth`` chunks wait, which bounds the memory it holds."""

    INLINE = 1 << 20  # bytes hashed in line before the thread takes over

    def __init__(self, depth: int = 8) -> None:
        self._hasher = hashlib.sha256()
        self._inline = 0
        self._queue: queue.Queue[bytes | None] = queue.Queue(depth)
        self._thread: threading.Thread | None = None

    def update(self, data: bytes) -> None:
        if self._thread is None:
            self._hasher.update(data)
            self._inline += len(data)
            if self._inline >= self.INLINE:
                self._thread = threading.Thread(target=self._work, name="sha256", daemon=True)
                self._thread.start()
            return
        self._queue.put(data)

    def _work(self) -> None:
        while (data := self._queue.get()) is not None:
            self._hasher.update(data)

    def close(self) -> None:
        """Stop the thread (after what was queued); safe to call twice."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def hexdigest(self) -> str:
        self.close()
        return self._hasher.hexdigest()


def consume(stream: Readable, out: IO[bytes] | None, origin: str = "") -> FileInfo:
    """Hash (and copy to ``out``) everything ``stream`` holds. A failure to read is the
    source's fault (IntegrityError); a failure to write is the destination's (OSError)."""
    hasher, size, head, tail = hashlib.sha256(), 0, b"", b""
    while True:
        try:
            block = stream.read(CHUNK)
        except (OSError, zlib.error, EOFError, zipfile.BadZipFile) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise DamagedData(
                f"Cannot read {origin or 'a file'}: {reason}.",
                hint="The copy is damaged or unreadable; use another source.",
            ) from exc
        if not block:
            break
        if len(head) < 3:
            head = (head + block[:3])[:3]
        tail = (tail + block[-64:])[-64:]  # never a copy of the whole block
        hasher.update(block)
        size += len(block)
        if out is not None:
            out.write(block)
    return FileInfo(hasher.hexdigest(), size, jpeg_markers_ok(head, tail))


def jpeg_markers_ok(head: bytes, tail: bytes) -> bool:
    """Starts with a JPEG's start-of-image and ends with its end-of-image marker; some
    encoders pad after the end marker, so padding is allowed but the marker must be there."""
    return head[:3] == JPEG_HEAD and tail.rstrip(b"\x00\r\n\t ").endswith(JPEG_TAIL)


def hash_file(path: Path) -> FileInfo:
    """Raises IntegrityError when ``path`` cannot be read."""
    try:
        with open_regular(path) as handle:
            return consume(handle, None, str(path))
    except ValueError as exc:
        raise IntegrityError(f"{path} is not a regular file; refused.") from exc
    except OSError as exc:
        raise IntegrityError(
            f"Cannot read {path}: {exc.strerror or exc}.",
            hint="Check its permissions, or fetch the dataset again.",
        ) from exc


class HashingBehind:
    """``hash_file(path)`` on a thread of its own while the caller reads the same file for
    something else (extracting it), so the two passes overlap instead of adding up."""

    def __init__(self, path: Path) -> None:
        self._result: FileInfo | BaseException | None = None
        self._thread = threading.Thread(target=self._work, args=(path,), daemon=True)
        self._thread.start()

    def _work(self, path: Path) -> None:
        try:
            self._result = hash_file(path)
        except BaseException as exc:  # handed to the caller by result()
            self._result = exc

    def result(self) -> FileInfo:
        self._thread.join()
        if isinstance(self._result, BaseException):
            raise self._result
        assert self._result is not None
        return self._result
