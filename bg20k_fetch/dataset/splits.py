"""What training code needs: the verified images of a split, in a stable order.

Every matting repository builds this by hand with ``sorted(os.listdir(...))``; this is the same
list, after a quick verify, so a script never trains on a tree that differs from its manifest.
"""

from __future__ import annotations

import os
from pathlib import Path

from bg20k_fetch.dataset.target import Target
from bg20k_fetch.dataset.verification import verify_tree
from bg20k_fetch.errors import UsageError
from bg20k_fetch.locations import Paths
from bg20k_fetch.release import load_release


def split_paths(split: str, dest: str | os.PathLike[str] | None = None) -> list[Path]:
    """The images of ``split`` (``train``, ``testval``, or an optional split such as
    ``train_denoise`` once fetched), sorted by file name, as absolute paths.

    Raises IntegrityError (5) when the dataset is missing or differs from its manifest, and
    UsageError (2) for a split the release does not have.
    """
    release = load_release()
    known = [s.name for s in (*release.layout.splits, *release.layout.optional_splits)]
    if split not in known:
        raise UsageError(f"There is no split {split!r}; the splits are {', '.join(known)}.")
    target = Target.resolve(dest, Paths.from_env(), release)
    report = verify_tree(target.real_root, release)
    report.require_ok()
    if split not in {s.name for s in release.layout.splits} and split not in report.components:
        raise UsageError(
            f"{split} has not been fetched into {target.root}.",
            hint=f"Fetch it with `bg20k fetch --with {split}`.",
        )
    folder = target.root / split
    names = sorted(n for n in os.listdir(folder) if not n.startswith("."))
    return [folder.absolute() / n for n in names]
