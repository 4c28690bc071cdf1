"""Hostile inputs beyond archives: sources that are not archives, Drive listings with names
meant to escape, every damaged state file, full disks, and secrets that must never leak.

Each ends in a documented exit code with one line, never a traceback or a hang (pytest-timeout
turns a hang into a failure), and never changes what it should not.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.data import SMALL, jpeg, make_tree, zip_bytes
from tests.fileserver import Behaviour, FileServer
from tests.gdrive_emulator import DriveEmulator, Options
from tests.helpers import cli

DOCUMENTED = {0, 2, 3, 4, 5, 6, 7, 130, 143}


@pytest.fixture
def files(tmp_path: Path, small_release: Path) -> dict[str, bytes]:
    return make_tree(tmp_path / "orig", SMALL)


@pytest.fixture
def good_zip(tmp_path: Path, files: dict[str, bytes]) -> Path:
    (tmp_path / "good.zip").write_bytes(zip_bytes(files))
    return tmp_path / "good.zip"


@pytest.fixture
def drive(monkeypatch: pytest.MonkeyPatch, small_release: Path) -> Iterator[DriveEmulator]:
    with DriveEmulator(Options(warn_size=10**9)) as emulator:
        for name, value in emulator.env().items():
            monkeypatch.setenv(name, value)
        yield emulator


def one_clean_line(err: str) -> str:
    assert "Traceback" not in err
    last = err.rstrip("\n").splitlines()[-1]
    assert last.startswith("bg20k: error: ") and "internal error" not in last
    return last


# -- sources that are not archives ----------------------------------------------------------------

NOT_ARCHIVES = {
    "html": b"<!DOCTYPE html><html><head><title>Error 500</title></head></html>",
    "empty": b"",
    "random": random.Random(7).randbytes(5000),
    "truncated deflate": None,  # a real zip, cut in the middle of a member
    "zip header only": b"PK\x03\x04" + b"\0" * 100,
    "gzip garbage": b"\x1f\x8b" + random.Random(8).randbytes(300),
}


@pytest.mark.parametrize("kind", list(NOT_ARCHIVES))
@pytest.mark.parametrize("where", ["http", "local"])
def test_a_source_that_is_not_an_archive(
    kind: str,
    where: str,
    server: FileServer,
    files: dict[str, bytes],
    good_zip: Path,
    tmp_path: Path,
) -> None:
    data = NOT_ARCHIVES[kind]
    if data is None:
        data = zip_bytes(files)[: len(zip_bytes(files)) // 2]
    if where == "http":
        server.routes["/x.zip"] = Behaviour(data)
        source = server.url("/x.zip")
    else:
        (tmp_path / "x.zip").write_bytes(data)
        source = str(tmp_path / "x.zip")
    dest = tmp_path / "d"
    result = cli("fetch", "--accept", "--source", source, "--dest", str(dest))
    assert result.code in (4, 5), result.err
    one_clean_line(result.err)
    assert not (dest / "BG-20k").exists()
    # … and a good source after it still wins.
    both = cli("fetch", "--source", source, "--source", str(good_zip), "--dest", str(dest))
    assert both.code == 0, both.err


# -- Drive listings meant to escape ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../../escape.jpg", "a/../../b.jpg", "/etc/passwd", "..", ".", "x" * 10_000, "\x00.jpg"],
)
def test_drive_names_never_become_paths_outside_the_cache(
    name: str, drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    folder = drive.add_tree(files)
    train = drive.file_id("train", folder)
    drive.add_file(name, jpeg(77), train)
    before = set(tmp_path.rglob("*"))
    result = cli(
        "fetch", "--accept", "--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path / "d")
    )
    # Neutralised names are either ignored (a dotfile, a name that is no image: exit 0) or
    # count as an extra image (exit 5); what matters is where bytes may land.
    assert result.code in DOCUMENTED, result.err
    if result.code:
        one_clean_line(result.err)
    created = set(tmp_path.rglob("*")) - before
    allowed = (tmp_path / "d", tmp_path / "cache", tmp_path / "config")
    assert [p for p in created if not any(a == p or a in p.parents for a in allowed)] == []
    assert not Path("/etc/passwd.part").exists()


def test_a_folder_view_that_is_not_a_listing(
    drive: DriveEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = drive.add_folder("BG-20k")
    broken = '<div class="flip-entry" id="entry-<<<'
    monkeypatch.setattr(drive, "_folder_view", lambda h, q: _reply_html(h, broken))
    result = cli(
        "fetch", "--accept", "--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path)
    )
    assert result.code == 5, result.err  # an empty listing can never be a complete dataset
    one_clean_line(result.err)


def _reply_html(h: object, page: str) -> None:
    from tests.fileserver import reply

    reply(h, 200, page.encode(), "text/html")  # type: ignore[arg-type]


def test_a_folder_that_contains_itself(drive: DriveEmulator, tmp_path: Path) -> None:
    folder = drive.add_folder("BG-20k")
    drive.nodes[folder].children.append(folder)  # a cycle: Drive allows shortcuts like this
    result = cli(
        "fetch", "--accept", "--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path)
    )
    assert result.code in (4, 5), result.err
    one_clean_line(result.err)


@pytest.mark.slow
def test_a_listing_of_100000_entries(drive: DriveEmulator, tmp_path: Path) -> None:
    folder = drive.add_folder("BG-20k")
    train = drive.add_folder("train", folder)
    for n in range(100_000):
        drive.add_file(f"h_{n:08x}.jpg", b"\xff\xd8\xff\xd9", train)
    result = cli(
        "fetch",
        "--accept",
        "--dry-run",
        "--source",
        f"gdrive-folder:{folder}",
        "--dest",
        str(tmp_path),
    )
    assert result.code == 0, result.err
    # Listing it is bounded work; fetching 100,000 files is not tried here.
    from bg20k_fetch.gdrive.links import DriveUrls
    from bg20k_fetch.gdrive.listing import list_folder
    from bg20k_fetch.progress import NullReporter
    from bg20k_fetch.transfer.http import make_session

    listed = list_folder(make_session(), DriveUrls.resolve(), folder, NullReporter())
    assert len(listed) == 100_000


# -- damaged state files -------------------------------------------------------------------------

BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "j: [*i, *i, *i, *i, *i, *i, *i, *i, *i, *i]\n"
)

DAMAGE: dict[str, bytes | str] = {
    "empty": b"",
    "binary": b"\xff\xfe\x00\x81\x00binary",
    "wrong types": b"- 1\n- 2\n",
    "python tag": b"x: !!python/object/apply:os.system ['echo pwned']\n",
    "alias bomb": BOMB.encode(),
    "huge": b"a: " + b"x" * (2 << 20) + b"\n",
    "directory": "dir",
    "fifo": "fifo",
    "symlink to /dev/zero": "zero",
}


def _damage(path: Path, how: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError, IsADirectoryError):
        path.unlink()
    if how == "dir":
        path.mkdir()
    elif how == "fifo":
        os.mkfifo(path)
    elif how == "zero":
        path.symlink_to("/dev/zero")
    else:
        assert isinstance(how, bytes)
        path.write_bytes(how)


@pytest.mark.parametrize("how", list(DAMAGE))
def test_damaged_consent_record_is_never_consent(how: str, isolated_env: dict[str, Path]) -> None:
    _damage(isolated_env["config"] / "consent.yaml", DAMAGE[how])
    status = cli("status", "--json")
    assert status.code == 0, status.err
    assert json.loads(status.out)["in_force"] is False
    fetch = cli("fetch", "--from", str(isolated_env["config"]))
    assert fetch.code == 3
    one_clean_line(fetch.err)


@pytest.mark.parametrize("how", list(DAMAGE))
def test_damaged_config_file_is_a_usage_error(
    how: str, isolated_env: dict[str, Path], good_zip: Path, tmp_path: Path
) -> None:
    if how in ("empty",):
        pytest.skip("an empty config file is an empty config: nothing configured")
    _damage(isolated_env["config"] / "config.yaml", DAMAGE[how])
    result = cli("fetch", "--accept", "--from", str(good_zip), "--dest", str(tmp_path / "d"))
    assert result.code == 2, result.err
    assert "config.yaml" in one_clean_line(result.err)


@pytest.mark.parametrize("how", list(DAMAGE))
def test_damaged_history_is_shown_or_refused(how: str, isolated_env: dict[str, Path]) -> None:
    _damage(isolated_env["config"] / "consent-history.jsonl", DAMAGE[how])
    shown = cli("history", "--json")
    assert shown.code in (0, 7), shown.err
    if shown.code == 0:
        events = json.loads(shown.out)
        assert all(e["event"] == "damaged" for e in events)
    else:
        one_clean_line(shown.err)
    accepted = cli("accept", "--yes")
    assert accepted.code in (0, 7), accepted.err
    status = json.loads(cli("status", "--json").out)
    assert status["in_force"] is (accepted.code == 0)  # what was said is what is on disk


@pytest.mark.parametrize("how", list(DAMAGE))
def test_damaged_lock_file_is_a_usage_error(
    how: str, good_zip: Path, tmp_path: Path, isolated_env: dict[str, Path]
) -> None:
    lock = tmp_path / "bg20k.lock"
    _damage(lock, DAMAGE[how])
    result = cli(
        "fetch", "--accept", "--from", str(good_zip), "--dest", str(tmp_path), "--lock", str(lock)
    )
    assert result.code == 2, result.err
    one_clean_line(result.err)
    assert not (tmp_path / "BG-20k").exists()


@pytest.mark.parametrize("name", ["MANIFEST.sha256", "PROVENANCE.yaml", "SIZES.json"])
@pytest.mark.parametrize("how", list(DAMAGE))
def test_damaged_receipts_fail_verify_and_are_rebuilt(
    name: str, how: str, good_zip: Path, tmp_path: Path
) -> None:
    assert cli("fetch", "--accept", "--from", str(good_zip), "--dest", str(tmp_path)).code == 0
    _damage(tmp_path / "BG-20k" / name, DAMAGE[how])
    verify = cli("verify", "--dest", str(tmp_path))
    assert verify.code == 5, verify.err
    one_clean_line(verify.err)
    rebuilt = cli("fetch", "--from", str(good_zip), "--dest", str(tmp_path))
    assert rebuilt.code == 0, rebuilt.err
    assert cli("verify", "--dest", str(tmp_path), "--deep").code == 0


def test_an_unreadable_consent_record(
    isolated_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root can read anything, so "no permission" is simulated where the file is opened."""
    assert cli("accept", "--yes").code == 0
    record = isolated_env["config"] / "consent.yaml"
    real_open = os.open

    def denied(path: object, *args: object, **kwargs: object) -> int:
        if Path(str(path)) == record:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", denied)
    data = json.loads(cli("status", "--json").out)
    assert data["in_force"] is False and "Permission denied" in data["detail"]


