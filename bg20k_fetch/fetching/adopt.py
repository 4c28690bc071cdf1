"""A ``--from`` that is the destination's own tree: adopted where it lies, or refused.

A source is never moved or deleted, so a fetch cannot rebuild a tree that is its own source.
When the tree is complete and bg20k did not make it, it is hashed in place and bg20k's receipts
are added beside the images — no file moves; otherwise the fetch is refused.
"""

from __future__ import annotations

from pathlib import Path

from bg20k_fetch.consent.store import consent_held
from bg20k_fetch.dataset.provenance import ADOPTED_LABEL, receipt_names
from bg20k_fetch.dataset.target import Target
from bg20k_fetch.errors import UsageError
from bg20k_fetch.fetching.build import Fetched, Run, checked, note_location
from bg20k_fetch.fetching.decision import Action, Decision, Owner
from bg20k_fetch.fetching.install import entries
from bg20k_fetch.fetching.problems import remove_own_problems_file
from bg20k_fetch.fetching.receipts import write_receipts
from bg20k_fetch.progress import Reporter
from bg20k_fetch.release import Release
from bg20k_fetch.sources import LocalPath, Source
from bg20k_fetch.transfer.hashing import FileInfo, hash_file


def sources_inside(plan: list[list[Source]], target: Target) -> list[Path]:
    """Local sources that overlap the tree a fetch would replace (never moved or deleted)."""
    real = target.real_root.absolute()
    if not real.exists():
        return []
    real = real.resolve()
    inside = []
    local = [s for group in plan for s in group if isinstance(s, LocalPath)]
    for source in local:
        path = source.path.absolute().resolve()
        if path == real or real in path.parents or path in real.parents:
            inside.append(path)
    return inside


def adopt(run: Run, plan: list[list[Source]], inside: list[Path], decision: Decision) -> Fetched:
    """A source that is the destination's own tree is adopted where it lies, or refused."""
    target = run.target
    real = target.real_root.resolve()
    source = inside[0]
    adoptable = (
        decision.owner is Owner.FOREIGN
        and len(plan) == 1
        and len(plan[0]) == 1
        and source.is_dir()
        and (source == real or source in real.parents)
    )
    if not adoptable:
        doing = "replace" if decision.action is Action.REFUSE else "rebuild"
        raise UsageError(
            f"{source} lies inside {target.root}, which this fetch would {doing}; a source is "
            "never moved or deleted, so the fetch is refused.",
            hint="Give a copy that lies outside the destination, or another --dest.",
        )
    files, root_files = _adoptable(run, real)
    label = f"{source} {ADOPTED_LABEL}"
    report = checked(run, files, label, real, root_files)
    with consent_held(run.paths, run.agreement) as (record, note):
        provenance = write_receipts(
            real,
            files,
            release=run.release,
            agreement=run.agreement,
            record=record,
            report=report,
            served_by=label,
            failed=[],
            archives=[],
            root_files=root_files,
            adopted=True,
        )
        note_location(note, target, run.reporter)
    run.reporter.note(
        f"Adopted {target.root} in place: no file was moved; bg20k's receipts were added."
    )
    remove_own_problems_file(target)
    return Fetched.written(target.root, provenance)


def _adoptable(run: Run, real: Path) -> tuple[dict[str, FileInfo], dict[str, FileInfo]]:
    """The tree's images and root files, hashed where they lie, if it can be adopted as is."""
    target, release = run.target, run.release
    files, blockers = scan_in_place(real, release, run.reporter)
    if blockers:
        raise UsageError(
            f"{target.root} cannot be adopted in place: its split folders hold files that are "
            f"not images ({', '.join(blockers[:3])}); nothing was changed.",
            hint="Move those files out of the split folders, or fetch into another --dest.",
        )
    clashes = [n for n in receipt_names(release) if (real / n).exists()]
    # A release file bg20k may write (a split list) where the user has a link or a folder:
    # writing it would replace the link, or fail halfway with a file of ours left behind.
    clashes += [
        n
        for n in release.layout.root_files
        if (real / n).is_symlink() or ((real / n).exists() and not (real / n).is_file())
    ]
    if clashes:
        raise UsageError(
            f"{target.root} cannot be adopted in place: it already holds {', '.join(clashes)}, "
            "which bg20k would write; nothing was changed.",
            hint="Fetch into another --dest.",
        )
    root_files = {
        name: hash_file(real / name)
        for name in release.layout.root_files
        if (real / name).is_file() and not (real / name).is_symlink()
    }
    return files, root_files


def scan_in_place(
    root: Path, release: Release, reporter: Reporter
) -> tuple[dict[str, FileInfo], list[str]]:
    """Hash a tree where it lies, for adopting it without moving a file.

    Returns the images by path, and what stands in the way of adoption: anything in a split
    folder that is not an image where the layout puts one (it would count as an added file)."""
    from bg20k_fetch.fetching.staging import Staging

    layout = Staging(root, release)
    files: dict[str, FileInfo] = {}
    blockers: list[str] = []
    reporter.phase(f"hash {root.name} in place", None, "files")
    for split in sorted(layout.splits):
        base = root / split
        if not base.is_dir():
            continue
        for rel, path in entries(base):
            rel = f"{split}/{rel}"
            if path.is_symlink() or not path.is_file() or layout.target_for(rel) != rel:
                blockers.append(rel)
                continue
            files[rel] = hash_file(path)
            reporter.advance(1)
    return files, blockers
