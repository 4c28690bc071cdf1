"""Data safety, round 2: the user's data, the destination and the cache.

Items 2 (an adopted copy), 5 (exit 1 still reachable), 6 (a double fault in the swap), 7 (a
dangling link), 8 (a failed source's cache), 10 (what an interruption says), 11 (devices and
FIFOs as sources), 12 (lock files), 13 (small things). In-process, real files on disk.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.data import SMALL, jpeg, make_tree, zip_bytes
from tests.fileserver import Behaviour, FileServer
from tests.helpers import cache_contents, cli
from tests.test_safety_dataset import dead_pid, snapshot, this_host


@pytest.fixture
def files(tmp_path: Path, small_release: Path) -> dict[str, bytes]:
    return make_tree(tmp_path / "orig", SMALL)


@pytest.fixture
def good_zip(tmp_path: Path, files: dict[str, bytes]) -> Path:
    path = tmp_path / "good.zip"
    path.write_bytes(zip_bytes(files))
    return path


def fetch(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return cli("fetch", "--accept", *args, env=env)


# -- item 2: an adopted copy is the user's -------------------------------------------------------


def _adopted(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    t = tmp_path / "t"
    make_tree(t / "BG-20k", SMALL, start=100)  # the user's own copy, other bytes than good.zip
    (t / "BG-20k" / "readme.txt").write_text("the authors' notes")
    before = snapshot(t / "BG-20k")
    result = fetch("--from", str(t / "BG-20k"), "--dest", str(t))
    assert result.code == 0 and "Adopted" in result.err, result.err
    return t, before


def test_r2_02_rebuilding_an_adopted_copy_moves_it_aside_whole(
    good_zip: Path, tmp_path: Path
) -> None:
    t, before = _adopted(tmp_path)
    result = fetch("--source", str(good_zip), "--dest", str(t), "--force")
    assert result.code == 0, result.err
    (kept,) = t.glob("BG-20k.kept-*")
    after = snapshot(kept)
    assert {k: v for k, v in after.items() if k in before} == before  # every byte of theirs
    assert "adopted in place is yours" in result.err and str(kept) in result.err
    assert cli("verify", "--dest", str(t), "--deep").code == 0


def test_r2_02_an_adopted_copy_with_damaged_receipts_is_still_kept(
    good_zip: Path, tmp_path: Path
) -> None:
    t, before = _adopted(tmp_path)
    (t / "BG-20k" / "PROVENANCE.yaml").write_text("garbage: [")
    result = fetch("--source", str(good_zip), "--dest", str(t))
    assert result.code == 0, result.err
    (kept,) = t.glob("BG-20k.kept-*")
    assert {k: v for k, v in snapshot(kept).items() if k in before} == before


def test_r2_02_an_interrupted_install_over_an_adopted_copy_keeps_it(
    good_zip: Path, tmp_path: Path
) -> None:
    """The next run finishes a killed install: the adopted copy is moved aside, not emptied."""
    t, before = _adopted(tmp_path)
    swapped = t / f".BG-20k.old-{dead_pid()}@{this_host()}"
    os.rename(t / "BG-20k", swapped)
    assert fetch("--source", str(good_zip), "--dest", str(tmp_path / "elsewhere")).code == 0
    os.rename(tmp_path / "elsewhere" / "BG-20k", t / "BG-20k")  # "the new tree was in place"
    result = fetch("--source", str(good_zip), "--dest", str(t))
    assert result.code == 0, result.err
    (kept,) = t.glob("BG-20k.kept-*")
    assert {k: v for k, v in snapshot(kept).items() if k in before} == before


# -- item 5: every failure has its code ----------------------------------------------------------


def test_r2_05_a_dest_name_too_long_is_a_usage_error(tmp_path: Path) -> None:
    for args in (["verify"], ["fetch", "--accept", "--dry-run"], ["paths", "--split", "train"]):
        result = cli(*args, "--dest", str(tmp_path / ("x" * 300)))
        assert result.code == 2, (args, result.err)
        assert "File name too long" in result.err and "internal error" not in result.err


def test_r2_05_a_deeply_nested_lock_file_is_a_usage_error(good_zip: Path, tmp_path: Path) -> None:
    dest = tmp_path / "d"
    assert fetch("--from", str(good_zip), "--dest", str(dest)).code == 0
    deep = tmp_path / "deep.lock"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    for result in (
        cli("verify", "--dest", str(dest), "--lock", str(deep)),
        fetch("--from", str(good_zip), "--dest", str(dest), "--lock", str(deep)),
    ):
        assert result.code == 2 and "is not a bg20k lock file" in result.err, result.err


def test_r2_05_an_unreadable_split_folder_is_exit_7(
    good_zip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "d"
    assert fetch("--from", str(good_zip), "--dest", str(dest)).code == 0
    real_scandir = os.scandir

    def denied(path: object) -> object:  # what chmod 000 gives a normal user
        if str(path).endswith("/train"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[call-overload]

    monkeypatch.setattr("bg20k_fetch.dataset.verification.os.scandir", denied)
    before = snapshot(dest)
    for result in (
        cli("verify", "--dest", str(dest)),
        fetch("--from", str(good_zip), "--dest", str(dest)),
    ):
        assert result.code == 7, result.err
        assert "Cannot read" in result.err and "Permission denied" in result.err
    assert snapshot(dest) == before


@pytest.mark.slow
def test_r2_05_an_unreadable_split_folder_as_a_normal_user(
    good_zip: Path, small_release: Path
) -> None:
    import shutil
    import tempfile

    if os.getuid() != 0:
        pytest.skip("needs root to become another user")
    public = Path(tempfile.mkdtemp(prefix="bg20k-r2-"))
    try:
        source = public / "good.zip"
        source.write_bytes(good_zip.read_bytes())
        shutil.copytree(small_release.parent, public / "release")  # readable by the other user
        dest = public / "d"
        env = {
            **os.environ,
            "BG20K_CONFIG_DIR": str(public / "config"),
            "BG20K_CACHE_DIR": str(public / "cache"),
            "BG20K_RELEASE_FILE": str(public / "release" / small_release.name),
        }
        nobody = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
        bg20k = [*nobody, sys.executable, "-m", "bg20k_fetch"]
        public.chmod(0o777)
        subprocess.run(
            [*bg20k, "fetch", "--accept", "--from", str(source), "--dest", str(dest)],
            env=env, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        (dest / "BG-20k" / "train").chmod(0)
        for args in (["verify", "--dest", str(dest)], ["fetch", "--dest", str(dest)]):
            proc = subprocess.run(
                [*bg20k, *args], env=env, capture_output=True, text=True, timeout=120
            )
            assert proc.returncode == 7, proc.stderr
            assert "Permission denied" in proc.stderr and "internal error" not in proc.stderr
    finally:
        (public / "d" / "BG-20k" / "train").chmod(0o755)
        shutil.rmtree(public)


@pytest.mark.parametrize("url", ["", "file:///x", "s3://", "lab-data/x", "https://example.com/x"])
def test_r2_05_publish_to_what_is_not_a_bucket_is_a_usage_error(
    url: str, good_zip: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "d"
    assert fetch("--from", str(good_zip), "--dest", str(dest)).code == 0
    result = cli("publish", url, "--accept", "--dest", str(dest))
    assert result.code == 2, result.err
    (line,) = result.err.splitlines()
    assert "s3://" in line and "internal error" not in line


# -- item 6: a double fault in the swap ----------------------------------------------------------


def test_r2_06_a_swap_whose_put_back_fails_says_where_the_dataset_is(
    good_zip: Path, files: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "d"
    assert fetch("--source", str(good_zip), "--dest", str(dest)).code == 0
    before = snapshot(dest / "BG-20k")
    real_rename = os.rename

    def failing(src: object, dst: object) -> None:
        if Path(str(dst)) == dest / "BG-20k":  # into place, and back into place: both fail
            raise OSError(errno.EIO, "Input/output error")
        real_rename(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr("bg20k_fetch.fetching.install.os.rename", failing)
    result = fetch("--source", str(good_zip), "--dest", str(dest), "--force")
    assert result.code == 7, result.err
    (old,) = dest.glob(".BG-20k.old-*")
    line = result.err.splitlines()[-1]
    assert f"it is intact at {old}" in line and "unchanged" not in line
    assert snapshot(old) == before
    # The next run, still failing to put it back: one line, exit 7, the same place named.
    monkeypatch.setattr("bg20k_fetch.fetching.leftovers.os.rename", failing)
    monkeypatch.setattr("bg20k_fetch.fetching.leftovers.tag_is_dead", lambda tag: True)
    again = fetch("--source", str(good_zip), "--dest", str(dest))
    assert again.code == 7 and f"intact at {old}" in again.err, again.err
    monkeypatch.undo()
    monkeypatch.setattr("bg20k_fetch.fetching.leftovers.tag_is_dead", lambda tag: True)
    assert fetch("--source", str(good_zip), "--dest", str(dest)).code == 0
    assert snapshot(dest / "BG-20k") == before  # put back, and verified: nothing to do


# -- item 7: a dangling link ---------------------------------------------------------------------


def test_r2_07_a_dangling_link_whose_parent_exists_is_refused(
    good_zip: Path, tmp_path: Path
) -> None:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    dest = tmp_path / "d"
    dest.mkdir()
    (dest / "BG-20k").symlink_to(mnt / "nowhere")  # an unmounted disk's mount point
    for result in (
        fetch("--source", str(good_zip), "--dest", str(dest)),
        fetch("--source", str(good_zip), "--dest", str(dest), "--dry-run"),
    ):
        assert result.code == 7 and "which does not exist" in result.err, result.err
    assert not (mnt / "nowhere").exists()


# -- item 8: a failed source's cache -------------------------------------------------------------


def test_r2_08_a_failed_sources_archive_goes_after_another_source_succeeds(
    server: FileServer,
    files: dict[str, bytes],
    good_zip: Path,
    tmp_path: Path,
    isolated_env: dict[str, Path],
) -> None:
    short = zip_bytes({k: v for k, v in files.items() if k.startswith("train/")})
    server.routes["/short.zip"] = Behaviour(short)
    dest = tmp_path / "d"
    assert fetch("--source", server.url("/short.zip"), "--dest", str(dest)).code == 5
    assert any(n.endswith("short.zip") for n in cache_contents(isolated_env["cache"]))
    assert fetch("--source", str(good_zip), "--dest", str(dest)).code == 0
    assert cache_contents(isolated_env["cache"]) == []


def test_r2_08_an_archive_another_destination_still_waits_for_is_kept(
    server: FileServer,
    files: dict[str, bytes],
    good_zip: Path,
    tmp_path: Path,
    isolated_env: dict[str, Path],
) -> None:
    short = zip_bytes({k: v for k, v in files.items() if k.startswith("train/")})
    server.routes["/short.zip"] = Behaviour(short)
    for name in ("a", "b"):
        assert fetch("--source", server.url("/short.zip"), "--dest", str(tmp_path / name)).code == 5
    assert fetch("--source", str(good_zip), "--dest", str(tmp_path / "a")).code == 0
    kept = cache_contents(isolated_env["cache"])
    assert any(n.endswith("short.zip") for n in kept)  # b may still re-run with it
    assert fetch("--source", str(good_zip), "--dest", str(tmp_path / "b")).code == 0
    assert cache_contents(isolated_env["cache"]) == []


# -- item 10: what an interruption says ----------------------------------------------------------


def test_r2_10_an_interruption_before_any_download_does_not_claim_a_partial(
    tmp_path: Path, small_release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # Ctrl-C while the first request waits on a dead host

    monkeypatch.setattr("bg20k_fetch.sources.http_archive.remote_size", refused)
    result = fetch("--source", "http://127.0.0.1:9/x.zip", "--dest", str(tmp_path / "d"))
    assert result.code == 130
    line = result.err.splitlines()[-1]
    assert "nothing was downloaded by this run" in line and "partial" not in line


def test_r2_10_an_interruption_after_a_download_says_where_it_is_kept(
    server: FileServer,
    files: dict[str, bytes],
    tmp_path: Path,
    isolated_env: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server.routes["/x.zip"] = Behaviour(zip_bytes(files))

    def stop(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # Ctrl-C once the archive is down, while extracting

    monkeypatch.setattr("bg20k_fetch.fetching.staging.Staging.add_archive", stop)
    result = fetch("--source", server.url("/x.zip"), "--dest", str(tmp_path / "d"))
    assert result.code == 130
    line = result.err.splitlines()[-1]
    assert f"what this run downloaded is kept in {isolated_env['cache']}" in line


# -- item 11: devices and FIFOs ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["device", "fifo"])
@pytest.mark.parametrize("flag", ["--source", "--from"])
def test_r2_11_a_device_or_fifo_source_is_refused_at_once(
    kind: str, flag: str, tmp_path: Path, small_release: Path
) -> None:
    path = Path("/dev/zero")
    if kind == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
    for extra in ((), ("--dry-run",)):
        result = fetch(flag, str(path), "--dest", str(tmp_path / "d"), *extra)
        assert result.code == 2, result.err
        assert "neither a file nor a folder" in result.err


# -- item 12: lock files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ({"file_count": -1}, "file_count"),
        ({"complete": "yes"}, "complete must be true or false"),
        ({"digest": "NaN"}, "digest"),
        ({"dataset": "Other"}, "pins the dataset 'Other'"),
        ({"release": ""}, "release must be non-empty text"),
    ],
)
def test_r2_12_every_field_of_a_lock_file_is_checked(
    edit: dict[str, object], reason: str, good_zip: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "d"
    assert fetch("--from", str(good_zip), "--dest", str(dest)).code == 0
    lock = tmp_path / "bg20k.lock"
    assert cli("lock", "--dest", str(dest), "-o", str(lock)).code == 0
    lock.write_text(json.dumps(json.loads(lock.read_text()) | edit))
    result = cli("verify", "--dest", str(dest), "--lock", str(lock))
    assert result.code == 2 and reason in result.err, result.err


def test_r2_12_nan_in_a_lock_file_is_refused(good_zip: Path, tmp_path: Path) -> None:
    dest = tmp_path / "d"
    assert fetch("--from", str(good_zip), "--dest", str(dest)).code == 0
    lock = tmp_path / "bg20k.lock"
    assert cli("lock", "--dest", str(dest), "-o", str(lock)).code == 0
    lock.write_text(lock.read_text().replace('"complete": true', '"complete": NaN'))
    result = cli("verify", "--dest", str(dest), "--lock", str(lock))
    assert result.code == 2 and "NaN" in result.err


# -- item 13: small things -----------------------------------------------------------------------


def test_r2_13_an_empty_mirror_url_is_a_usage_error(
    good_zip: Path, tmp_path: Path, isolated_env: dict[str, Path]
) -> None:
    isolated_env["config"].mkdir()
    (isolated_env["config"] / "config.yaml").write_text('mirrors:\n  - url: ""\n')
    result = fetch("--dest", str(tmp_path / "d"))
    assert result.code == 2 and "mirrors.0.url: must not be empty" in result.err


def test_r2_13_a_sha256_pin_on_a_reused_dataset_is_checked(good_zip: Path, tmp_path: Path) -> None:
    import hashlib

    dest = tmp_path / "d"
    pin = hashlib.sha256(good_zip.read_bytes()).hexdigest()
    assert fetch("--source", str(good_zip), "--dest", str(dest)).code == 0
    same = fetch("--source", str(good_zip), "--dest", str(dest), "--sha256", pin)
    assert same.code == 0 and "already there and verified" in same.err  # built from it
    other = fetch("--source", str(good_zip), "--dest", str(dest), "--sha256", "0" * 64)
    assert other.code == 5 and "0" * 64 in other.err  # never "ready" unchecked
    assert "not built from the archive --sha256 pins" in other.err


def test_r2_13_dest_named_like_the_dataset_is_not_nested(good_zip: Path, tmp_path: Path) -> None:
    result = fetch("--source", str(good_zip), "--dest", str(tmp_path / "d" / "BG-20k"))
    assert result.code == 2 and f"Use --dest {tmp_path / 'd'}" in result.err
    assert not (tmp_path / "d").exists()


def test_r2_13_a_foreign_folder_named_like_a_swapped_out_tree_is_left_alone(
    good_zip: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "d"
    foreign = dest / f".BG-20k.old-{dead_pid()}@{this_host()}"
    foreign.mkdir(parents=True)
    (foreign / "mine.txt").write_text("mine")
    result = fetch("--source", str(good_zip), "--dest", str(dest))
    assert result.code == 0, result.err
    assert (foreign / "mine.txt").read_text() == "mine"
    assert "Left" in result.err and "not made by bg20k" in result.err
    assert not (dest / "BG-20k" / "mine.txt").exists()


def test_r2_13_a_staging_named_link_is_not_reported_removed(good_zip: Path, tmp_path: Path) -> None:
    dest = tmp_path / "d"
    dest.mkdir()
    (tmp_path / "elsewhere").mkdir()
    link = dest / f".BG-20k.staging-{dead_pid()}@{this_host()}"
    link.symlink_to(tmp_path / "elsewhere")
    result = fetch("--source", str(good_zip), "--dest", str(dest))
    assert result.code == 0, result.err
    assert link.is_symlink() and "Removed" not in result.err


def test_r2_13_a_killed_writers_temporary_file_goes_with_the_next_write(tmp_path: Path) -> None:
    refs = tmp_path / "refs.bib"
    torn = tmp_path / f".refs.bib.{dead_pid()}@{this_host()}.k3j4h5g6.tmp"
    torn.write_text("@article{half")
    live = tmp_path / f".refs.bib.{os.getppid()}@{this_host()}.a1b2c3d4.tmp"  # still running
    live.write_text("@article{busy")
    foreign = tmp_path / ".refs.bib.notes.tmp"
    foreign.write_text("someone else's")
    assert cli("cite", "-o", str(refs)).code == 0
    assert not torn.exists() and live.exists() and foreign.exists()


def test_r2_13_a_new_jpeg_in_the_users_split_still_travels_with_an_adopted_copy(
    good_zip: Path, tmp_path: Path
) -> None:
    t, _ = _adopted(tmp_path)
    (t / "BG-20k" / "train" / "h_mine.jpg").write_bytes(jpeg(999))
    result = fetch("--source", str(good_zip), "--dest", str(t), "--force")
    assert result.code == 0, result.err
    (kept,) = t.glob("BG-20k.kept-*")
    assert (kept / "train" / "h_mine.jpg").read_bytes() == jpeg(999)
