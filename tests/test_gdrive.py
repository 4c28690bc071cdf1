"""The Google Drive source, against the emulator on 127.0.0.1."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bg20k_fetch.gdrive.links import DriveLink, DriveUrls, parse_drive_link
from tests.data import SMALL, jpeg, make_tree, zip_bytes
from tests.fileserver import Behaviour, FileServer
from tests.gdrive_emulator import DriveEmulator, Options
from tests.helpers import cache_contents, run_bg20k

FID = "1ZBaMJxZtUNHIuGj8D8v3B9Adn8dbHwSS"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, bytes]:
    return make_tree(tmp_path / "orig", SMALL)


@pytest.fixture
def drive(monkeypatch: pytest.MonkeyPatch, small_release: Path) -> Iterator[DriveEmulator]:
    with DriveEmulator(Options(warn_size=4000)) as emulator:
        for name, value in emulator.env().items():
            monkeypatch.setenv(name, value)
        yield emulator


def fetch(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return run_bg20k("fetch", "--accept", *args, env=env)


def images(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.jpg")}


def provenance(dest: Path) -> dict[str, object]:
    data = yaml.safe_load((dest / "BG-20k" / "PROVENANCE.yaml").read_text())
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (f"https://drive.google.com/uc?id={FID}", DriveLink("file", FID)),
        (f"https://drive.google.com/uc?id={FID}&export=download", DriveLink("file", FID)),
        (f"https://drive.google.com/open?id={FID}", DriveLink("file", FID)),
        (f"https://drive.google.com/file/d/{FID}/view?usp=sharing", DriveLink("file", FID)),
        (f"https://drive.google.com/file/d/{FID}/edit", DriveLink("file", FID)),
        (f"https://drive.google.com/file/u/0/d/{FID}/view", DriveLink("file", FID)),
        (f"https://drive.google.com/drive/folders/{FID}", DriveLink("folder", FID)),
        (f"https://drive.google.com/drive/folders/{FID}?usp=sharing", DriveLink("folder", FID)),
        (f"https://drive.google.com/drive/u/1/folders/{FID}", DriveLink("folder", FID)),
        (f"gdrive:{FID}", DriveLink("file", FID)),
        (f"gdrive-folder:{FID}", DriveLink("folder", FID)),
        ("https://example.org/file/d/abcdefghijkl/view", None),
        ("https://drive.google.com/uc?id=../../etc", None),
        ("gdrive:x", None),
    ],
)
def test_link_forms(link: str, expected: DriveLink | None) -> None:
    urls = DriveUrls("https://drive.google.com", "https://u", "https://a", "https://api")
    assert parse_drive_link(link, urls) == expected


@pytest.mark.parametrize(
    "form",
    [
        "{b}/uc?id={i}",
        "{b}/uc?id={i}&export=download",
        "{b}/open?id={i}",
        "{b}/file/d/{i}/view?usp=sharing",
        "{b}/file/d/{i}/edit",
        "{b}/file/u/0/d/{i}/view",
        "gdrive:{i}",
    ],
)
def test_each_link_form_fetches_the_file(
    form: str, drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    archive = zip_bytes(files)
    file_id = drive.add_file("BG-20k.zip", archive)
    dest = tmp_path / "d"
    result = fetch("--source", form.format(b=drive.base_url, i=file_id), "--dest", str(dest))
    assert result.code == 0, result.err
    assert images(dest / "BG-20k") == files
    assert provenance(dest)["archives"][0]["sha256"] == hashlib.sha256(archive).hexdigest()


def test_small_file_comes_straight_back(drive: DriveEmulator, tmp_path: Path) -> None:
    drive.options.warn_size = 10**9
    small = make_tree(tmp_path / "o", SMALL)
    file_id = drive.add_file("BG-20k.zip", zip_bytes(small))
    assert fetch("--source", f"gdrive:{file_id}", "--dest", str(tmp_path / "d")).code == 0
    assert [p for p, _, _ in drive.log] == ["/uc", "/download"]


@pytest.mark.parametrize("shuffle", [False, True])
def test_large_file_behind_the_warning_form(
    shuffle: bool, drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    drive.options.shuffle_form = shuffle
    file_id = drive.add_file("BG-20k.zip", zip_bytes(files))
    result = fetch("--source", f"gdrive:{file_id}", "--dest", str(tmp_path / "d"))
    assert result.code == 0, result.err
    confirmed = [q for p, q, _ in drive.log if p == "/download" and "confirm=t" in q]
    assert confirmed and "uuid=" in confirmed[-1]


def test_resumed_large_file(drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path) -> None:
    archive = zip_bytes(files)
    drive.options.cut_after, drive.options.cut_count = len(archive) // 2, 1
    file_id = drive.add_file("BG-20k.zip", archive)
    result = fetch("--source", f"gdrive:{file_id}", "--dest", str(tmp_path / "d"))
    assert result.code == 0, result.err
    ranged = [h for p, q, h in drive.log if p == "/download" and "Range" in h]
    assert ranged and ranged[-1]["Range"] == f"bytes={len(archive) // 2}-"
    assert "If-Range" in ranged[-1]  # Last-Modified guards the resume
    uuids = {q.split("uuid=")[1] for p, q, _ in drive.log if "uuid=" in q}
    assert len(uuids) == 2  # the resume asked Drive for a fresh confirmation
    assert images(tmp_path / "d" / "BG-20k") == files


def test_uuidless_confirm_is_a_trap_never_saved_as_data(
    drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path, isolated_env: dict[str, Path]
) -> None:
    import requests

    file_id = drive.add_file("BG-20k.zip", zip_bytes(files))
    trap = requests.get(
        f"{drive.base_url}/download?id={file_id}&export=download&confirm=t", timeout=10
    )
    assert "Virus scan warning" in trap.text  # the emulator reproduces the 2024 behaviour
    drive.options.form_without_uuid = True
    result = fetch("--source", f"gdrive:{file_id}", "--dest", str(tmp_path / "d"))
    assert result.code == 4 and "kept asking to confirm" in result.err
    assert not any(p.stat().st_size for p in isolated_env["cache"].rglob("*") if p.is_file())
    assert not (tmp_path / "d" / "BG-20k").exists()


@pytest.mark.parametrize("status", [200, 403])
def test_quota(status: int, drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path) -> None:
    drive.options.quota_status = status
    file_id = drive.add_file("BG-20k.zip", zip_bytes(files), quota=True)
    result = fetch("--source", f"gdrive:{file_id}", "--dest", str(tmp_path / "d"))
    assert result.code == 4
    line = result.err.splitlines()[-1]
    assert "quota" in line and "--from" in line and "Baidu" in line


def test_not_shared_publicly(drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path) -> None:
    file_id = drive.add_file("BG-20k.zip", zip_bytes(files), private=True)
    result = fetch("--source", f"gdrive:{file_id}", "--dest", str(tmp_path / "d"))
    assert result.code == 4 and "not shared publicly" in result.err


def test_unknown_id(drive: DriveEmulator, tmp_path: Path) -> None:
    result = fetch("--source", "gdrive:doesnotexist123", "--dest", str(tmp_path / "d"))
    assert result.code == 4 and "no file with id doesnotexist123 (404)" in result.err


@pytest.mark.slow
def test_folder_of_thousands_with_several_jobs(
    drive: DriveEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers import write_release

    counts = {"train": 1500, "testval": 500}
    tree = {
        f"{split}/h_{n:08x}.jpg": jpeg(n)
        for split, c in counts.items()
        for n in range(sum(counts.values()))
        if (n < 1500) == (split == "train")
    }
    folder = drive.add_tree(tree)
    monkeypatch.setenv(
        "BG20K_RELEASE_FILE",
        str(write_release(tmp_path / "rel", counts=counts, official_folder=folder)),
    )
    # No --source: the official folder from the dataset description is the default.
    result = fetch("--dest", str(tmp_path / "d"), "--jobs", "8")
    assert result.code == 0, result.err
    assert images(tmp_path / "d" / "BG-20k") == tree
    assert provenance(tmp_path / "d")["served_by"] == f"gdrive-folder:{folder}"
    assert sum(drive.downloads.values()) == len(tree)
    assert "2000 of 2000 files" in result.err


def test_throttling_mid_folder_backs_off_and_completes(
    drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    drive.options.throttle_after, drive.options.throttle_count = 5, 6
    drive.options.retry_after = "1"
    folder = drive.add_tree(files)
    result = fetch("--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path / "d"))
    assert result.code == 0, result.err
    assert "HTTP 429" in result.err
    assert images(tmp_path / "d" / "BG-20k") == files
    # Backed off: after the last 429 (and the requests already on the wire when it left),
    # nothing was asked for until its Retry-After had passed …
    last = drive.throttled_at[-1]
    after = [t - last for t in drive.times if t > last + 0.1]
    assert after and min(after) >= 0.95
    # … and every file arrived exactly once, whatever was throttled on the way.
    assert sorted(drive.downloads.values()) == [1] * len(files)


def test_interrupted_folder_fetch_continues_without_refetching(
    drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    folder = drive.add_tree(files)
    stuck_path = sorted(files)[3]
    stuck = drive.file_id(stuck_path, folder)
    drive.nodes[stuck].quota = True
    first = fetch("--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path / "d"))
    assert first.code == 4
    last = first.err.splitlines()[-1]
    assert "over their download quota" in last and Path(stuck_path).name in last
    assert f"the other {len(files) - 1} of {len(files)} files are done and kept" in last
    assert "fetches only the missing files" in last
    done_before = dict(drive.downloads)
    assert len(done_before) == len(files) - 1 and stuck not in done_before
    drive.nodes[stuck].quota = False
    second = fetch("--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path / "d"))
    assert second.code == 0, second.err
    assert all(count == 1 for count in drive.downloads.values()), drive.downloads
    assert len(drive.downloads) == len(files)
    assert "already complete; continuing" in second.err


def test_html_where_a_jpeg_was_expected(
    drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    folder = drive.add_tree(files)
    bad = sorted(files)[1]
    drive.nodes[drive.file_id(bad, folder)].html_instead = True
    result = fetch("--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path / "d"))
    assert result.code == 5 and "HTML page" in result.err
    assert not (tmp_path / "d" / "BG-20k").exists()
    cached = list((tmp_path / "cache").rglob(Path(bad).name))
    assert cached == []  # never saved as data


def test_short_listing_is_reported_not_passed(
    drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    drive.options.listing_cap = 4
    folder = drive.add_tree(files)
    result = fetch("--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path / "d"))
    assert result.code == 5
    assert "listing holds 4 of 6 files for train/" in result.err
    assert not (tmp_path / "d" / "BG-20k").exists()


def test_same_digest_as_the_mirror_archive(
    drive: DriveEmulator, server: FileServer, files: dict[str, bytes], tmp_path: Path
) -> None:
    folder = drive.add_tree(dict(files) | {"README.txt": b"BG-20k"})
    server.routes["/BG-20k.zip"] = Behaviour(zip_bytes(files))
    a = fetch(
        "--source",
        f"{drive.base_url}/drive/folders/{folder}?usp=sharing",
        "--dest",
        str(tmp_path / "a"),
    )
    b = fetch("--source", server.url("/BG-20k.zip"), "--dest", str(tmp_path / "b"))
    assert a.code == 0 and b.code == 0, a.err + b.err
    assert provenance(tmp_path / "a")["digest"] == provenance(tmp_path / "b")["digest"]
    assert cache_contents(tmp_path / "cache") == []  # the folder cache is removed once verified


def test_folder_holding_archives(
    drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    names = sorted(files)
    folder = drive.add_folder("BG-20k")
    drive.add_file("part-001.zip", zip_bytes({n: files[n] for n in names[:5]}), folder)
    drive.add_file("part-002.zip", zip_bytes({n: files[n] for n in names[5:]}), folder)
    drive.add_file("readme.txt", b"hello", folder)
    result = fetch("--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path / "d"))
    assert result.code == 0, result.err
    assert images(tmp_path / "d" / "BG-20k") == files


def test_api_listing_with_a_key(
    drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    drive.options.api_key, drive.options.api_page_size = "k3y", 2
    folder = drive.add_tree(files)
    result = fetch(
        "--source",
        f"gdrive-folder:{folder}",
        "--dest",
        str(tmp_path / "d"),
        env={"BG20K_GDRIVE_API_KEY": "k3y"},
    )
    assert result.code == 0, result.err
    api_calls = [q for p, q, _ in drive.log if p == "/drive/v3/files"]
    assert any("pageToken" in q for q in api_calls)  # paged
    assert not any(p == "/embeddedfolderview" for p, _, _ in drive.log)
    assert images(tmp_path / "d" / "BG-20k") == files


def test_page_parsing_whatever_the_layout() -> None:
    from bg20k_fetch.gdrive.pages import (
        PageKind,
        classify,
        download_form,
        folder_entries,
        legacy_confirm_token,
    )

    page = (
        "<html><head><title>Google Drive - Virus scan warning</title></head><body>"
        "<FORM method='get'\n action='/download'\n id='download-form'>"
        "<input value='abc-123' type='hidden' name='uuid'/><input name=id type=hidden "
        "value=XYZ1234567890><input type='hidden' value=t name='confirm'>"
        "<input type='hidden' name='export' value='download'></FORM></body></html>"
    )
    form = download_form(page, "https://drive.usercontent.google.com/download?id=XYZ")
    assert classify(page) is PageKind.WARNING and form is not None
    assert form.action == "https://drive.usercontent.google.com/download"
    assert form.params == {
        "uuid": "abc-123",
        "id": "XYZ1234567890",
        "confirm": "t",
        "export": "download",
    }
    legacy = '<a href="/uc?export=download&amp;confirm=Ab3_x&amp;id=XYZ1234567890">Download</a>'
    assert legacy_confirm_token(legacy) == "Ab3_x"
    quota = "<title>Google Drive - Quota exceeded</title>"
    assert classify(quota) is PageKind.QUOTA
    assert classify("<title>Sign in - Google Accounts</title>") is PageKind.NEEDS_SIGN_IN
    listing = (
        '<div class="flip-entry" id="entry-AAAAAAAAAAAA"><a href="/drive/folders/AAAAAAAAAAAA">'
        '<div class="flip-entry-title">train</div></a></div>'
        '<div id="entry-BBBBBBBBBBBB" class="flip-entry x"><a href="/file/d/BBBBBBBBBBBB/view">'
        '<div class="flip-entry-title">a &amp; b.jpg</div></a></div>'
    )
    assert [(e.id, e.name, e.is_folder) for e in folder_entries(listing)] == [
        ("AAAAAAAAAAAA", "train", True),
        ("BBBBBBBBBBBB", "a & b.jpg", False),
    ]


def test_base_urls_from_the_config_file(
    drive: DriveEmulator,
    files: dict[str, bytes],
    tmp_path: Path,
    isolated_env: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in drive.env():
        monkeypatch.delenv(name)
    config = isolated_env["config"]
    config.mkdir(parents=True, exist_ok=True)
    base = drive.base_url
    (config / "config.yaml").write_text(
        yaml.safe_dump(
            {"gdrive": {"drive": base, "usercontent": base, "accounts": base, "api": base}}
        )
    )
    folder = drive.add_tree(files)
    result = fetch("--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path / "d"))
    assert result.code == 0, result.err
    assert images(tmp_path / "d" / "BG-20k") == files


def test_unreachable_drive_is_a_clean_exit_4(tmp_path: Path, small_release: Path) -> None:
    # The conftest points every Drive URL at a closed loopback port.
    result = fetch("--dest", str(tmp_path / "d"), env={"BG20K_RETRIES": "2"})
    assert result.code == 4, result.err
    last = result.err.splitlines()[-1]
    assert last.startswith("bg20k: error: Giving up on the listing of Drive folder")
    assert "cannot connect to 127.0.0.1:9" in last and "Traceback" not in result.err


@pytest.mark.parametrize(
    "name", ["automated queries.jpg", "need access.jpg", "Too many users have viewed or downloaded"]
)
def test_a_file_named_like_drives_refusals_is_listed_like_any_other(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listing page names every file in the folder: a name that reads like Drive's throttling
    or sign-in page is a file's name, not Drive refusing (it was retried as throttling)."""
    from bg20k_fetch.gdrive.listing import list_folder
    from bg20k_fetch.progress import NullReporter
    from bg20k_fetch.transfer.http import make_session

    with DriveEmulator(Options()) as drive:
        for variable, value in drive.env().items():
            monkeypatch.setenv(variable, value)
        folder = drive.add_tree({f"train/{name}": jpeg(1), "train/a.jpg": jpeg(2)})
        listed = list_folder(make_session(), DriveUrls.resolve(), folder, NullReporter())
    assert sorted(f.path for f in listed) == sorted([f"train/{name}", "train/a.jpg"])
