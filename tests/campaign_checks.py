"""The campaign's invariants, checked after every step, and its report."""

from __future__ import annotations

import json
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from tests.campaign import Campaign, Tally

DOCUMENTED = {0, 2, 3, 4, 5, 6, 7, 130, 143}
MINE = b"the user's own notes\n"


@dataclass
class StepOutcome:
    args: list[str]
    code: int
    out: str
    err: str
    killed: signal.Signals | None


class Checker:
    def __init__(self, campaign: Campaign, tally: Tally) -> None:
        self.c, self.t = campaign, tally
        self.accepted = 0
        self.drafts: set[Path] = set()

    def fail(self, where: str, what: str) -> None:
        self.t.violations.append(f"{where}: {what}")

    def accept_once(self) -> None:
        outcome = self.c.bg20k("accept", "--yes")
        assert outcome.code == 0, outcome.err
        self.accepted = 1

    def plant_outside(self, dest: Path) -> None:
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "mine.txt").write_bytes(MINE)

    def after_step(self, o: StepOutcome, dest: Path, *, must_succeed: bool = False) -> None:
        self.t.steps += 1
        self.t.exits[o.code] += 1
        where = (
            f"step {self.t.steps} [{' '.join(o.args[:2])} … {o.killed.name if o.killed else ''}]"
        )
        self._exit(o, where, must_succeed)
        self._tree(dest, where)
        self._user_files(dest, where, o.code == 0)
        self._consent(where)
        self._cache(where)
        if o.code == 0:
            self.t.successes += 1
            self._clean_after_success(dest, where)
            draft = dest / "BG-20k" / "mywork" / "draft.txt"
            if (dest / "mine.txt").exists() and dest not in self.drafts:
                draft.parent.mkdir(parents=True, exist_ok=True)
                draft.write_bytes(MINE)
                self.drafts.add(dest)

    def _exit(self, o: StepOutcome, where: str, must_succeed: bool) -> None:
        allowed = set(DOCUMENTED)
        if o.killed is not None:
            allowed.add(-o.killed)  # died of the very signal it was sent
        if o.code not in allowed:
            self.fail(where, f"exit {o.code} is not documented: {o.err[-300:]!r}")
        if "Traceback" in o.err:
            self.fail(where, f"a traceback: {o.err[-300:]!r}")
        if o.code not in (0,) and o.code >= 0:
            last = o.err.rstrip("\n").splitlines()[-1] if o.err.strip() else ""
            if not last.startswith("bg20k: error: "):
                self.fail(where, f"exit {o.code} without one error line: {last!r}")
            if "internal error" in last:
                self.fail(where, f"an internal error: {last!r}")
        if must_succeed and o.code != 0:
            self.fail(where, f"the server behaves, yet exit {o.code}: {o.err[-300:]!r}")

    def _tree(self, dest: Path, where: str) -> None:
        root = dest / "BG-20k"
        if not root.exists():
            return
        try:
            provenance = yaml.safe_load((root / "PROVENANCE.yaml").read_text())
        except (OSError, yaml.YAMLError) as exc:
            self.fail(where, f"a tree at {root} without readable provenance: {exc}")
            return
        check = subprocess.run(
            ["sha256sum", "--check", "--quiet", "MANIFEST.sha256"], cwd=root, capture_output=True
        )
        if check.returncode != 0:
            self.fail(where, f"sha256sum -c fails in {root}: {check.stdout[:300]!r}")
        if provenance.get("digest") not in self.c.digests:
            self.fail(where, f"a tree of unknown digest {provenance.get('digest')} (mixed?)")
        if provenance.get("complete") is not True:
            self.fail(where, "an incomplete tree where only complete ones may be")
        for archive in provenance.get("archives", []):
            if archive["sha256"] not in self.c.archive_shas:
                self.fail(where, f"an archive glued from two versions: {archive['sha256']}")

    def _user_files(self, dest: Path, where: str, succeeded: bool) -> None:
        mine = dest / "mine.txt"
        if dest.exists() and (dest / ".planted").exists() and not mine.exists():
            self.fail(where, f"the user's {mine} is gone")
        if mine.exists():
            (dest / ".planted").touch()
            if mine.read_bytes() != MINE:
                self.fail(where, f"the user's {mine} was changed")
        if dest in self.drafts:
            draft = dest / "BG-20k" / "mywork" / "draft.txt"
            kept = list(dest.glob("BG-20k.kept-*/mywork/draft.txt"))
            # After a SIGKILL mid-install it waits in the swapped-out tree, and the next run
            # must put it back; anywhere else, or nowhere, is a loss.
            pending = list(dest.glob(".BG-20k.old-*/mywork/draft.txt"))
            if not draft.exists() and not kept and not (pending and not succeeded):
                self.fail(where, f"the user's {draft} is gone")

    def _consent(self, where: str) -> None:
        config = Path(self.c.env["BG20K_CONFIG_DIR"])
        events = [
            json.loads(line)
            for line in (config / "consent-history.jsonl").read_text().splitlines()
            if line.strip()
        ]
        accepted = [e for e in events if e.get("event") == "accepted"]
        if len(accepted) < self.accepted:
            self.fail(where, f"an acceptance was lost ({len(accepted)} < {self.accepted})")
        self.accepted = len(accepted)

    def _cache(self, where: str) -> None:
        biggest = max(len(x) for x in self.c.archives)
        for part in Path(self.c.env["BG20K_CACHE_DIR"]).rglob("*.part"):
            if part.stat().st_size > max(biggest, 200_000):
                self.fail(where, f"{part} grew past the file's size: {part.stat().st_size}")

    def _clean_after_success(self, dest: Path, where: str) -> None:
        leftovers = [p.name for p in dest.iterdir() if p.name.startswith(".BG-20k.")]
        leftovers += [str(p) for p in dest.rglob("*.tmp")]
        if leftovers:
            self.fail(where, f"temporary files after a success: {leftovers}")


def markdown(f: dict[str, object]) -> str:
    violations = f["violations"]
    assert isinstance(violations, list)
    kills = f["kills"]
    assert isinstance(kills, dict)
    rows = [
        ("seed", f["seed"]),
        ("steps (one bg20k run each)", f["steps"]),
        ("steps with at least one fault injected", f["faulted_steps"]),
        (
            "kills (SIGKILL / SIGTERM / SIGINT)",
            f"{sum(kills.values())} ({kills.get('SIGKILL', 0)}"
            f" / {kills.get('SIGTERM', 0)} / {kills.get('SIGINT', 0)})",
        ),
        ("successful runs", f["successes"]),
        ("many-process rounds (processes)", f"{f['rounds']} ({f['round_processes']})"),
        ("rounds with a revoke mid-fetch", f["revoke_rounds"]),
        ("exit codes seen", ", ".join(f"{k}: {v}" for k, v in dict(f["exits"]).items())),  # type: ignore[call-overload]
        ("corrupted outputs, lost files or acceptances, wrong exit codes", len(violations)),
        ("seconds", f["seconds"]),
    ]
    lines = ["| figure | value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    faults = dict(f["faults"])  # type: ignore[call-overload]
    lines += ["", "| fault injected | times |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in faults.items()]
    lines += ["", f"Reproduce: `{f['command']}`"]
    if violations:
        lines += ["", "Violations:", *[f"- {v}" for v in violations]]
    return "\n".join(lines) + "\n"
