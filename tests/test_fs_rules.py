"""The file-system rules every store and output of bg20k rests on (bg20k_fetch/util/fs.py).

bg20k deletes or replaces only what it can prove it made, and never leaves a partial or
unverified file where a finished one belongs. These tests pin that at the lowest level: what
is on disk after a write (content, mode, no temporary left), which leftovers a later write may
remove (only its own file's, only a provably dead writer's), where a damaged file is kept, when
`-o` may replace a file, and that reading refuses what would hang or never end. Failures root
cannot cause for real (a full disk, a file system that cannot fsync a directory) are simulated
by replacing the one `os` call that would fail.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from bg20k_fetch.errors import StorageError
from bg20k_fetch.util import fs, procs
from bg20k_fetch.util.fs import (
    DIR_HINT,
    OUTPUT_HINT,
    append_line,
    atomic_write,
    make_dirs,
    open_regular,
    output_target,
    read_limited,
    remove_dead_temporaries,
    set_aside,
    sync_filesystem,
)

DEAD_PID = 99_999_999  # above any kernel's pid_max (2**22): provably no process has it
MIB = 1 << 20


def _oserror(code: int) -> OSError:
    return OSError(code, os.strerror(code))


@contextlib.contextmanager
def no_hang(seconds: float = 1.0) -> Iterator[None]:
    """Turn a call that would block for ever (a FIFO without a writer) into a failure."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError("blocked: the call waited on the FIFO")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class _Killed(BaseException):
    """Stands for SIGKILL: nothing of the writer's own clean-up runs."""


# --- make_dirs ------------------------------------------------------------------------------


def test_a_directory_bg20k_creates_is_open_to_the_umask(tmp_path: Path, umask_022: None) -> None:
    """Data and cache dirs bg20k makes must be usable (0777 less the umask), not 0o1000."""
    target = tmp_path / "a" / "b"
    make_dirs(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o755


def test_a_directory_that_cannot_be_made_is_a_storage_error_naming_it(tmp_path: Path) -> None:
    """The user is told which directory and why (the OS reason, not a traceback), and what to
    do: the default advice, or the caller's own."""
    blocker = tmp_path / "file"
    blocker.write_text("mine")
    with pytest.raises(StorageError) as caught:
        make_dirs(blocker / "sub")
    reason = os.strerror(errno.ENOTDIR)
    assert caught.value.message == f"Cannot create {blocker / 'sub'}: {reason}."
    assert caught.value.hint == "Check permissions, or point the matching BG20K_*_DIR elsewhere."

    with pytest.raises(StorageError) as caught:
        make_dirs(blocker / "sub", hint="Choose another --dest.")
    assert caught.value.hint == "Choose another --dest."
    assert blocker.read_text() == "mine"


# --- atomic_write ---------------------------------------------------------------------------


def test_a_new_file_is_written_whole_with_mode_0644_and_its_directories_made(
    tmp_path: Path,
) -> None:
    """A store's file appears in directories that may not exist yet, readable by all (0644)
    whether the mode is given by default or left to "keep the old one" (there is none)."""
    first = tmp_path / "deep" / "er" / "f.json"
    atomic_write(first, b"{}")
    assert first.read_bytes() == b"{}"
    assert stat.S_IMODE(first.stat().st_mode) == 0o644

    second = tmp_path / "g.json"
    atomic_write(second, b"[]", mode=None)
    assert second.read_bytes() == b"[]"
    assert stat.S_IMODE(second.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "g.json"]  # no temporary


def test_replacing_with_mode_none_keeps_the_users_mode(tmp_path: Path) -> None:
    """A file the user made private (0640) stays private when bg20k rewrites it."""
    path = tmp_path / "refs.bib"
    path.write_text("old")
    path.chmod(0o640)
    atomic_write(path, b"new", mode=None)
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_directory_that_cannot_be_made_gets_the_callers_advice(tmp_path: Path) -> None:
    """An -o target and a BG20K_*_DIR need different advice; the writer passes the caller's."""
    blocker = tmp_path / "file"
    blocker.write_text("mine")
    with pytest.raises(StorageError) as caught:
        atomic_write(blocker / "sub" / "f", b"x")
    assert caught.value.hint == DIR_HINT
    with pytest.raises(StorageError) as caught:
        atomic_write(blocker / "sub" / "f", b"x", hint=OUTPUT_HINT)
    assert caught.value.hint == OUTPUT_HINT


def test_a_write_killed_midway_leaves_the_old_file_and_a_temporary_the_next_write_removes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill between writing and renaming leaves the old content in place; the temporary it
    leaves beside it is recognisably bg20k's (.NAME.PID@HOST.*.tmp), so once that process is
    gone the next write of the same file removes it instead of letting leftovers pile up."""
    path = tmp_path / "record.json"
    path.write_bytes(b"old")
    with monkeypatch.context() as m:
        m.setattr(fs, "owner_tag", lambda: f"{DEAD_PID}@{procs.HOST}")

        def killed(src: Any, dst: Any) -> None:
            raise _Killed

        m.setattr(os, "replace", killed)
        with pytest.raises(_Killed):
            atomic_write(path, b"new")
    assert path.read_bytes() == b"old"
    leftovers = [p.name for p in tmp_path.iterdir() if p != path]
    assert len(leftovers) == 1
    assert leftovers[0].startswith(f".record.json.{DEAD_PID}@{procs.HOST}.")
    assert leftovers[0].endswith(".tmp")

    atomic_write(path, b"newer")
    assert path.read_bytes() == b"newer"
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]


def test_a_full_disk_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC at fsync: the old content stays, the half-written temporary is removed, and the
    error says which file and why, with advice."""
    path = tmp_path / "consent.json"
    path.write_bytes(b"old")

    def full(fd: int) -> None:
        raise _oserror(errno.ENOSPC)

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StorageError) as caught:
        atomic_write(path, b"new")
    assert caught.value.message == f"Cannot write {path}: {os.strerror(errno.ENOSPC)}."
    assert caught.value.hint == "Check permissions and free space."
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["consent.json"]


