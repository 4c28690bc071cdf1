"""bg20k deletes or replaces only what it can prove it made: the user's trees, sources, links
and files survive every fetch, a failed install leaves the previous dataset, and what killed
runs left behind is tidied only when provably dead.

Data-safety issue, items 1-5 and 15. In-process (``main(argv, ui)``), real files on disk.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.data import SMALL, jpeg, make_tree, zip_bytes
from tests.fileserver import Behaviour, FileServer
from tests.helpers import cache_contents, cli


@pytest.fixture
def files(tmp_path: Path, small_release: Path) -> dict[str, bytes]:
    return make_tree(tmp_path / "orig", SMALL)


@pytest.fixture
def good_zip(tmp_path: Path, files: dict[str, bytes]) -> Path:
    path = tmp_path / "good.zip"
    path.write_bytes(zip_bytes(files))
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file's bytes, but for the destination lock (bg20k's, empty, and kept)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".bg20k-fetch.lock")
    }


def fetch(*args: str):  # type: ignore[no-untyped-def]
    return cli("fetch", "--accept", *args)


def this_host() -> str:
    """The host part of bg20k's working-entry names (``PID@HOST``)."""
    import re
    import socket

    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:64] or "localhost"


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# -- item 1 -------------------------------------------------------------------------------------


def test_i01_tree_bg20k_did_not_make_is_never_replaced(good_zip: Path, tmp_path: Path) -> None:
    dest = tmp_path / "d"
    (dest / "BG-20k" / "mywork").mkdir(parents=True)
    (dest / "BG-20k" / "mywork" / "draft.txt").write_text("x")
    before = snapshot(dest)
    result = fetch("--source", str(good_zip), "--dest", str(dest))
    assert result.code == 7, result.err
    last = result.err.splitlines()[-1]
    assert str(dest / "BG-20k") in last and "not made by bg20k" in last
    assert "--dest" in last and "Move it away" in last
    assert snapshot(dest) == before


def test_i01_rebuild_keeps_files_bg20k_did_not_make(good_zip: Path, tmp_path: Path) -> None:
    dest = tmp_path / "d"
    assert fetch("--source", str(good_zip), "--dest", str(dest)).code == 0
    root = dest / "BG-20k"
    (root / "mywork").mkdir()
    (root / "mywork" / "draft.txt").write_text("my notes")
    (root / "train" / "h_mine.jpg").write_bytes(jpeg(500))  # added to a split folder
    result = fetch("--source", str(good_zip), "--dest", str(dest), "--force")
    assert result.code == 0, result.err
    assert (root / "mywork" / "draft.txt").read_text() == "my notes"  # same place, new tree
    (kept,) = dest.glob("BG-20k.kept-*")
    assert (kept / "train" / "h_mine.jpg").read_bytes() == jpeg(500)
    assert "mywork/draft.txt" in result.err and "train/h_mine.jpg" in result.err
    assert cli("verify", "--dest", str(dest), "--deep").code == 0
    assert not list(dest.glob(".BG-20k.*"))


