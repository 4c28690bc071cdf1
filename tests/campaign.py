"""The hostile-world campaign: real `bg20k` processes against misbehaving servers, killed at
random moments and run many at once, with the invariants checked after every step.

    python -m tests.campaign --seed 7                      # the CI size (about a minute)
    python -m tests.campaign --seed 7 --steps 1000 --drive-steps 200 --kill-rate 0.15 \\
        --rounds 20 --trail-steps 100 --store-steps 100 --report report.md   # the large run

Every random choice comes from ``--seed``: the same seed replays the same faults, kills and
rounds (timing on a loaded machine can still move a kill by a few milliseconds).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.campaign_checks import Checker, StepOutcome
from tests.data import jpeg, zip_bytes
from tests.faults import FaultyMirror
from tests.gdrive_emulator import DriveEmulator, Options
from tests.helpers import write_release

COUNTS = {"train": 12, "testval": 4}
DOCUMENTED = {0, 2, 3, 4, 5, 6, 7, 130, 143}
SIGNALS = (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)


@dataclass
class Tally:
    steps: int = 0
    faulted_steps: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    exits: Counter[int] = field(default_factory=Counter)
    successes: int = 0
    rounds: int = 0
    round_processes: int = 0
    revoke_rounds: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "steps": self.steps,
            "faulted_steps": self.faulted_steps,
            "kills": dict(self.kills),
            "exits": {str(k): v for k, v in sorted(self.exits.items())},
            "successes": self.successes,
            "rounds": self.rounds,
            "round_processes": self.round_processes,
            "revoke_rounds": self.revoke_rounds,
            "faults": dict(sorted(self.faults.items())),
            "violations": self.violations,
        }


def tree(offset: int) -> dict[str, bytes]:
    files, n = {}, offset
    for split, count in COUNTS.items():
        for _ in range(count):
            files[f"{split}/h_{n:08x}.jpg"] = jpeg(n, (160, 120))
            n += 1
    return files


def digest_of(files: dict[str, bytes]) -> str:
    manifest = "".join(f"{hashlib.sha256(files[p]).hexdigest()}  {p}\n" for p in sorted(files))
    return hashlib.sha256(manifest.encode()).hexdigest()


def certificate(where: Path) -> tuple[Path, Path]:
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class Campaign:
    def __init__(self, seed: int, work: Path, *, kill_rate: float, fault_rate: float) -> None:
        self.rng = random.Random(seed)
        self.seed, self.work, self.kill_rate, self.fault_rate = seed, work, kill_rate, fault_rate
        self.tally = Tally()
        self.a, self.b = tree(0), tree(1000)
        self.archives = (zip_bytes(self.a), zip_bytes(self.b))
        self.digests = {digest_of(self.a), digest_of(self.b)}
        self.archive_shas = {hashlib.sha256(x).hexdigest() for x in self.archives}
        self.cert = certificate(work)
        self.env = self._env()
        self.checker = Checker(self, self.tally)

    def _env(self) -> dict[str, str]:
        release = write_release(self.work / "release", counts=COUNTS)
        env = {
            **os.environ,
            "BG20K_CONFIG_DIR": str(self.work / "config"),
            "BG20K_CACHE_DIR": str(self.work / "cache"),
            "BG20K_DATA_DIR": str(self.work / "data"),
            "BG20K_RELEASE_FILE": str(release),
            "BG20K_BACKOFF": "0.05",
            "BG20K_RETRIES": "6",
            "BG20K_TIMEOUT": "1",
            "BG20K_THROTTLE_BUDGET": "4",
            "REQUESTS_CA_BUNDLE": str(self.cert[0]),
        }
        for name in ("CI", "BG20K_ACCEPT_AGREEMENT", "BG20K_GDRIVE_API_KEY"):
            env.pop(name, None)
        return env

    # -- running bg20k ---------------------------------------------------------------------------

    def bg20k(
        self, *args: str, kill: signal.Signals | None = None, delay: float = 0.0
    ) -> StepOutcome:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bg20k_fetch", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        if kill is not None:
            try:
                proc.wait(delay)
            except subprocess.TimeoutExpired:
                proc.send_signal(kill)
                self.tally.kills[kill.name] += 1
            else:
                kill = None  # finished before the kill: an ordinary run
        out, err = proc.communicate(timeout=300)
        return StepOutcome(list(args), proc.returncode, out, err, kill)

    def maybe_kill(self) -> tuple[signal.Signals | None, float]:
        if self.rng.random() >= self.kill_rate:
            return None, 0.0
        return self.rng.choice(SIGNALS), self.rng.uniform(0.05, 1.2)

    # -- phases ----------------------------------------------------------------------------------

    def http_steps(self, steps: int) -> None:
        with FaultyMirror(
            *self.archives, seed=self.seed, rate=self.fault_rate, tls=self.cert, stall_seconds=1.5
        ) as mirror:
            url = mirror.base_url + mirror.path
            home = self.work / "home"  # one destination kept across steps, with the user's files
            self.checker.plant_outside(home)
            for n in range(steps):
                dest = home if self.rng.random() < 0.6 else self.work / f"http-{n}"
                args = ["fetch", "--accept", "--source", url, "--dest", str(dest)]
                if dest == home and self.rng.random() < 0.9:
                    args.append("--force")  # (a tenth of them find it verified: no traffic)
                before = sum(mirror.injected.values())
                outcome = self.bg20k(
                    *args,
                    *(() if self.rng.random() < 0.5 else ("--json",)),
                    kill=(k := self.maybe_kill())[0],
                    delay=k[1],
                )
                self.tally.faulted_steps += sum(mirror.injected.values()) > before
                self.checker.after_step(outcome, dest)
            mirror.enabled = False  # the server behaves again: every destination must recover
            for dest in [home, *sorted(self.work.glob("http-*"))][:20]:
                outcome = self.bg20k("fetch", "--accept", "--source", url, "--dest", str(dest))
                self.checker.after_step(outcome, dest, must_succeed=True)
            self.tally.faults.update({f"http:{k}": v for k, v in mirror.injected.items()})

    def drive_steps(self, steps: int) -> None:
        with DriveEmulator(Options(warn_size=10**9, retry_after="1")) as drive:
            self.env.update(drive.env())
            folder = drive.add_tree(self.a)
            names = sorted(self.a)
            home = self.work / "drive-home"
            self.checker.plant_outside(home)
            for n in range(steps):
                fault = self._drive_fault(drive, folder, names)
                dest = home if self.rng.random() < 0.6 else self.work / f"drive-{n}"
                args = [
                    "fetch",
                    "--accept",
                    "--source",
                    f"gdrive-folder:{folder}",
                    "--dest",
                    str(dest),
                    "--jobs",
                    str(self.rng.choice((1, 4, 8))),
                ]
                if dest == home and self.rng.random() < 0.5:
                    args.append("--force")
                kill, delay = self.maybe_kill()
                outcome = self.bg20k(*args, kill=kill, delay=delay)
                self.tally.faulted_steps += fault != "none"
                self.tally.faults[f"drive:{fault}"] += 1
                self.checker.after_step(outcome, dest)
                self._drive_heal(drive, folder, names)
            outcome = self.bg20k(
                "fetch", "--accept", "--source", f"gdrive-folder:{folder}", "--dest", str(home)
            )
            self.checker.after_step(outcome, home, must_succeed=True)

    def _drive_fault(self, drive: DriveEmulator, folder: str, names: list[str]) -> str:
        fault = self.rng.choice(
            (
                "none",
                "quota",
                "sign-in",
                "html",
                "throttle",
                "cut",
                "extra-file",
                "short-listing",
                "latency",
            )
        )
        victim = drive.nodes[drive.file_id(self.rng.choice(names), folder)]
        if fault == "quota":
            victim.quota = True
        elif fault == "sign-in":
            victim.private = True
        elif fault == "html":
            victim.html_instead = True
        elif fault == "throttle":
            drive.options.throttle_after = len(drive.log) + self.rng.randint(1, 10)
            drive.options.throttle_count = self.rng.randint(1, 6)
        elif fault == "cut":
            drive.options.cut_after, drive.options.cut_count = self.rng.randint(1, 2000), 3
        elif fault == "extra-file":  # the listing changed between runs
            train = drive.file_id("train", folder)
            drive.add_file(f"h_extra{len(drive.nodes)}.jpg", jpeg(5000), train)
        elif fault == "short-listing":
            drive.options.listing_cap = self.rng.randint(1, 11)
        elif fault == "latency":
            drive.options.latency = 0.05
        return fault

    def _drive_heal(self, drive: DriveEmulator, folder: str, names: list[str]) -> None:
        for node in drive.nodes.values():
            node.quota = node.private = node.html_instead = False
        train = drive.nodes[drive.file_id("train", folder)]
        train.children = [c for c in train.children if "extra" not in drive.nodes[c].name]
        o = drive.options
        o.throttle_after, o.cut_after, o.listing_cap, o.latency = None, None, None, 0.0

    def rounds(self, rounds: int) -> None:
        from tests.campaign_rounds import run_round

        with FaultyMirror(
            *self.archives, seed=self.seed + 1, rate=self.fault_rate / 3, tls=self.cert
        ) as mirror:
            url = mirror.base_url + mirror.path
            for n in range(rounds):
                run_round(self, url, n, revoke=n % 2 == 1)
            self.tally.faults.update({f"rounds:{k}": v for k, v in mirror.injected.items()})

    def store(self, steps: int) -> None:
        from tests.campaign_store import run_store_rounds

        run_store_rounds(self, steps)

    def trail(self, steps: int) -> None:
        from tests.campaign_trail import TrailRounds

        rounds = TrailRounds(self)
        rounds.kills(steps)
        rounds.full_stdout(steps)
        rounds.full_store(steps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--steps", type=int, default=30, help="HTTP steps")
    parser.add_argument("--drive-steps", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2, help="many-process rounds")
    parser.add_argument("--store-steps", type=int, default=6, help="object-store steps")
    parser.add_argument(
        "--trail-steps",
        type=int,
        default=6,
        help="consent-trail steps of each kind: a kill at a write, a full stdout, a full store",
    )
    parser.add_argument("--kill-rate", type=float, default=0.25)
    parser.add_argument("--fault-rate", type=float, default=0.5)
    parser.add_argument("--report", type=Path, help="write the Markdown report here")
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix=f"bg20k-campaign-{args.seed}-"))
    started = time.monotonic()
    campaign = Campaign(args.seed, work, kill_rate=args.kill_rate, fault_rate=args.fault_rate)
    try:
        campaign.checker.accept_once()
        campaign.http_steps(args.steps)
        campaign.drive_steps(args.drive_steps)
        campaign.rounds(args.rounds)
        campaign.trail(args.trail_steps)
        campaign.store(args.store_steps)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    figures = campaign.tally.to_json() | {
        "seed": args.seed,
        "seconds": round(time.monotonic() - started),
        "command": "python -m tests.campaign " + " ".join(argv or sys.argv[1:]),
    }
    from tests.campaign_checks import markdown

    if args.report:
        args.report.write_text(markdown(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(markdown(figures))
    return 1 if campaign.tally.violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
