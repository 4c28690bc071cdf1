"""A Ctrl-C (or a kill) ends every wait a fetch can be in: a held signal stops a pool's
workers, a Drive pause and a retry's backoff end at once, and a signal a script's background
job was started without stays ignored."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bg20k_fetch.gdrive.throttle import Throttle
from bg20k_fetch.transfer.stream import Cancelled, cancellable_sleep
from bg20k_fetch.util.signals import deferred, wait_or_stop
from tests.data import SMALL, make_tree, zip_bytes
from tests.helpers import cli


@pytest.fixture
def python_ctrl_c() -> Iterator[None]:
    """Python's own Ctrl-C handler, whatever this run inherited."""
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, inherited)


def later(seconds: float, action: object) -> threading.Thread:
    def run() -> None:
        time.sleep(seconds)
        action()  # type: ignore[operator]

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.timeout(30)
def test_a_held_ctrl_c_stops_the_workers_then_is_raised(python_ctrl_c: None) -> None:
    stop = threading.Event()
    finished: list[str] = []

    def worker() -> None:
        stop.wait(20)  # a file in flight, until told to stop
        finished.append("stopped" if stop.is_set() else "ran out")

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), deferred() as held, ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(worker) for _ in range(2)]
        os.kill(os.getpid(), signal.SIGINT)
        wait_or_stop(futures, stop, held)
    assert finished == ["stopped", "stopped"]  # they ended, and the signal was raised after
    assert time.monotonic() - started < 5


def test_a_workers_error_ends_the_wait_without_waiting_for_the_others() -> None:
    stop = threading.Event()

    def fails() -> None:
        raise OSError("disk full")

    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(stop.wait, 20)
        done = wait_or_stop([pool.submit(fails), slow], stop, [])
        assert not slow.done() and len(done) == 1
        stop.set()


def test_a_signal_started_ignored_stays_ignored() -> None:
    inherited = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with deferred() as held:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        assert held == []  # nothing raised: the job was meant to survive a Ctrl-C
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, inherited)


@pytest.mark.timeout(30)
def test_a_stopping_fetch_does_not_sit_out_drives_pause() -> None:
    throttle = Throttle()
    assert throttle.hit(retry_after=30) >= 30  # every worker now owes a 30 s pause
    stop = threading.Event()
    setter = later(0.2, stop.set)
    started = time.monotonic()
    with pytest.raises(Cancelled):
        throttle.wait(stop)
    setter.join()
    assert time.monotonic() - started < 5
    with pytest.raises(Cancelled):  # once stopping, no request goes out, pause or not
        Throttle().wait(stop)
    Throttle().wait(threading.Event())  # not stopping, no pause: straight through


@pytest.mark.timeout(30)
def test_a_stopping_fetch_does_not_sit_out_a_retrys_backoff() -> None:
    stop = threading.Event()
    setter = later(0.2, stop.set)
    started = time.monotonic()
    with pytest.raises(Cancelled, match="partial file is kept"):
        cancellable_sleep(stop, "h_1.jpg")(30)
    setter.join()
    assert time.monotonic() - started < 5
    started = time.monotonic()
    cancellable_sleep(None, "h_1.jpg")(0.2)  # a lone download waits its backoff out
    assert time.monotonic() - started >= 0.2


def test_a_ctrl_c_during_the_swap_names_the_dataset_it_put_in_place(
    tmp_path: Path,
    small_release: Path,
    isolated_env: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    python_ctrl_c: None,
) -> None:
    """The swap holds a Ctrl-C until the tree is in place, then it lands: the run used to end
    with "nothing was downloaded by this run" over a complete, verified dataset (a hostile
    probe's finding). What is on disk is what the line says."""
    from bg20k_fetch.fetching import install

    archive = tmp_path / "BG-20k.zip"
    archive.write_bytes(zip_bytes(make_tree(tmp_path / "orig", SMALL)))
    swap = install._swap

    def swap_then_ctrl_c(*args: Any, **kwargs: Any) -> Any:
        kept = swap(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)  # held: the swap's section has not ended yet
        return kept

    monkeypatch.setattr(install, "_swap", swap_then_ctrl_c)
    dest = tmp_path / "d"
    result = cli("fetch", "--accept", "--source", str(archive), "--dest", str(dest))
    assert result.code == 130
    assert f"after this run had put BG-20k in place at {dest / 'BG-20k'}" in result.err
    assert "nothing was downloaded" not in result.err
    assert cli("verify", "--dest", str(dest)).code == 0  # and it is so
