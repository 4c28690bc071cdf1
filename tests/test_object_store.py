"""One lab, many machines: publish a verified BG-20k to an object store and fetch it from there,
against a real S3 API on 127.0.0.1 (moto's server), a bucket per test."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.data import SMALL, jpeg, make_tree, zip_bytes
from tests.helpers import cli, fetched_copy
from tests.s3server import NEEDS_STORE, moto_server, s3_env

pytestmark = NEEDS_STORE


@pytest.fixture
def local(tmp_path: Path, small_release: Path) -> Path:
    """A verified dataset on this machine, the publisher's."""
    return fetched_copy(tmp_path, "publisher", "a.zip")


def digest(dest: Path) -> str:
    return str(yaml.safe_load((dest / "BG-20k" / "PROVENANCE.yaml").read_text())["digest"])


def test_publish_then_fetch_from_the_bucket(
    bucket: str, local: Path, tmp_path: Path, s3: Any
) -> None:
    url = f"s3://{bucket}/datasets"
    published = cli("publish", url, "--dest", str(local))
    assert published.code == 0, published.err
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert "datasets/BG-20k/.bg20k-published" in keys
    assert "datasets/BG-20k/MANIFEST.sha256" in keys and "datasets/BG-20k/CONSENT.yaml" in keys
    assert not any(k.startswith("datasets/BG-20k/BG-20k/") for k in keys)  # never nested
    head = s3.head_object(
        Bucket=bucket,
        Key=f"datasets/BG-20k/{sorted(keys)[-1].split('BG-20k/')[1]}",
        ChecksumMode="ENABLED",
    )
    assert head.get("ChecksumSHA256")  # each object carries its SHA-256
    node = tmp_path / "node"
    fetched = cli(
        "fetch", "--accept", "--source", f"{url}/BG-20k", "--dest", str(node), "--jobs", "4"
    )
    assert fetched.code == 0, fetched.err
    assert digest(node) == digest(local)
    provenance = yaml.safe_load((node / "BG-20k" / "PROVENANCE.yaml").read_text())
    assert provenance["served_by"] == f"{url}/BG-20k"
    assert provenance["chain"][0]["served_by"].endswith("a.zip")  # where it first came from
    assert cli("verify", "--dest", str(node), "--deep").code == 0
    again = cli("publish", url, "--dest", str(local))
    assert again.code == 0 and "already holds this dataset" in again.out  # the result: stdout