def test_a_temporary_that_cannot_be_removed_does_not_hide_the_first_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When cleaning up also fails (the file system went read-only), the user still gets the
    StorageError about the write, not a crash from the clean-up."""
    path = tmp_path / "consent.json"
    path.write_bytes(b"old")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise _oserror(errno.EROFS)

    monkeypatch.setattr(os, "replace", lambda src, dst: refuse())
    monkeypatch.setattr(os, "unlink", refuse)
    with pytest.raises(StorageError) as caught:
        atomic_write(path, b"new")
    assert caught.value.message == f"Cannot write {path}: {os.strerror(errno.EROFS)}."
    assert path.read_bytes() == b"old"


def test_a_file_system_that_cannot_fsync_a_directory_still_gets_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some file systems refuse fsync on a directory (EINVAL); that is best effort, the file
    itself was fsynced, and the write succeeds."""
    real_fsync = os.fsync
    synced: list[str] = []

    def fsync(fd: int) -> None:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            synced.append("dir")
            raise _oserror(errno.EINVAL)
        synced.append("file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    path = tmp_path / "f"
    atomic_write(path, b"data")
    assert path.read_bytes() == b"data"
    assert synced == ["file", "dir"]


# --- remove_dead_temporaries ----------------------------------------------------------------


def test_only_a_dead_writers_temporary_of_this_file_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bg20k removes a temporary only when its name proves it is this file's and the process
    that made it is gone; a live writer's, another host's, another file's, and anything that
    merely looks similar are kept. Non-matching names are listed first: they must not end the
    scan."""
    host = procs.HOST
    path = tmp_path / "f"
    path.write_text("mine")
    dead = f".f.{DEAD_PID}@{host}.ab12_Z.tmp"
    kept = [
        f".f.{os.getpid()}@{host}.ab12.tmp",  # this process: alive
        f".f.{DEAD_PID}@elsewhere.ab12.tmp",  # another host: cannot be checked
        f".f.{DEAD_PID}.ab12.tmp",  # no PID@HOST: not a name bg20k gives
        f".f.{DEAD_PID}@{host}.ab.txt",  # not a temporary
        f".g.{DEAD_PID}@{host}.ab12.tmp",  # another file's
        "f.tmp",
    ]
    for name in [dead, *kept]:
        (tmp_path / name).write_text("x")
    real_listdir = os.listdir
    monkeypatch.setattr(
        os, "listdir", lambda p: sorted(real_listdir(p), key=lambda n: (n.endswith(".tmp"), n))
    )
    remove_dead_temporaries(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["f", *kept])
    assert path.read_text() == "mine"


def test_a_dead_temporary_is_found_when_the_host_name_has_dots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Host names may hold dots (node.example.org); only the last dot-part is the random one."""
    monkeypatch.setattr(procs, "HOST", "node.example.org")
    path = tmp_path / "f"
    (tmp_path / f".f.{DEAD_PID}@node.example.org.ab12.tmp").write_text("x")
    remove_dead_temporaries(path)
    assert list(tmp_path.iterdir()) == []


def test_a_directory_named_like_a_dead_temporary_does_not_break_the_write(
    tmp_path: Path,
) -> None:
    """Removal is best effort: a name that cannot be unlinked (here a directory) is left, and
    the write of the file goes ahead."""
    odd = tmp_path / f".f.{DEAD_PID}@{procs.HOST}.ab12.tmp"
    odd.mkdir()
    atomic_write(tmp_path / "f", b"data")
    assert odd.is_dir()
    assert (tmp_path / "f").read_bytes() == b"data"


# --- append_line ----------------------------------------------------------------------------


def test_append_line_creates_the_file_0644_and_writes_the_line_exactly(
    tmp_path: Path, umask_022: None
) -> None:
    """One line per call, byte for byte: a trailing newline is not doubled (no blank entry),
    and nothing else at the end of the line (spaces, letters) is taken off."""
    path = tmp_path / "history.jsonl"
    append_line(path, "first\n")
    append_line(path, "SIZE=MAX")
    append_line(path, "spaced  \t")
    assert path.read_bytes() == b"first\nSIZE=MAX\nspaced  \t\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644

    private = tmp_path / "private.jsonl"
    append_line(private, "x", mode=0o600)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600


def test_a_torn_last_line_is_not_joined_to_the_next_entry(tmp_path: Path) -> None:
    """A crash mid-append leaves a line without its newline; the next entry starts fresh."""
    path = tmp_path / "history.jsonl"
    path.write_bytes(b'{"ok": 1}\n{"tor')
    append_line(path, '{"ok": 2}')
    assert path.read_bytes() == b'{"ok": 1}\n{"tor\n{"ok": 2}\n'


def test_a_line_another_process_appends_meanwhile_causes_no_blank_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two bg20k processes may append to one history. If another's line lands between this
    append's size check and its write, the file still ends in a newline: no blank line."""
    path = tmp_path / "history.jsonl"
    path.write_bytes(b"a\n")
    real_fstat = os.fstat

    def fstat_then_other_appends(fd: int) -> os.stat_result:
        info = real_fstat(fd)
        monkeypatch.setattr(os, "fstat", real_fstat)
        with path.open("ab") as other:
            other.write(b"other\n")
        return info

    monkeypatch.setattr(os, "fstat", fstat_then_other_appends)
    append_line(path, "mine")
    assert path.read_bytes() == b"a\nother\nmine\n"


# --- set_aside ------------------------------------------------------------------------------

FIXED = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
STAMP = "20240506T070809Z"


@pytest.fixture
def far_timezone() -> Iterator[None]:
    """Local time 5:45 ahead of UTC, so a stamp in local time cannot pass for UTC."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "XYZ-5:45"
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch, far_timezone: None) -> None:
    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return FIXED.astimezone(tz)

    monkeypatch.setattr(fs, "datetime", Frozen)


def test_a_damaged_file_is_kept_beside_itself_stamped_in_utc(
    tmp_path: Path, far_timezone: None
) -> None:
    """The damaged record is moved, not deleted, to NAME.damaged-<UTC time>: sortable, and the
    same whatever the machine's time zone."""
    path = tmp_path / "consent.json"
    path.write_text("damaged")
    before = datetime.now(UTC).replace(microsecond=0)
    aside = set_aside(path, "the damaged consent record", "it was left as it is")
    after = datetime.now(UTC)
    assert not path.exists()
    assert aside.parent == tmp_path
    assert aside.read_text() == "damaged"
    prefix = "consent.json.damaged-"
    assert aside.name.startswith(prefix)
    stamp = datetime.strptime(aside.name[len(prefix) :], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= stamp <= after


def test_an_earlier_damaged_file_is_never_overwritten(tmp_path: Path, frozen_clock: None) -> None:
    """Two damaged copies in one second: the second gets -2, the third -3; earlier ones keep
    their bytes. A dangling link by that name counts as taken too (renaming over it would
    destroy the link)."""
    path = tmp_path / "f"
    earlier = tmp_path / f"f.damaged-{STAMP}"
    earlier.write_text("first")
    path.write_text("second")
    assert set_aside(path, "x", "y") == tmp_path / f"f.damaged-{STAMP}-2"
    path.write_text("third")
    assert set_aside(path, "x", "y") == tmp_path / f"f.damaged-{STAMP}-3"
    assert earlier.read_text() == "first"
    assert (tmp_path / f"f.damaged-{STAMP}-2").read_text() == "second"
    assert (tmp_path / f"f.damaged-{STAMP}-3").read_text() == "third"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"f.damaged-{STAMP}",
        f"f.damaged-{STAMP}-2",
        f"f.damaged-{STAMP}-3",
    ]


def test_a_dangling_link_by_the_aside_name_is_not_replaced(
    tmp_path: Path, frozen_clock: None
) -> None:
    link = tmp_path / f"g.damaged-{STAMP}"
    link.symlink_to(tmp_path / "nowhere")
    path = tmp_path / "g"
    path.write_text("damaged")
    assert set_aside(path, "x", "y") == tmp_path / f"g.damaged-{STAMP}-2"
    assert link.is_symlink()


def test_a_file_that_cannot_be_set_aside_says_what_and_what_follows(tmp_path: Path) -> None:
    path = tmp_path / "consent.json"
    with pytest.raises(StorageError) as caught:
        set_aside(path, "the damaged consent record", "it was left as it is")
    assert caught.value.message == (
        f"Cannot set the damaged consent record {path} aside: "
        f"{os.strerror(errno.ENOENT)}; it was left as it is."
    )


# --- output_target (-o) ---------------------------------------------------------------------


def test_o_into_a_missing_directory_is_refused_with_advice(tmp_path: Path) -> None:
    """bg20k makes no directory wherever -o points; it says so and what to do."""
    path = tmp_path / "nope" / "out.bib"
    with pytest.raises(StorageError) as caught:
        output_target(path, replace=True)
    assert caught.value.message == (
        f"Cannot write {path}: the directory {path.parent} does not exist."
    )
    assert caught.value.hint == "Create it first, or choose another -o."
    assert not path.parent.exists()


def test_o_at_something_that_is_not_a_file_is_refused(tmp_path: Path) -> None:
    """A directory, or a link that loops, named by -o: refused with a reason, never touched."""
    folder = tmp_path / "dir.bib"
    folder.mkdir()
    with pytest.raises(StorageError) as caught:
        output_target(folder, replace=True)
    assert caught.value.message == f"Cannot write {folder}: it exists and is not a regular file."

    loop = tmp_path / "loop.bib"
    loop.symlink_to(loop)
    with pytest.raises(StorageError) as caught:
        output_target(loop, replace=True)
    assert caught.value.message == f"Cannot write {loop}: {os.strerror(errno.ELOOP)}."
    assert folder.is_dir() and loop.is_symlink()


@pytest.mark.parametrize("mode", [0o444, 0o555, 0o400])
def test_a_read_only_file_is_never_replaced_even_with_force(tmp_path: Path, mode: int) -> None:
    """A file whose owner removed every write bit means "keep", even for root and with
    --force; execute bits do not make it writable."""
    path = tmp_path / "out.json"
    path.write_text("keep me")
    path.chmod(mode)
    with pytest.raises(StorageError) as caught:
        output_target(path, replace=True)
    assert caught.value.message == f"{path} is read-only; refusing to change it."
    assert caught.value.hint == (
        "Make it writable yourself if it should change, or choose another -o."
    )
    assert path.read_text() == "keep me"
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_an_existing_file_is_replaced_only_with_force_and_keeps_its_mode(
    tmp_path: Path,
) -> None:
    path = tmp_path / "out.json"
    path.write_text("old")
    path.chmod(0o640)
    with pytest.raises(StorageError) as caught:
        output_target(path, replace=False)
    assert caught.value.message == f"{path} already exists; refusing to replace it."
    assert caught.value.hint == "Choose another -o, or pass --force to replace it."
    assert output_target(path, replace=True) == 0o640
    assert output_target(tmp_path / "new.json", replace=False) is None


# --- sync_filesystem ------------------------------------------------------------------------


class _FakeLibc:
    """syncfs as the C library gives it, recording which file system it was asked to flush."""

    def __init__(self, result: int) -> None:
        self.result = result
        self.inodes: list[int | None] = []

    def syncfs(self, fd: object) -> int:
        self.inodes.append(os.fstat(fd).st_ino if isinstance(fd, int) else None)
        return self.result


@pytest.mark.parametrize("result", [0, -1])
def test_sync_flushes_the_one_file_system_and_falls_back_to_sync_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, result: int
) -> None:
    """`syncfs` on the target's own file system (not every disk on the host); only when it
    fails does bg20k fall back to a host-wide sync."""
    libc = _FakeLibc(result)
    monkeypatch.setattr(ctypes, "CDLL", lambda *a, **k: libc)
    host_syncs: list[None] = []
    monkeypatch.setattr(os, "sync", lambda: host_syncs.append(None))
    sync_filesystem(tmp_path)
    assert libc.inodes == [tmp_path.stat().st_ino]
    assert len(host_syncs) == (1 if result else 0)


