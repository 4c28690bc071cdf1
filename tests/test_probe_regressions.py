"""Defects a hostile probe of the finished data-safety work found, one regression test each.

(The probe tried about 100 careless and hostile inputs as a user would; each test here failed
before its fix.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.data import SMALL, jpeg, make_tree, zip_bytes
from tests.fileserver import Behaviour, FileServer
from tests.gdrive_emulator import DriveEmulator, Options
from tests.helpers import cli


@pytest.fixture
def files(tmp_path: Path, small_release: Path) -> dict[str, bytes]:
    return make_tree(tmp_path / "orig", SMALL)


@pytest.fixture
def good_zip(tmp_path: Path, files: dict[str, bytes]) -> Path:
    (tmp_path / "good.zip").write_bytes(zip_bytes(files))
    return tmp_path / "good.zip"


def fetch(*args: str):  # type: ignore[no-untyped-def]
    return cli("fetch", "--accept", *args)


def test_p01_a_hand_made_tree_with_receipts_of_its_own_is_not_bgk20ks(
    files: dict[str, bytes], good_zip: Path, tmp_path: Path
) -> None:
    root = tmp_path / "d" / "BG-20k"
    make_tree(root, SMALL)
    (root / "notes").mkdir()
    (root / "notes" / "a.csv").write_text("ann")
    (root / "PROVENANCE.yaml").write_text("origin: baidu\n")  # the user's, not bg20k's
    (root / "MANIFEST.sha256").write_text("whatever\n")
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    result = fetch("--from", str(good_zip), "--dest", str(tmp_path / "d"))
    assert result.code == 7 and "not made by bg20k" in result.err, result.err
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


@pytest.mark.slow
@pytest.mark.parametrize("how", ["closed", "full"])
@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_p02_a_failing_output_stream_never_costs_the_fetchs_work(
    how: str, stream: str, good_zip: Path, tmp_path: Path
) -> None:
    target = {"closed": None, "full": "/dev/full"}[how]
    with open(target or os.devnull, "w") as sink:
        kwargs: dict[str, object] = {stream: sink if target else subprocess.DEVNULL}
        if how == "closed":
            # Close the descriptor in the child, as `>&-` would.
            fd = 1 if stream == "stdout" else 2
            kwargs = {"preexec_fn": lambda: os.close(fd)}
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "bg20k_fetch",
                "fetch",
                "--accept",
                "--json",
                "--from",
                str(good_zip),
                "--dest",
                str(tmp_path / "d"),
            ],
            timeout=120,
            **kwargs,  # type: ignore[call-overload]
        )
    # The fetch always finishes its work. Its JSON on a full disk is lost output, which is a
    # failure to report (exit 7, round 2 item 1); a closed stream or a full stderr is not.
    assert proc.returncode == (7 if (how, stream) == ("full", "stdout") else 0)
    assert cli("verify", "--dest", str(tmp_path / "d"), "--deep").code == 0


def test_p03_a_kept_drive_cache_never_shares_bytes_with_the_tree(
    files: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with DriveEmulator(Options(warn_size=10**9)) as drive:
        for name, value in drive.env().items():
            monkeypatch.setenv(name, value)
        folder = drive.add_tree(files)
        args = ("--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path / "d"))
        first = fetch(*args, "--keep-archive")
        assert first.code == 0, first.err
        victim = tmp_path / "d" / "BG-20k" / "train" / "h_00000003.jpg"
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0x01
        with open(victim, "r+b") as handle:  # in place, as an editor writing through would
            handle.write(bytes(data))
        assert cli("verify", "--dest", str(tmp_path / "d"), "--deep").code == 5
        again = fetch(*args, "--force", "--keep-archive")
        assert again.code == 0, again.err
        assert cli("verify", "--dest", str(tmp_path / "d"), "--deep").code == 0
        assert victim.read_bytes() == files["train/h_00000003.jpg"]


def test_p04_the_lock_holder_file_is_never_written_through_a_link(
    good_zip: Path, tmp_path: Path
) -> None:
    dest, mine = tmp_path / "d", tmp_path / "mine.tex"
    dest.mkdir()
    mine.write_text("thesis")
    (dest / ".bg20k-fetch.lock.pid").symlink_to(mine)
    assert fetch("--from", str(good_zip), "--dest", str(dest)).code == 0
    assert mine.read_text() == "thesis"


def test_p05_a_name_that_is_not_utf8_is_refused_not_recorded_unreadable(
    isolated_env: dict[str, Path],
) -> None:
    result = cli("accept", "--yes", "--name", "Jos\udce9")  # argv bytes b"Jos\xe9"
    assert result.code == 2 and "UTF-8" in result.err
    assert not (isolated_env["config"] / "consent.yaml").exists()


def test_p05_a_login_that_is_not_utf8_is_stored_escaped(
    isolated_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "jos\udce9")
    monkeypatch.setenv("LOGNAME", "jos\udce9")
    assert cli("accept", "--yes").code == 0
    status = json.loads(cli("status", "--json").out)
    assert status["in_force"] is True
    assert status["record"]["os_user"] == "jos\\xe9"


def test_p06_an_edited_image_is_kept_when_its_tree_is_rebuilt(
    good_zip: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "d"
    assert fetch("--from", str(good_zip), "--dest", str(dest)).code == 0
    edited = dest / "BG-20k" / "train" / "h_00000000.jpg"
    edited.write_bytes(jpeg(900))  # the user's own change, at a path the manifest lists
    result = fetch("--from", str(good_zip), "--dest", str(dest))
    assert result.code == 0, result.err
    (kept,) = dest.glob("BG-20k.kept-*")
    assert (kept / "train" / "h_00000000.jpg").read_bytes() == jpeg(900)


@pytest.mark.parametrize(
    "args",
    [
        ("fetch", "--accept", "--dest", "~nosuchuser/x", "--from", "x.zip"),
        ("fetch", "--accept", "--from", "~nosuchuser/x.zip"),
        ("fetch", "--accept", "--source", "http://[::1"),
        ("fetch", "--accept", "--dry-run", "--source", "http://[::1"),
        ("cite", "-o", "~nosuchuser/refs.bib"),
    ],
)
def test_p07_odd_paths_and_urls_are_usage_errors(
    args: tuple[str, ...], small_release: Path
) -> None:
    result = cli(*args)
    assert result.code == 2, result.err
    assert "internal error" not in result.err


def test_p07_a_data_dir_variable_that_cannot_be_expanded(small_release: Path) -> None:
    result = cli("verify", env={"BG20K_DATA_DIR": "~nosuchuser/data"})
    assert result.code == 2 and "BG20K_DATA_DIR" in result.err


def test_p07_a_symlink_loop_as_cite_output(tmp_path: Path) -> None:
    loop = tmp_path / "l.bib"
    loop.symlink_to(loop)
    result = cli("cite", "-o", str(loop))
    assert result.code == 7 and "internal error" not in result.err, result.err


@pytest.mark.parametrize("what", ["fifo", "dev-zero"])
def test_p08_a_source_folder_with_something_that_is_not_a_file(
    what: str, files: dict[str, bytes], tmp_path: Path
) -> None:
    src = tmp_path / "src"
    make_tree(src / "BG-20k", SMALL)
    odd = src / "BG-20k" / "train" / "h_ffffffff.jpg"
    if what == "fifo":
        os.mkfifo(odd)
    else:
        odd.symlink_to("/dev/zero")
    result = fetch("--from", str(src), "--dest", str(tmp_path / "d"))
    assert result.code == 5 and "not a regular file" in result.err, result.err


def test_p08_a_destination_where_no_lock_can_be_made(good_zip: Path) -> None:
    result = fetch("--from", str(good_zip), "--dest", "/proc/self", "--no-wait")
    assert result.code == 7, result.err


def test_p09_renewing_consent_during_a_fetch_does_not_discard_it(
    server: FileServer, files: dict[str, bytes], tmp_path: Path, isolated_env: dict[str, Path]
) -> None:
    release = threading.Event()
    server.routes["/x.zip"] = Behaviour(zip_bytes(files), chunk=256, hold=release, hold_after=512)
    assert cli("accept", "--yes").code == 0
    outcome: dict[str, object] = {}

    def run() -> None:
        outcome["result"] = cli("fetch", "--source", server.url("/x.zip"), "--dest", str(tmp_path))

    worker = threading.Thread(target=run)
    worker.start()
    while not server.requests_for("/x.zip"):
        worker.join(0.05)
    assert cli("accept", "--yes", "--name", "Renewed").code == 0  # in force all along
    release.set()
    worker.join(60)
    result = outcome["result"]
    assert result.code == 0, result.err  # type: ignore[attr-defined]
    consent = (tmp_path / "BG-20k" / "CONSENT.yaml").read_text()
    assert "Renewed" in consent  # the record in force at install travels with the data


def test_p10_cite_merge_compares_keys_without_case_and_skips_comments(tmp_path: Path) -> None:
    refs = tmp_path / "refs.bib"
    refs.write_text("@ARTICLE{LI2022BRIDGING,\n  title = {mine},\n}\n\n@comment{li2021deep}\n")
    result = cli("cite", "--all", "-o", str(refs))
    assert result.code == 0, result.err
    text = refs.read_text()
    assert "@article{li2022bridging," not in text  # already there, in capitals
    assert "@inproceedings{li2021deep," in text  # a comment is not an entry


def test_a_signal_during_the_swap_waits_until_the_users_files_are_safe() -> None:
    """The campaign's finding: a SIGTERM between the swap's renames left a user's file in the
    swapped-out tree until the next run. Ctrl-C and SIGTERM now wait for the critical section."""
    import signal

    from bg20k_fetch.errors import Terminated
    from bg20k_fetch.util.signals import deferred

    steps = []
    with pytest.raises(Terminated), deferred():
        os.kill(os.getpid(), signal.SIGTERM)
        steps.append("after the signal, still inside")  # not cut short
    assert steps == ["after the signal, still inside"]
    # Python's own Ctrl-C handler, whatever this run inherited (nohup starts with SIGINT ignored).
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt), deferred():
            os.kill(os.getpid(), signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    finally:
        signal.signal(signal.SIGINT, inherited)
