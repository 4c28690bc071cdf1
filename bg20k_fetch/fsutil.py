"""Small file-system helpers shared by the consent store and the dataset receipts."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import StorageError


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` so that ``path`` holds either the old content or all of the new, never half.

    Temporary file in the same directory (so the rename stays on one file system), fsync, then
    rename; the directory is fsynced too so the rename itself survives a power cut.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise StorageError(
            f"Cannot write in {path.parent}: {exc.strerror}.",
            hint="Check permissions and free space, or point the matching BG20K_*_DIR elsewhere.",
        ) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise StorageError(
            f"Cannot write {path}: {exc.strerror}.", hint="Check permissions and free space."
        ) from exc


def append_line(path: Path, line: str) -> None:
    """Append one line and fsync; a crash can lose only the line being written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line.rstrip("\n") + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise StorageError(f"Cannot append to {path}: {exc.strerror}.") from exc


def fsync_dir(directory: Path) -> None:
    # Not every platform or file system lets a directory be opened for fsync; best effort.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
