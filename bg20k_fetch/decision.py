"""What a fetch does with what is already at the destination: reuse, build, rebuild or refuse.

One pure-ish function (it reads the tree, it writes nothing), used by the fetch and by the dry
run, so the plan a user reads is the decision the fetch makes.

bg20k replaces only a tree it can prove it made: one whose ``PROVENANCE.yaml`` is valid, or,
when that file is damaged, one that still holds bg20k's marker (``.bg20k-tree``). Anything else
at ``BG-20k/`` (a hand-made tree, a copy with notes in it) is refused, never replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from .dataset import PROVENANCE_NAME, read_marker, read_provenance
from .errors import IntegrityError
from .lockfile import LockFile
from .release import Release
from .target import Target
from .verification import VerifyReport, verify_tree


class Owner(StrEnum):
    ABSENT = "absent"
    EMPTY = "empty"
    BG20K = "made by bg20k"
    BG20K_DAMAGED = "made by bg20k, receipts damaged"
    FOREIGN = "not made by bg20k"
    NOT_A_DIRECTORY = "not a directory"


def owner_of(root: Path) -> Owner:
    if not root.exists():
        return Owner.ABSENT
    if not root.is_dir():
        return Owner.NOT_A_DIRECTORY
    try:
        if next(root.iterdir(), None) is None:
            return Owner.EMPTY
    except OSError:
        return Owner.FOREIGN  # cannot even look inside: certainly not provably ours
    try:
        read_provenance(root)
        return Owner.BG20K
    except IntegrityError:
        pass
    if read_marker(root) is not None:
        return Owner.BG20K_DAMAGED
    return Owner.FOREIGN


def _built_from(root: Path, archive_sha256: str) -> bool:
    try:
        return any(a.sha256 == archive_sha256 for a in read_provenance(root).archives)
    except IntegrityError:
        return False


class Action(StrEnum):
    REUSE = "reuse"
    BUILD = "build"
    REBUILD = "rebuild"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str
    owner: Owner
    report: VerifyReport | None = None  # the verified dataset, when reused

    def describe(self, root: Path) -> str:
        """One phrase for the dry run and the fetch's notes."""
        if self.action is Action.REUSE:
            return f"verified, nothing to do: {self.reason}"
        if self.action is Action.REBUILD:
            return f"would be rebuilt: {self.reason}"
        if self.action is Action.REFUSE:
            return f"refused: {self.reason}"
        return self.reason


def decide(
    target: Target,
    release: Release,
    *,
    force: bool = False,
    allow_partial: bool = False,
    lock_file: LockFile | None = None,
    archive_sha256: str | None = None,
) -> Decision:
    root = target.real_root
    if target.linked and not root.exists():
        # Most often an unmounted disk: building at the link's target would fill another.
        return Decision(
            Action.REFUSE, f"{target.root} is a link to {root}, which does not exist", Owner.ABSENT
        )
    owner = owner_of(root)
    if owner is Owner.ABSENT:
        return Decision(Action.BUILD, "absent", owner)
    if owner is Owner.EMPTY:
        return Decision(Action.BUILD, "an empty directory", owner)
    if owner is Owner.NOT_A_DIRECTORY:
        return Decision(Action.REFUSE, f"{target.root} exists and is not a directory", owner)
    if owner is Owner.FOREIGN:
        return Decision(
            Action.REFUSE,
            f"{target.root} exists and was not made by bg20k (it has no valid {PROVENANCE_NAME})",
            owner,
        )
    if owner is Owner.BG20K_DAMAGED:
        return Decision(Action.REBUILD, f"its {PROVENANCE_NAME} is damaged", owner)
    try:
        report = verify_tree(root, release)
    except IntegrityError as exc:
        return Decision(Action.REBUILD, f"it cannot be verified ({exc.message})", owner)
    if not report.ok:
        return Decision(
            Action.REBUILD, f"it differs from its manifest ({report.describe()})", owner
        )
    if not report.complete and not allow_partial:
        return Decision(Action.REBUILD, "it is a partial dataset", owner)
    if lock_file is not None and lock_file.digest != report.digest:
        return Decision(Action.REBUILD, "it is not the dataset the lock file requires", owner)
    if archive_sha256 is not None and not _built_from(root, archive_sha256):
        # The pin names an archive; only a tree built from that archive proves it was checked.
        return Decision(Action.REBUILD, "it was not built from the archive --sha256 pins", owner)
    if force:
        return Decision(Action.REBUILD, "--force was given", owner)
    partial = "" if report.complete else ", partial"
    return Decision(
        Action.REUSE,
        f"{report.file_count} files{partial}, digest {report.digest[:16]}…",
        owner,
        report,
    )