def test_sync_on_linux_uses_syncfs_not_a_host_wide_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host_syncs: list[None] = []
    monkeypatch.setattr(os, "sync", lambda: host_syncs.append(None))
    sync_filesystem(tmp_path)
    assert host_syncs == []


# --- read_limited / open_regular ------------------------------------------------------------


def test_read_limited_reads_a_file_of_exactly_the_limit(tmp_path: Path) -> None:
    """The limit is inclusive: a record of exactly `limit` bytes is read, byte for byte."""
    path = tmp_path / "r"
    path.write_bytes(b"0123456789")
    assert read_limited(path, 10) == b"0123456789"
    with pytest.raises(ValueError) as caught:
        read_limited(path, 9)
    assert str(caught.value) == "it is 10 bytes, more than the 9 allowed"


def test_read_limited_returns_a_large_file_whole(tmp_path: Path) -> None:
    """A file read in several chunks comes back exactly as it is on disk."""
    data = os.urandom(2 * MIB + 3)
    path = tmp_path / "big"
    path.write_bytes(data)
    assert read_limited(path, len(data)) == data


def test_a_file_that_grows_past_the_limit_while_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The size checked first is not trusted: a file another process keeps writing is refused
    once what was read passes the limit, counting every chunk."""
    path = tmp_path / "growing"
    path.write_bytes(b"a" * MIB)
    limit = MIB + MIB // 2
    real_fstat = os.fstat

    def fstat_then_grow(fd: int) -> os.stat_result:
        info = real_fstat(fd)
        monkeypatch.setattr(os, "fstat", real_fstat)
        with path.open("ab") as other:
            other.write(b"b" * MIB)
        return info

    monkeypatch.setattr(os, "fstat", fstat_then_grow)
    with pytest.raises(ValueError) as caught:
        read_limited(path, limit)
    assert str(caught.value) == f"it is more than the {limit} bytes allowed"


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_fifo_where_a_file_belongs_is_refused_at_once(tmp_path: Path) -> None:
    """A FIFO named where a record or an image belongs would block a plain open for ever; both
    readers refuse it at once, say why, and leak no descriptor."""
    fifo = tmp_path / "consent.json"
    os.mkfifo(fifo)
    before = _open_fds()
    with no_hang(), pytest.raises(ValueError) as caught:
        read_limited(fifo, 1 << 20)
    assert str(caught.value) == "it is not a regular file"
    with no_hang(), pytest.raises(ValueError) as caught:
        open_regular(fifo)
    assert str(caught.value) == f"{fifo} is not a regular file"
    assert _open_fds() == before


def test_open_regular_opens_a_regular_file_for_reading(tmp_path: Path) -> None:
    path = tmp_path / "img.jpg"
    path.write_bytes(b"\xff\xd8data")
    with open_regular(path) as handle:
        assert handle.read() == b"\xff\xd8data"


def test_a_short_write_of_a_history_line_is_completed_not_left_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """os.write may write part of a line without an error (a disk filling part-way, a signal):
    the consent history used to keep the cut line and report success."""
    import os

    from bg20k_fetch.util.fs import append_line

    real_write = os.write

    def half(fd: int, data: bytes | memoryview) -> int:
        return real_write(fd, bytes(data[: max(1, len(data) // 2)]))

    monkeypatch.setattr(os, "write", half)
    path = tmp_path / "history.jsonl"
    append_line(path, '{"event": "accepted", "id": "x"}')
    assert path.read_bytes() == b'{"event": "accepted", "id": "x"}\n'


def test_an_error_without_a_strerror_still_says_what_went_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from bg20k_fetch.errors import StorageError
    from bg20k_fetch.util.fs import append_line

    def fails(*args: object, **kwargs: object) -> int:
        raise OSError("the device went away")

    monkeypatch.setattr(os, "open", fails)
    with pytest.raises(StorageError) as caught:
        append_line(tmp_path / "h.jsonl", "x")
    assert "the device went away" in caught.value.message and "None" not in caught.value.message