def test_a_killed_publish_is_never_fetched_and_continues(
    bucket: str, local: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bg20k_fetch.storage import store as objectstore

    url = f"s3://{bucket}/d"
    real_put = objectstore.Store.put
    calls = {"n": 0}

    def crashing(self: Any, local_path: str, rel: str, sha256: str) -> None:
        calls["n"] += 1
        if calls["n"] > 4:
            raise SystemExit(137)  # the publisher's machine goes away mid-upload
        real_put(self, local_path, rel, sha256)

    monkeypatch.setattr(objectstore.Store, "put", crashing)
    with pytest.raises(SystemExit):
        cli("publish", url, "--dest", str(local), "--jobs", "1")
    monkeypatch.setattr(objectstore.Store, "put", real_put)
    refused = cli("fetch", "--accept", "--source", f"{url}/BG-20k", "--dest", str(tmp_path / "n"))
    assert refused.code == 5 and "no completion marker" in refused.err
    assert cli("verify", f"{url}/BG-20k").code == 5
    resumed = cli("publish", url, "--dest", str(local), "--jobs", "2")
    assert resumed.code == 0, resumed.err
    assert "4 already there" in resumed.out  # the re-run continued, it did not start over
    assert (
        cli("fetch", "--accept", "--source", f"{url}/BG-20k", "--dest", str(tmp_path / "n")).code
        == 0
    )


def test_verify_in_the_bucket_quick_and_deep_and_a_tampered_object(
    bucket: str, local: Path, tmp_path: Path, s3: Any
) -> None:
    url = f"s3://{bucket}/x"
    assert cli("publish", url, "--dest", str(local)).code == 0
    assert cli("verify", f"{url}/BG-20k").code == 0
    assert cli("verify", f"{url}/BG-20k", "--deep").code == 0
    first = sorted((local / "BG-20k" / "train").iterdir())[0]
    key = f"x/BG-20k/train/{first.name}"
    body = bytearray(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    body[len(body) // 2] ^= 0xFF  # same size: only a hash can tell
    s3.put_object(Bucket=bucket, Key=key, Body=bytes(body), ChecksumAlgorithm="SHA256")
    assert cli("verify", f"{url}/BG-20k").code == 0  # quick: names and sizes
    deep = cli("verify", f"{url}/BG-20k", "--deep", "--json")
    assert deep.code == 5 and json.loads(deep.out)["changed"] == [key.split("BG-20k/", 1)[1]]
    fetched = cli("fetch", "--accept", "--source", f"{url}/BG-20k", "--dest", str(tmp_path / "n"))
    assert fetched.code == 5 and "was changed or damaged" in fetched.err
    assert not (tmp_path / "n" / "BG-20k").exists()


def test_a_different_dataset_is_not_published_over_another_without_force(
    bucket: str, local: Path, tmp_path: Path, small_release: Path, s3: Any
) -> None:
    url = f"s3://{bucket}/p"
    assert cli("publish", url, "--dest", str(local)).code == 0
    other = make_tree(tmp_path / "o2", {"train": 6, "testval": 3}, start=200)
    (tmp_path / "b.zip").write_bytes(zip_bytes(other))
    assert (
        cli("fetch", "--from", str(tmp_path / "b.zip"), "--dest", str(tmp_path / "other")).code == 0
    )
    refused = cli("publish", url, "--dest", str(tmp_path / "other"))
    assert refused.code == 7 and "--force" in refused.err
    forced = cli("publish", url, "--dest", str(tmp_path / "other"), "--force")
    assert forced.code == 0, forced.err
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    images = {k for k in keys if k.endswith(".jpg")}
    assert len(images) == sum(SMALL.values())  # the earlier dataset's images were removed
    node = tmp_path / "node"
    assert cli("fetch", "--accept", "--source", f"{url}/BG-20k", "--dest", str(node)).code == 0
    assert digest(node) == digest(tmp_path / "other")


def test_lock_pins_a_bucket_copy(bucket: str, local: Path, tmp_path: Path) -> None:
    url = f"s3://{bucket}/l"
    assert cli("publish", url, "--dest", str(local)).code == 0
    assert cli("lock", "--dest", str(local), "-o", str(tmp_path / "lab.lock")).code == 0
    ok = cli(
        "fetch",
        "--accept",
        "--source",
        f"{url}/BG-20k",
        "--dest",
        str(tmp_path / "n"),
        "--lock",
        str(tmp_path / "lab.lock"),
    )
    assert ok.code == 0, ok.err
    assert cli("verify", f"{url}/BG-20k", "--lock", str(tmp_path / "lab.lock")).code == 0


def test_a_single_archive_in_a_bucket(
    bucket: str, s3: Any, tmp_path: Path, small_release: Path
) -> None:
    files = make_tree(tmp_path / "orig", SMALL)
    s3.put_object(Bucket=bucket, Key="mirror/BG-20k.zip", Body=zip_bytes(files))
    result = cli(
        "fetch",
        "--accept",
        "--source",
        f"s3://{bucket}/mirror/BG-20k.zip",
        "--dest",
        str(tmp_path / "d"),
    )
    assert result.code == 0, result.err
    assert cli("verify", "--dest", str(tmp_path / "d"), "--deep").code == 0


def test_consent_stays_personal(
    bucket: str, local: Path, tmp_path: Path, isolated_env: dict[str, Path]
) -> None:
    url = f"s3://{bucket}/c"
    assert cli("publish", url, "--dest", str(local)).code == 0
    colleague = tmp_path / "colleague-config"
    refused = cli(
        "fetch",
        "--source",
        f"{url}/BG-20k",
        "--dest",
        str(tmp_path / "n"),
        env={"BG20K_CONFIG_DIR": str(colleague)},
    )
    assert refused.code == 3  # the publisher's acceptance is not the colleague's
    assert not (tmp_path / "n" / "BG-20k").exists()


def test_missing_credentials_fail_fast_with_one_line(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_release: Path
) -> None:
    import time

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    started = time.monotonic()
    result = cli(
        "fetch", "--accept", "--source", f"s3://{bucket}/x/BG-20k", "--dest", str(tmp_path)
    )
    assert result.code == 4, result.err
    assert "credentials" in result.err.splitlines()[-1]
    assert time.monotonic() - started < 30  # not a minute of retries


def test_a_wrong_endpoint_fails_fast(
    bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_release: Path
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    result = cli(
        "fetch", "--accept", "--source", f"s3://{bucket}/x/BG-20k", "--dest", str(tmp_path)
    )
    assert result.code == 4, result.err
    assert "Cannot reach the object store" in result.err and "Traceback" not in result.err


def test_without_s3fs_one_line_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_release: Path
) -> None:
    import fsspec  # noqa: F401 - loads fsspec.registry

    registry = sys.modules["fsspec.registry"]._registry  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "s3fs", None)  # as if the extra were not installed …
    monkeypatch.delitem(registry, "s3", raising=False)  # … nor yet imported
    result = cli("fetch", "--accept", "--source", "s3://bucket/BG-20k", "--dest", str(tmp_path))
    assert result.code == 2 and "pip install 'bg20k[s3]'" in result.err


@pytest.mark.slow
def test_a_killed_publish_process_continues(bucket: str, local: Path, tmp_path: Path) -> None:
    """The same, with a real process killed by SIGKILL while it uploads."""
    import os
    import signal
    import time

    url = f"s3://{bucket}/k"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bg20k_fetch", "publish", url, "--dest", str(local), "--jobs", "1"],
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    resumed = cli("publish", url, "--dest", str(local))
    assert resumed.code == 0, resumed.err
    assert cli("verify", f"{url}/BG-20k", "--deep").code == 0


@pytest.mark.slow
def test_eight_nodes_fetch_at_once_and_agree(
    bucket: str, tmp_path: Path, small_release: Path
) -> None:
    import os

    files = {f"train/h_{n:08x}.jpg": jpeg(n) for n in range(6)} | {
        f"testval/h_{n:08x}.jpg": jpeg(n) for n in range(6, 9)
    }
    (tmp_path / "a.zip").write_bytes(zip_bytes(files))
    assert (
        cli(
            "fetch", "--accept", "--from", str(tmp_path / "a.zip"), "--dest", str(tmp_path / "pub")
        ).code
        == 0
    )
    url = f"s3://{bucket}/cluster"
    assert cli("publish", url, "--dest", str(tmp_path / "pub")).code == 0
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bg20k_fetch",
                "fetch",
                "--accept",
                "--source",
                f"{url}/BG-20k",
                "--dest",
                str(tmp_path / f"node{i}"),
            ],
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "BG20K_CACHE_DIR": str(tmp_path / f"cache{i}")},
        )
        for i in range(8)
    ]
    for proc in procs:
        assert proc.wait(180) == 0, proc.communicate()[1]
    assert {digest(tmp_path / f"node{i}") for i in range(8)} == {digest(tmp_path / "pub")}


