"""The campaign's object-store rounds, against moto's S3 server behind a faulty proxy: a silent
endpoint, 503 SlowDown storms, cut connections, publishers killed mid-upload, two publishers
racing, and a prefix holding someone else's objects.

After every step: a documented exit code with one error line; a prefix with a completion
marker passes `verify --deep` and holds one of the two datasets, never a mix; nobody else's
object is ever changed or deleted; a node fetches from it only a verified copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.campaign_checks import StepOutcome

if TYPE_CHECKING:
    from tests.campaign import Campaign

FOREIGN = {"train/foreign.jpg": b"\xff\xd8\xff their image \xff\xd9", "notes.txt": b"theirs"}


class StoreRounds:
    def __init__(self, c: Campaign, moto: str, proxy: Any) -> None:
        import boto3

        from tests.s3server import s3_env

        self.c, self.proxy = c, proxy
        self.env = {**c.env, **s3_env(proxy.url), "BG20K_TIMEOUT": "2", "BG20K_RETRIES": "4"}
        self.s3 = boto3.client("s3", endpoint_url=moto, **_creds())
        self.bucket = f"campaign-{uuid.uuid4().hex[:8]}"
        self.s3.create_bucket(Bucket=self.bucket)
        self.trees = [self._tree(name) for name in ("a", "b")]

    def _tree(self, name: str) -> Path:
        dest = self.c.work / f"store-{name}"
        archive = self.c.work / f"store-{name}.zip"
        archive.write_bytes(self.c.archives[0 if name == "a" else 1])
        outcome = self.run("fetch", "--accept", "--from", str(archive), "--dest", str(dest))
        assert outcome.code == 0, outcome.err
        return dest

    def run(self, *args: str, kill_after: float | None = None, **env: str) -> StepOutcome:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bg20k_fetch", *args],
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        killed = None
        if kill_after is not None:
            try:
                proc.wait(kill_after)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                killed = signal.SIGKILL
                self.c.tally.kills["SIGKILL"] += 1
        out, err = proc.communicate(timeout=600)
        return StepOutcome(list(args), proc.returncode, out, err, killed)

    def step(self, n: int) -> None:
        kind = self.c.rng.choice(("slowdown", "cut", "silent", "kill", "race", "foreign", "plain"))
        prefix = f"s3://{self.bucket}/p{self.c.rng.randint(0, 3)}"
        where = f"store {n} [{kind} {prefix}]"
        self.c.tally.faults[f"store:{kind}"] += 1
        self.c.tally.faulted_steps += kind != "plain"
        planted = self._plant(prefix) if kind == "foreign" else {}
        tree = self.c.rng.choice(self.trees)
        self.proxy.slowdown = self.c.rng.uniform(0.2, 0.6) if kind == "slowdown" else 0.0
        self.proxy.cut = self.c.rng.uniform(0.05, 0.2) if kind == "cut" else 0.0
        self.proxy.silent = kind == "silent"
        publish = ["publish", prefix, "--dest", str(tree), "--accept", "--quiet"]
        if kind == "race":
            others = [self._start(*publish[:3], str(t), "--accept") for t in self.trees]
            outcomes = [self._finish(p, publish) for p in others]
        elif kind == "kill":
            outcomes = [self.run(*publish, kill_after=self.c.rng.uniform(0.3, 2.0))]
        else:
            force = ["--force"] if self.c.rng.random() < 0.3 else []
            outcomes = [self.run(*publish, *force, BG20K_TIMEOUT="1")]
        self.proxy.slowdown = self.proxy.cut = 0.0
        self.proxy.silent = False
        for outcome in outcomes:
            self._exit(outcome, where, {0, 4, 7})
        self._prefix(prefix, where, planted)

    def _start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "bg20k_fetch", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def _finish(self, proc: subprocess.Popen[str], args: list[str]) -> StepOutcome:
        out, err = proc.communicate(timeout=600)
        return StepOutcome(args, proc.returncode, out, err, None)

    def _plant(self, prefix: str) -> dict[str, bytes]:
        base = prefix.split("/", 3)[3] + "/BG-20k/"
        planted = {base + k: v for k, v in FOREIGN.items()}
        for key, body in planted.items():
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        return planted

    def _exit(self, o: StepOutcome, where: str, allowed: set[int]) -> None:
        t = self.c.tally
        t.steps += 1
        t.exits[o.code] += 1
        t.successes += o.code == 0
        ok = allowed | ({-o.killed} if o.killed else set())
        if o.code not in ok:
            self.c.checker.fail(where, f"exit {o.code}: {o.err[-300:]!r}")
        if "Traceback" in o.err or "internal error" in o.err:
            self.c.checker.fail(where, f"a crash: {o.err[-300:]!r}")
        if o.code > 0 and not o.err.rstrip().splitlines()[-1].startswith("bg20k: error: "):
            self.c.checker.fail(where, f"exit {o.code} without one error line")

    def _prefix(self, prefix: str, where: str, planted: dict[str, bytes]) -> None:
        for key, body in planted.items():
            try:
                got = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except Exception:
                got = None
            if got != body:
                self.c.checker.fail(where, f"someone else's {key} was changed or deleted")
        base = prefix.split("/", 3)[3] + "/BG-20k/"
        marker = self._get(base + ".bg20k-published")
        if marker is None:
            return
        outcome = self.run("verify", f"{prefix}/BG-20k", "--deep", "--json")
        try:
            report = json.loads(outcome.out)
        except ValueError:
            report = {}
        theirs = {k.removeprefix(base) for k in FOREIGN_KEYS(self, base)}
        only_theirs = (
            report.get("missing") == [] and report.get("changed") == []
            and set(report.get("added", [])) <= theirs
        )  # fmt: skip
        if outcome.code != 0 and not only_theirs:
            self.c.checker.fail(where, f"a committed prefix fails verify: {outcome.err[-300:]!r}")
        manifest = self._get(base + "MANIFEST.sha256") or b""
        digest = hashlib.sha256(manifest).hexdigest()
        if digest not in self.c.digests:
            self.c.checker.fail(where, f"a committed prefix of unknown digest {digest} (mixed?)")
        node = self.c.work / f"node-{uuid.uuid4().hex[:6]}"
        fetched = self.run("fetch", "--accept", "--source", f"{prefix}/BG-20k", "--dest", str(node))
        self._exit(fetched, where + " node", {0})
        self.c.checker._tree(node, where + " node")

    def _get(self, key: str) -> bytes | None:
        try:
            return bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except self.s3.exceptions.NoSuchKey:
            return None


def FOREIGN_KEYS(rounds: StoreRounds, base: str) -> set[str]:
    """The foreign objects ever planted under ``base`` (they stay there, by design)."""
    found = rounds.s3.list_objects_v2(Bucket=rounds.bucket, Prefix=base).get("Contents", [])
    return {o["Key"] for o in found if o["Key"].removeprefix(base) in FOREIGN}


def _creds() -> dict[str, str]:
    from tests.s3server import s3_env

    env = s3_env("http://unused")
    return {
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
        "region_name": env["AWS_DEFAULT_REGION"],
    }


def run_store_rounds(c: Campaign, steps: int) -> None:
    try:
        import moto
        import s3fs  # noqa: F401
    except ImportError:
        c.tally.faults["store (no s3fs/moto: skipped)"] += 1
        return
    from tests.s3proxy import FaultyS3
    from tests.s3server import moto_server

    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
    with moto_server() as moto, FaultyS3(moto, c.seed) as proxy:
        rounds = StoreRounds(c, moto, proxy)
        for n in range(steps):
            rounds.step(n)
        c.tally.faults.update({f"store-proxy:{k}": v for k, v in proxy.injected.items()})
