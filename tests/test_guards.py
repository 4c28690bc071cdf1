"""Tests that catch the one-line bugs a mutation probe found the suite missing.

Each test is named for the bug it guards against; docs/testing.md lists the bug, how it was
planted, and this test failing on it. All in-process: the fast layer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from bg20k_fetch.transfer.resume import Verdict, judge
from tests.data import SMALL, make_tree, zip_bytes
from tests.fileserver import Behaviour, FileServer
from tests.gdrive_emulator import DriveEmulator, Options
from tests.helpers import AGREEMENT_SHA256, cli

SHA = AGREEMENT_SHA256


@pytest.fixture
def files(tmp_path: Path, small_release: Path) -> dict[str, bytes]:
    return make_tree(tmp_path / "orig", SMALL)


@pytest.fixture
def drive(monkeypatch: pytest.MonkeyPatch, small_release: Path) -> Iterator[DriveEmulator]:
    with DriveEmulator(Options(warn_size=4000)) as emulator:
        for name, value in emulator.env().items():
            monkeypatch.setenv(name, value)
        yield emulator


# -- pins ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_full_pin_differing_after_its_first_20_digits_is_refused(
    how: str, isolated_env: dict[str, Path]
) -> None:
    pin = SHA[:20] + ("0" if SHA[20] != "0" else "1") + SHA[21:]
    assert len(pin) == 64 and pin != SHA
    if how == "flag":
        result = cli("accept", "--yes", "--agreement-sha256", pin)
    else:
        result = cli("accept", env={"BG20K_ACCEPT_AGREEMENT": pin})
    assert result.code == 3, result.err
    assert pin in result.err and SHA in result.err
    assert not (isolated_env["config"] / "consent.yaml").exists()


def test_pin_prefix_that_differs_in_its_last_digit_is_refused(
    isolated_env: dict[str, Path],
) -> None:
    pin = SHA[:15] + ("0" if SHA[15] != "0" else "1")
    assert cli("accept", "--yes", "--agreement-sha256", pin).code == 3


def test_environment_yes_accepts_and_no_refuses(
    tmp_path: Path, files: dict[str, bytes], isolated_env: dict[str, Path]
) -> None:
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    args = ("fetch", "--from", str(tmp_path / "a.zip"), "--dest", str(tmp_path / "d"))
    for value in ("no", "NO", "0", "false"):
        refused = cli(*args, env={"BG20K_ACCEPT_AGREEMENT": value})
        assert refused.code == 3, (value, refused.err)
    assert not (isolated_env["config"] / "consent.yaml").exists()
    for value in ("yes", "YES", " yes "):
        accepted = cli("accept", env={"BG20K_ACCEPT_AGREEMENT": value})
        assert accepted.code == 0, (value, accepted.err)
        assert "by environment" in accepted.err
        assert cli("revoke").code == 0
    assert cli(*args, env={"BG20K_ACCEPT_AGREEMENT": "yes"}).code == 0


def test_environment_value_that_is_neither_is_a_usage_error(isolated_env: dict[str, Path]) -> None:
    result = cli("accept", env={"BG20K_ACCEPT_AGREEMENT": "maybe"})
    assert result.code == 2
    assert "BG20K_ACCEPT_AGREEMENT='maybe' is neither 'yes' nor an agreement digest" in result.err
    assert not (isolated_env["config"] / "consent.yaml").exists()


# -- resume --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "content_range", "offset", "saved", "conditional", "verdict", "why"),
    [
        (200, None, 0, None, False, Verdict.FROM_ZERO, "ok"),
        (200, None, 500, 1000, False, Verdict.FROM_ZERO, "sent the whole file"),  # never append
        (200, None, 0, None, True, Verdict.FROM_ZERO, "ok"),  # changed since: fetch it anew
        (206, "bytes 500-999/1000", 500, 1000, False, Verdict.CONTINUE, "continues the file"),
        (
            206,
            "bytes 0-999/1000",
            500,
            1000,
            False,
            Verdict.RESTART,
            "answered a range from byte 0, not 500",
        ),  # wrong start
        (
            206,
            "bytes 400-999/1000",
            500,
            1000,
            False,
            Verdict.RESTART,
            "answered a range from byte 400, not 500",
        ),
        (
            206,
            "bytes 500-1999/2000",
            500,
            1000,
            False,
            Verdict.RESTART,
            "now has 2000 bytes, not 1000",
        ),  # another total
        (
            206,
            "bytes 500-999/*",
            500,
            1000,
            False,
            Verdict.RESTART,
            "now has an unknown number of bytes, not 1000",
        ),  # total unknown now
        (
            206,
            None,
            500,
            1000,
            False,
            Verdict.RESTART,
            "answered 206 without a valid Content-Range",
        ),
        (206, "bytes 0-99/1000", 0, None, False, Verdict.CONTINUE, "continues the file"),
        (
            206,
            "bytes 10-99/1000",
            0,
            None,
            False,
            Verdict.RESTART,
            "answered a range from byte 10, not 0",
        ),
        (
            416,
            "bytes */1000",
            1000,
            1000,
            False,
            Verdict.RESTART,
            "answered 416 Range Not Satisfiable",
        ),
        (304, None, 0, None, True, Verdict.REUSE, "not modified"),
        (304, None, 0, None, False, Verdict.FAIL, "answered HTTP 304"),  # to a plain request
        (404, None, 0, None, False, Verdict.FAIL, "answered HTTP 404"),
        (403, None, 500, 1000, False, Verdict.FAIL, "answered HTTP 403"),
    ],
)
def test_judge_each_answer(
    status: int,
    content_range: str | None,
    offset: int,
    saved: int | None,
    conditional: bool,
    verdict: Verdict,
    why: str,
) -> None:
    got = judge(status, content_range, offset=offset, saved_total=saved, conditional=conditional)
    assert got == (verdict, why)


def test_a_request_is_not_conditional_unless_said() -> None:
    assert judge(304, None, offset=0, saved_total=None)[0] is Verdict.FAIL


@pytest.mark.parametrize("bad", ["start", "total"])
def test_resume_refuses_a_206_that_does_not_continue_the_file(
    bad: str, server: FileServer, files: dict[str, bytes], tmp_path: Path
) -> None:
    archive = zip_bytes(files)
    server.routes["/x.zip"] = Behaviour(
        archive, cut_after=[len(archive) // 2], bad_range=bad, chunk=512
    )
    result = cli("fetch", "--accept", "--source", server.url("/x.zip"), "--dest", str(tmp_path))
    requests = server.requests_for("/x.zip")
    assert "Range" in requests[1].headers  # the resume was asked for …
    assert "starting this file again" in result.err  # … refused, and the file restarted
    assert result.code == 0, result.err
    provenance = (tmp_path / "BG-20k" / "PROVENANCE.yaml").read_text()
    assert hashlib.sha256(archive).hexdigest() in provenance  # never a glued file


# -- the JPEG check ------------------------------------------------------------------------------


def _bad_jpegs(files: dict[str, bytes]) -> tuple[dict[str, bytes], str, str]:
    names = sorted(n for n in files if n.startswith("train/"))
    bad = dict(files)
    bad[names[0]] = files[names[0]][:-2]  # truncated: no end marker
    bad[names[1]] = b"\x00\x00JFIF" + files[names[1]][3:]  # no start marker, end marker kept
    return bad, names[0], names[1]


def test_truncated_jpeg_and_headless_jpeg_in_an_archive(
    files: dict[str, bytes], tmp_path: Path
) -> None:
    bad, truncated, headless = _bad_jpegs(files)
    (tmp_path / "a.zip").write_bytes(zip_bytes(bad))
    result = cli("fetch", "--accept", "--from", str(tmp_path / "a.zip"), "--dest", str(tmp_path))
    assert result.code == 5 and "2 damaged" in result.err
    problems = (tmp_path / "BG-20k.problems.txt").read_text()
    assert truncated in problems and headless in problems


def test_truncated_jpeg_and_headless_jpeg_in_a_drive_folder(
    drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    bad, truncated, headless = _bad_jpegs(files)
    folder = drive.add_tree(bad)
    result = cli(
        "fetch", "--accept", "--source", f"gdrive-folder:{folder}", "--dest", str(tmp_path)
    )
    assert result.code == 5, result.err
    problems = (tmp_path / "BG-20k.problems.txt").read_text()
    assert truncated in problems and headless in problems
    assert not (tmp_path / "BG-20k").exists()


# -- verify --------------------------------------------------------------------------------------


def test_verify_compares_the_manifest_with_the_recorded_digest(
    files: dict[str, bytes], tmp_path: Path
) -> None:
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    assert cli("fetch", "--accept", "--from", str(tmp_path / "a.zip"), "--dest", str(tmp_path))
    manifest = tmp_path / "BG-20k" / "MANIFEST.sha256"
    lines = manifest.read_text().splitlines(keepends=True)
    digest, rest = lines[0].split("  ", 1)
    lines[0] = ("0" * 64 if digest != "0" * 64 else "1" * 64) + "  " + rest
    manifest.write_text("".join(lines))  # same paths, same sizes: only the digest can tell
    result = cli("verify", "--dest", str(tmp_path))
    assert result.code == 5
    assert f"{manifest} does not match the digest in PROVENANCE.yaml." in result.err


# -- the Drive confirmation form -----------------------------------------------------------------


def test_form_parser_takes_only_the_download_forms_inputs(
    drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    drive.options.decoy_forms = True
    file_id = drive.add_file("BG-20k.zip", zip_bytes(files))
    result = cli("fetch", "--accept", "--source", f"gdrive:{file_id}", "--dest", str(tmp_path))
    assert result.code == 0, result.err
    (confirm,) = [q for p, q, _ in drive.log if p == "/download" and "confirm=t" in q]
    params = dict(pair.split("=", 1) for pair in confirm.split("&"))
    # The form's four inputs, and bg20k's own request for English pages.
    assert set(params) == {"id", "export", "confirm", "uuid", "hl"} and params["hl"] == "en"
    assert params["uuid"] != "decoy" and params["confirm"] == "t"


# -- --jobs --------------------------------------------------------------------------------------


def test_jobs_means_files_in_flight_at_once(
    drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    drive.options.latency = 0.05  # each body takes a while, so workers overlap
    folder = drive.add_tree(files)
    args = ("fetch", "--accept", "--source", f"gdrive-folder:{folder}")
    assert cli(*args, "--dest", str(tmp_path / "a"), "--jobs", "4").code == 0
    assert drive.max_in_flight > 1
    drive.max_in_flight = 0
    assert cli(*args, "--dest", str(tmp_path / "b"), "--jobs", "1", "--force").code == 0
    assert drive.max_in_flight == 1


# -- the whole-folder pause after a 429 ----------------------------------------------------------


def test_a_429_pauses_every_worker_for_its_retry_after(
    drive: DriveEmulator, files: dict[str, bytes], tmp_path: Path
) -> None:
    """One 429 to one worker: the other worker, which Drive did not answer so, must wait too
    (its own retry policy would never make it)."""
    drive.options.throttle_after, drive.options.throttle_count = 6, 1  # after the listing
    drive.options.retry_after = "1"
    drive.options.latency = 0.05  # so files are still to come when the 429 is sent
    folder = drive.add_tree(files)
    args = ("fetch", "--accept", "--source", f"gdrive-folder:{folder}", "--jobs", "2")
    result = cli(*args, "--dest", str(tmp_path))
    assert result.code == 0, result.err
    (throttled,) = drive.throttled_at
    # The emulator's own clock: beyond what was already on the wire when the 429 left, no
    # request arrived until its Retry-After had passed — from either worker.
    later = [t - throttled for t in drive.times if t > throttled + 0.1]
    assert later and min(later) >= 0.95
