"""The register as a lab meets it: real OS users in a real group sharing a folder (root only:
the tests create the users), nodes fetching from a bucket, and the audit page in a real
headless browser."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.data import SMALL, make_tree, zip_bytes
from tests.helpers import REPO, cli

pytestmark = pytest.mark.slow
REGISTER = ".bg20k-register"
OTHERS_PYTHON = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture
def shared(tmp_path: Path, small_release: Path) -> Path:
    (tmp_path / "a.zip").write_bytes(zip_bytes(make_tree(tmp_path / "orig", SMALL)))
    dest = tmp_path / "lab"
    result = cli("fetch", "--accept", "--from", str(tmp_path / "a.zip"), "--dest", str(dest))
    assert result.code == 0, result.err
    return dest / "BG-20k"


@pytest.fixture
def lab_users(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """A Unix group of three new users; removed afterwards."""
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("creating OS users needs root (CI runs as root)")
    tag = uuid.uuid4().hex[:6]
    group, users = f"lab{tag}", [f"u{tag}{n}" for n in range(3)]
    subprocess.run(["groupadd", group], check=True)
    try:
        for user in users:
            subprocess.run(["useradd", "-M", "-N", "-g", group, user], check=True)
        yield group, users
    finally:
        for user in users:
            subprocess.run(["userdel", user], check=False, capture_output=True)
        subprocess.run(["groupdel", group], check=False, capture_output=True)


def test_real_users_register_and_cannot_remove_each_others_records(
    small_release: Path, lab_users: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    group, users = lab_users
    if not Path(OTHERS_PYTHON).exists():
        pytest.skip("no system Python that other users can run")
    # Other users cannot pass through pytest's own 0700 folder: the lab lives in a shared one.
    world = Path(tempfile.mkdtemp(prefix="bg20k-lab-", dir="/tmp"))
    try:
        _real_users(world, small_release, group, users, monkeypatch)
    finally:
        shutil.rmtree(world, ignore_errors=True)


def _real_users(
    world: Path, small_release: Path, group: str, users: list[str], mp: pytest.MonkeyPatch
) -> None:
    os.chmod(world, 0o755)
    release = world / "release"
    shutil.copytree(small_release.parent, release)
    mp.setenv("BG20K_RELEASE_FILE", str(release / small_release.name))
    (world / "a.zip").write_bytes(zip_bytes(make_tree(world / "orig", SMALL)))
    lab = world / "lab"
    assert cli("fetch", "--accept", "--from", str(world / "a.zip"), "--dest", str(lab)).code == 0
    shared = lab / "BG-20k"
    subprocess.run(["chgrp", "-R", group, str(lab)], check=True)
    subprocess.run(["chmod", "-R", "g+rX,o-rwx", str(lab)], check=True)
    assert cli("register", str(shared)).code == 0  # the admin (root) makes the register
    mode = (shared / REGISTER).stat().st_mode
    assert mode & 0o1000 and mode & 0o020  # sticky, group-writable: add, never remove others'
    tmp_path = world
    envs = {}
    for user in users[:2]:
        home = tmp_path / f"home-{user}"
        home.mkdir()
        shutil.chown(home, user)
        envs[user] = {
            **os.environ,
            "HOME": str(home),
            "BG20K_CONFIG_DIR": str(home / "config"),
            "BG20K_CACHE_DIR": str(home / "cache"),
            # This venv's interpreter lies under /root (0700): the users run the system's
            # Python 3.11 with this checkout and the venv's packages.
            "PYTHONPATH": f"{REPO}:{sysconfig.get_paths()['purelib']}",
        }
        done = subprocess.run(
            ["setpriv", "--reuid", user, "--regid", group, "--init-groups", "--",
             OTHERS_PYTHON, "-m", "bg20k_fetch", "accept", "--yes", "--register", str(shared)],
            env=envs[user], capture_output=True, text=True, timeout=120, cwd="/",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    records = sorted((shared / REGISTER).glob("*.json"))
    theirs = [p for p in records if json.loads(p.read_bytes())["os_user"] == users[0]]
    removing = subprocess.run(
        ["setpriv", "--reuid", users[1], "--regid", group, "--init-groups", "--",
         "rm", "-f", str(theirs[0])],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert removing.returncode != 0 and theirs[0].exists()  # the sticky bit holds
    result = cli("audit", str(shared), "--group", group, "--json")
    report = json.loads(result.out)
    states = {r["os_user"]: r["state"] for r in report["rows"]}
    assert states[users[0]] == states[users[1]] == "accepted"
    assert states[users[2]] == "no acceptance" and result.code == 10
    # A record that one member writes in another's name (bytes hashed right) is not believed.
    forged = json.loads(theirs[0].read_bytes())
    forged["event"], forged["registered_at"] = "revoked", "2026-12-06T23:59:59.000001+00:00"
    data = (json.dumps(forged, sort_keys=True, separators=(",", ":")) + "\n").encode()
    fake = shared / REGISTER / f"{hashlib.sha256(data).hexdigest()}.json"
    fake.write_bytes(data)
    shutil.chown(fake, users[1], group)
    result = cli("audit", str(shared), "--json")
    report = json.loads(result.out)
    assert result.code == 5 and report["damaged"] == [
        {"file": fake.name, "why": f"written by {users[1]}, but names {users[0]}"}
    ]
    assert {r["os_user"]: r["state"] for r in report["rows"]}[users[0]] == "accepted"


def test_nodes_fetching_from_a_bucket_join_its_register(
    shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("s3fs")
    import boto3

    from tests.s3server import moto_server, s3_env

    with moto_server() as endpoint:
        for name, value in s3_env(endpoint).items():
            monkeypatch.setenv(name, value)
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="labreg")
        assert cli("publish", "s3://labreg/ds", "--dest", str(shared.parent)).code == 0
        for node in ("n1", "n2"):
            monkeypatch.setenv("BG20K_CONFIG_DIR", str(tmp_path / node / "config"))
            monkeypatch.setenv("BG20K_CACHE_DIR", str(tmp_path / node / "cache"))
            monkeypatch.setattr("getpass.getuser", lambda node=node: f"user-{node}")
            monkeypatch.setattr(
                "bg20k_fetch.register.records.real_user", lambda node=node: f"user-{node}"
            )
            got = cli("fetch", "--accept", "--source", "s3://labreg/ds/BG-20k",
                      "--dest", str(tmp_path / node / "data"))  # fmt: skip
            assert got.code == 0 and "added to the register" in got.err, got.err
        assert cli("verify", "s3://labreg/ds/BG-20k").code == 0  # records are not data
        people = tmp_path / "people.txt"
        people.write_text("user-n1\nuser-n2\nuser-n3\n")
        result = cli("audit", "s3://labreg/ds/BG-20k", "--people", str(people), "--json")
        states = {r["os_user"]: r["state"] for r in json.loads(result.out)["rows"]}
        assert states == {"user-n1": "accepted", "user-n2": "accepted", "user-n3": "no acceptance"}
        s3 = boto3.client("s3", endpoint_url=endpoint)
        key = next(
            o["Key"]
            for o in s3.list_objects_v2(Bucket="labreg", Prefix=f"ds/BG-20k/{REGISTER}/")[
                "Contents"
            ]
        )
        s3.put_object(Bucket="labreg", Key=key, Body=b'{"os_user": "mallory"}')
        result = cli("audit", "s3://labreg/ds/BG-20k", "--json")
        assert result.code == 5 and json.loads(result.out)["damaged"][0]["file"].endswith(".json")


def test_the_audit_page_renders_in_a_browser_with_no_request(shared: Path, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    assert cli("register", str(shared)).code == 0
    page = tmp_path / "audit.html"
    assert cli("audit", str(shared), "--html", str(page)).code == 0
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="
             + str(tmp_path / "profile"), "--host-resolver-rules=MAP * ~NOTFOUND"]  # fmt: skip
    dom = subprocess.run(
        [*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert "BG-20k consent audit" in dom.stdout and "<td>root</td>" in dom.stdout
    shot = REPO / "tests" / "artifacts" / "audit-page.png"
    shot.parent.mkdir(exist_ok=True)
    subprocess.run(
        [*flags, f"--screenshot={shot}", "--window-size=1000,700", page.as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.stat().st_size > 1000
    text = page.read_text()
    assert "<script" not in text and "://" not in text.replace(page.as_uri(), "")