def _requests_during(run: Any) -> Counter[str]:
    """What moto's server was asked while ``run()`` ran: 'HEAD object', 'GET object' …"""
    import werkzeug.serving

    seen: Counter[str] = Counter()
    handler = werkzeug.serving.WSGIRequestHandler
    original = handler.run_wsgi

    def counting(self: Any) -> None:
        path = self.path.split("?", 1)[0].strip("/")
        seen[f"{self.command} {'object' if '/' in path else 'bucket'}"] += 1
        original(self)

    handler.run_wsgi = counting  # type: ignore[method-assign]
    try:
        run()
    finally:
        handler.run_wsgi = original  # type: ignore[method-assign]
    return seen


@pytest.fixture
def bucket_here(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A bucket on a server in this process, whose requests _requests_during can count (the
    shared server is a process of its own, serving other tests at the same time)."""
    import boto3

    with moto_server() as url:
        for name, value in s3_env(url).items():
            monkeypatch.setenv(name, value)
        boto3.client("s3", endpoint_url=url).create_bucket(Bucket="counted")
        yield "counted"


def test_a_fetch_asks_the_store_once_per_image(
    bucket_here: str, local: Path, tmp_path: Path
) -> None:
    """Each image is one GET (its size is in the provenance): streaming it would HEAD it first,
    20,000 requests more for BG-20k against a lab's bucket. Receipts are one GET each too."""
    url = f"s3://{bucket_here}/x"
    assert cli("publish", url, "--dest", str(local)).code == 0
    images = sum(1 for p in (local / "BG-20k").rglob("*.jpg"))
    results: list[Any] = []
    seen = _requests_during(
        lambda: results.append(
            cli("fetch", "--accept", "--source", f"{url}/BG-20k", "--dest", str(tmp_path / "n"))
        )
    )
    assert results[0].code == 0, results[0].err
    assert seen["HEAD object"] <= 2, seen  # the split lists, streamed: no size recorded for them
    assert images <= seen["GET object"] <= images + 8, seen
    seen = _requests_during(lambda: results.append(cli("verify", f"{url}/BG-20k")))
    assert results[-1].code == 0 and seen["HEAD object"] == 0, seen


@pytest.mark.parametrize("change", ["grown", "gone"])
def test_an_image_grown_or_gone_in_the_store_is_refused_and_nothing_kept(
    change: str, bucket: str, local: Path, tmp_path: Path, s3: Any
) -> None:
    url = f"s3://{bucket}/x"
    assert cli("publish", url, "--dest", str(local)).code == 0
    first = sorted((local / "BG-20k" / "train").iterdir())[0]
    key = f"x/BG-20k/train/{first.name}"
    if change == "grown":
        s3.put_object(Bucket=bucket, Key=key, Body=first.read_bytes() + b"\0" * (9 << 20))
    else:
        s3.delete_object(Bucket=bucket, Key=key)
    fetched = cli("fetch", "--accept", "--source", f"{url}/BG-20k", "--dest", str(tmp_path / "n"))
    assert fetched.code == 5, fetched.err
    said = {"grown": "far larger than", "gone": "is not in the store"}[change]
    assert said in fetched.err and "Traceback" not in fetched.err
    assert not (tmp_path / "n" / "BG-20k").exists()
