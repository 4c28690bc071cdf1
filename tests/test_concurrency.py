"""Two fetches at once, and Ctrl-C in the middle of a download."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.data import SMALL, make_tree, zip_bytes
from tests.fileserver import Behaviour, FileServer
from tests.helpers import run_bg20k

# Real processes and their timing: the slow layer.
pytestmark = pytest.mark.slow


def _slow_archive(server: FileServer, tmp_path: Path, seconds: float) -> tuple[str, int]:
    files = make_tree(tmp_path / "orig", SMALL)
    archive = zip_bytes(files)
    chunks = max(1, len(archive) // 512)
    server.routes["/slow.zip"] = Behaviour(archive, chunk=512, delay_per_chunk=seconds / chunks)
    return server.url("/slow.zip"), len(archive)


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bg20k_fetch", "fetch", "--accept", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def _wait_for(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_second_fetch_waits_or_refuses(
    server: FileServer, tmp_path: Path, small_release: Path, isolated_env: dict[str, Path]
) -> None:
    url, _ = _slow_archive(server, tmp_path, seconds=5.0)  # room for two CLI start-ups
    dest = tmp_path / "dest"
    first = _start("--source", url, "--dest", str(dest))
    _wait_for(lambda: any(r.method == "GET" for r in server.log))
    refused = run_bg20k("fetch", "--accept", "--source", url, "--dest", str(dest), "--no-wait")
    assert refused.code == 7 and "Another bg20k fetch" in refused.err
    waiting = _start("--source", url, "--dest", str(dest))
    assert first.wait(60) == 0, first.communicate()[1]
    _, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, err
    assert "waiting for it" in err and "already there" in err
    assert len([r for r in server.log if r.method == "GET"]) == 1  # downloaded once


def test_a_dead_holder_does_not_block(
    server: FileServer, tmp_path: Path, small_release: Path
) -> None:
    url, _ = _slow_archive(server, tmp_path, seconds=30.0)
    dest = tmp_path / "dest"
    first = _start("--source", url, "--dest", str(dest))
    _wait_for(lambda: any(r.method == "GET" for r in server.log))
    first.kill()  # no chance to clean up: the kernel drops its lock
    first.wait(10)
    server.routes["/slow.zip"].delay_per_chunk = 0
    result = run_bg20k("fetch", "--accept", "--source", url, "--dest", str(dest), "--no-wait")
    assert result.code == 0, result.err


def test_ctrl_c_keeps_the_part_and_resume_finishes(
    server: FileServer, tmp_path: Path, small_release: Path, isolated_env: dict[str, Path]
) -> None:
    url, size = _slow_archive(server, tmp_path, seconds=6.0)
    dest = tmp_path / "dest"
    proc = _start("--source", url, "--dest", str(dest))
    parts = lambda: list(isolated_env["cache"].glob("*.part"))  # noqa: E731
    _wait_for(lambda: bool(parts()) and parts()[0].stat().st_size > 1024)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - started < 5  # stops promptly
    assert proc.returncode == 130
    assert "run the same command again to resume" in err.lower() and "Traceback" not in err
    kept = parts()[0].stat().st_size
    assert 0 < kept < size
    assert not (dest / "BG-20k").exists() and not list(dest.glob(".BG-20k.staging-*"))

    server.routes["/slow.zip"].delay_per_chunk = 0
    result = run_bg20k("fetch", "--source", url, "--dest", str(dest))
    assert result.code == 0, result.err
    last = [r for r in server.log if r.method == "GET"][-1]
    assert last.headers["Range"] == f"bytes={kept}-"
