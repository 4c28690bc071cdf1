"""Small file-system helpers shared by the consent store, the receipts and the outputs."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

from bg20k_fetch.errors import StorageError
from bg20k_fetch.util.procs import owner_tag, tag_is_dead
from bg20k_fetch.util.readfile import read_limited as read_limited  # where it always was

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of `bg20k cite`'s start
if TYPE_CHECKING:
    from typing import IO


def make_dirs(path: Path, *, mode: int = 0o777, hint: str | None = None) -> None:
    """``mkdir -p``; a directory bg20k creates gets ``mode`` (an existing one is left as it is)."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=mode)
    except OSError as exc:
        raise StorageError(
            f"Cannot create {path}: {exc.strerror or exc}.",
            hint=hint or "Check permissions, or point the matching BG20K_*_DIR elsewhere.",
        ) from exc


def remove_dead_temporaries(path: Path) -> None:
    """Temporary files of ``path`` left by a writer that was killed: provably bg20k's by their
    name (``.NAME.PID@HOST.*.tmp``), and provably abandoned when that process is gone."""
    prefix = f".{path.name}."
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        # The rest is PID@HOST.RANDOM.tmp; the host may hold dots, the random part never does.
        tag = name[len(prefix) : -len(".tmp")].rpartition(".")[0]
        if "@" in tag and tag_is_dead(tag):
            with contextlib.suppress(OSError):
                os.unlink(path.parent / name)


DIR_HINT = "Check permissions and free space, or point the matching BG20K_*_DIR elsewhere."
OUTPUT_HINT = "Check permissions and free space there, or choose another -o."


def atomic_write(
    path: Path,
    data: bytes,
    *,
    mode: int | None = 0o644,
    make_parents: bool = True,
    hint: str = DIR_HINT,
) -> None:
    """Write ``data`` so that ``path`` holds either the old content or all of the new, never half.

    Temporary file in the same directory (so the rename stays on one file system), fsync, then
    rename; the directory is fsynced too so the rename itself survives a power cut. ``mode``
    None keeps the mode of the file being replaced (0644 for a new one). The temporary file's
    name carries this process (``.NAME.PID@HOST.*.tmp``), so one that a kill left behind is
    removed by the next write of the same file once that process is provably gone.
    """
    if make_parents:
        make_dirs(path.parent, hint=hint)
    prefix = f".{path.name}.{owner_tag()}."
    remove_dead_temporaries(path)
    import tempfile  # on a write only: reading commands start faster without it

    try:
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise StorageError(
            f"Cannot write in {path.parent}: {exc.strerror or exc}.", hint=hint
        ) from exc
    if mode is None:
        try:
            mode = path.stat().st_mode & 0o7777
        except OSError:
            mode = 0o644
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
            f"Cannot write {path}: {exc.strerror or exc}.", hint="Check permissions and free space."
        ) from exc


def append_line(path: Path, line: str, *, mode: int = 0o644) -> None:
    """Append one line and fsync; a crash can lose only the line being written.

    The line always starts on a fresh line: a torn last line left by a crash stays what it is
    (damaged) instead of swallowing the next entry.
    """
    data = line.rstrip("\n").encode("utf-8") + b"\n"
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, mode)
    except OSError as exc:
        raise StorageError(f"Cannot append to {path}: {exc.strerror or exc}.") from exc
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        _write_all(fd, data)
        os.fsync(fd)
    except OSError as exc:
        raise StorageError(f"Cannot append to {path}: {exc.strerror or exc}.") from exc
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    """os.write may write less than asked (a disk filling part-way, a signal) without an
    error: the rest is written too, or the failure raised -- never a line silently cut."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]


def set_aside(path: Path, what: str, consequence: str) -> Path:
    """Keep a damaged file beside itself as ``NAME.damaged-<UTC time>`` instead of deleting it
    (never over an earlier one). StorageError names ``what`` and ``consequence``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while aside.exists() or aside.is_symlink():
        n += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    try:
        os.rename(path, aside)
    except OSError as exc:
        raise StorageError(
            f"Cannot set {what} {path} aside: {exc.strerror or exc}; {consequence}."
        ) from exc
    return aside


def fsync_dir(directory: Path) -> None:
    # Not every platform or file system lets a directory be opened for fsync; best effort.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def output_target(path: Path, *, replace: bool) -> int | None:
    """May a command's ``-o`` write ``path``? Its directory must exist (bg20k does not make
    directories anywhere it is pointed), and an existing file is replaced only when ``replace``
    is given and it is writable. Returns the existing file's mode, to keep, or None."""
    if not path.parent.is_dir():
        raise StorageError(
            f"Cannot write {path}: the directory {path.parent} does not exist.",
            hint="Create it first, or choose another -o.",
        )
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError(f"Cannot write {path}: {exc.strerror or exc}.") from exc
    if not stat.S_ISREG(info.st_mode):
        raise StorageError(f"Cannot write {path}: it exists and is not a regular file.")
    if not info.st_mode & 0o222 or not os.access(path, os.W_OK):
        # Root may write anything; a file whose owner made it read-only still means "keep".
        raise StorageError(
            f"{path} is read-only; refusing to change it.",
            hint="Make it writable yourself if it should change, or choose another -o.",
        )
    if not replace:
        raise StorageError(
            f"{path} already exists; refusing to replace it.",
            hint="Choose another -o, or pass --force to replace it.",
        )
    return stat.S_IMODE(info.st_mode)


def sync_filesystem(path: Path) -> None:
    """Flush the file system holding ``path`` (Linux ``syncfs``), not every disk on the host
    as ``os.sync()`` would; elsewhere fall back to ``os.sync()``."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        os.sync()
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def open_regular(path: Path) -> IO[bytes]:
    """Open a file for reading only if it is (or a link leads to) a regular file: a FIFO named
    like an image would block for ever, /dev/zero would never end. Raises OSError, or
    ValueError for anything that is not a regular file."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError(f"{path} is not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
