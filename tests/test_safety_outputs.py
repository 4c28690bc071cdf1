"""What bg20k writes for the user (bibliographies, lock files, piped output) never destroys what
is already there, and every failure is one line and a documented exit code.

Data-safety issue, items 6, 10, 11 and 17. In-process except where a real pipe is the point.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.data import SMALL, make_tree, zip_bytes
from tests.helpers import SHIPPED_AGREEMENT, cli

MINE = "@book{knuth1984,\n  author = {Knuth, Donald E.},\n  title = {The {\\TeX}book},\n}\n"


# -- item 6: cite -o and lock -o ----------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [("--format", "csl-json"), ("--format", "text"), ("--format", "biblatex", "--explain")],
    ids=["csl-json", "text", "biblatex-explain"],
)
def test_i06_cite_never_replaces_a_bib_with_another_format(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    refs = tmp_path / "refs.bib"
    refs.write_text(MINE)
    fmt = args[1]
    result = cli("cite", *args, "-o", str(refs))
    if fmt == "biblatex":  # BibTeX dialects merge; --explain is a no-op for them
        assert result.code == 0, result.err
        assert refs.read_text().startswith(MINE)
        return
    assert result.code == 7, result.err
    assert "--force" in result.err and str(refs) in result.err
    assert refs.read_text() == MINE


def test_i06_cite_merges_into_any_case_of_bib(tmp_path: Path) -> None:
    refs = tmp_path / "refs.BIB"
    refs.write_text(MINE)
    result = cli("cite", "-o", str(refs))
    assert result.code == 0, result.err
    text = refs.read_text()
    assert text.startswith(MINE) and "@article{li2022bridging," in text


def test_i06_other_existing_files_need_force_and_keep_their_mode(tmp_path: Path) -> None:
    notes = tmp_path / "refs.txt"
    notes.write_text("my notes\n")
    notes.chmod(0o640)
    refused = cli("cite", "--format", "text", "-o", str(notes))
    assert refused.code == 7 and notes.read_text() == "my notes\n"
    forced = cli("cite", "--format", "text", "-o", str(notes), "--force")
    assert forced.code == 0, forced.err
    assert "Li, J." in notes.read_text()
    assert stat.S_IMODE(notes.stat().st_mode) == 0o640


def test_i06_read_only_targets_are_refused_even_with_force(tmp_path: Path) -> None:
    refs = tmp_path / "refs.bib"
    refs.write_text(MINE)
    refs.chmod(0o444)
    for extra in ((), ("--force",)):
        result = cli("cite", "-o", str(refs), *extra)
        assert result.code == 7 and "read-only" in result.err, result.err
        assert refs.read_text() == MINE
        assert stat.S_IMODE(refs.stat().st_mode) == 0o444


def test_i06_merge_keeps_the_mode(tmp_path: Path) -> None:
    refs = tmp_path / "refs.bib"
    refs.write_text(MINE)
    refs.chmod(0o600)
    assert cli("cite", "--all", "-o", str(refs)).code == 0
    assert stat.S_IMODE(refs.stat().st_mode) == 0o600


def test_i06_unparseable_bib_is_refused_with_its_line(tmp_path: Path) -> None:
    refs = tmp_path / "refs.bib"
    broken = MINE + "\n% a comment\n@article{half,\n  title = {never closed\n"
    refs.write_text(broken)
    result = cli("cite", "-o", str(refs))
    assert result.code == 7 and "line 7" in result.err, result.err
    assert refs.read_text() == broken


def test_i06_binary_bib_is_refused(tmp_path: Path) -> None:
    refs = tmp_path / "refs.bib"
    refs.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    result = cli("cite", "-o", str(refs))
    assert result.code == 7 and "UTF-8" in result.err
    assert refs.read_bytes() == b"\x89PNG\r\n\x1a\n\xff\xfe"


def test_i17_cite_does_not_create_missing_directories(tmp_path: Path) -> None:
    result = cli("cite", "-o", str(tmp_path / "no" / "such" / "refs.bib"))
    assert result.code == 7 and "does not exist" in result.err
    assert not (tmp_path / "no").exists()


@pytest.fixture
def dataset(tmp_path: Path, small_release: Path) -> Path:
    files = make_tree(tmp_path / "orig", SMALL)
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    dest = tmp_path / "dest"
    result = cli("fetch", "--accept", "--from", str(tmp_path / "a.zip"), "--dest", str(dest))
    assert result.code == 0, result.err
    return dest


def test_i06_lock_never_overwrites_without_force(dataset: Path, tmp_path: Path) -> None:
    target = tmp_path / "important.json"
    target.write_text('{"mine": true}\n')
    refused = cli("lock", "--dest", str(dataset), "-o", str(target))
    assert refused.code == 7 and "--force" in refused.err
    assert target.read_text() == '{"mine": true}\n'
    target.chmod(0o600)
    forced = cli("lock", "--dest", str(dataset), "-o", str(target), "--force")
    assert forced.code == 0, forced.err
    assert json.loads(target.read_text())["file_count"] == sum(SMALL.values())
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_i17_lock_of_a_partial_dataset_says_so(tmp_path: Path, small_release: Path) -> None:
    files = make_tree(tmp_path / "orig", {"train": 6})
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    dest = tmp_path / "dest"
    args = ("--from", str(tmp_path / "a.zip"), "--dest", str(dest), "--allow-partial")
    assert cli("fetch", "--accept", *args).code == 0
    result = cli("lock", "--dest", str(dest), "-o", str(tmp_path / "l.json"))
    assert result.code == 0 and "PARTIAL" in result.err
    assert json.loads((tmp_path / "l.json").read_text())["complete"] is False


# -- item 10: every failure is a documented exit code -------------------------------------------


def test_i10_read_only_dest_is_exit_7(tmp_path: Path, small_release: Path) -> None:
    files = make_tree(tmp_path / "orig", SMALL)
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")  # a path under a regular file cannot be created, even by root
    result = cli(
        "fetch", "--accept", "--from", str(tmp_path / "a.zip"), "--dest", str(blocked / "d")
    )
    assert result.code == 7, result.err
    assert "internal error" not in result.err
    unlockable = tmp_path / "d2"
    (unlockable / ".bg20k-fetch.lock").mkdir(parents=True)  # the lock file cannot be opened
    result = cli("fetch", "--accept", "--from", str(tmp_path / "a.zip"), "--dest", str(unlockable))
    assert result.code == 7 and "Cannot lock" in result.err, result.err


@pytest.mark.parametrize("name", ["MANIFEST.sha256", "PROVENANCE.yaml", "SIZES.json"])
def test_i10_binary_receipts_are_exit_5_for_verify_and_rebuilt_by_fetch(
    name: str, dataset: Path, tmp_path: Path
) -> None:
    (dataset / "BG-20k" / name).write_bytes(b"\xff\xfe\x00\x81binary\x00")
    result = cli("verify", "--dest", str(dataset))
    assert result.code == 5 and name in result.err, result.err
    rebuilt = cli("fetch", "--from", str(tmp_path / "a.zip"), "--dest", str(dataset))
    assert rebuilt.code == 0, rebuilt.err
    assert cli("verify", "--dest", str(dataset), "--deep").code == 0


def test_i10_unreadable_image_in_deep_verify_is_exit_5(
    dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = sorted((dataset / "BG-20k" / "train").iterdir())[0]
    real_open = os.open

    def guarded(path: object, *args: object, **kwargs: object) -> int:
        if Path(str(path)) == victim:
            raise PermissionError(13, "Permission denied")  # root cannot be denied for real
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", guarded)
    result = cli("verify", "--dest", str(dataset), "--deep")
    assert result.code == 5 and victim.name in result.err, result.err
    assert "Permission denied" in result.err and "internal error" not in result.err


def test_i10_binary_release_file_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bg20k.yaml"
    bad.write_bytes(b"\xff\xfe\x00\x81")
    result = cli("agreement", env={"BG20K_RELEASE_FILE": str(bad)})
    assert result.code == 2 and str(bad) in result.err and "internal" not in result.err


def test_i10_corrupt_deflate_is_an_integrity_error_that_fails_over(
    tmp_path: Path, small_release: Path
) -> None:
    files = make_tree(tmp_path / "orig", SMALL)
    good = zip_bytes(files)
    raw = bytearray(good)
    start = raw.find(b"h_00000000.jpg") + len("h_00000000.jpg")
    for i in range(start + 10, start + 40):  # scramble the first member's deflate stream
        raw[i] ^= 0x5A
    (tmp_path / "bad.zip").write_bytes(bytes(raw))
    (tmp_path / "good.zip").write_bytes(good)
    dest = tmp_path / "d"
    alone = cli("fetch", "--accept", "--source", str(tmp_path / "bad.zip"), "--dest", str(dest))
    assert alone.code == 5, alone.err
    assert "internal error" not in alone.err
    both = cli(
        "fetch",
        "--source",
        str(tmp_path / "bad.zip"),
        "--source",
        str(tmp_path / "good.zip"),
        "--dest",
        str(dest),
    )
    assert both.code == 0, both.err
    assert "trying the next one" in both.err


def test_i10_archive_read_errors_are_not_called_write_errors(
    tmp_path: Path, small_release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bg20k_fetch.transfer.extract as extract

    files = make_tree(tmp_path / "orig", SMALL)
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))

    class Failing(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise OSError(5, "Input/output error")

    # The disk under the archive fails as a member is read out (EIO), which no real file
    # can be made to do on demand.
    monkeypatch.setattr(extract, "open_stream", lambda zf, member: Failing())
    result = cli("fetch", "--accept", "--from", str(tmp_path / "a.zip"), "--dest", str(tmp_path))
    assert result.code == 5, result.err
    assert "Cannot read" in result.err and "Cannot write" not in result.err
    assert not (tmp_path / "BG-20k").exists()


def test_i10_piped_agreement_is_exact_whatever_the_locale() -> None:
    result = cli("agreement", encoding="latin-1")
    assert result.code == 0
    assert result.raw == SHIPPED_AGREEMENT.read_bytes()


@pytest.mark.slow
def test_i10_piped_agreement_bytes_in_a_latin1_locale() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bg20k_fetch", "agreement"],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "latin-1"},
        timeout=60,
    )
    assert proc.returncode == 0
    assert proc.stdout == SHIPPED_AGREEMENT.read_bytes()


# -- item 11: a closed stdout never costs the work -----------------------------------------------


class ClosedPipe(io.TextIOWrapper):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_i11_closed_stdout_does_not_abort_a_fetch(tmp_path: Path, small_release: Path) -> None:
    from bg20k_fetch.cli import main
    from bg20k_fetch.cli.ui import Ui

    files = make_tree(tmp_path / "orig", SMALL)
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    err = io.StringIO()
    ui = Ui(stdout=ClosedPipe(io.BytesIO()), stderr=err, stdin=io.StringIO())
    args = ["fetch", "--accept", "--json", "--from", str(tmp_path / "a.zip")]
    code = main([*args, "--dest", str(tmp_path / "d")], ui)
    assert code == 0, err.getvalue()
    assert "internal error" not in err.getvalue()
    assert (tmp_path / "d" / "BG-20k" / "PROVENANCE.yaml").exists()


@pytest.mark.slow
@pytest.mark.parametrize("command", [["status"], ["fetch", "--json"]])
def test_i11_closed_pipe_in_a_real_process(
    command: list[str], tmp_path: Path, small_release: Path
) -> None:
    files = make_tree(tmp_path / "orig", SMALL)
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    extra = (
        ["--accept", "--from", str(tmp_path / "a.zip"), "--dest", str(tmp_path / "d")]
        if command[0] == "fetch"
        else []
    )
    read, write = os.pipe()
    os.close(read)  # the consumer is gone before bg20k writes a byte (`| head -0`)
    proc = subprocess.run(
        [sys.executable, "-m", "bg20k_fetch", *command, *extra],
        stdout=write,
        stderr=subprocess.PIPE,
        timeout=120,
    )
    os.close(write)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.decode().count("Error") == 0 and b"Traceback" not in proc.stderr
    if command[0] == "fetch":
        assert cli("verify", "--dest", str(tmp_path / "d")).code == 0


# -- item 17: small things ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("--source", ""),
        ("--from", ""),
        ("--dest", ""),
        ("--source", "x.zip", "--sha256", "xyz"),
        ("--source", " "),
    ],
    ids=["source", "from", "dest", "sha256", "blank-source"],
)
def test_i17_empty_or_malformed_arguments_are_usage_errors(args: tuple[str, ...]) -> None:
    result = cli("fetch", "--accept", *args)
    assert result.code == 2, result.err


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BG20K_RETRIES", "-3"),
        ("BG20K_RETRIES", "nan"),
        ("BG20K_BACKOFF", "-1"),
        ("BG20K_BACKOFF", "nan"),
        ("BG20K_BACKOFF", "inf"),
        ("BG20K_THROTTLE_BUDGET", "-5"),
        ("BG20K_THROTTLE_BUDGET", "nan"),
    ],
)
def test_i17_bad_tuning_variables_are_rejected_before_any_traffic(
    name: str, value: str, tmp_path: Path, small_release: Path
) -> None:
    from tests.fileserver import Behaviour, FileServer

    with FileServer() as server:
        server.routes["/x.zip"] = Behaviour(b"PK\x03\x04")
        result = cli(
            "fetch",
            "--accept",
            "--source",
            server.url("/x.zip"),
            "--dest",
            str(tmp_path),
            env={name: value},
        )
        assert result.code == 2 and name in result.err, result.err
        assert server.log == []
