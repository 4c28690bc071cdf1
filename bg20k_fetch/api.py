"""What a training script calls besides ``fetch()``: check the dataset, check consent, and get
the references to cite — without a subprocess."""

from __future__ import annotations

import os
from pathlib import Path

from .agreement import load_agreement
from .citations import Format, render, select
from .consent import ConsentStatus, read_status
from .errors import IntegrityError
from .listing import split_paths
from .locations import Paths
from .lockfile import LockFile
from .release import load_release
from .target import Target
from .verification import VerifyReport, verify_tree


def verify(
    dest: str | os.PathLike[str] | None = None,
    *,
    deep: bool = False,
    lock: str | os.PathLike[str] | None = None,
) -> VerifyReport:
    """Check ``<dest>/BG-20k`` against its manifest (and a lock file, if given).

    Quick by default (names, sizes, counts); ``deep`` re-hashes every file on every core.
    Returns the report — ``report.ok``, ``report.digest``, ``report.complete``, and what is
    missing, added or changed; ``report.require_ok()`` raises IntegrityError when not ok.

    Raises:
        IntegrityError (5): there is no dataset, or its receipts are damaged.
        UsageError (2): the lock file is not one.
    """
    release = load_release()
    target = Target.resolve(dest, Paths.from_env(), release)
    report = verify_tree(target.real_root, release, deep=deep)
    report.root = target.root
    if lock is not None:
        try:
            LockFile.read(Path(lock)).require(report.manifest, str(target.root))
        except IntegrityError as exc:
            report.lock_problem = str(exc)
    return report


def paths(split: str, dest: str | os.PathLike[str] | None = None) -> list[Path]:
    """The verified images of ``split`` in a stable sorted order (after a quick verify).

    ``for path in bg20k_fetch.paths("train"): image = PIL.Image.open(path)``. Raises
    IntegrityError (5) when the dataset differs from its manifest, UsageError (2) for an
    unknown or unfetched split."""
    return split_paths(split, dest)


def status(*, config_dir: str | os.PathLike[str] | None = None) -> ConsentStatus:
    """Whether consent to the shipped agreement is in force (``.in_force``), and the record."""
    return read_status(Paths.from_env(config_dir=config_dir), load_agreement())


def cite(*, all: bool = False, format: Format = "bibtex", explain: bool = False) -> str:
    """The references the agreement requires (``all``: and those it encourages), rendered."""
    release = load_release()
    return render(select(release, include_encouraged=all), release, format, explain=explain)


def citation_keys(*, all: bool = False) -> list[str]:
    """The BibTeX keys of those references, for ``\\cite{…}``."""
    return [r.key for r in select(load_release(), include_encouraged=all)]
