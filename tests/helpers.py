"""Helpers shared by the tests: run the real command as a child process."""

from __future__ import annotations

import copy
import functools
import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pexpect
import yaml

REPO = Path(__file__).resolve().parent.parent
SEED_AGREEMENT = REPO.parent / "shared" / "seeds" / "BG-20k_Dataset_v1.0_Release_Agreement.md"
# The shipped agreement's digest, written out: a test that computed it could not catch a change.
AGREEMENT_SHA256 = "be1bf73403b9058b919c353d44a1d407c2fcf5fc0f70546769214d7472788641"
SHIPPED_AGREEMENT = REPO / "agreement" / "BG-20k_Dataset_v1.0_Release_Agreement.md"


@dataclass
class Result:
    code: int
    out: str
    err: str
    raw: bytes = b""  # stdout's bytes, for output that must be exact


def run_bg20k(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    """``bg20k ARGS`` as most tests need it: in-process (the fast layer), no terminal."""
    return cli(*args, env=env, stdin=stdin or "")


def run_process(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> Result:
    """Run the real command in a child process, with no terminal (as a script or CI would):
    for what only a process shows — start-up, signals, real pipes, locale, exit status."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "bg20k_fetch", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def spawn_bg20k(*args: str, env: dict[str, str] | None = None) -> pexpect.spawn:
    """Run the real command on a real pseudo-terminal, as a person at a workstation would."""
    full_env = {**os.environ, "PAGER": "cat", "TERM": "xterm", "COLUMNS": "100", **(env or {})}
    return pexpect.spawn(
        sys.executable,
        ["-m", "bg20k_fetch", *args],
        env=full_env,
        encoding="utf-8",
        timeout=30,
        dimensions=(50, 100),
    )


def write_release(
    tmp: Path,
    *,
    agreement_text: bytes | None = None,
    counts: dict[str, int] | None = None,
    official_folder: str | None = None,
    denoise_file: str | None = None,
) -> Path:
    """A test-only dataset description: the shipped one with another text and/or small counts,
    and its Drive folder or its optional train_denoise file at an emulator's ids."""
    release = copy.deepcopy(_shipped_release())
    text = (
        agreement_text
        if agreement_text is not None
        else (REPO / "agreement" / release["agreement"]["file"]).read_bytes()
    )
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / release["agreement"]["file"]).write_bytes(text)
    release["agreement"]["sha256"] = hashlib.sha256(text).hexdigest()
    for split in release["layout"]["splits"]:
        if counts and split["name"] in counts:
            split["count"] = counts[split["name"]]
    for source in release["sources"]:
        if official_folder and source["kind"] == "gdrive-folder":
            source["id"] = official_folder
        if denoise_file and source.get("component") == "train_denoise":
            source["id"] = denoise_file
    path = tmp / "bg20k.yaml"
    path.write_text(yaml.dump(release, Dumper=_DUMPER, sort_keys=False))
    return path


# libyaml's C loader and dumper where the wheel has them: most tests write a release, and the
# pure-Python ones made that a third of the fast layer's CPU time.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@functools.cache
def _shipped_release() -> dict[str, Any]:
    text = (REPO / "agreement" / "bg20k.yaml").read_text()
    loaded: dict[str, Any] = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return loaded


def cli(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str = "",
    encoding: str = "utf-8",
    quick: bool = False,
) -> Result:
    """Run ``bg20k ARGS`` in this process: ``main(argv, ui)`` with captured streams.

    The fast layer: no interpreter start-up, same parser, handlers and error mapping as the real
    command. ``env`` is set for the call only. Streams are byte buffers under text wrappers, like
    a real pipe, so what the command writes as exact bytes is checked as bytes. ``quick``: the
    answer the `bg20k` command gives these exact arguments without the parser (cli/quick.py).
    """
    import io

    from bg20k_fetch.cli import main
    from bg20k_fetch.cli.ui import Ui

    out_bytes, err_bytes = io.BytesIO(), io.BytesIO()
    stdout = io.TextIOWrapper(out_bytes, encoding=encoding, write_through=True)
    stderr = io.TextIOWrapper(err_bytes, encoding="utf-8", write_through=True)
    saved = {name: os.environ.get(name) for name in env or {}}
    os.environ.update(env or {})
    try:
        ui = Ui(stdout=stdout, stderr=stderr, stdin=io.StringIO(stdin))
        if quick:
            from bg20k_fetch.cli.quick import answer

            quick_code = answer(list(args), ui)
            assert quick_code is not None, f"{args} is not answered without the parser"
            code = quick_code
        else:
            code = main(list(args), ui)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    stdout.flush()
    stderr.flush()
    raw = out_bytes.getvalue()
    return Result(code, raw.decode(encoding, "replace"), err_bytes.getvalue().decode(), raw)


def cache_contents(cache: Path) -> list[str]:
    """What a cache directory holds besides its lock files (``.locks/``, never deleted)."""
    if not cache.exists():
        return []
    return sorted(p.name for p in cache.iterdir() if p.name != ".locks")


_FETCHED: dict[tuple[str, str, int], Path] = {}


def fetched_copy(where: Path, name: str, zip_name: str, start: int = 0) -> Path:
    """``where/name``: a verified small dataset as ``bg20k fetch --accept --from ZIP`` leaves
    it, with ``where/ZIP`` beside it. The fetch runs once per test process for each kind of
    tree and is then copied (timestamps and all): the object-store tests need a publisher's
    tree each, and a fetch cost them a third of a second of CPU every time. The agreement is
    accepted in this test's own config, as the fetch would have."""
    import atexit
    import shutil
    import tempfile

    from tests.data import SMALL, make_tree, zip_bytes

    release = Path(os.environ.get("BG20K_RELEASE_FILE", "")).read_bytes()
    key = (hashlib.sha256(release).hexdigest(), zip_name, start)
    files = make_tree(where / f"{name}-orig", SMALL, start=start)
    (where / zip_name).write_bytes(zip_bytes(files))
    if key not in _FETCHED:
        made = tempfile.mkdtemp(prefix="bg20k-fetched-")
        atexit.register(shutil.rmtree, made, True)  # a test process leaves nothing in /tmp
        built = Path(made) / name
        result = cli("fetch", "--accept", "--from", str(where / zip_name), "--dest", str(built))
        assert result.code == 0, result.err
        _FETCHED[key] = built
    shutil.copytree(_FETCHED[key], where / name, symlinks=True)
    assert cli("accept", "--yes").code == 0
    return where / name


class Clock:
    """A monotonic clock the test moves by hand; sleeping records the pause and moves it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def full_disk_for(path: Path, monkeypatch: Any) -> None:
    """Every os.write to the file ``path`` fails with ENOSPC, every other file is written: a
    full disk, which root cannot make for real in a test, for the one file concerned."""
    import errno

    target, real_write = path.stat(), os.write

    def write(fd: int, data: Any) -> int:
        if os.path.samestat(os.fstat(fd), target):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)


def parse_bibtex(text: str) -> Any:
    """pybtex's BibTeX parser, as ``pybtex.database.parse_string(text, "bibtex")`` runs it. That
    function looks the parser up among every installed package's entry points on each call,
    10 ms of CPU: most of what a property test of the .bib output cost."""
    from pybtex.database.input.bibtex import Parser

    return Parser().parse_string(text)
