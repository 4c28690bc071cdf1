"""Object storage, round 2: a lab's bucket against moto's real S3 server on 127.0.0.1.

Item 1: a silent endpoint fails in seconds, naming it. 2: a publish never deletes or overwrites
objects it did not write. 3: one publisher at a time. 4: bad targets are one line. 5: a damaged
copy can be repaired. 6: a lock is checked before the download. 7: the optional split in a lab.
10-13: what is printed, the API, help texts, dry run and JSON.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.data import SMALL, jpeg, make_tree, zip_bytes
from tests.helpers import cli
from tests.s3server import NEEDS_STORE, dataset, keys, s3_env, with_denoise

pytestmark = NEEDS_STORE


# -- item 1: a silent endpoint -------------------------------------------------------------------


@pytest.fixture
def silent() -> Iterator[str]:
    """A socket that accepts connections and never answers a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.mark.parametrize(
    "args",
    [
        ["verify", "s3://lab-data/d/BG-20k"],
        ["verify", "s3://lab-data/d/BG-20k", "--deep"],
        ["fetch", "--accept", "--source", "s3://lab-data/d/BG-20k"],
        ["publish", "s3://lab-data/d", "--accept"],
    ],
    ids=lambda a: a[0] + (" --deep" if "--deep" in a else ""),
)
def test_s2_01_a_silent_endpoint_is_exit_4_in_seconds(
    args: list[str], silent: str, local: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in s3_env(silent).items():
        monkeypatch.setenv(name, value)
    extra = ["--dest", str(local if args[0] == "publish" else tmp_path / "n")]
    started = time.monotonic()
    result = cli(*args, *([] if args[0] == "verify" else extra), env={"BG20K_TIMEOUT": "0.5"})
    assert time.monotonic() - started < 20  # two attempts of half a second, not minutes
    assert result.code == 4, result.err
    line = result.err.splitlines()[-1]
    assert f"The object store at {silent} did not answer within 0.5 s" in line


# -- item 2: objects bg20k did not write ----------------------------------------------------------


def test_s2_02_a_prefix_of_someone_elses_is_refused_and_untouched(
    bucket: str, local: Path, s3: Any
) -> None:
    s3.put_object(Bucket=bucket, Key="other/ds/BG-20k/train/foreign.jpg", Body=jpeg(77))
    s3.put_object(Bucket=bucket, Key="other/ds/BG-20k/readme.txt", Body=b"theirs")
    before = keys(s3, bucket)
    result = cli("publish", f"s3://{bucket}/other/ds", "--dest", str(local))
    assert result.code == 7, result.err
    assert "2 object(s) bg20k did not publish" in result.err and "--force" in result.err
    assert keys(s3, bucket) == before
    forced = cli("publish", f"s3://{bucket}/other/ds", "--dest", str(local), "--force")
    assert forced.code == 0, forced.err
    after = keys(s3, bucket)
    assert {k: v for k, v in after.items() if k in before} == before  # never deleted, never changed
    assert "2 object(s) of others left alone" in forced.out
    # Theirs is not part of the dataset, and verify says so instead of hiding it.
    assert "added" in cli("verify", f"s3://{bucket}/other/ds/BG-20k").err


def test_s2_02_an_object_of_someone_elses_where_bg20k_would_write_is_never_replaced(
    bucket: str, local: Path, s3: Any
) -> None:
    s3.put_object(Bucket=bucket, Key="p/BG-20k/README.md", Body=b"their card")
    for extra in ((), ("--force",)):
        result = cli("publish", f"s3://{bucket}/p", "--dest", str(local), *extra)
        assert result.code == 7 and "README.md" in result.err, result.err
    assert keys(s3, bucket) == {"p/BG-20k/README.md": b"their card"}


def test_s2_02_what_a_killed_publish_wrote_is_proven_ours_by_its_journal(
    bucket: str, local: Path, tmp_path: Path, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bg20k_fetch.storage import store as objectstore

    url = f"s3://{bucket}/j"
    real_put, calls = objectstore.Store.put, {"n": 0}

    def crashing(self: Any, local_path: str, rel: str, sha256: str) -> None:
        calls["n"] += 1
        if calls["n"] > 4:
            raise SystemExit(137)
        real_put(self, local_path, rel, sha256)

    monkeypatch.setattr(objectstore.Store, "put", crashing)
    with pytest.raises(SystemExit):
        cli("publish", url, "--dest", str(local), "--jobs", "1")
    monkeypatch.setattr(objectstore.Store, "put", real_put)
    assert "j/BG-20k/.bg20k-publish-journal" in keys(s3, bucket)
    other = dataset(tmp_path, "other", start=300)  # another dataset, into the same prefix
    result = cli("publish", url, "--dest", str(other))
    assert result.code == 0, result.err  # nothing foreign there: the journal proves it
    images = {k for k in keys(s3, bucket) if k.endswith(".jpg")}
    assert len(images) == sum(SMALL.values())  # the killed publish's images went, as ours
    assert "j/BG-20k/.bg20k-publish-journal" not in keys(s3, bucket)
    assert cli("verify", f"{url}/BG-20k", "--deep").code == 0


# -- item 3: one publisher at a time -------------------------------------------------------------


def _lease(s3: Any, bucket: str, prefix: str, owner: str, expires: float) -> None:
    body = {"owner": owner, "since": "2026-12-03T00:00:00+00:00", "expires": expires}
    s3.put_object(Bucket=bucket, Key=f"{prefix}/BG-20k/.bg20k-publish-lease", Body=json.dumps(body))


def test_s2_03_a_live_publishers_lease_refuses_a_second_one(
    bucket: str, local: Path, s3: Any
) -> None:
    from bg20k_fetch.util.procs import HOST

    owner = f"{os.getppid()}@{HOST}"  # a process that is alive
    _lease(s3, bucket, "r", owner, time.time() + 600)
    result = cli("publish", f"s3://{bucket}/r", "--dest", str(local))
    assert result.code == 7 and f"Another publish ({owner}" in result.err
    assert set(keys(s3, bucket)) == {"r/BG-20k/.bg20k-publish-lease"}  # nothing uploaded


@pytest.mark.parametrize("why", ["expired", "dead"])
def test_s2_03_a_lease_nobody_holds_any_more_is_taken_over(
    why: str, bucket: str, local: Path, s3: Any
) -> None:
    from bg20k_fetch.util.procs import HOST
    from tests.test_safety_dataset import dead_pid

    if why == "expired":
        _lease(s3, bucket, "t", "1@elsewhere", time.time() - 1)
    else:
        _lease(s3, bucket, "t", f"{dead_pid()}@{HOST}", time.time() + 600)
    result = cli("publish", f"s3://{bucket}/t", "--dest", str(local))
    assert result.code == 0, result.err
    assert "t/BG-20k/.bg20k-publish-lease" not in keys(s3, bucket)


def _publish_process(url: str, dest: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bg20k_fetch", "publish", url, "--dest", str(dest), "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.parametrize("publishers", [2, 3])
def test_s2_03_publishers_racing_commit_one_consistent_copy(
    publishers: int, bucket: str, tmp_path: Path, small_release: Path
) -> None:
    trees = [dataset(tmp_path, f"d{n}", start=100 * n) for n in range(publishers)]
    url = f"s3://{bucket}/race"
    procs = [_publish_process(url, tree, dict(os.environ)) for tree in trees]
    results = [(p.wait(120), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0] + [7] * (publishers - 1), results
    # A loser either met the winner's lease, saw it commit while taking the lease, or (on a
    # loaded machine, starting late) found its committed copy: never a second copy written.
    said = ("Another publish", "holds another published dataset")
    assert all(any(s in err for s in said) for code, _, err in results if code == 7), results
    winner = trees[[code for code, _, _ in results].index(0)]
    node = tmp_path / "node"
    fetched = cli("fetch", "--accept", "--source", f"{url}/BG-20k", "--dest", str(node))
    assert fetched.code == 0, fetched.err
    mine = (winner / "BG-20k" / "MANIFEST.sha256").read_bytes()
    assert (node / "BG-20k" / "MANIFEST.sha256").read_bytes() == mine
    assert cli("verify", f"{url}/BG-20k", "--deep").code == 0


KILL_AT_UPLOAD = """
import os, signal, sys
tree, seen = os.environ["KILL_TREE"], 0
def hook(event, args):
    global seen
    if event == "open" and isinstance(args[0], str) and args[0].startswith(tree):
        if args[0].endswith(".jpg"):
            seen += 1
            if seen == 3:  # the third image being uploaded
                os.kill(os.getpid(), signal.SIGKILL)
sys.addaudithook(hook)
from bg20k_fetch.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_s2_03_a_publisher_killed_mid_upload_is_taken_over_and_never_fetched(
    bucket: str, tmp_path: Path, small_release: Path, s3: Any
) -> None:
    first = dataset(tmp_path, "first")
    url = f"s3://{bucket}/k"
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AT_UPLOAD, "publish", url, "--dest", str(first), "--jobs", "1"],
        env={**os.environ, "KILL_TREE": str(first / "BG-20k" / "t")},
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = keys(s3, bucket, "k/")
    assert "k/BG-20k/.bg20k-publish-lease" in left and "k/BG-20k/.bg20k-publish-journal" in left
    refused = cli("fetch", "--accept", "--source", f"{url}/BG-20k", "--dest", str(tmp_path / "n"))
    assert refused.code == 5 and "no completion marker" in refused.err
    second = dataset(tmp_path, "second", start=500)
    result = cli("publish", url, "--dest", str(second))
    assert result.code == 0, result.err  # the dead publisher's lease was taken over
    assert cli("verify", f"{url}/BG-20k", "--deep").code == 0
    assert len([k for k in keys(s3, bucket, "k/") if k.endswith(".jpg")]) == sum(SMALL.values())


# -- item 4: bad targets -------------------------------------------------------------------------


def test_s2_04_a_bucket_that_does_not_exist_is_said_so(
    bucket: str, local: Path, tmp_path: Path, endpoint: str
) -> None:
    for args in (
        ["publish", "s3://no-such-bucket/x", "--dest", str(local)],
        ["verify", "s3://no-such-bucket/x/BG-20k"],
        ["fetch", "--accept", "--source", "s3://no-such-bucket/x/BG-20k", "--dest", str(tmp_path)],
    ):
        result = cli(*args)
        assert result.code == 4, (args, result.err)
        (line,) = result.err.splitlines()[-1:]
        assert f"The bucket 'no-such-bucket' does not exist at {endpoint}" in line


def test_s2_04_an_invalid_bucket_name_says_why(bucket: str) -> None:
    result = cli("verify", "s3://no_bucket!/x/BG-20k")
    assert result.code == 2, result.err
    assert "Invalid bucket name" in result.err and "failed:." not in result.err


def test_s2_04_an_endpoint_that_is_not_s3_is_exit_4(
    bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fileserver import FileServer

    with FileServer() as web:  # answers 404 pages to everything
        monkeypatch.setenv("AWS_ENDPOINT_URL", web.url(""))
        result = cli("verify", f"s3://{bucket}/x/BG-20k")
    assert result.code == 4 and "internal error" not in result.err, result.err


def test_s2_04_verify_without_the_suffix_hints_at_it(bucket: str, local: Path) -> None:
    assert cli("publish", f"s3://{bucket}/datasets", "--dest", str(local)).code == 0
    result = cli("verify", f"s3://{bucket}/datasets")
    assert result.code == 5 and f"use s3://{bucket}/datasets/BG-20k" in result.err


# -- item 5: a repair path -----------------------------------------------------------------------


def test_s2_05_a_tampered_copy_is_repaired_by_publish_repair(
    bucket: str, local: Path, s3: Any
) -> None:
    url = f"s3://{bucket}/x"
    assert cli("publish", url, "--dest", str(local)).code == 0
    first = sorted((local / "BG-20k" / "train").iterdir())[0]
    key = f"x/BG-20k/train/{first.name}"
    body = bytearray(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    body[len(body) // 2] ^= 0xFF
    s3.put_object(Bucket=bucket, Key=key, Body=bytes(body), ChecksumAlgorithm="SHA256")
    deep = cli("verify", f"{url}/BG-20k", "--deep")
    assert deep.code == 5 and "bg20k publish --repair" in deep.err
    quick = cli("publish", url, "--dest", str(local))
    assert quick.code == 0 and "--repair" in quick.out  # sizes agree; it says what checks more
    repaired = cli("publish", url, "--dest", str(local), "--repair")
    assert repaired.code == 0 and "Repaired" in repaired.out and "1 uploaded" in repaired.out
    assert cli("verify", f"{url}/BG-20k", "--deep").code == 0


def test_s2_05_a_missing_object_is_put_back_by_a_plain_publish(
    bucket: str, local: Path, s3: Any
) -> None:
    url = f"s3://{bucket}/m"
    assert cli("publish", url, "--dest", str(local)).code == 0
    first = sorted((local / "BG-20k" / "testval").iterdir())[0]
    s3.delete_object(Bucket=bucket, Key=f"m/BG-20k/testval/{first.name}")
    assert cli("verify", f"{url}/BG-20k").code == 5
    again = cli("publish", url, "--dest", str(local))
    assert again.code == 0 and "1 uploaded" in again.out, again.out + again.err
    assert cli("verify", f"{url}/BG-20k", "--deep").code == 0


# -- item 6: a lock file before the download -----------------------------------------------------


def test_s2_06_a_lock_is_checked_against_the_published_manifest_first(
    bucket: str, local: Path, tmp_path: Path, isolated_env: dict[str, Path]
) -> None:
    url = f"s3://{bucket}/l"
    assert cli("publish", url, "--dest", str(local)).code == 0
    other = dataset(tmp_path, "other", start=300)
    assert cli("lock", "--dest", str(other), "-o", str(tmp_path / "other.lock")).code == 0
    result = cli(
        "fetch", "--accept", "--source", f"{url}/BG-20k", "--dest", str(tmp_path / "n"),
        "--lock", str(tmp_path / "other.lock"),
    )  # fmt: skip
    assert result.code == 5 and "the lock file requires" in result.err
    downloaded = [p for p in isolated_env["cache"].rglob("*.jpg")]
    assert downloaded == []  # refused from the manifest alone, before any image came down


# -- item 7: the optional split in a lab ----------------------------------------------------------


@pytest.mark.slow
def test_s2_07_the_optional_split_in_a_lab(
    bucket: str, local: Path, tmp_path: Path, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"s3://{bucket}/dn"
    assert cli("publish", url, "--dest", str(local)).code == 0
    with_denoise(tmp_path, local, monkeypatch)
    added = cli("publish", url, "--dest", str(local))  # the split added since: uploaded
    assert added.code == 0 and "6 uploaded" in added.out, added.out + added.err
    assert sum("train_denoise/" in k for k in keys(s3, bucket, "dn/")) == 6
    plain = tmp_path / "plain"
    assert cli("fetch", "--accept", "--source", f"{url}/BG-20k", "--dest", str(plain)).code == 0
    assert not (plain / "BG-20k" / "train_denoise").exists()  # not asked for, not given
    asked = tmp_path / "asked"
    with_split = ("--with", "train_denoise")
    result = cli(
        "fetch", "--accept", "--source", f"{url}/BG-20k", "--dest", str(asked), *with_split
    )
    assert result.code == 0 and (asked / "BG-20k" / "train_denoise").is_dir(), result.err
    later = cli("fetch", "--accept", "--source", f"{url}/BG-20k", "--dest", str(plain), *with_split)
    assert later.code == 0, later.err  # from the bucket: Drive is a closed port in the tests
    assert len(list((plain / "BG-20k" / "train_denoise").iterdir())) == 6
    # One file of the split goes missing: only the split is repaired, and the plan says so.
    train = {p: p.stat().st_ino for p in (plain / "BG-20k" / "train").iterdir()}
    victim = sorted((plain / "BG-20k" / "train_denoise").iterdir())[0]
    victim.unlink()
    plan = cli("fetch", "--source", f"{url}/BG-20k", "--dest", str(plain), *with_split, "--dry-run")
    assert "train_denoise/ differs" in plan.out and "rebuilt" not in plan.out, plan.out
    repaired = cli("fetch", "--source", f"{url}/BG-20k", "--dest", str(plain), *with_split)
    assert repaired.code == 0 and victim.exists(), repaired.err
    assert {p: p.stat().st_ino for p in (plain / "BG-20k" / "train").iterdir()} == train
    assert cli("verify", "--dest", str(plain), "--deep").code == 0


# -- items 10-13: what is printed, the API, help, dry run and JSON --------------------------------


def test_s2_10_urls_are_printed_as_urls(bucket: str, local: Path) -> None:
    url = f"s3://{bucket}/u"
    assert cli("publish", url, "--dest", str(local)).code == 0
    quick = cli("verify", f"{url}/BG-20k")
    assert quick.code == 0 and quick.err.startswith(f"{url}/BG-20k: ")
    report = json.loads(cli("verify", f"{url}/BG-20k", "--json").out)
    assert report["path"] == f"{url}/BG-20k"
    deep = cli("verify", f"{url}/BG-20k", "--deep")
    assert "stored SHA-256 compared" in deep.err and "re-hashed" not in deep.err


def test_s2_10_publish_says_its_result_once_on_stdout(bucket: str, local: Path) -> None:
    result = cli("publish", f"s3://{bucket}/o", "--dest", str(local))
    assert result.code == 0
    assert result.out.count("Published") == 1 and "Published" not in result.err
    assert "0 B at 0 B/s" not in result.err


def test_s2_10_debug_tracebacks_mask_secrets(bucket: str) -> None:
    result = cli("--debug", "verify", "s3://AKIAEXAMPLE:topsecret@no_bucket!/x/BG-20k")
    assert "topsecret" not in result.err and "Traceback" in result.err


def test_s2_10_the_dry_run_knows_a_published_copys_size(bucket: str, local: Path) -> None:
    url = f"s3://{bucket}/s"
    assert cli("publish", url, "--dest", str(local)).code == 0
    plan = json.loads(
        cli("fetch", "--accept", "--source", f"{url}/BG-20k", "--dry-run", "--json").out
    )
    sizes = json.loads((local / "BG-20k" / "SIZES.json").read_text())["sizes"]
    assert plan["sources"][0]["size"] == sum(sizes.values())


def test_s2_11_the_api_refuses_what_it_cannot_do(tmp_path: Path, small_release: Path) -> None:
    import bg20k_fetch

    with pytest.raises(bg20k_fetch.UsageError, match="No citation format 'xml'"):
        bg20k_fetch.cite(format="xml")  # type: ignore[arg-type]
    with pytest.raises(bg20k_fetch.UsageError):
        bg20k_fetch.cite(format="CFF")  # type: ignore[arg-type]
    assert callable(bg20k_fetch.publish) and "publish" in bg20k_fetch.__all__
    files = make_tree(tmp_path / "orig", SMALL)
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    got = bg20k_fetch.fetch(tmp_path / "d", sources=str(tmp_path / "a.zip"), accept=True)  # type: ignore[arg-type]
    assert got.complete and got.file_count == sum(SMALL.values())


def test_s2_12_help_texts_say_what_the_commands_take() -> None:
    fetch_help = cli("fetch", "--help").out
    assert "s3://" in fetch_help and "Drive" in fetch_help
    assert (
        "--json" in cli("verify", "--help").out
        and "the report as JSON" in cli("verify", "--help").out
    )
    assert "cff (the Citation File Format)" in " ".join(cli("cite", "--help").out.split())
    publish_help = cli("publish", "--help").out
    assert all(flag in publish_help for flag in ("--dry-run", "--json", "--quiet", "--repair"))


def test_s2_13_publish_dry_run_writes_nothing(bucket: str, local: Path, s3: Any) -> None:
    result = cli("publish", f"s3://{bucket}/dry", "--dest", str(local), "--dry-run")
    assert result.code == 0 and "Dry run: would upload 11 file(s)" in result.out, result.out
    assert keys(s3, bucket) == {}


def test_s2_13_publish_json_and_quiet(bucket: str, local: Path) -> None:
    result = cli("publish", f"s3://{bucket}/js", "--dest", str(local), "--json")
    events = [json.loads(line) for line in result.out.splitlines()]
    assert events[0]["event"] == "phase" and events[0]["unit"] == "bytes"
    done = events[-1]
    assert done["event"] == "done" and done["state"] == "published" and done["uploaded"] == 11
    quiet = cli("publish", f"s3://{bucket}/q", "--dest", str(local), "--quiet")
    assert quiet.err == "" and quiet.out.startswith("Published")


def test_s2_13_paths_as_json(local: Path) -> None:
    result = cli("paths", "--split", "train", "--dest", str(local), "--json")
    listed = json.loads(result.out)
    assert listed == [str(p) for p in sorted((local / "BG-20k" / "train").iterdir())]


# -- the completion marker is written only if none exists -----------------------------------------


def test_put_once_never_replaces_an_object_and_says_so(bucket: str, s3: Any) -> None:
    """Where the condition is decided: ``If-None-Match: *`` on the PUT, against a server that
    honours it (moto's does; so do S3, MinIO and R2)."""
    from bg20k_fetch.storage.store import open_store

    store = open_store(f"s3://{bucket}/d")
    assert store.put_once("m", b"first\n") is True
    assert store.put_once("m", b"second\n") is False
    assert s3.get_object(Bucket=bucket, Key="d/m")["Body"].read() == b"first\n"


@pytest.mark.parametrize("same", [True, False])
def test_a_commit_never_writes_over_a_marker_committed_meanwhile(
    bucket: str, s3: Any, same: bool
) -> None:
    """Another publisher committed between this one's checks and its commit (its lease lapsed,
    or a store without leases): a different dataset is refused and its marker kept; the same
    dataset is already committed, which is what the commit was for."""
    from types import SimpleNamespace

    from bg20k_fetch.errors import StorageError
    from bg20k_fetch.storage.publisher import _commit
    from bg20k_fetch.storage.store import PUBLISHED_MARKER, open_store

    store = open_store(f"s3://{bucket}/d")
    theirs = json.dumps({"digest": "a" * 64, "file_count": 9}).encode() + b"\n"
    s3.put_object(Bucket=bucket, Key=f"d/{PUBLISHED_MARKER}", Body=theirs)
    record = SimpleNamespace(agreement_sha256="b" * 64)
    if same:
        _commit(store, "a" * 64, 9, record)  # type: ignore[arg-type]
    else:
        with pytest.raises(StorageError, match="Another publish committed a different dataset"):
            _commit(store, "c" * 64, 9, record)  # type: ignore[arg-type]
    assert s3.get_object(Bucket=bucket, Key=f"d/{PUBLISHED_MARKER}")["Body"].read() == theirs


def test_a_published_manifest_that_is_not_text_proves_nothing_and_crashes_nothing(
    bucket: str, local: Path, s3: Any
) -> None:
    """owned_keys reads the committed copy's manifests to know which keys are bg20k's: bytes
    that are not UTF-8 there name no key of ours (so nothing is deleted on their word), and the
    publish says what it found in one line."""
    url = f"s3://{bucket}/u"
    assert cli("publish", url, "--dest", str(local)).code == 0
    s3.put_object(Bucket=bucket, Key="u/BG-20k/MANIFEST.sha256", Body=b"\xff\xfe  train/x\n")
    s3.put_object(Bucket=bucket, Key="u/BG-20k/train/stray.jpg", Body=b"not ours")
    again = cli("publish", url, "--dest", str(local), "--repair")
    # Its own objects can no longer be proven its own: it refuses to write over them (7).
    assert again.code == 7 and "were left as they are" in again.err, again.err
    assert s3.get_object(Bucket=bucket, Key="u/BG-20k/train/stray.jpg")["Body"].read() == (
        b"not ours"
    )
