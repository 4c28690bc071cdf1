"""Network faults end true and fast: shared caches are never raced, a dead host is one error,
one file's quota never stalls a folder, a long download is never abandoned while it advances,
and Drive's duplicate names are caught.

Data-safety issue, items 12-14, 16 and 17. Fast in-process tests first; the journeys with
several real processes are marked slow.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bg20k_fetch.errors import SourceError
from bg20k_fetch.progress import NullReporter
from bg20k_fetch.transfer.http import RetryableHTTPError
from bg20k_fetch.transfer.policy import RetryPolicy
from bg20k_fetch.transfer.retry import RetriesExhausted, with_retries
from tests.data import SMALL, jpeg, make_tree, zip_bytes
from tests.fileserver import Behaviour, FileServer
from tests.gdrive_emulator import DriveEmulator, Options
from tests.helpers import cache_contents, cli


@pytest.fixture
def files(tmp_path: Path, small_release: Path) -> dict[str, bytes]:
    return make_tree(tmp_path / "orig", SMALL)


@pytest.fixture
def drive(monkeypatch: pytest.MonkeyPatch, small_release: Path) -> Iterator[DriveEmulator]:
    with DriveEmulator(Options(warn_size=10**9)) as emulator:
        for name, value in emulator.env().items():
            monkeypatch.setenv(name, value)
        yield emulator


def fetch(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return cli("fetch", "--accept", *args, env=env)


# -- item 12: one cache, many processes ---------------------------------------------------------


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bg20k_fetch", "fetch", "--accept", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize("processes", [2, 3])
def test_i12_same_url_into_different_destinations_shares_the_cache_safely(
    processes: int,
    server: FileServer,
    files: dict[str, bytes],
    tmp_path: Path,
    isolated_env: dict[str, Path],
) -> None:
    archive = zip_bytes(files)
    server.routes["/x.zip"] = Behaviour(archive, chunk=256, delay_per_chunk=0.02)
    procs = [
        _start("--source", server.url("/x.zip"), "--dest", str(tmp_path / f"d{i}"))
        for i in range(processes)
    ]
    results = [(p.wait(120), p.communicate()[1]) for p in procs]
    for code, err in results:
        assert code == 0, err
        assert "Traceback" not in err and "FileNotFoundError" not in err
    for i in range(processes):
        assert cli("verify", "--dest", str(tmp_path / f"d{i}"), "--deep").code == 0
    bodies = [r for r in server.requests_for("/x.zip") if "If-None-Match" not in r.headers]
    assert len(bodies) == 1  # downloaded once; the others waited and revalidated
    assert cache_contents(isolated_env["cache"]) == []


@pytest.mark.slow
def test_i12_same_drive_folder_into_different_destinations(
    drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    drive.options.delay_per_chunk, drive.options.chunk = 0.05, 128
    folder = drive.add_tree(files)
    procs = [
        _start("--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path / f"d{i}"))
        for i in range(3)
    ]
    for proc in procs:
        code, err = proc.wait(120), proc.communicate()[1]
        assert code == 0, err
    for i in range(3):
        assert cli("verify", "--dest", str(tmp_path / f"d{i}"), "--deep").code == 0


# -- item 13: a host that is down is one error, fast ---------------------------------------------


@pytest.mark.slow
def test_i13_unreachable_download_host_is_one_error_not_throttling(
    drive: DriveEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = {f"train/h_{n:08x}.jpg": jpeg(n) for n in range(300)}
    folder = drive.add_tree(tree)
    monkeypatch.setenv("BG20K_GDRIVE_USERCONTENT_URL", "http://127.0.0.1:9")  # refuses
    monkeypatch.setenv("BG20K_BACKOFF", "0.5")
    started = time.monotonic()
    result = fetch("--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path / "d"))
    took = time.monotonic() - started
    assert result.code == 4, result.err
    last = result.err.splitlines()[-1]
    assert "cannot be reached" in last and "127.0.0.1:9" in last
    assert "throttling" not in result.err
    assert took < 60, took  # the bound: one error within a minute, not 15 minutes


# -- item 13b: one file's quota does not stall the folder -----------------------------------------


def test_i13b_one_files_quota_sets_it_aside_while_the_others_continue(
    drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    folder = drive.add_tree(files)
    stuck = sorted(files)[0]
    drive.nodes[drive.file_id(stuck, folder)].quota = True
    # No pause is allowed at all: a quota page must not cost the whole folder a pause.
    result = fetch(
        "--source",
        f"gdrive-folder:{folder}",
        "--dest",
        str(tmp_path / "d"),
        env={"BG20K_THROTTLE_BUDGET": "0"},
    )
    assert result.code == 4
    last = result.err.splitlines()[-1]
    assert Path(stuck).name in last and "quota" in last and "--from" in last
    assert "pause" not in result.err
    assert len(drive.downloads) == len(files) - 1


def test_i13b_429_still_pauses_every_worker(
    drive: DriveEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers import write_release

    counts = {"train": 80, "testval": 20}
    tree = {
        f"{split}/h_{n:08x}.jpg": jpeg(n)
        for n in range(100)
        for split in ["train" if n < 80 else "testval"]
    }
    monkeypatch.setenv("BG20K_RELEASE_FILE", str(write_release(tmp_path / "r", counts=counts)))
    drive.options.latency = 0.05  # requests keep coming for well over a second …
    drive.options.throttle_after, drive.options.throttle_count = 20, 1  # … when one gets a 429
    drive.options.retry_after = "1"
    folder = drive.add_tree(tree)
    result = fetch("--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path / "d"))
    assert result.code == 0, result.err
    (throttled_at,) = drive.throttled_at
    downloads = [t for p, t in zip(drive.paths, drive.times, strict=True) if p == "/download"]
    # Retry-After: 1. Requests already on the wire when the 429 left may still land in the
    # first few milliseconds; after that, no worker asks for anything until the pause is over.
    window = [t - throttled_at for t in downloads if throttled_at + 0.1 < t < throttled_at + 0.9]
    assert window == []
    assert len(downloads) == len(tree) + 1  # the throttled file was asked for again


# -- item 14: a long download is never abandoned while it advances -------------------------------


def test_i14_retries_reset_while_bytes_arrive(
    server: FileServer, files: dict[str, bytes], tmp_path: Path
) -> None:
    archive = zip_bytes(files)
    step = len(archive) // 6 + 1
    server.routes["/x.zip"] = Behaviour(archive, cut_after=[step] * 6, chunk=512)
    result = fetch(
        "--source",
        server.url("/x.zip"),
        "--dest",
        str(tmp_path / "d"),
        env={"BG20K_RETRIES": "2"},  # two attempts, yet six cuts: each cut made progress
    )
    assert result.code == 0, result.err
    assert len(server.requests_for("/x.zip")) >= 4  # more than the two attempts allowed


def test_i14_only_waiting_counts_against_the_budget() -> None:
    slept: list[float] = []
    progress = {"n": 0}

    def call() -> str:
        progress["n"] += 1  # every attempt moves the file on, however long it took
        if progress["n"] < 6:
            raise requests.ConnectionError("the connection broke")
        return "done"

    policy = RetryPolicy(attempts=2, base_delay=1.0, total_budget=100.0)
    result = with_retries(
        call, "x", policy, NullReporter(), progress=lambda: progress["n"], sleep=slept.append
    )
    assert result == "done" and len(slept) == 5
    assert all(delay <= 1.0 for delay in slept)  # each a first retry again: the base delay


def test_i14_no_progress_means_the_attempts_run_out() -> None:
    def call() -> str:
        raise RetryableHTTPError("u", 503, None)

    policy = RetryPolicy(attempts=3, base_delay=1.0, total_budget=100.0)
    with pytest.raises(RetriesExhausted) as info:
        with_retries(call, "x", policy, NullReporter(), progress=lambda: 0, sleep=lambda s: None)
    assert "after 3 attempts" in info.value.message and info.value.throttled


def test_i14_the_budget_counts_waiting_only() -> None:
    slept: list[float] = []

    def call() -> str:
        raise RetryableHTTPError("u", 503, 40.0)

    policy = RetryPolicy(attempts=100, total_budget=100.0, max_retry_after=40.0)
    with pytest.raises(SourceError):
        with_retries(call, "x", policy, NullReporter(), sleep=slept.append)
    assert slept == [40.0, 40.0]  # a third wait would pass the 100 s budget


# -- item 16: duplicates and clashes in a Drive listing ------------------------------------------


@pytest.mark.parametrize("same", [True, False])
def test_i16_two_drive_files_with_one_name(
    same: bool, drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    folder = drive.add_tree(files)
    name = sorted(f for f in files if f.startswith("train/"))[0]
    train = drive.file_id("train", folder)
    first = drive.file_id(name, folder)
    second = drive.add_file(Path(name).name, files[name] if same else jpeg(404), train)
    result = fetch("--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path / "d"))
    assert f"ids {first} and {second}" in result.err
    if same:
        assert result.code == 0, result.err
        assert cli("verify", "--dest", str(tmp_path / "d"), "--deep").code == 0
    else:
        assert result.code == 5 and "Two different files claim" in result.err
        assert not (tmp_path / "d" / "BG-20k").exists()


def test_i16_a_flattened_name_that_clashes(
    drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    folder = drive.add_tree(files)
    train = drive.file_id("train", folder)
    drive.add_file("x/y.jpg", jpeg(1), train)  # a slash in a Drive name: flattened to x_y.jpg
    drive.add_file("x_y.jpg", jpeg(2), train)
    result = fetch("--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path / "d"))
    assert result.code == 5 and "train/x_y.jpg" in result.err


# -- item 17: small things -----------------------------------------------------------------------


def test_i17_quiet_prints_only_the_result(
    server: FileServer, drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    server.routes["/x.zip"] = Behaviour(zip_bytes(files), statuses=[(503, None)])
    assert cli("accept", "--yes").code == 0
    quiet = cli("fetch", "--quiet", "--source", server.url("/x.zip"), "--dest", str(tmp_path / "a"))
    assert quiet.code == 0 and quiet.err.count("\n") == 1 and "ready at" in quiet.err
    folder = drive.add_tree(files)
    listed = cli(
        "fetch", "--quiet", "--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path / "b")
    )
    assert listed.code == 0 and listed.err.count("\n") == 1, listed.err


def test_i17_nothing_downloaded_is_not_called_a_kept_partial(
    server: FileServer, tmp_path: Path
) -> None:
    server.routes["/x.zip"] = Behaviour(b"x", statuses=[(503, None)] * 3)
    result = fetch(
        "--source", server.url("/x.zip"), "--dest", str(tmp_path / "d"), env={"BG20K_RETRIES": "3"}
    )
    assert result.code == 4 and "partial download is kept" not in result.err


def test_i17_a_stalled_transfer_is_not_called_cannot_connect(
    server: FileServer, files: dict[str, bytes], tmp_path: Path
) -> None:
    server.routes["/x.zip"] = Behaviour(zip_bytes(files), chunk=64, delay_per_chunk=1.0)
    result = fetch(
        "--source",
        server.url("/x.zip"),
        "--dest",
        str(tmp_path / "d"),
        env={"BG20K_TIMEOUT": "0.2", "BG20K_RETRIES": "1"},
    )
    assert result.code == 4, result.err
    assert "cannot connect" not in result.err and "no data for 0.2s" in result.err


def test_i17_folder_fetch_syncs_only_its_own_file_system(
    drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden() -> None:
        raise AssertionError("os.sync() flushes every file system on the host")

    monkeypatch.setattr(os, "sync", forbidden)
    folder = drive.add_tree(files)
    result = fetch("--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path / "d"))
    assert result.code == 0, result.err


@pytest.mark.timeout(60)
def test_i17_a_ctrl_c_while_the_workers_start_still_stops_them(
    drive: DriveEmulator,
    tmp_path: Path,
    isolated_env: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under load a Ctrl-C could land while the main thread was still starting the workers:
    it was raised before the code that tells them to stop, and the run waited for every file
    (about 20 s each here) while one worker fetched them all. Here it lands there every time."""
    from concurrent.futures import ThreadPoolExecutor

    from bg20k_fetch.gdrive import folder

    # Two files of ~20 s: the old code fetched both on the one worker started, failing the
    # assertion below well within the timeout.
    big = {f"train/h_{n:08x}.jpg": jpeg(n) + b"\0" * 40_000 for n in range(2)}
    drive.options.delay_per_chunk, drive.options.chunk = 0.5, 1000
    folder_id = drive.add_tree(big)
    sent: list[float] = []
    submitted = 0

    class Pool(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal submitted
            submitted += 1
            if submitted == 2:  # the first worker is downloading; the second is not started
                deadline = time.monotonic() + 20
                while not any(p.stat().st_size for p in isolated_env["cache"].rglob("*.part")):
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
                sent.append(time.monotonic())
                os.kill(os.getpid(), signal.SIGINT)
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(folder, "ThreadPoolExecutor", Pool)
    # Python's own Ctrl-C handler, whatever this run inherited (a script's background job
    # starts with SIGINT ignored).
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        result = fetch("--source", f"gdrive-folder:{folder_id}", "--dest", str(tmp_path / "d"))
    finally:
        signal.signal(signal.SIGINT, inherited)
    assert sent and time.monotonic() - sent[0] < 10  # not the ~20 s of a file in flight
    assert result.code == 130, result.err
    assert any(p.stat().st_size for p in isolated_env["cache"].rglob("*.part"))  # kept


@pytest.mark.slow
def test_i17_ctrl_c_in_a_folder_fetch_does_not_wait_for_files_in_flight(
    drive: DriveEmulator, tmp_path: Path, isolated_env: dict[str, Path]
) -> None:
    big = {f"train/h_{n:08x}.jpg": jpeg(n) + b"\0" * 40_000 for n in range(4)}
    drive.options.delay_per_chunk, drive.options.chunk = 0.5, 1000  # ~20 s a file
    folder = drive.add_tree(big)
    proc = _start("--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path / "d"))
    deadline = time.monotonic() + 30
    while not any(p.stat().st_size for p in isolated_env["cache"].rglob("*.part")):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    code = proc.wait(15)  # far less than one file's 20 s: in-flight files were cancelled
    err = proc.communicate()[1]
    assert code == 130, err
    assert "Traceback" not in err
    assert any(p.stat().st_size for p in isolated_env["cache"].rglob("*.part"))  # kept
