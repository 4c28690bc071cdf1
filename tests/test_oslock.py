"""The file lock every writer of bg20k holds (bg20k_fetch/util/oslock.py): one holder at a
time across processes, gone with a holder that dies, never taken through a link."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bg20k_fetch.util.oslock import FileLock, LockBusy

HOLD = """
import sys, time
from bg20k_fetch.util.oslock import FileLock
lock = FileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def _holder(path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def test_another_process_holding_it_is_busy_and_its_death_frees_it(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    holder = _holder(path)
    lock = FileLock(path)
    try:
        with pytest.raises(LockBusy) as caught:
            lock.acquire(timeout=0)
        assert isinstance(caught.value, OSError)  # callers catch it with other OS failures
        assert not lock.is_locked
    finally:
        holder.send_signal(signal.SIGKILL)  # a crash: no release, no clean-up
        holder.wait()
    lock.acquire(timeout=0)  # the kernel dropped the dead holder's lock
    assert lock.is_locked
    lock.release()
    assert path.exists()  # the lock file stays: removing it would race a new holder


def test_two_locks_on_one_file_exclude_each_other_in_one_process(tmp_path: Path) -> None:
    first, second = FileLock(tmp_path / "x.lock"), FileLock(tmp_path / "x.lock")
    with first, pytest.raises(LockBusy):
        second.acquire(timeout=0.2)
    second.acquire(timeout=0)
    second.release()


def test_a_waiting_acquire_takes_the_lock_when_the_holder_lets_go(tmp_path: Path) -> None:
    held, order = FileLock(tmp_path / "x.lock"), []
    held.acquire()
    waiter = threading.Thread(
        target=lambda: (FileLock(tmp_path / "x.lock").acquire(), order.append("waiter"))
    )
    waiter.start()
    waiter.join(0.3)
    assert order == [] and waiter.is_alive()  # still waiting while the lock is held
    order.append("released")
    held.release()
    waiter.join(10)
    assert order == ["released", "waiter"]


def test_holding_it_again_counts_and_only_the_last_release_lets_go(tmp_path: Path) -> None:
    lock, other = FileLock(tmp_path / "x.lock"), FileLock(tmp_path / "x.lock")
    lock.acquire()
    lock.acquire(timeout=0)
    lock.release()
    with pytest.raises(LockBusy):
        other.acquire(timeout=0)
    lock.release()
    other.acquire(timeout=0)
    other.release()
    lock.release()  # releasing what is not held does nothing


def test_a_lock_file_that_is_a_link_is_refused_and_nothing_is_made_where_it_points(
    tmp_path: Path,
) -> None:
    target = tmp_path / "elsewhere"
    (tmp_path / "x.lock").symlink_to(target)
    with pytest.raises(OSError):
        FileLock(tmp_path / "x.lock").acquire(timeout=0)
    assert not target.exists()


def test_a_new_lock_file_has_the_mode_asked_for(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with FileLock(tmp_path / "x.lock", mode=0o600):
            pass
    finally:
        os.umask(old)
    assert (tmp_path / "x.lock").stat().st_mode & 0o777 == 0o600
