"""What a folder fetch checks and counts for each file: a JPEG's first bytes, the MD5 the Drive
API lists, and the bytes that feed the folder's progress."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from bg20k_fetch.errors import IntegrityError
from bg20k_fetch.gdrive.listing import RemoteFile
from bg20k_fetch.progress import Reporter
from bg20k_fetch.transfer.hashing import JPEG_HEAD


def jpeg_sniff(head: bytes) -> str | None:
    if head.startswith(JPEG_HEAD):
        return None
    return f"it starts with {head[:16]!r}, not a JPEG"


class FileBytes:
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


def check_md5(path: Path, f: RemoteFile) -> None:
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "md5").hexdigest()
    if digest != f.md5:
        path.unlink(missing_ok=True)
        raise IntegrityError(f"{f.path} has MD5 {digest}, but Drive lists {f.md5}; deleted.")
