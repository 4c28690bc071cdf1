"""Putting a finished tree in place, and tidying only what bg20k provably made.

The finished tree replaces the old one with two renames; if the second fails, the first is
undone, so a failed install leaves the previous dataset where it was. Files in the old tree
that bg20k did not make (neither a receipt nor listed in its manifest) are never deleted: those
outside the split folders move into the new tree at the same place, those inside a split folder
(where they would break verification and shift other people's splits) move beside it.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bg20k_fetch.dataset.provenance import (
    component_manifest,
    read_manifest,
    read_marker,
    read_provenance,
    receipt_names,
    was_adopted,
)
from bg20k_fetch.dataset.target import Target
from bg20k_fetch.errors import Bg20kError, IntegrityError, StorageError, mark_installed
from bg20k_fetch.release import Release
from bg20k_fetch.transfer.hashing import hash_file
from bg20k_fetch.util.fs import fsync_dir
from bg20k_fetch.util.signals import deferred


@dataclass
class Kept:
    """User files moved out of a replaced tree: into the new tree, or beside it."""

    into_tree: list[str] = field(default_factory=list)
    beside: list[str] = field(default_factory=list)
    beside_dir: Path | None = None
    adopted: Path | None = None  # where a replaced copy of the user's (adopted) went, whole
    unfinished: str | None = None  # what could not be moved or removed, and what happens next

    def notes(self, root: Path) -> list[str]:
        lines = []
        if self.adopted is not None:
            lines.append(
                f"The copy at {root} that bg20k had adopted in place is yours: it was moved, "
                f"whole, to {self.adopted}."
            )
        if self.into_tree:
            lines.append(
                f"Kept {len(self.into_tree)} file(s) bg20k did not make in {root}: "
                + _some(self.into_tree)
            )
        if self.unfinished:
            lines.append(self.unfinished)
        if self.beside:
            lines.append(
                f"Moved {len(self.beside)} file(s) bg20k did not make out of the split folders "
                f"to {self.beside_dir}: " + _some(self.beside)
            )
        return lines


def _some(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "") + "."


@contextmanager
def interruption_says_if_installed(root: Path) -> Iterator[None]:
    """A signal held through the swap lands after it, and one may land in the steps after:
    when the tree at ``root`` was made from now on (its marker says when), the interruption
    carries where it is (errors.installed_at), so what is said is what is on disk."""
    since = datetime.now(UTC).replace(microsecond=0)  # a marker's precision
    try:
        yield
    except KeyboardInterrupt as stop:
        made = read_marker(root)
        if made is not None and made >= since:
            mark_installed(stop, root)
        raise


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
        except OSError as exc:
            if old is not None:
                _put_back(old, target, exc)  # the previous dataset first, before reporting
            raise
        fsync_dir(real.parent)
    except OSError as exc:
        raise StorageError(
            f"Cannot move the finished dataset to {target.root}: {exc.strerror}; "
            + ("the previous one is unchanged." if old is not None else "nothing was replaced."),
            hint="Check permissions and free space at the destination.",
        ) from exc
    if old is None:
        return Kept()
    return retire(old, real, target, release)


def _put_back(old: Path, target: Target, failure: OSError) -> None:
    """Undo the first rename of a swap; if even that fails, say exactly where the previous
    dataset waits (the next run puts it back once it can)."""
    try:
        os.rename(old, target.real_root)
    except OSError as exc:
        raise StorageError(
            f"Cannot move the finished dataset to {target.root} ({failure.strerror}), nor put "
            f"the previous one back ({exc.strerror}): it is intact at {old}.",
            hint=f"Run the same command again once the destination is writable, or move {old} "
            f"back to {target.root} yourself.",
        ) from exc


def retire(old: Path, new: Path, target: Target, release: Release) -> Kept:
    """What becomes of a replaced tree. A copy bg20k adopted in place is the user's: it moves
    aside whole, receipts and all. bg20k's own is emptied of the user's files (into ``new`` or
    beside it) and then removed, since all that is left in it is provably bg20k's."""
    # The new dataset is in place whatever happens here: a tree that cannot be moved aside or
    # removed now stays, whole or in part, under its working name, and the next fetch into this
    # destination finishes the job (clean_leftovers) -- never an internal error, never a loss.
    if was_adopted(old):
        aside = target.kept_dir()
        try:
            os.rename(old, aside)
        except OSError as exc:
            return Kept(unfinished=f"The copy bg20k had adopted in place is yours; it could not "
                        f"be moved aside ({exc.strerror}) and is intact at {old}; the next fetch "
                        f"into {target.dest_dir} moves it.")  # fmt: skip
        return Kept(adopted=aside)
    kept = keep_unowned(old, new, target, release)
    try:
        shutil.rmtree(old)
    except OSError as exc:
        kept.unfinished = (
            f"The replaced dataset at {old} could not be removed ({exc.strerror}); it holds "
            f"only files bg20k made, and the next fetch into {target.dest_dir} removes it."
        )
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


Made = tuple[set[str], dict[str, int], dict[str, float]]  # listed, sizes, written by (time)


def _made_here(old: Path) -> Made | None:
    """What the old tree's receipts say bg20k wrote: the paths its manifests list (images,
    optional splits, the release's root files), their sizes, and when each was written (an
    optional split when it was fetched, which may be long after the dataset); None when they
    cannot be read (then nothing in it is provably bg20k's by listing)."""
    try:
        provenance = read_provenance(old)
        listed = set(read_manifest(old))
        made_at = provenance.created_at.timestamp()
        when = dict.fromkeys(listed, made_at)
        for name, component in provenance.components.items():
            split = set(read_manifest(old, component_manifest(name)))
            listed |= split
            when |= dict.fromkeys(split, component.created_at.timestamp())
    except IntegrityError:
        return None
    listed |= set(provenance.release_files)
    when |= dict.fromkeys(provenance.release_files, made_at)
    sizes = provenance.sizes | {n: f.size for n, f in provenance.release_files.items()}
    return listed, sizes, when


def _pristine(path: Path, rel: str, made: Made) -> bool:
    """Listed, the recorded size, and not modified since bg20k wrote it (1 s of slack for the
    record's whole-second time): anything else may hold the user's edits, so it is kept."""
    listed, sizes, when = made
    try:
        info = path.lstat()
    except OSError:
        return False
    return (
        rel in listed
        and stat.S_ISREG(info.st_mode)
        and sizes.get(rel) == info.st_size
        and info.st_mtime <= when[rel] + 1
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
