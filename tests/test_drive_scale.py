"""Google Drive as it behaves at scale (issue 26), against the emulator: a quota block on the
whole client that lifts, or outlasts the budget; one file's lasting quota; Google's "automated
queries" page; a file deleted since the listing; localised pages; the 2025 form; the newer
sign-in; and a signed-in way through with the user's own cookies, sent to Drive and nowhere
else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.data import jpeg, zip_bytes
from tests.fileserver import Behaviour, FileServer
from tests.gdrive_emulator import DriveEmulator, Options
from tests.helpers import cli, write_release

COUNTS = {"train": 48, "testval": 12}
SECRET = "sEcReT-cookie-value-77"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    monkeypatch.setenv("BG20K_RELEASE_FILE", str(write_release(tmp_path / "rel", counts=COUNTS)))
    files, n = {}, 0
    for split, count in COUNTS.items():
        for _ in range(count):
            files[f"{split}/h_{n:08x}.jpg"] = jpeg(n)
            n += 1
    return files


@pytest.fixture
def drive(monkeypatch: pytest.MonkeyPatch) -> Iterator[DriveEmulator]:
    from bg20k_fetch.gdrive.throttle import Throttle

    # The block's first pause, short for the tests (4 s in real use); it still doubles.
    monkeypatch.setattr(Throttle, "BLOCK_BASE", 0.4)
    with DriveEmulator(Options(warn_size=10**9)) as emulator:
        for name, value in emulator.env().items():
            monkeypatch.setenv(name, value)
        yield emulator


def fetch(folder: str, dest: Path, *extra: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return cli(
        "fetch", "--accept", "--source", f"gdrive-folder:{folder}", "--dest", str(dest), *extra,
        env=env,
    )  # fmt: skip


def test_d26_a_block_of_the_whole_client_is_waited_out_and_the_run_finishes(
    drive: DriveEmulator, tree: dict[str, bytes], tmp_path: Path
) -> None:
    drive.options.block_after, drive.options.block_seconds = 10, 1.0
    folder = drive.add_tree(tree)
    result = fetch(folder, tmp_path / "d")
    assert result.code == 0, result.err
    assert "blocking this client" in result.err and "one file at a time" in result.err
    assert drive.blocked_requests <= 30  # not the other fifty fired into the block
    assert sorted(drive.downloads.values()) == [1] * len(tree)  # each file came down once
    assert cli("verify", "--dest", str(tmp_path / "d"), "--deep").code == 0


def test_d26_a_block_that_outlasts_the_budget_stops_within_it_and_a_rerun_continues(
    drive: DriveEmulator, tree: dict[str, bytes], tmp_path: Path
) -> None:
    import time

    drive.options.block_after, drive.options.block_seconds = 10, 3600.0
    folder = drive.add_tree(tree)
    started = time.monotonic()
    result = fetch(folder, tmp_path / "d", env={"BG20K_THROTTLE_BUDGET": "1"})
    assert time.monotonic() - started < 1 + 5  # within the budget, and slack for the fetch
    assert result.code == 4, result.err
    line = result.err.splitlines()[-1]
    assert "longer than BG20K_THROTTLE_BUDGET (1 s)" in line and f"of {len(tree)} files" in line
    assert "--cookies FILE" in line and "--from" in line and "continues" in line
    done = dict(drive.downloads)
    drive.options.block_after = None  # it lifted
    again = fetch(folder, tmp_path / "d")
    assert again.code == 0, again.err
    assert all(drive.downloads[i] == 1 for i in done)  # nothing fetched twice


def test_d26_a_budget_bounds_429s_without_retry_after_too(
    drive: DriveEmulator, tree: dict[str, bytes], tmp_path: Path
) -> None:
    import time

    drive.options.throttle_after, drive.options.throttle_count = 5, 10_000
    drive.options.retry_after = None
    folder = drive.add_tree(tree)
    started = time.monotonic()
    result = fetch(folder, tmp_path / "d", env={"BG20K_THROTTLE_BUDGET": "2"})
    assert result.code == 4 and "BG20K_THROTTLE_BUDGET (2 s)" in result.err, result.err
    # Within the budget: no pause is begun that would pass it, and no file's own retries
    # come on top (a few seconds of slack for the fetch itself on a loaded machine).
    assert time.monotonic() - started < 2 + 8


def test_d26_one_files_lasting_quota_is_set_aside_while_the_others_finish(
    drive: DriveEmulator, tree: dict[str, bytes], tmp_path: Path
) -> None:
    folder = drive.add_tree(tree)
    stuck = sorted(tree)[5]
    drive.nodes[drive.file_id(stuck, folder)].quota = True
    result = fetch(folder, tmp_path / "d", env={"BG20K_THROTTLE_BUDGET": "0"})
    assert result.code == 4
    last = result.err.splitlines()[-1]
    assert Path(stuck).name in last and "over their download quota" in last
    assert "pause" not in result.err and len(drive.downloads) == len(tree) - 1


def test_d26_the_automated_queries_page_is_throttling_not_a_private_file(
    drive: DriveEmulator, tree: dict[str, bytes], tmp_path: Path
) -> None:
    drive.options.sorry_after, drive.options.sorry_count = 12, 3
    folder = drive.add_tree(tree)
    result = fetch(folder, tmp_path / "d")
    assert result.code == 0, result.err
    assert len(drive.throttled_at) == 3  # three sorry pages, each waited out and asked again
    assert "not shared" not in result.err


def test_d26_a_file_deleted_since_the_listing_does_not_stop_the_folder(
    drive: DriveEmulator, tree: dict[str, bytes], tmp_path: Path
) -> None:
    folder = drive.add_tree(tree)
    gone = sorted(tree)[3]
    drive.nodes[drive.file_id(gone, folder)].gone = True
    result = fetch(folder, tmp_path / "d")
    assert result.code == 4
    last = result.err.splitlines()[-1]
    assert "would not serve 1 file(s)" in last and Path(gone).name in last
    assert len(drive.downloads) == len(tree) - 1  # every other file came down


def test_d26_german_pages_are_read_by_their_markup(
    drive: DriveEmulator, tree: dict[str, bytes], tmp_path: Path
) -> None:
    drive.options.locale, drive.options.ignore_hl = "de", True
    drive.options.warn_size = 10  # every file asks to confirm, in German
    folder = drive.add_tree(tree)
    stuck = sorted(tree)[7]
    drive.nodes[drive.file_id(stuck, folder)].quota = True
    result = fetch(folder, tmp_path / "d")
    assert result.code == 4
    assert "over their download quota" in result.err and Path(stuck).name in result.err
    assert len(drive.downloads) == len(tree) - 1  # the German warning form was followed


def test_d26_every_request_asks_for_english(
    drive: DriveEmulator, tree: dict[str, bytes], tmp_path: Path
) -> None:
    drive.options.warn_size = 10
    folder = drive.add_tree(dict(list(tree.items())[:6]))
    fetch(folder, tmp_path / "d", "--allow-partial")
    queries = [q for p, q, _ in drive.log if p in ("/embeddedfolderview", "/download", "/uc")]
    assert queries and all("hl=en" in q for q in queries)


def test_d26_the_2025_form_keeps_every_input_and_merges_the_actions_query(
    drive: DriveEmulator, tree: dict[str, bytes], tmp_path: Path
) -> None:
    drive.options.warn_size, drive.options.form_extras = 10, True
    archive = zip_bytes(tree)
    file_id = drive.add_file("BG-20k.zip", archive)
    result = cli(
        "fetch", "--accept", "--source", f"gdrive:{file_id}", "--dest", str(tmp_path / "d")
    )
    assert result.code == 0, result.err
    confirmed = [q for p, q, _ in drive.log if p == "/download" and "uuid=" in q]
    assert confirmed and all(
        all(f"{k}=" in q for k in ("at", "authuser", "usp", "confirm", "uuid")) for q in confirmed
    )
    assert all(q.count("?") == 0 for q in confirmed)  # one query, merged


def test_d26_the_newer_sign_in_page_means_not_shared(
    drive: DriveEmulator, tree: dict[str, bytes], tmp_path: Path
) -> None:
    drive.options.signin_v3 = True
    file_id = drive.add_file("BG-20k.zip", zip_bytes(tree), private=True)
    result = cli(
        "fetch", "--accept", "--source", f"gdrive:{file_id}", "--dest", str(tmp_path / "d")
    )
    assert result.code == 4 and "not shared publicly" in result.err


# -- the signed-in way through -------------------------------------------------------------------


def cookies_file(tmp_path: Path, domain: str = "127.0.0.1") -> Path:
    path = tmp_path / "cookies.txt"
    subdomains = "TRUE" if domain.startswith(".") else "FALSE"
    path.write_text(
        "# Netscape HTTP Cookie File\n"
        f"{domain}\t{subdomains}\t/\tFALSE\t4102444800\tSID\t{SECRET}\n"
        f"{domain}\t{subdomains}\t/\tFALSE\t4102444800\tHSID\tother-{SECRET}\n"
    )
    return path


def test_d26_cookies_get_through_a_block_and_leak_nowhere(
    drive: DriveEmulator, tree: dict[str, bytes], tmp_path: Path
) -> None:
    drive.options.block_after, drive.options.block_seconds = 5, 3600.0
    folder = drive.add_tree(tree)
    cookies = cookies_file(tmp_path)
    result = fetch(folder, tmp_path / "d", "--cookies", str(cookies), "--json")
    assert result.code == 0, result.err
    assert drive.blocked_requests == 0  # signed in: never blocked
    downloads = [h for p, _, h in drive.log if p == "/download"]
    assert downloads and all(f"SID={SECRET}" in h.get("Cookie", "") for h in downloads)
    assert "your own Google account" in result.out + result.err
    status = cli("--debug", "status")
    everything = result.out + result.err + status.out + status.err
    written = [p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and p != cookies]
    assert SECRET not in everything and not any(SECRET.encode() in b for b in written)


def test_d26_a_dry_run_says_whose_account_the_cookies_are(
    drive: DriveEmulator, tree: dict[str, bytes], tmp_path: Path
) -> None:
    folder = drive.add_tree(tree)
    cookies = cookies_file(tmp_path)
    result = fetch(folder, tmp_path / "d", "--cookies", str(cookies), "--dry-run")
    assert result.code == 0, result.err
    assert f"Cookies:     {cookies} (Drive sees your own Google account)" in result.out
    assert SECRET not in result.out + result.err


def test_d26_cookies_never_follow_a_redirect_to_another_host(tmp_path: Path) -> None:
    from bg20k_fetch.gdrive.cookies import DriveCookies
    from bg20k_fetch.gdrive.links import DriveUrls
    from bg20k_fetch.transfer.http import get, make_session

    with FileServer() as drive_host, FileServer() as elsewhere:
        elsewhere.routes["/file"] = Behaviour(b"data")
        drive_host.routes["/uc"] = Behaviour(b"", redirect=elsewhere.url("/file"))
        urls = DriveUrls(drive_host.url(""), drive_host.url(""), drive_host.url(""), "http://x")
        jar = DriveCookies.load(cookies_file(tmp_path))
        response = get(
            make_session(), drive_host.url("/uc"), cookie=lambda u: jar.header(u, urls.drive_hosts)
        )
        assert response.content == b"data"
        assert SECRET in drive_host.requests_for("/uc")[0].headers.get("Cookie", "")
        assert "Cookie" not in elsewhere.requests_for("/file")[0].headers


@pytest.mark.parametrize(
    ("text", "why"),
    [("not a cookie file\n", "not a Netscape cookies.txt"), (None, "No such file or directory")],
)
def test_d26_a_cookies_file_that_is_not_one_is_a_usage_error(
    text: str | None, why: str, tmp_path: Path
) -> None:
    path = tmp_path / "cookies.txt"
    if text is not None:
        path.write_text(text)
    for extra in ((), ("--dry-run",)):
        result = cli("fetch", "--accept", "--cookies", str(path), "--dest", str(tmp_path), *extra)
        assert result.code == 2 and why in result.err, result.err


def test_d26_cookies_go_only_to_drives_hosts_and_matching_domains(tmp_path: Path) -> None:
    from bg20k_fetch.gdrive.cookies import DriveCookies

    jar = DriveCookies.load(cookies_file(tmp_path, domain=".google.com"))
    hosts = frozenset({"drive.google.com", "drive.usercontent.google.com"})
    assert SECRET in (jar.header("https://drive.usercontent.google.com/download?id=x", hosts) or "")
    assert jar.header("https://accounts.google.com/ServiceLogin", hosts) is None
    assert jar.header("https://www.googleapis.com/drive/v3/files", hosts) is None
    assert jar.header("https://mirror.example/BG-20k.zip", hosts) is None
    assert SECRET not in repr(jar)
