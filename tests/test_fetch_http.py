"""End-to-end fetches from a real HTTP server on 127.0.0.1, through the real command."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.data import SMALL, make_tree, tar_bytes, zip_bytes
from tests.fileserver import Behaviour, FileServer
from tests.helpers import cache_contents, parse_bibtex, run_bg20k


@pytest.fixture
def files(tmp_path: Path) -> dict[str, bytes]:
    return make_tree(tmp_path / "original", SMALL)


def fetch(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return run_bg20k("fetch", "--accept", *args, env=env)


def assert_dataset(root: Path, files: dict[str, bytes]) -> dict[str, object]:
    for rel, data in files.items():
        assert (root / rel).read_bytes() == data
    images = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.jpg"))
    assert images == sorted(files)
    check = subprocess.run(
        ["sha256sum", "-c", "--strict", "MANIFEST.sha256"], cwd=root, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    provenance = yaml.safe_load((root / "PROVENANCE.yaml").read_text())
    assert isinstance(provenance, dict)
    return provenance


def test_clean_fetch_end_to_end(
    server: FileServer,
    files: dict[str, bytes],
    small_release: Path,
    isolated_env: dict[str, Path],
    tmp_path: Path,
) -> None:
    archive = zip_bytes(files)
    server.routes["/BG-20k.zip"] = Behaviour(archive)
    dest = tmp_path / "dest"
    result = fetch("--source", server.url("/BG-20k.zip"), "--dest", str(dest))
    assert result.code == 0, result.err
    root = dest / "BG-20k"
    provenance = assert_dataset(root, files)
    assert provenance["complete"] is True
    assert provenance["served_by"] == server.url("/BG-20k.zip")
    assert provenance["counts"] == SMALL
    assert provenance["archives"][0]["sha256"] == hashlib.sha256(archive).hexdigest()
    manifest = (root / "MANIFEST.sha256").read_bytes()
    assert provenance["digest"] == hashlib.sha256(manifest).hexdigest()
    # The compliance trail travels with the images.
    agreement = next(root.glob("*Release_Agreement.md")).read_bytes()
    assert hashlib.sha256(agreement).hexdigest() == provenance["agreement_sha256"]
    consent = yaml.safe_load((root / "CONSENT.yaml").read_text())
    assert consent["method"] == "flag" and consent["status"] == "accepted"
    bib = parse_bibtex((root / "CITATION.bib").read_text())
    assert "li2022bridging" in bib.entries
    # One line of progress log at most every few seconds, no control characters.
    assert "\x1b" not in result.err and "\r" not in result.err
    assert "ready at" in result.err and provenance["digest"] in result.err
    # The archive is removed once the dataset is verified, and nothing is left in the cache.
    assert cache_contents(isolated_env["cache"]) == []
    # The consent record remembers where the data went (status and revocation name it).
    assert f"data fetched under it: {root}" in run_bg20k("status").out
    revoked = run_bg20k("revoke")
    assert str(root) in revoked.err


def test_same_digest_whatever_the_packing(
    server: FileServer,
    files: dict[str, bytes],
    small_release: Path,
    tmp_path: Path,
    isolated_env: dict[str, Path],
) -> None:
    server.routes["/a.zip"] = Behaviour(zip_bytes(files, prefix="BG-20k/"))
    server.routes["/b.tar.gz"] = Behaviour(tar_bytes(files, prefix="some/where/BG-20k/"))
    server.routes["/c"] = Behaviour(tar_bytes(files, prefix="", mode="w"))  # train/ at the top
    digests = []
    for name in ("/a.zip", "/b.tar.gz", "/c"):
        dest = tmp_path / name.strip("/").replace(".", "_")
        result = fetch("--source", server.url(name), "--dest", str(dest), "--keep-archive")
        assert result.code == 0, result.err
        digests.append(assert_dataset(dest / "BG-20k", files)["digest"])
    assert len(set(digests)) == 1
    kept = sorted(
        n.split("-", 1)[1]
        for n in cache_contents(isolated_env["cache"])
        if not n.endswith(".done.json")  # the record that lets a later run reuse the file
    )
    assert kept == ["a.zip", "b.tar.gz", "c"]  # --keep-archive kept every download


def test_resume_after_connection_cut(
    server: FileServer, files: dict[str, bytes], small_release: Path, tmp_path: Path
) -> None:
    archive = zip_bytes(files)
    cut = len(archive) // 2
    server.routes["/BG-20k.zip"] = Behaviour(archive, cut_after=[cut], chunk=1024)
    result = fetch("--source", server.url("/BG-20k.zip"), "--dest", str(tmp_path / "d"))
    assert result.code == 0, result.err
    first, second = server.requests_for("/BG-20k.zip")
    assert "Range" not in first.headers
    assert second.headers["Range"] == f"bytes={cut}-"
    assert second.headers["If-Range"].startswith('"')
    assert second.headers["Accept-Encoding"] == "identity"
    assert_dataset(tmp_path / "d" / "BG-20k", files)


def test_server_ignoring_range_restarts_cleanly(
    server: FileServer, files: dict[str, bytes], small_release: Path, tmp_path: Path
) -> None:
    archive = zip_bytes(files)
    server.routes["/x.zip"] = Behaviour(
        archive, cut_after=[len(archive) // 3], honour_range=False, chunk=1024
    )
    result = fetch("--source", server.url("/x.zip"), "--dest", str(tmp_path / "d"))
    assert result.code == 0, result.err
    provenance = assert_dataset(tmp_path / "d" / "BG-20k", files)
    # A 200 to a Range request was written from the start, never appended.
    assert provenance["archives"][0]["size"] == len(archive)


def test_416_discards_the_part(
    server: FileServer, files: dict[str, bytes], small_release: Path, tmp_path: Path
) -> None:
    archive = zip_bytes(files)
    server.routes["/x.zip"] = Behaviour(archive, cut_after=[100], always_416=True, chunk=50)
    result = fetch("--source", server.url("/x.zip"), "--dest", str(tmp_path / "d"))
    assert result.code == 0, result.err
    reqs = server.requests_for("/x.zip")
    assert "Range" in reqs[1].headers and "Range" not in reqs[2].headers
    assert_dataset(tmp_path / "d" / "BG-20k", files)


def test_429_and_503_honour_retry_after(
    server: FileServer, files: dict[str, bytes], small_release: Path, tmp_path: Path
) -> None:
    server.routes["/x.zip"] = Behaviour(zip_bytes(files), statuses=[(429, "1"), (503, "1")])
    result = fetch("--source", server.url("/x.zip"), "--dest", str(tmp_path / "d"))
    assert result.code == 0, result.err
    assert "HTTP 429" in result.err and "HTTP 503" in result.err
    first, second, third = (r.at for r in server.requests_for("/x.zip"))
    # The server's own clock: each retry waited what it asked for, not BG20K_BACKOFF's 0.05 s.
    assert second - first >= 0.95 and third - second >= 0.95


def test_wrong_content_length_gives_up_cleanly(
    server: FileServer,
    files: dict[str, bytes],
    small_release: Path,
    tmp_path: Path,
    isolated_env: dict[str, Path],
) -> None:
    server.routes["/x.zip"] = Behaviour(zip_bytes(files), declared_extra=100, honour_range=False)
    result = fetch(
        "--source", server.url("/x.zip"), "--dest", str(tmp_path / "d"), env={"BG20K_RETRIES": "3"}
    )
    assert result.code == 4
    assert server.url("/x.zip") in result.err and "3 attempts" in result.err
    assert result.err.splitlines()[-1].startswith("bg20k: error: Giving up")
    assert "the connection broke after" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "d" / "BG-20k").exists()
    leftovers = cache_contents(isolated_env["cache"])
    # The part, its record, and the mark that keeps it for this destination's next run.
    assert all(name.endswith((".part", ".part.json", ".failed-for.json")) for name in leftovers)


def test_html_instead_of_archive(
    server: FileServer, small_release: Path, tmp_path: Path, isolated_env: dict[str, Path]
) -> None:
    page = (
        b"<!DOCTYPE html><html><head><title>Google Drive - Quota exceeded</title></head>"
        b"<body>Too many users have viewed or downloaded this file recently.</body></html>"
    )
    server.routes["/x.zip"] = Behaviour(page, content_type="text/html")
    result = fetch("--source", server.url("/x.zip"), "--dest", str(tmp_path / "d"))
    assert result.code == 5
    assert "'Google Drive - Quota exceeded'" in result.err
    assert cache_contents(isolated_env["cache"]) == []
    assert not (tmp_path / "d" / "BG-20k").exists()


def test_pinned_sha256_mismatch_leaves_nothing(
    server: FileServer,
    files: dict[str, bytes],
    small_release: Path,
    tmp_path: Path,
    isolated_env: dict[str, Path],
) -> None:
    server.routes["/x.zip"] = Behaviour(zip_bytes(files))
    result = fetch(
        "--source", server.url("/x.zip"), "--sha256", "ab" * 32, "--dest", str(tmp_path / "d")
    )
    assert result.code == 5 and "ab" * 32 in result.err
    assert cache_contents(isolated_env["cache"]) == []
    assert not (tmp_path / "d" / "BG-20k").exists()


def test_failover_to_the_second_source(
    server: FileServer, files: dict[str, bytes], small_release: Path, tmp_path: Path
) -> None:
    server.routes["/good.zip"] = Behaviour(zip_bytes(files))
    dead, good = server.url("/gone.zip"), server.url("/good.zip")
    result = fetch("--source", dead, "--source", good, "--dest", str(tmp_path / "d"))
    assert result.code == 0, result.err
    assert f"Source {dead} failed" in result.err and "HTTP 404" in result.err
    provenance = assert_dataset(tmp_path / "d" / "BG-20k", files)
    assert provenance["served_by"] == good
    assert provenance["failed_sources"][0]["source"] == dead


def test_every_source_failing_reports_the_last(
    server: FileServer, small_release: Path, tmp_path: Path
) -> None:
    server.routes["/b.zip"] = Behaviour(b"<html><title>Mirror is down</title></html>")
    result = fetch(
        "--source",
        server.url("/a.zip"),
        "--source",
        server.url("/b.zip"),
        "--dest",
        str(tmp_path / "d"),
    )
    last = result.err.splitlines()[-1]
    # The last source's own failure decides the exit code (5: HTML instead of data) …
    assert result.code == 5
    assert "All 2 sources failed; the last, " + server.url("/b.zip") in last
    assert "'Mirror is down'" in last  # … and its error is named, not the first one's
    assert f"Source {server.url('/a.zip')} failed" in result.err and "HTTP 404" in result.err


def test_already_complete_is_a_no_op(
    server: FileServer, files: dict[str, bytes], small_release: Path, tmp_path: Path
) -> None:
    server.routes["/x.zip"] = Behaviour(zip_bytes(files))
    args = ("--source", server.url("/x.zip"), "--dest", str(tmp_path / "d"))
    assert fetch(*args).code == 0
    seen = len(server.log)
    again = fetch(*args)
    assert again.code == 0 and "already there" in again.err
    assert len(server.log) == seen  # no network traffic at all
    forced = fetch(*args, "--force")
    assert forced.code == 0 and len(server.log) > seen


def test_short_dataset_needs_allow_partial(
    server: FileServer, files: dict[str, bytes], small_release: Path, tmp_path: Path
) -> None:
    short = {k: v for k, v in files.items() if not k.startswith("testval/")}
    server.routes["/x.zip"] = Behaviour(zip_bytes(short))
    args = ("--source", server.url("/x.zip"), "--dest", str(tmp_path / "d"), "--keep-archive")
    result = fetch(*args)
    assert result.code == 5 and "testval: 0/3" in result.err
    problems = tmp_path / "d" / "BG-20k.problems.txt"
    assert "missing 3 file(s) in testval/" in problems.read_text()
    assert not (tmp_path / "d" / "BG-20k").exists()
    partial = fetch(*args, "--allow-partial")
    assert partial.code == 0 and "PARTIAL" in partial.err
    provenance = yaml.safe_load((tmp_path / "d" / "BG-20k" / "PROVENANCE.yaml").read_text())
    assert provenance["complete"] is False
    verified = run_bg20k("verify", "--dest", str(tmp_path / "d"))
    assert verified.code == 0 and "PARTIAL" in verified.err


def test_html_named_jpg_is_caught(
    server: FileServer, files: dict[str, bytes], small_release: Path, tmp_path: Path
) -> None:
    bad = dict(files)
    bad["train/h_00000001.jpg"] = b"<html><title>Sign in</title></html>"
    server.routes["/x.zip"] = Behaviour(zip_bytes(bad))
    result = fetch("--source", server.url("/x.zip"), "--dest", str(tmp_path / "d"))
    assert result.code == 5 and "1 damaged" in result.err
    problems = (tmp_path / "d" / "BG-20k.problems.txt").read_text()
    assert "train/h_00000001.jpg" in problems


def test_dry_run_writes_nothing(
    server: FileServer,
    files: dict[str, bytes],
    small_release: Path,
    tmp_path: Path,
    isolated_env: dict[str, Path],
) -> None:
    archive = zip_bytes(files)
    server.routes["/x.zip"] = Behaviour(archive)
    dest = tmp_path / "d"
    result = run_bg20k(
        "fetch",
        "--accept",
        "--dry-run",
        "--source",
        server.url("/x.zip"),
        "--dest",
        str(dest),
        "--json",
    )
    assert result.code == 0, result.err
    plan = json.loads(result.out)
    assert "would record" in plan["consent"]
    assert plan["sources"][0]["source"] == server.url("/x.zip")
    assert server.log == []  # consent is not in force yet: no connection at all
    assert not dest.exists() and not (isolated_env["config"] / "consent.yaml").exists()

    assert run_bg20k("accept", "--yes").code == 0
    human = run_bg20k("fetch", "--dry-run", "--source", server.url("/x.zip"), "--dest", str(dest))
    assert human.code == 0, human.err
    assert f"{len(archive)} bytes" in human.out and "bytes free" in human.out
    assert [r.method for r in server.log] == ["HEAD"] and not dest.exists()


def test_not_enough_disk_stops_before_downloading(
    server: FileServer,
    files: dict[str, bytes],
    small_release: Path,
    tmp_path: Path,
    isolated_env: dict[str, Path],
) -> None:
    server.routes["/x.zip"] = Behaviour(zip_bytes(files))
    url = server.url("/x.zip")
    config = isolated_env["config"]
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.yaml").write_text(yaml.safe_dump({"mirrors": [{"url": url, "size": 10**16}]}))
    dry = run_bg20k("fetch", "--accept", "--dry-run", "--dest", str(tmp_path / "d"))
    assert dry.code == 7 and "NOT ENOUGH" in dry.out
    real = fetch("--dest", str(tmp_path / "d"))
    assert real.code == 7 and "Not enough free disk" in real.err
    assert [r for r in server.log if r.method == "GET"] == []


@pytest.mark.slow
def test_workstation_journey_on_a_terminal(
    server: FileServer, files: dict[str, bytes], small_release: Path, tmp_path: Path
) -> None:
    import pexpect

    from tests.helpers import spawn_bg20k

    server.routes["/x.zip"] = Behaviour(zip_bytes(files))
    child = spawn_bg20k("fetch", "--source", server.url("/x.zip"), "--dest", str(tmp_path / "d"))
    child.expect("Indemnification")
    child.expect("to accept this agreement")
    assert server.log == []  # nothing is fetched while the person reads
    child.sendline("I agree")
    child.expect("by prompt")
    child.expect("ready at")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert_dataset(tmp_path / "d" / "BG-20k", files)


def test_json_events_for_machines(
    server: FileServer, files: dict[str, bytes], small_release: Path, tmp_path: Path
) -> None:
    server.routes["/x.zip"] = Behaviour(zip_bytes(files))
    result = fetch("--source", server.url("/x.zip"), "--dest", str(tmp_path / "d"), "--json")
    assert result.code == 0, result.err
    events = [json.loads(line) for line in result.out.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "note" and "Accepted" in events[0]["message"]
    assert "phase" in kinds and "progress" in kinds
    done = events[-1]
    assert done["event"] == "done" and done["complete"] is True
    assert done["path"] == str(tmp_path / "d" / "BG-20k") and len(done["digest"]) == 64


def test_quiet_prints_only_the_result(
    server: FileServer, files: dict[str, bytes], small_release: Path, tmp_path: Path
) -> None:
    server.routes["/x.zip"] = Behaviour(zip_bytes(files))
    assert run_bg20k("accept", "--yes").code == 0
    result = run_bg20k(
        "fetch", "--quiet", "--source", server.url("/x.zip"), "--dest", str(tmp_path / "d")
    )
    assert result.code == 0 and result.out == ""
    assert result.err.count("\n") == 1 and "ready at" in result.err


def test_a_mislabelled_or_unreadable_archive(
    server: FileServer, files: dict[str, bytes], small_release: Path, tmp_path: Path
) -> None:
    # A zip named .tar.gz is recognised by its bytes ...
    server.routes["/wrong-name.tar.gz"] = Behaviour(zip_bytes(files))
    ok = fetch("--source", server.url("/wrong-name.tar.gz"), "--dest", str(tmp_path / "a"))
    assert ok.code == 0, ok.err
    # ... and a truncated gzip gets one clear line, not tarfile's multi-line report.
    server.routes["/broken.tar.gz"] = Behaviour(tar_bytes(files)[:300])
    bad = fetch("--source", server.url("/broken.tar.gz"), "--dest", str(tmp_path / "b"))
    assert bad.code == 5
    last = bad.err.splitlines()[-1]
    assert last.startswith("bg20k: error:") and "not a readable archive" in last
