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

from bg20k_fetch.dataset.pin import LockFile
from bg20k_fetch.dataset.provenance import PROVENANCE_NAME, read_marker, read_provenance
from bg20k_fetch.dataset.target import Target
from bg20k_fetch.dataset.verification import VerifyReport, verify_tree
from bg20k_fetch.errors import IntegrityError
from bg20k_fetch.release import Release


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
    by_owner = {
        Owner.ABSENT: (Action.BUILD, "absent"),
        Owner.EMPTY: (Action.BUILD, "an empty directory"),
        Owner.NOT_A_DIRECTORY: (Action.REFUSE, f"{target.root} exists and is not a directory"),
        Owner.FOREIGN: (
            Action.REFUSE,
            f"{target.root} exists and was not made by bg20k (it has no valid {PROVENANCE_NAME})",
        ),
        Owner.BG20K_DAMAGED: (Action.REBUILD, f"its {PROVENANCE_NAME} is damaged"),
    }
    if owner in by_owner:
        return Decision(*by_owner[owner], owner)
    try:
        report = verify_tree(root, release)
    except IntegrityError as exc:
        return Decision(Action.REBUILD, f"it cannot be verified ({exc.message})", owner)
    reason = _why_rebuild(report, release, root, allow_partial, lock_file, archive_sha256)
    if reason is None and force:
        reason = "--force was given"
    if reason is not None:
        return Decision(Action.REBUILD, reason, owner)
    partial = "" if report.complete else ", partial"
    found = f"{report.file_count} files{partial}, digest {report.digest[:16]}…"
    split = _differing_optional_split(report, release)
    if split is not None:  # the dataset stands; `--with` repairs that split alone
        found += (
            f"; but {split}/ differs from its manifest ({report.describe()}): "
            f"`bg20k fetch --with {split}` repairs it"
        )
    return Decision(Action.REUSE, found, owner, report)


def _differing_optional_split(report: VerifyReport, release: Release) -> str | None:
    optional = {s.name for s in release.layout.optional_splits}
    folders = {p.split("/", 1)[0] for p in (*report.missing, *report.added, *report.changed)}
    return sorted(folders)[0] if folders and folders <= optional else None


def _why_rebuild(
    report: VerifyReport,
    release: Release,
    root: Path,
    allow_partial: bool,
    lock_file: LockFile | None,
    archive_sha256: str | None,
) -> str | None:
    if not report.ok and _differing_optional_split(report, release) is None:
        return f"it differs from its manifest ({report.describe()})"
    if not report.complete and not allow_partial:
        return "it is a partial dataset"
    if lock_file is not None and lock_file.digest != report.digest:
        return "it is not the dataset the lock file requires"
    if archive_sha256 is not None and not _built_from(root, archive_sha256):
        # The pin names an archive; only a tree built from that archive proves it was checked.
        return "it was not built from the archive --sha256 pins"
    return None
