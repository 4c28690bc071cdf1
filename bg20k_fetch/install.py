"""Putting a finished tree in place, and tidying only what bg20k provably made.

The finished tree replaces the old one with two renames; if the second fails, the first is
undone, so a failed install leaves the previous dataset where it was. Files in the old tree
that bg20k did not make (neither a receipt nor listed in its manifest) are never deleted: those
outside the split folders move into the new tree at the same place, those inside a split folder
(where they would break verification and shift other people's splits) move beside it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .dataset import component_manifest, read_manifest, read_provenance, receipt_names
from .errors import Bg20kError, IntegrityError, StorageError
from .fsutil import atomic_write, fsync_dir
from .hashing import hash_file
from .progress import Reporter
from .redact import redact
from .release import Release
from .signals import deferred
from .target import Target, tag_is_dead

PROBLEMS_HEADER = "# bg20k: problems found"


@dataclass
class Kept:
    """User files moved out of a replaced tree: into the new tree, or beside it."""

    into_tree: list[str] = field(default_factory=list)
    beside: list[str] = field(default_factory=list)
    beside_dir: Path | None = None

    def notes(self, root: Path) -> list[str]:
        lines = []
        if self.into_tree:
            lines.append(
                f"Kept {len(self.into_tree)} file(s) bg20k did not make in {root}: "
                + _some(self.into_tree)
            )
        if self.beside:
            lines.append(
                f"Moved {len(self.beside)} file(s) bg20k did not make out of the split folders "
                f"to {self.beside_dir}: " + _some(self.beside)
            )
        return lines


def _some(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "") + "."


def swap_into_place(staging_root: Path, target: Target, release: Release) -> Kept:
    """Move ``staging_root`` to the target's real root; returns what was kept of the old tree.

    Ctrl-C and SIGTERM wait until the swap and the moving-out of the user's files are done."""
    with deferred():
        return _swap(staging_root, target, release)


def _swap(staging_root: Path, target: Target, release: Release) -> Kept:
    real = target.real_root
    old: Path | None = None
    try:
        if real.exists():
            old = target.work_dir("old")
            os.rename(real, old)
        try:
            os.rename(staging_root, real)
        except OSError:
            if old is not None:
                os.rename(old, real)  # put the previous dataset back before reporting
            raise
        fsync_dir(real.parent)
    except OSError as exc:
        raise StorageError(
            f"Cannot move the finished dataset to {target.root}: {exc.strerror}; "
            "the previous one (if any) is unchanged.",
            hint="Check permissions and free space at the destination.",
        ) from exc
    if old is None:
        return Kept()
    kept = keep_unowned(old, real, target, release)
    shutil.rmtree(old)  # everything left in it is provably bg20k's
    return kept


def _move_out(path: Path, destination: Path, old: Path) -> None:
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.rename(path, destination)
    except OSError as exc:
        # Nothing of the old tree is deleted now: it stays, whole, where it was moved aside.
        raise StorageError(
            f"Cannot move {path} (a file bg20k did not make) to {destination}: {exc.strerror}; "
            f"the replaced tree is kept at {old}.",
            hint="Move your files out of it by hand, then delete it.",
        ) from exc


def _made_here(old: Path) -> tuple[set[str], dict[str, int], float] | None:
    """What the old tree's receipts say bg20k wrote: the paths its manifests list (images,
    optional splits, the release's root files), their sizes, and when; None when they cannot
    be read (then nothing in it is provably bg20k's by listing)."""
    try:
        provenance = read_provenance(old)
        listed = set(read_manifest(old))
        for name in provenance.components:
            listed |= set(read_manifest(old, component_manifest(name)))
    except IntegrityError:
        return None
    listed |= set(provenance.release_files)
    sizes = provenance.sizes | {n: f.size for n, f in provenance.release_files.items()}
    return listed, sizes, provenance.created_at.timestamp()


def _pristine(path: Path, rel: str, made: tuple[set[str], dict[str, int], float]) -> bool:
    """Listed, the recorded size, and not modified since bg20k wrote it (1 s of slack for the
    record's whole-second time): anything else may hold the user's edits, so it is kept."""
    listed, sizes, made_at = made
    try:
        info = path.lstat()
    except OSError:
        return False
    return (
        rel in listed
        and stat.S_ISREG(info.st_mode)
        and sizes.get(rel) == info.st_size
        and info.st_mtime <= made_at + 1
    )


