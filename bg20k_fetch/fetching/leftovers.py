"""What killed runs leave beside a dataset, tidied only when provably theirs and provably dead.

Every working entry is named ``.BG-20k.<kind>-PID@HOST``; the caller holds the destination
lock, so no live fetch is using one. A staging tree is discarded; a tree an install moved aside
is put back, or retired like any replaced tree once the new one is in place.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from bg20k_fetch.dataset.target import Target
from bg20k_fetch.errors import StorageError
from bg20k_fetch.fetching.decision import Owner, owner_of
from bg20k_fetch.fetching.install import retire
from bg20k_fetch.progress import Reporter
from bg20k_fetch.release import Release
from bg20k_fetch.util.procs import tag_is_dead
from bg20k_fetch.util.signals import deferred


def clean_leftovers(target: Target, release: Release, reporter: Reporter) -> None:
    """Remove what killed runs left, when their process is provably gone (the caller holds the
    destination lock, so no live fetch can be using them): staging trees are discarded; a
    previous dataset moved aside by an install that never finished is put back, or, if a new
    one is in place, retired like any replaced tree. An entry that only has such a name (a
    link, a folder bg20k's receipts do not claim) is left alone."""
    for path, tag in target.leftovers("staging"):
        if tag_is_dead(tag) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            if not path.exists():
                reporter.note(f"Removed {path}, left by an interrupted fetch (process {tag}).")
    for path, tag in target.leftovers("old"):
        if not tag_is_dead(tag) or path.is_symlink():
            continue
        if owner_of(path) not in (Owner.BG20K, Owner.BG20K_DAMAGED):
            reporter.note(
                f"Left {path} alone: it is named like bg20k's working folders, but was not "
                "made by bg20k."
            )
            continue
        with deferred():
            _finish_swap(path, target, release, reporter)


def _finish_swap(path: Path, target: Target, release: Release, reporter: Reporter) -> None:
    """An install killed between its renames: put the old tree back, or, if the new one is in
    place, retire the old one as the install would have."""
    if not target.real_root.exists():
        try:
            os.rename(path, target.real_root)
        except OSError as exc:
            raise StorageError(
                f"The dataset an interrupted install moved aside is intact at {path}, but it "
                f"cannot be put back at {target.root}: {exc.strerror}.",
                hint=f"Make the destination writable and run again, or move {path} back to "
                f"{target.root} yourself.",
            ) from exc
        reporter.note(f"Put back {target.root}, moved aside by an interrupted install.")
        return
    kept = retire(path, target.real_root, target, release)
    if kept.adopted is None:
        reporter.note(f"Removed {path}, the dataset an interrupted install replaced.")
    for line in kept.notes(target.root):
        reporter.note(line)
