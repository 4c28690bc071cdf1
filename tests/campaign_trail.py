"""The campaign's consent-trail and output rounds: a full disk under stdout and under the
consent store, and a SIGKILL at a random write of `accept` and `revoke`.

After every step: an exit code that is documented and one error line; the history's last
acceptance or revocation is the record on disk (as `status` and `history` show them); no
temporary file of the trail is left once `status` has run; and an output that could not be
written is never a success.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.campaign import Campaign

# A real SIGKILL at the ``KILL_AT``-th file the command opens or renames in the config folder
# (its lock files aside): the moment between any two writes of the trail.
KILL_AT_WRITE = """
import os, signal, sys
config = os.environ["BG20K_CONFIG_DIR"]
target, seen = int(os.environ["KILL_AT"]), 0
def hook(event, args):
    global seen
    if event in ("open", "os.rename") and isinstance(args[0], str) and args[0].startswith(config):
        if event == "open" and args[0].endswith(".lock"):
            return
        seen += 1
        if seen == target:
            os.kill(os.getpid(), signal.SIGKILL)
sys.addaudithook(hook)
from bg20k_fetch.cli import main
sys.exit(main(sys.argv[1:]))
"""

READERS = (
    ["cite", "--all"],
    ["agreement"],
    ["agreement", "--json"],
    ["status", "--json"],
    ["history", "--json"],
    ["history"],
)
WRITERS = (["accept", "--yes"], ["accept", "--yes", "--name", "Ada"], ["revoke"])


def run(
    env: dict[str, str], *args: str, stdout: object = subprocess.PIPE, **extra: str
) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "bg20k_fetch", *args],
        env={**env, **extra},
        stdout=stdout,  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    return proc.returncode, proc.stdout or "", proc.stderr


def disagreement(env: dict[str, str]) -> str | None:
    """What is wrong with the trail as `status` and `history` show it, or None."""
    code, out, err = run(env, "status", "--json")
    hcode, hout, herr = run(env, "history", "--json")
    if code or hcode:
        return f"status/history failed: {err or herr}"
    status, events = json.loads(out), json.loads(hout)
    if any(e["event"] == "pending" for e in events):
        return "an event pending with no writer running"
    done = [e for e in events if e["event"] in ("accepted", "revoked")]
    record = status["record"]
    if status["state"] == "missing":
        return f"no record, yet the history says {done[-1]['event']}" if done else None
    if record is None or not done:
        return f"state {status['state']} with history {[e['event'] for e in events]}"
    last = done[-1]
    if (last["event"], last["accepted_at"], last["revoked_at"]) != (
        record["status"],
        record["accepted_at"],
        record["revoked_at"],
    ):
        return f"history's last {last['event']} is not the record ({record['status']})"
    if status["in_force"] is not (last["event"] == "accepted"):
        return "status says in force where the history does not (or the reverse)"
    config = Path(env["BG20K_CONFIG_DIR"])
    torn = [p.name for p in config.rglob("*.tmp")]
    return f"temporary files left after status: {torn}" if torn else None


class TrailRounds:
    def __init__(self, c: Campaign) -> None:
        self.c = c
        self.env = {**c.env, "BG20K_CONFIG_DIR": str(c.work / "trail-config")}

    def check(self, where: str, code: int, err: str, *, allowed: set[int]) -> None:
        t = self.c.tally
        t.steps += 1
        t.exits[code] += 1
        if code not in allowed:
            self.c.checker.fail(where, f"exit {code}: {err[-300:]!r}")
        if "Traceback" in err or "internal error" in err:
            self.c.checker.fail(where, f"a traceback or internal error: {err[-300:]!r}")
        if code > 0 and not err.rstrip("\n").splitlines()[-1].startswith("bg20k: error: "):
            self.c.checker.fail(where, f"exit {code} without one error line")
        problem = disagreement(self.env)
        if problem:
            self.c.checker.fail(where, problem)
        if code == 0:
            t.successes += 1

    def kills(self, steps: int) -> None:
        rng, t = self.c.rng, self.c.tally
        for n in range(steps):
            command = rng.choice(WRITERS)
            at = rng.randint(1, 8)
            proc = subprocess.run(
                [sys.executable, "-c", KILL_AT_WRITE, *command],
                env={**self.env, "KILL_AT": str(at)},
                capture_output=True,
                text=True,
                timeout=120,
            )
            killed = proc.returncode == -signal.SIGKILL
            if killed:
                t.kills["SIGKILL"] += 1
            t.faults["trail:kill-at-write"] += 1
            t.faulted_steps += killed
            allowed = {0, -signal.SIGKILL}
            self.check(
                f"trail kill {n} [{' '.join(command)} at {at}]",
                proc.returncode,
                proc.stderr,
                allowed=allowed,
            )

    def full_stdout(self, steps: int) -> None:
        rng, t = self.c.rng, self.c.tally
        for n in range(steps):
            command = rng.choice(READERS)
            with open("/dev/full", "w") as full:
                code, _, err = run(self.env, *command, stdout=full)
            t.faults["trail:full-stdout"] += 1
            t.faulted_steps += 1
            where = f"full stdout {n} [{' '.join(command)}]"
            # Exit 0 is right only when the command had nothing for stdout (an empty history
            # says so on stderr): the same command, run again on a pipe, shows what it writes.
            wrote = run(self.env, *command)[1] if code == 0 else "?"
            self.check(where, code, err, allowed={7} if wrote else {0, 7})
            if code == 7 and "No space left on device" not in err:
                self.c.checker.fail(where, f"exit 7 without saying why: {err!r}")

    def full_store(self, steps: int) -> None:
        """The config folder on a tiny file system, filled to within a few bytes: every write
        of the trail may fail at any point. Needs root (a tmpfs mount); skipped without."""
        rng, t = self.c.rng, self.c.tally
        store = self.c.work / "full-store"
        store.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(store)],
                          capture_output=True).returncode != 0:  # fmt: skip
            t.faults["trail:full-store (no tmpfs: skipped)"] += 1
            return
        env = {**self.env, "BG20K_CONFIG_DIR": str(store / "config")}
        saved, self.env = self.env, env
        try:
            for n in range(steps):
                filler = store / "filler"
                filler.unlink(missing_ok=True)
                with contextlib.suppress(OSError), filler.open("wb") as handle:
                    while True:
                        handle.write(b"\0" * 4096)
                        handle.flush()
                        os.fsync(handle.fileno())
                free = rng.choice((0, 0, 200, 700, 1500, 3000, 6000))
                with contextlib.suppress(OSError):
                    os.truncate(filler, max(filler.stat().st_size - free, 0))
                command = rng.choice(WRITERS)
                code, _, err = run(env, *command)
                t.faults["trail:full-store"] += 1
                t.faulted_steps += code != 0
                filler.unlink(missing_ok=True)  # room again: the reads that check may write
                self.check(
                    f"full store {n} [{' '.join(command)}, {free} B free]",
                    code,
                    err,
                    allowed={0, 7},
                )
        finally:
            self.env = saved
            subprocess.run(["umount", str(store)], capture_output=True)
