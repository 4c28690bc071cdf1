"""Many processes at once: 4-8 fetches sharing one config and cache (nodes of a cluster on one
NFS home), into one destination or several, with verify and status meanwhile — and in some
rounds a revocation in the middle.

The guarantee for a revocation: a dataset is installed only while consent is in force. The
install holds the consent store's lock and checks the record; `revoke` takes the same lock. So
every dataset installed before the revocation is named in the revoked record, and every fetch
that reaches its install after it exits 3 having installed nothing.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from tests.campaign_checks import DOCUMENTED

if TYPE_CHECKING:
    from tests.campaign import Campaign


def _start(c: Campaign, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bg20k_fetch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=c.env,
    )


def run_round(c: Campaign, url: str, n: int, *, revoke: bool) -> None:
    t, rng = c.tally, c.rng
    t.rounds += 1
    where = f"round {n}"
    count = rng.randint(4, 8)
    same = rng.random() < 0.5
    dests = [c.work / f"round-{n}" / ("d" if same else f"d{i}") for i in range(count)]
    accept: list[str] = []
    if revoke:
        t.revoke_rounds += 1
        assert c.bg20k("accept", "--yes").code == 0
        c.checker.accepted += 1
    else:
        accept = ["--accept"]
    fetches = [_start(c, "fetch", *accept, "--source", url, "--dest", str(d)) for d in dests]
    side = [_start(c, "verify", "--dest", str(dests[0])), _start(c, "status", "--json")]
    revoked_at = None
    if revoke:
        time.sleep(rng.uniform(0.3, 1.5))
        outcome = c.bg20k("revoke")
        revoked_at = time.monotonic()
        if outcome.code != 0:
            c.checker.fail(where, f"revoke exited {outcome.code}: {outcome.err[-200:]!r}")
    t.round_processes += count + len(side)
    for proc, allowed in [(p, DOCUMENTED) for p in fetches] + [(p, {0, 5}) for p in side]:
        _out, err = proc.communicate(timeout=600)
        t.exits[proc.returncode] += 1
        if proc.returncode not in allowed:
            c.checker.fail(where, f"exit {proc.returncode}: {err[-300:]!r}")
        if "Traceback" in err or "internal error" in err:
            c.checker.fail(where, f"a crash: {err[-300:]!r}")
    _check_trees(c, where, sorted(set(dests)), revoked_at is not None)
    if revoke:
        assert c.bg20k("accept", "--yes").code == 0  # consent for the rounds that follow
        c.checker.accepted += 1


def _check_trees(c: Campaign, where: str, dests: list[Path], revoked: bool) -> None:
    record = yaml.safe_load((Path(c.env["BG20K_CONFIG_DIR"]) / "consent.yaml").read_text())
    for dest in dests:
        c.checker._tree(dest, where)
        leftovers = [p.name for p in dest.glob(".BG-20k.*")] if dest.exists() else []
        if leftovers:
            c.checker.fail(where, f"working entries left in {dest} after every process ended")
        root = dest / "BG-20k"
        if revoked and root.exists() and str(root) not in record.get("datasets", []):
            # Installed, yet not named by the revoked record: installed after the revocation.
            c.checker.fail(where, f"{root} was installed under a consent no longer in force")
