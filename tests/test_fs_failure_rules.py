"""The words of a failed write and the history's full-disk rule (bg20k_fetch/util/fs.py): the
behaviours the surviving mutants of a mutmut run showed no test pinned.

A full disk cannot be made for real by root in a test, so it is simulated by replacing the one
`os` call that would fail, and only for the one file concerned.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from bg20k_fetch.errors import StorageError
from bg20k_fetch.util.fs import OUTPUT_HINT, append_line, atomic_write
from tests.helpers import full_disk_for


class _Spinning(BaseException):
    """Raised by a fake os.write called again and again: the writer would never stop."""


# Kills x_atomic_write__mutmut_22 (`exc.strerror and exc`: the raw "[Errno 2] ... '.x.tmp'"
# text, naming a temporary file the user never asked for).
def test_a_write_into_a_directory_that_is_gone_names_the_directory_and_the_reason(
    tmp_path: Path,
) -> None:
    gone = tmp_path / "gone"  # an -o directory removed between the check and the write
    with pytest.raises(StorageError) as caught:
        atomic_write(gone / "refs.bib", b"@misc{}", make_parents=False, hint=OUTPUT_HINT)
    assert caught.value.message == f"Cannot write in {gone}: {os.strerror(errno.ENOENT)}."
    assert caught.value.hint == OUTPUT_HINT
    assert list(tmp_path.iterdir()) == []  # no directory made, nothing left behind


# Kills x_append_line__mutmut_45 (`exc.strerror and exc`: "[Errno 28] No space ...").
def test_a_full_disk_while_appending_a_line_says_which_file_and_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.jsonl"
    path.write_bytes(b'{"ok": 1}\n')
    full_disk_for(path, monkeypatch)
    with pytest.raises(StorageError) as caught:
        append_line(path, '{"ok": 2}')
    monkeypatch.undo()
    assert caught.value.message == f"Cannot append to {path}: {os.strerror(errno.ENOSPC)}."
    assert path.read_bytes() == b'{"ok": 1}\n'


# Kills x__write_all__mutmut_8 (`written < 0`: a write of 0 bytes is retried for ever),
# x__write_all__mutmut_11 (strerror None: "[Errno 28] None"), x__write_all__mutmut_13 (no
# strerror: "28"), x__write_all__mutmut_14 (`os.strerror(None)`: a TypeError, no StorageError),
# and, through the chained cause (what `--debug` prints and a caller of the API can read),
# x__write_all__mutmut_10 (errno None) and x__write_all__mutmut_12 (errno None, text only).
def test_a_disk_that_takes_no_more_bytes_is_a_full_disk_not_a_write_retried_for_ever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "history.jsonl"
    path.write_bytes(b'{"ok": 1}\n')
    history = path.stat()
    real_write = os.write
    attempts: list[int] = []

    def takes_nothing(fd: int, data: Any) -> int:
        if not os.path.samestat(os.fstat(fd), history):
            return real_write(fd, data)
        attempts.append(len(data))
        if len(attempts) > 50:
            raise _Spinning
        return 0  # no error, no progress: some file systems do this when full

    monkeypatch.setattr(os, "write", takes_nothing)
    with pytest.raises(StorageError) as caught:
        append_line(path, '{"ok": 2}')
    monkeypatch.undo()
    assert caught.value.message == f"Cannot append to {path}: {os.strerror(errno.ENOSPC)}."
    cause = caught.value.__cause__
    assert isinstance(cause, OSError) and cause.errno == errno.ENOSPC
    assert cause.strerror == os.strerror(errno.ENOSPC)
    assert attempts == [len('{"ok": 2}\n')]  # given up at the first write that made no progress
    assert path.read_bytes() == b'{"ok": 1}\n'