def test_i01_damaged_manifest_rebuild_keeps_what_is_not_provably_ours(
    good_zip: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "d"
    assert fetch("--source", str(good_zip), "--dest", str(dest)).code == 0
    root = dest / "BG-20k"
    (root / "MANIFEST.sha256").write_bytes(b"\xff garbage")
    edited = sorted((root / "train").iterdir())[0]
    edited.write_bytes(jpeg(900))  # the user's own edit: not provably bg20k's bytes
    result = fetch("--source", str(good_zip), "--dest", str(dest))
    assert result.code == 0, result.err
    (kept,) = dest.glob("BG-20k.kept-*")
    assert (kept / "train" / edited.name).read_bytes() == jpeg(900)
    assert [p.name for p in (kept / "train").iterdir()] == [edited.name]  # identical ones: no
    assert cli("verify", "--dest", str(dest), "--deep").code == 0


def test_i01_an_empty_directory_is_simply_filled(good_zip: Path, tmp_path: Path) -> None:
    dest = tmp_path / "d"
    (dest / "BG-20k").mkdir(parents=True)
    assert fetch("--source", str(good_zip), "--dest", str(dest)).code == 0


# -- item 2 -------------------------------------------------------------------------------------


def test_i02_from_inside_destination_is_adopted_in_place(
    tmp_path: Path, small_release: Path
) -> None:
    t3 = tmp_path / "t3"
    make_tree(t3 / "BG-20k", SMALL)
    (t3 / "BG-20k" / "notes.txt").write_text("mine")
    before = snapshot(t3 / "BG-20k")
    inodes = {p: p.stat().st_ino for p in (t3 / "BG-20k").rglob("*.jpg")}
    result = fetch("--from", str(t3 / "BG-20k"), "--dest", str(t3))
    assert result.code == 0, result.err
    assert "Adopted" in result.err and "no file was moved" in result.err
    after = snapshot(t3 / "BG-20k")
    assert {k: v for k, v in after.items() if k in before} == before  # nothing changed …
    assert set(after) - set(before) == {  # … only bg20k's receipts were added
        "BG-20k_Dataset_v1.0_Release_Agreement.md",
        "CONSENT.yaml",
        "CITATION.bib",
        "MANIFEST.sha256",
        "PROVENANCE.yaml",
        "SIZES.json",
        ".bg20k-tree",
        "RELEASE-FILES.sha256",
        "croissant.json",
        "README.md",
        "CITATION.cff",
        "bg20k.cdx.json",
        "train.txt",  # the split lists the copy lacked, written from its images
        "testval.txt",
    }
    assert all(p.stat().st_ino == i for p, i in inodes.items())
    assert cli("verify", "--dest", str(t3), "--deep").code == 0


@pytest.mark.parametrize("case", ["part-of-tree", "incomplete-tree", "ours-rebuilt", "archive"])
def test_i02_from_inside_destination_is_left_exactly_as_it_was(
    case: str, tmp_path: Path, good_zip: Path, files: dict[str, bytes]
) -> None:
    t3 = tmp_path / "t3"
    if case == "ours-rebuilt":
        assert fetch("--source", str(good_zip), "--dest", str(t3)).code == 0
        (t3 / "BG-20k" / "train" / "extra.jpg").write_bytes(jpeg(77))
        source = t3 / "BG-20k"
    else:
        make_tree(t3 / "BG-20k", SMALL if case != "incomplete-tree" else {"train": 6})
        source = {
            "part-of-tree": t3 / "BG-20k" / "train",
            "incomplete-tree": t3 / "BG-20k",
            "archive": t3 / "BG-20k" / "parts.zip",
        }[case]
        if case == "archive":
            source.write_bytes(zip_bytes(files))
    before = snapshot(t3)
    result = fetch("--from", str(source), "--dest", str(t3))
    assert result.code in (2, 5), result.err
    assert "Traceback" not in result.err
    after = snapshot(t3)
    problems = {k for k in after if k.startswith("BG-20k.problems")}
    assert {k: v for k, v in after.items() if k not in problems} == before


def test_i02_source_folder_holding_the_destination(tmp_path: Path, small_release: Path) -> None:
    t3 = tmp_path / "t3"
    make_tree(t3, SMALL)  # t3/train, t3/testval: the source holds the destination
    before = snapshot(t3)
    assert fetch("--from", str(t3), "--dest", str(t3)).code == 0
    after = snapshot(t3)
    assert {k: v for k, v in after.items() if k in before} == before
    assert cli("verify", "--dest", str(t3), "--deep").code == 0
    assert fetch("--from", str(t3), "--dest", str(t3)).code == 0  # verified: nothing to do


# -- item 3 -------------------------------------------------------------------------------------


def test_i03_symlinked_root_is_kept_and_built_at_its_target(good_zip: Path, tmp_path: Path) -> None:
    disk2 = tmp_path / "disk2"
    (disk2 / "bg20k-data").mkdir(parents=True)  # the disk is mounted: its folder is there
    dest = tmp_path / "d"
    dest.mkdir()
    (dest / "BG-20k").symlink_to(disk2 / "bg20k-data")
    for extra in ((), ("--force",)):
        result = fetch("--source", str(good_zip), "--dest", str(dest), *extra)
        assert result.code == 0, result.err
        assert (dest / "BG-20k").is_symlink()
        assert os.readlink(dest / "BG-20k") == str(disk2 / "bg20k-data")
        assert (disk2 / "bg20k-data" / "PROVENANCE.yaml").is_file()
        assert not list(dest.glob(".BG-20k*")) and not list(disk2.glob(".bg20k-data.*"))
    assert cli("verify", "--dest", str(dest), "--deep").code == 0


def test_i03_link_into_a_missing_directory_is_refused(good_zip: Path, tmp_path: Path) -> None:
    dest = tmp_path / "d"
    dest.mkdir()
    (dest / "BG-20k").symlink_to(tmp_path / "unmounted" / "data")
    result = fetch("--source", str(good_zip), "--dest", str(dest))
    assert result.code == 7 and "is a link to" in result.err
    assert (dest / "BG-20k").is_symlink() and not (tmp_path / "unmounted").exists()


# -- item 4 -------------------------------------------------------------------------------------


def test_i04_failed_swap_puts_the_previous_dataset_back(
    good_zip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "d"
    assert fetch("--source", str(good_zip), "--dest", str(dest)).code == 0
    before = snapshot(dest / "BG-20k")
    real_rename = os.rename

    def failing(src: str | Path, dst: str | Path) -> None:
        if Path(src).name.startswith(".BG-20k.staging-"):
            raise OSError(28, "No space left on device")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", failing)
    result = fetch("--source", str(good_zip), "--dest", str(dest), "--force")
    monkeypatch.setattr(os, "rename", real_rename)
    assert result.code == 7, result.err
    assert "previous one" in result.err and "unchanged" in result.err
    assert snapshot(dest / "BG-20k") == before
    assert not list(dest.glob(".BG-20k.*"))
    assert cli("verify", "--dest", str(dest), "--deep").code == 0


# -- item 5 -------------------------------------------------------------------------------------


def test_i05_dead_runs_staging_is_removed_a_live_ones_is_not(
    good_zip: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "d"
    host = this_host()
    dead = dest / f".BG-20k.staging-{dead_pid()}@{host}"
    legacy = dest / f".BG-20k.staging-{dead_pid()}"
    elsewhere = dest / ".BG-20k.staging-1@another-host"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = dest / f".BG-20k.staging-{sleeper.pid}@{host}"
        for path in (dead, legacy, elsewhere, live):
            (path / "train").mkdir(parents=True)
            (path / "train" / "big.jpg").write_bytes(b"x" * 1000)
        result = fetch("--source", str(good_zip), "--dest", str(dest))
        assert result.code == 0, result.err
        assert not dead.exists() and not legacy.exists()
        assert live.exists() and elsewhere.exists()  # not provably dead: left alone
        assert str(dead) in result.err
    finally:
        sleeper.kill()
        sleeper.wait()


def test_i05_an_interrupted_install_is_put_back(good_zip: Path, tmp_path: Path) -> None:
    dest = tmp_path / "d"
    assert fetch("--source", str(good_zip), "--dest", str(dest)).code == 0
    before = snapshot(dest / "BG-20k")
    host = this_host()
    os.rename(dest / "BG-20k", dest / f".BG-20k.old-{dead_pid()}@{host}")  # killed mid-swap
    result = fetch("--source", str(tmp_path / "nowhere.zip"), "--dest", str(dest))
    assert result.code == 0, result.err  # put back, verified: no source needed
    assert "Put back" in result.err and "already there" in result.err
    assert snapshot(dest / "BG-20k") == before


def test_i05_stale_problems_file_goes_after_success(
    good_zip: Path, tmp_path: Path, files: dict[str, bytes]
) -> None:
    short = tmp_path / "short.zip"
    short.write_bytes(zip_bytes({k: v for k, v in files.items() if k.startswith("train/")}))
    dest = tmp_path / "d"
    assert fetch("--source", str(short), "--dest", str(dest)).code == 5
    assert (dest / "BG-20k.problems.txt").exists()
    assert fetch("--source", str(good_zip), "--dest", str(dest)).code == 0
    assert not (dest / "BG-20k.problems.txt").exists()


def test_i05_a_users_file_named_like_the_problems_file_is_kept(
    tmp_path: Path, files: dict[str, bytes]
) -> None:
    short = tmp_path / "short.zip"
    short.write_bytes(zip_bytes({k: v for k, v in files.items() if k.startswith("train/")}))
    dest = tmp_path / "d"
    dest.mkdir()
    (dest / "BG-20k.problems.txt").write_text("my own list\n")
    result = fetch("--source", str(short), "--dest", str(dest))
    assert result.code == 5
    assert (dest / "BG-20k.problems.txt").read_text() == "my own list\n"
    (written,) = dest.glob("BG-20k.problems-*.txt")
    assert str(written) in result.err


def test_i05_archive_of_a_failed_source_is_reused_then_removed(
    server: FileServer, files: dict[str, bytes], tmp_path: Path, isolated_env: dict[str, Path]
) -> None:
    short = zip_bytes({k: v for k, v in files.items() if k.startswith("train/")})
    server.routes["/x.zip"] = Behaviour(short)
    args = ("--source", server.url("/x.zip"), "--dest", str(tmp_path / "d"))
    assert fetch(*args).code == 5
    assert any(n.endswith("x.zip") for n in cache_contents(isolated_env["cache"]))
    again = fetch(*args, "--allow-partial")
    assert again.code == 0, again.err
    second = server.requests_for("/x.zip")[-1]
    assert "If-None-Match" in second.headers  # revalidated with one conditional request …
    assert "reusing it" in again.err  # … answered 304: not downloaded again
    assert cache_contents(isolated_env["cache"]) == []


# -- item 15 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "action"),
    [
        ("verified", "reuse"),
        ("force", "rebuild"),
        ("partial", "rebuild"),
        ("lock", "rebuild"),
        ("damaged", "rebuild"),
        ("foreign", "refuse"),
        ("absent", "build"),
    ],
)
def test_i15_dry_run_and_fetch_share_one_decision(
    case: str, action: str, good_zip: Path, tmp_path: Path, files: dict[str, bytes]
) -> None:
    dest = tmp_path / "d"
    extra: tuple[str, ...] = ()
    source = good_zip
    if case == "partial":
        source = tmp_path / "short.zip"
        source.write_bytes(zip_bytes({k: v for k, v in files.items() if k.startswith("train")}))
        assert fetch("--source", str(source), "--dest", str(dest), "--allow-partial").code == 0
        source = good_zip
    elif case == "foreign":
        make_tree(dest / "BG-20k", SMALL)
    elif case != "absent":
        assert fetch("--source", str(good_zip), "--dest", str(dest)).code == 0
    if case == "force":
        extra = ("--force",)
    elif case == "lock":
        other = {k: v for k, v in files.items()}
        other[sorted(other)[0]] = jpeg(321)
        (tmp_path / "other").mkdir()
        (tmp_path / "other.zip").write_bytes(zip_bytes(other))
        assert (
            fetch("--source", str(tmp_path / "other.zip"), "--dest", str(tmp_path / "o")).code == 0
        )
        assert cli("lock", "--dest", str(tmp_path / "o"), "-o", str(tmp_path / "l.json")).code == 0
        extra = ("--lock", str(tmp_path / "l.json"))
    elif case == "damaged":
        sorted((dest / "BG-20k" / "train").iterdir())[0].unlink()
    dry = cli("fetch", "--dry-run", "--json", "--source", str(source), "--dest", str(dest), *extra)
    assert dry.code == (7 if action == "refuse" else 0), dry.err
    plan = json.loads(dry.out)
    assert plan["action"] == action, plan
    real = fetch("--source", str(source), "--dest", str(dest), *extra)
    expected_phrase = {
        "reuse": "already there",
        "rebuild": "rebuilding it",
        "refuse": "refusing to replace it",
        "build": "ready at",
    }[action]
    assert expected_phrase in real.err, real.err
