"""A response's body read as it arrives and written whole: the byte-level half of the download
engine (``download.py``), apart so that the engine reads as decisions."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO

import requests
from requests.exceptions import ChunkedEncodingError
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from bg20k_fetch.errors import Bg20kError, ExitCode, StorageError
from bg20k_fetch.transfer.http import page_title
from bg20k_fetch.transfer.resume import parse_content_range

# read1() hands over whatever has arrived, up to this much: a cut connection loses nothing.
# 256 KiB, not 1 MiB: the hashing thread may hold eight chunks, and glibc keeps freed chunks
# of 1 MiB in the heap once one has been returned (its mmap threshold rises to their size),
# which left 5-13 MiB of a download's buffers in every later phase of a fetch (issue 25).
CHUNK = 1 << 18
Sniffer = Callable[[bytes], str | None]  # returns a complaint about the first bytes, or None
# Opens the response for one attempt, given the request headers; sources whose URL must be
# worked out per request (Google Drive's confirmation form) pass their own.
Opener = Callable[[Mapping[str, str]], requests.Response]


class Cancelled(Bg20kError):
    """The caller asked the download to stop (Ctrl-C in a folder fetch); the .part is kept."""

    exit_code = ExitCode.INTERRUPTED


def cancellable_sleep(cancel: threading.Event | None, label: str) -> Callable[[float], None]:
    """The wait before a retry, which a stopping fetch does not sit out (Cancelled)."""

    def pause(delay: float) -> None:
        if cancel is None:
            time.sleep(delay)
        elif cancel.wait(delay):
            raise Cancelled(f"Stopped {label}; the partial file is kept.")

    return pause


# Markup opens with a tag, a declaration or a comment, after any spaces (and a UTF-8 BOM).
_MARKUP = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n\f]*<[A-Za-z!?/]")
# Control bytes no web page holds; random data has one every eleven bytes or so.
_BINARY = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")


def html_title(head: bytes) -> str | None:
    """The title of a page served where data was expected, or None for data. A page starts
    with markup and is text: neither a zip, a tar nor a JPEG starts with ``<``, and data that
    happens to (1 file in 256 of random bytes) has control bytes in its first kilobyte."""
    head = head[:4096]
    if not _MARKUP.match(head) or _BINARY.search(head, 0, 1024):
        return None
    return page_title(head.decode("utf-8", "replace"))


def cannot_write(path: Path, exc: OSError) -> StorageError:
    return StorageError(
        f"Cannot write {path}: {exc.strerror or exc}; what arrived so far is kept.",
        hint="Free some space (or point BG20K_CACHE_DIR elsewhere), then run the same command.",
    )


def write_all(handle: IO[bytes], chunk: bytes, path: Path) -> None:
    # A write error is the disk's (full, quota, read-only), never the network's: one line, 7.
    view = memoryview(chunk)
    try:
        while view:  # a raw write may take only part of it
            view = view[handle.write(view) or 0 :]
    except OSError as exc:
        raise cannot_write(path, exc) from exc


def chunks(response: requests.Response) -> Iterator[bytes]:
    """Whatever has arrived, up to CHUNK at a time.

    iter_content() waits to fill a whole chunk and, when the connection drops meanwhile, loses
    the bytes it had gathered; read1() hands them over, so the .part keeps every byte received.
    """
    raw = response.raw
    try:
        while chunk := raw.read1(CHUNK, decode_content=False):
            yield chunk
    except ReadTimeoutError:
        raise
    except ProtocolError as exc:
        raise ChunkedEncodingError(exc) from exc


def total_size(response: requests.Response) -> int | None:
    if response.status_code == 206:
        rng = parse_content_range(response.headers.get("Content-Range"))
        return rng[2] if rng else None
    length = response.headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None
