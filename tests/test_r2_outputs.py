"""Data safety, round 2: what bg20k writes to its output streams, and the words it uses.

Item 1: output to a full disk is a failure (exit 7, one line), never a silent success; only a
reader that went away (EPIPE) may end quietly. Item 14: words that said the wrong thing.
"""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.data import SMALL, make_tree, zip_bytes
from tests.helpers import Result, cli


class FailingDisk(io.RawIOBase):
    """A file on a disk that fails every write with ``code`` (ENOSPC: full; EIO; EFBIG …)."""

    def __init__(self, code: int) -> None:
        self.code = code

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        raise OSError(self.code, os.strerror(self.code))


def run_into(code: int, *args: str) -> Result:
    """``bg20k ARGS > file`` in-process, where every write to the file fails with ``code``."""
    from bg20k_fetch.cli import main
    from bg20k_fetch.cli.ui import Ui

    stdout = io.TextIOWrapper(io.BufferedWriter(FailingDisk(code)), encoding="utf-8")
    err = io.BytesIO()
    stderr = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
    status = main(list(args), Ui(stdout=stdout, stderr=stderr, stdin=io.StringIO()))
    return Result(status, "", err.getvalue().decode())


@pytest.fixture
def dataset(tmp_path: Path, small_release: Path) -> Path:
    files = make_tree(tmp_path / "orig", SMALL)
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    dest = tmp_path / "d"
    assert (
        cli("fetch", "--accept", "--from", str(tmp_path / "a.zip"), "--dest", str(dest)).code == 0
    )
    return dest


COMMANDS = [
    ["cite"],
    ["cite", "--all", "--format", "biblatex"],
    ["cite", "-o", "-"],
    ["agreement"],
    ["agreement", "--sha256"],
    ["agreement", "--json"],
    ["status"],
    ["status", "--json"],
    ["history"],
    ["history", "--json"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG])
def test_r2_01_a_full_disk_under_stdout_is_exit_7(args: list[str], code: int) -> None:
    assert cli("accept", "--yes").code == 0  # so status and history have something to say
    result = run_into(code, *args)
    assert result.code == 7, result.err
    (line,) = result.err.splitlines()
    assert line.startswith("bg20k: error: Cannot write to standard output: ")
    assert os.strerror(code) in line and "incomplete" in line


@pytest.mark.parametrize(
    "args",
    [
        ["paths", "--split", "train"],
        ["paths", "--split", "testval", "-0"],
        ["verify", "--json"],
        ["lock", "-o", "-"],
        ["fetch", "--accept", "--dry-run"],
        ["fetch", "--accept", "--json"],
    ],
    ids=" ".join,
)
def test_r2_01_dataset_commands_to_a_full_disk_are_exit_7(args: list[str], dataset: Path) -> None:
    result = run_into(errno.ENOSPC, *args, "--dest", str(dataset))
    assert result.code == 7, result.err
    assert result.err.splitlines()[-1].startswith(
        "bg20k: error: Cannot write to standard output: No space left on device"
    )
    assert cli("verify", "--dest", str(dataset)).code == 0  # the work itself is intact


def test_r2_01_a_reader_that_went_away_is_still_not_a_failure() -> None:
    result = run_into(errno.EPIPE, "cite", "--all")
    assert result.code == 0 and result.err == ""