# -- full disks ----------------------------------------------------------------------------------


@contextlib.contextmanager
def small_filesystem(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` at ``path``: a disk that really fills. Needs root."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root (CI runs as root)")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _padded(files: dict[str, bytes], pad: int) -> dict[str, bytes]:
    return {k: v + b"\0" * pad for k, v in files.items()}  # padding after FF D9 is allowed


@pytest.mark.slow
def test_disk_full_during_download(
    server: FileServer, files: dict[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import zipfile

    out = io.BytesIO()  # stored, not deflated: padding would otherwise compress away
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for name, data in _padded(files, 8000).items():
            zf.writestr("BG-20k/" + name, data)
    archive = out.getvalue()
    server.routes["/x.zip"] = Behaviour(archive, head_without_length=True)
    with small_filesystem(tmp_path / "cache-fs", "32k") as cache:
        monkeypatch.setenv("BG20K_CACHE_DIR", str(cache))
        result = cli(
            "fetch", "--accept", "--source", server.url("/x.zip"), "--dest", str(tmp_path / "d")
        )
        assert result.code == 7, result.err
        assert "Cannot write" in one_clean_line(result.err)
        assert not (tmp_path / "d" / "BG-20k").exists()


@pytest.mark.slow
@pytest.mark.parametrize(("size", "phase"), [("24k", "extraction"), ("48k", "receipts")])
def test_disk_full_during_extraction_and_receipts(
    size: str, phase: str, good_zip: Path, tmp_path: Path
) -> None:
    # tmpfs gives each file at least one 4 KiB page: 9 images need 36 KiB, receipts 5 more.
    with small_filesystem(tmp_path / "dest-fs", size) as dest:
        result = cli("fetch", "--accept", "--from", str(good_zip), "--dest", str(dest))
        assert result.code == 7, (phase, result.err)
        one_clean_line(result.err)
        assert not (dest / "BG-20k").exists()
        assert not list(dest.glob(".BG-20k.*"))  # the staging tree is gone too


def test_file_size_limit_during_download_is_exit_7(
    server: FileServer, files: dict[str, bytes], tmp_path: Path, small_release: Path
) -> None:
    """Without root: RLIMIT_FSIZE makes the download's write fail (EFBIG) in a real process."""
    server.routes["/x.zip"] = Behaviour(zip_bytes(_padded(files, 50_000)))
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))\n"
        "from bg20k_fetch.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "fetch",
            "--accept",
            "--source",
            server.url("/x.zip"),
            "--dest",
            str(tmp_path / "d"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 7, proc.stderr
    assert "Cannot write" in one_clean_line(proc.stderr)


# -- secrets -------------------------------------------------------------------------------------


def _everything_written(*roots: Path) -> str:
    text = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                text.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(text)


def test_secrets_never_appear_in_any_output_or_file(
    server: FileServer,
    drive: DriveEmulator,
    files: dict[str, bytes],
    tmp_path: Path,
    isolated_env: dict[str, Path],
) -> None:
    secrets = ["AIzaSECRETdriveKEY", "mirr0rPa55", "pr0xyPa55"]
    server.routes["/x.zip"] = Behaviour(zip_bytes(files))
    host = server.base_url.split("://")[1]
    outputs = []
    # A mirror with credentials in its URL: once failing, once serving.
    for path in ("/gone.zip", "/x.zip"):
        url = f"http://reader:{secrets[1]}@{host}{path}"
        outputs.append(
            cli("fetch", "--accept", "--json", "--source", url, "--dest", str(tmp_path / "m"))
        )
    # The Drive API with a key: refused (403), then listing through a dead host.
    drive.options.api_key = "another-key"
    folder = drive.add_tree(files)
    outputs.append(
        cli(
            "fetch",
            "--source",
            f"gdrive-folder:{folder}",
            "--dest",
            str(tmp_path / "g"),
            env={"BG20K_GDRIVE_API_KEY": secrets[0]},
        )
    )
    outputs.append(
        cli(
            "fetch",
            "--source",
            f"gdrive-folder:{folder}",
            "--dest",
            str(tmp_path / "g"),
            env={
                "BG20K_GDRIVE_API_KEY": secrets[0],
                "BG20K_GDRIVE_API_URL": "http://127.0.0.1:9",
                "BG20K_RETRIES": "2",
            },
        )
    )
    # A proxy with credentials that refuses.
    outputs.append(
        cli(
            "fetch",
            "--source",
            "http://mirror.invalid/x.zip",
            "--dest",
            str(tmp_path / "p"),
            env={"HTTP_PROXY": f"http://alice:{secrets[2]}@127.0.0.1:9", "BG20K_RETRIES": "1"},
        )
    )
    assert outputs[1].code == 0, outputs[1].err  # the mirror with credentials did serve
    said = "\n".join(r.out + r.err for r in outputs)
    written = _everything_written(
        tmp_path / "m",
        tmp_path / "g",
        tmp_path / "p",
        isolated_env["config"],
        isolated_env["cache"],
    )
    for secret in secrets:
        assert secret not in said, secret
        assert secret not in written, secret
    assert "***@" in said  # the credentials were there, and masked