def keep_unowned(old: Path, new: Path, target: Target, release: Release) -> Kept:
    receipts = set(receipt_names(release))
    made = _made_here(old)
    splits = {s.name for s in (*release.layout.splits, *release.layout.optional_splits)}
    kept = Kept()
    for rel, path in entries(old):
        if rel in receipts or (made is not None and _pristine(path, rel, made)):
            continue
        if _same_file(path, new / rel):
            continue  # the same bytes are in the new tree: nothing is lost
        in_split = rel.split("/", 1)[0] in splits
        destination = None if in_split else new / rel
        if destination is not None and (destination.exists() or destination.is_symlink()):
            destination = None  # never replace a file of the new tree
        if destination is None:
            if kept.beside_dir is None:
                kept.beside_dir = target.kept_dir()
            destination = kept.beside_dir / rel
            kept.beside.append(rel)
        else:
            kept.into_tree.append(rel)
        _move_out(path, destination, old)
    return kept


def entries(root: Path) -> Iterator[tuple[str, Path]]:
    """Every file, link and special entry under ``root`` (links are not followed)."""
    for dirpath, dirnames, filenames in os.walk(root):
        for name in list(dirnames):
            if os.path.islink(os.path.join(dirpath, name)):
                dirnames.remove(name)
                filenames.append(name)
        for name in sorted(filenames):
            path = Path(dirpath, name)
            yield path.relative_to(root).as_posix(), path


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.is_symlink() or not b.is_file() or a.stat().st_size != b.stat().st_size:
            return False
        return hash_file(a).sha256 == hash_file(b).sha256
    except (OSError, Bg20kError):
        return False


def clean_leftovers(target: Target, release: Release, reporter: Reporter) -> None:
    """Remove what killed runs left, when their process is provably gone (the caller holds the
    destination lock, so no live fetch can be using them): staging trees are discarded; a
    previous dataset moved aside by an install that never finished is put back, or, if a new
    one is in place, emptied of the user's files like any replaced tree."""
    for path, tag in target.leftovers("staging"):
        if tag_is_dead(tag):
            shutil.rmtree(path, ignore_errors=True)
            reporter.note(f"Removed {path}, left by an interrupted fetch (process {tag}).")
    for path, tag in target.leftovers("old"):
        if not tag_is_dead(tag):
            continue
        with deferred():
            _finish_swap(path, target, release, reporter)


def _finish_swap(path: Path, target: Target, release: Release, reporter: Reporter) -> None:
    """An install killed between its renames: put the old tree back, or, if the new one is in
    place, move the user's files out of the old one as the install would have."""
    if not target.real_root.exists():
        os.rename(path, target.real_root)
        reporter.note(f"Put back {target.root}, moved aside by an interrupted install.")
        return
    kept = keep_unowned(path, target.real_root, target, release)
    shutil.rmtree(path)
    reporter.note(f"Removed {path}, the dataset an interrupted install replaced.")
    for line in kept.notes(target.root):
        reporter.note(line)


def write_problems(target: Target, lines: list[str]) -> Path:
    """The full list of problems, in a file bg20k marks as its own (and so may replace)."""
    path = target.problems_file
    if path.exists() and not is_own_problems_file(path):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = path.with_name(f"{target.name}.problems-{stamp}.txt")
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    text = f"{PROBLEMS_HEADER} in {target.root} ({stamp})\n" + redact("\n".join(lines)) + "\n"
    atomic_write(path, text.encode("utf-8"), make_parents=False)
    return path


def is_own_problems_file(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(PROBLEMS_HEADER)).decode("utf-8", "replace") == PROBLEMS_HEADER
    except OSError:
        return False


def remove_own_problems_file(target: Target) -> None:
    """A later success makes an earlier problems list stale; remove it if bg20k wrote it."""
    if is_own_problems_file(target.problems_file):
        with contextlib.suppress(OSError):
            target.problems_file.unlink()