def test_r2_01_a_fetch_whose_json_cannot_be_written_still_finishes_its_work(
    tmp_path: Path, small_release: Path
) -> None:
    files = make_tree(tmp_path / "orig", SMALL)
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    dest = tmp_path / "d"
    result = run_into(
        errno.ENOSPC,
        "fetch",
        "--accept",
        "--json",
        "--from",
        str(tmp_path / "a.zip"),
        "--dest",
        str(dest),
    )
    assert result.code == 7
    assert cli("verify", "--dest", str(dest), "--deep").code == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    "args", [["cite", "--all"], ["agreement"], ["history", "--json"], ["--help"]], ids=" ".join
)
def test_r2_01_dev_full_in_a_real_process(args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "bg20k_fetch", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 7, proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr
    assert "No space left on device" in proc.stderr


# -- item 14: words ----------------------------------------------------------------------------


def test_r2_14_ctrl_c_at_the_prompt_is_an_interruption_not_a_refusal() -> None:
    from bg20k_fetch.cli import main
    from bg20k_fetch.cli.ui import Ui

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    class Interrupted(Terminal):
        def readline(self, size: int | None = -1) -> str:
            raise KeyboardInterrupt

    ui = Ui(stdout=Terminal(), stderr=io.StringIO(), stdin=Interrupted())
    assert main(["accept"], ui) == 130


def test_r2_14_an_unwritable_output_names_the_output_not_a_variable() -> None:
    # Nobody, root included, may create a file in /proc.
    result = cli("cite", "-o", "/proc/refs.bib")
    assert result.code == 7
    (line,) = result.err.splitlines()
    assert "BG20K_" not in line and line.endswith("or choose another -o.")


def test_r2_14_the_failover_line_reads_as_one_sentence(tmp_path: Path, small_release: Path) -> None:
    files = make_tree(tmp_path / "orig", SMALL)
    short = {k: v for k, v in files.items() if k.startswith("train/")}
    (tmp_path / "short.zip").write_bytes(zip_bytes(short))
    (tmp_path / "good.zip").write_bytes(zip_bytes(files))
    result = cli(
        "fetch",
        "--accept",
        "--source",
        str(tmp_path / "short.zip"),
        "--source",
        str(tmp_path / "good.zip"),
        "--dest",
        str(tmp_path / "d"),
    )
    assert result.code == 0, result.err
    (line,) = [x for x in result.err.splitlines() if "trying the next one" in x]
    assert ".;" not in line and line.endswith("; trying the next one.")


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (512, "512 bytes"),
        (1536, "1.5 KiB"),
        (3 << 20, "3.0 MiB"),
        (3 << 30, "3.00 GiB"),
    ],
)
def test_r2_14_sizes_are_never_rounded_to_nothing(size: int, text: str) -> None:
    from bg20k_fetch.util.disk import size_text

    assert size_text(size) == text


def test_r2_14_empty_lock_is_a_usage_error_not_the_current_folder(dataset: Path) -> None:
    result = cli("verify", "--lock=", "--dest", str(dataset))
    assert result.code == 2 and "--lock" in result.err and ". is not" not in result.err


def test_r2_14_lock_to_dash_is_stdout(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("lock", "-o", "-", "--dest", str(dataset))
    assert result.code == 0, result.err
    assert json.loads(result.out)["dataset"] == "BG-20k"
    assert not (tmp_path / "-").exists()


def test_r2_14_a_newline_in_a_name_never_splits_a_line(tmp_path: Path, small_release: Path) -> None:
    files = make_tree(tmp_path / "orig", SMALL)
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    dest = tmp_path / "two\nlines"
    result = cli("fetch", "--accept", "--from", str(tmp_path / "a.zip"), "--dest", str(dest))
    assert result.code == 0, result.err
    (ready,) = [x for x in result.err.splitlines() if "is ready at" in x]
    assert "two\\nlines" in ready
    listed = cli("paths", "--split", "testval", "-0", "--dest", str(dest))
    names = listed.raw.split(b"\0")
    assert names[-1] == b"" and len(names) == SMALL["testval"] + 1
    assert all(b"two\nlines" in n for n in names[:-1])


def test_r2_14_readme_says_what_keep_archive_does_with_a_drive_cache() -> None:
    from tests.helpers import REPO

    (row,) = [x for x in (REPO / "README.md").read_text().splitlines() if "| `--keep-archive`" in x]
    assert "shares its files with the dataset" not in row  # test_p03 shows it never does
    assert "A kept Drive cache is a copy of its own" in row
