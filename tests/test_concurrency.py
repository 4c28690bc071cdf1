"""Two fetches at once, and Ctrl-C in the middle of a download.

No wall-clock thresholds: the server holds the body at a point the test chooses (an event), and
the test waits for what the processes say or write, so a loaded machine only makes it slower.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import pytest

from tests.data import SMALL, make_tree, zip_bytes
from tests.fileserver import Behaviour, FileServer
from tests.helpers import run_bg20k

# Real processes and their timing: the slow layer.
pytestmark = pytest.mark.slow


def _held_archive(server: FileServer, tmp_path: Path) -> tuple[str, int, threading.Event]:
    """An archive whose body stops after 2 KiB until the test sets the returned event."""
    files = make_tree(tmp_path / "orig", SMALL)
    archive = zip_bytes(files)
    release = threading.Event()
    server.routes["/slow.zip"] = Behaviour(archive, chunk=512, hold=release, hold_after=2048)
    return server.url("/slow.zip"), len(archive), release


def _slow_archive(server: FileServer, tmp_path: Path, seconds: float) -> tuple[str, int]:
    files = make_tree(tmp_path / "orig", SMALL)
    archive = zip_bytes(files)
    chunks = max(1, len(archive) // 512)
    server.routes["/slow.zip"] = Behaviour(archive, chunk=512, delay_per_chunk=seconds / chunks)
    return server.url("/slow.zip"), len(archive)


def _read_until(stream: IO[str], marker: str, timeout: float = 60.0) -> str:
    """Lines from a child's stderr until one holds ``marker``."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        seen.append(line)
        if marker in line:
            return "".join(seen)
        if not line:
            break
    raise AssertionError(f"{marker!r} never came; saw: {''.join(seen)!r}")


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
    url, _, release = _held_archive(server, tmp_path)
    dest = tmp_path / "dest"
    first = _start("--source", url, "--dest", str(dest))
    _wait_for(lambda: any(r.method == "GET" for r in server.log))  # holds the lock, held
    refused = run_bg20k("fetch", "--accept", "--source", url, "--dest", str(dest), "--no-wait")
    assert refused.code == 7 and "Another bg20k fetch" in refused.err
    waiting = _start("--source", url, "--dest", str(dest))
    assert waiting.stderr is not None
    said = _read_until(waiting.stderr, "waiting for it")  # it is waiting now …
    release.set()  # … so let the first finish
    assert first.wait(60) == 0, first.communicate()[1]
    _, rest = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, said + rest
    assert "already there" in rest
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
    url, size, release = _held_archive(server, tmp_path)
    dest = tmp_path / "dest"
    proc = _start("--source", url, "--dest", str(dest))
    parts = lambda: list(isolated_env["cache"].glob("*.part"))  # noqa: E731
    _wait_for(lambda: bool(parts()) and parts()[0].stat().st_size >= 2048)
    proc.send_signal(signal.SIGINT)
    # The server never sends another byte: only a prompt stop on Ctrl-C ends this process.
    _, err = proc.communicate(timeout=60)
    release.set()
    assert proc.returncode == 130
    assert "run the same command again to resume" in err.lower() and "Traceback" not in err
    kept = parts()[0].stat().st_size
    assert 0 < kept < size
    assert not (dest / "BG-20k").exists() and not list(dest.glob(".BG-20k.staging-*"))

    result = run_bg20k("fetch", "--source", url, "--dest", str(dest))
    assert result.code == 0, result.err
    last = [r for r in server.log if r.method == "GET"][-1]
    assert last.headers["Range"] == f"bytes={kept}-"
