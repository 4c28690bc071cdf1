"""What a training script calls besides ``fetch()``: check the dataset, check consent, and get
the references to cite — without a subprocess."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from bg20k_fetch.dataset.pin import LockFile
from bg20k_fetch.dataset.target import Target
from bg20k_fetch.dataset.verification import VerifyReport, verify_tree

# Only what `verify` needs is imported up front: `bg20k verify` loads this module, and each
# import it does not need is start-up time (the rest load when their function is called).
from bg20k_fetch.errors import IntegrityError, UsageError
from bg20k_fetch.locations import Paths
from bg20k_fetch.release import load_release
from bg20k_fetch.storage.store import is_store_url, require_store_url

if TYPE_CHECKING:
    from bg20k_fetch.citing import Format
    from bg20k_fetch.citing.paper_check import PaperReport
    from bg20k_fetch.consent.gate import Asker
    from bg20k_fetch.consent.record import ConsentStatus
    from bg20k_fetch.progress import Reporter
    from bg20k_fetch.register import Registered
    from bg20k_fetch.register.audit import Audit
    from bg20k_fetch.storage.publisher import Published


def verify(
    dest: str | os.PathLike[str] | None = None,
    *,
    deep: bool = False,
    lock: str | os.PathLike[str] | None = None,
) -> VerifyReport:
    """Check ``<dest>/BG-20k`` (or a published ``s3://…/BG-20k``) against its manifest (and a
    lock file, if given).

    Quick by default (names, sizes, counts); ``deep`` re-hashes every file on every core.
    Returns the report — ``report.ok``, ``report.digest``, ``report.complete``, and what is
    missing, added or changed; ``report.require_ok()`` raises IntegrityError when not ok.

    Raises:
        IntegrityError (5): there is no dataset, or its receipts are damaged.
        UsageError (2): the lock file is not one.
    """
    release = load_release()
    # The lock file first: one that is not one is a usage error before any work.
    lock_file = LockFile.read(Path(lock), release.dataset) if lock is not None else None
    if isinstance(dest, str) and is_store_url(dest):
        from bg20k_fetch.storage.remote_verify import verify_published

        report = verify_published(dest, release, deep=deep)
        _check_lock(report, lock_file, dest)
        return report
    target = Target.resolve(dest, Paths.from_env(), release)
    report = verify_tree(target.real_root, release, deep=deep)
    report.root = target.root
    _check_lock(report, lock_file, str(target.root))
    return report


def _check_lock(report: VerifyReport, lock: LockFile | None, where: str) -> None:
    if lock is not None:
        try:
            lock.require(report.manifest, where)
        except IntegrityError as exc:
            report.lock_problem = str(exc)


def paths(split: str, dest: str | os.PathLike[str] | None = None) -> list[Path]:
    """The verified images of ``split`` in a stable sorted order (after a quick verify).

    ``for path in bg20k_fetch.paths("train"): image = PIL.Image.open(path)``. Raises
    IntegrityError (5) when the dataset differs from its manifest, UsageError (2) for an
    unknown or unfetched split."""
    from bg20k_fetch.dataset.splits import split_paths

    return split_paths(split, dest)


def status(*, config_dir: str | os.PathLike[str] | None = None) -> ConsentStatus:
    """Whether consent to the shipped agreement is in force (``.in_force``), and the record."""
    from bg20k_fetch.consent.agreement import load_agreement
    from bg20k_fetch.consent.record import read_status

    return read_status(Paths.from_env(config_dir=config_dir), load_agreement())


def cite(*, all: bool = False, format: Format = "bibtex", explain: bool = False) -> str:
    """The references the agreement requires (``all``: and those it encourages), rendered."""
    from bg20k_fetch.citing.references import render, select

    release = load_release()
    return render(select(release, include_encouraged=all), release, format, explain=explain)


def check_paper(
    paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
) -> PaperReport:
    """Does the paper at ``paths`` (a LaTeX project, .tex/.bib/.aux/.bbl/.bcf files, a PDF,
    a source archive, any mix) cite what the agreement requires? Reads only; writes nothing.
    ``report.exit_code`` is what ``bg20k check-paper`` exits with."""
    from bg20k_fetch.citing.paper_check import check_paper as check

    return check(paths, load_release())


def register(location: str) -> Registered:
    """Add this person's consent (as in force here, or its revocation) to the register of the
    shared copy at ``location``: a BG-20k folder on a shared file system or a published
    ``s3://…/BG-20k``. ConsentError (3) when there is no consent record to add."""
    from bg20k_fetch.consent.record import load_record
    from bg20k_fetch.errors import ConsentError
    from bg20k_fetch.register import add_to_register

    record = load_record(Paths.from_env())
    if record is None:
        raise ConsentError(
            "There is no consent record here to add to a register.",
            hint="Accept the agreement first: `bg20k accept --register LOCATION`.",
        )
    return add_to_register(location, record)


def audit(location: str, *, people: list[str] | None = None, group: str | None = None) -> Audit:
    """Who with access to the shared copy at ``location`` has accepted the current text: one
    row per person, and the files in its register that are not intact records."""
    from bg20k_fetch.consent.agreement import load_agreement
    from bg20k_fetch.register.audit import audit as run

    return run(location, load_agreement(load_release()), people=people, group=group)


def bom_component(dest: str | os.PathLike[str] | None = None) -> dict[str, object]:
    """BG-20k as a CycloneDX 1.6 ``data`` component (a dict, JSON-ready), for code that writes
    its own ML-BOM; with a fetched copy at ``dest`` (or the default), its digest and origin."""
    from bg20k_fetch.dataset.bom import component

    release = load_release()
    root = Target.resolve(dest, Paths.from_env(), release).root
    return component(release, root if (root / "PROVENANCE.yaml").is_file() else None)


def citation_keys(*, all: bool = False) -> list[str]:
    """The BibTeX keys of those references, for ``\\cite{…}``."""
    from bg20k_fetch.citing.references import select

    return [r.key for r in select(load_release(), include_encouraged=all)]


def publish(
    dest_url: str,
    *,
    dest: str | os.PathLike[str] | None = None,
    force: bool = False,
    repair: bool = False,
    dry_run: bool = False,
    jobs: int = 8,
    accept: bool = False,
    agreement_sha256: str | None = None,
    reporter: Reporter | None = None,
    ask: Asker | None = None,
) -> Published:
    """Publish the verified dataset at ``<dest>/BG-20k`` to ``<dest_url>/BG-20k`` in an
    object store, under the consent gate; returns what was uploaded, skipped and removed.

    ``repair`` re-checks every published object's stored SHA-256 and re-uploads what differs;
    ``dry_run`` only says what would happen. Objects bg20k did not write are never overwritten
    or deleted; a prefix holding some is refused unless ``force``.

    Raises ConsentError (3), SourceError (4: credentials, endpoint, no such bucket),
    IntegrityError (5: the local dataset is not verified), StorageError (7: another dataset or
    someone else's objects are there, or another publish is running), UsageError (2: not an
    object-store URL, or the extra ``bg20k[s3]`` is not installed)."""
    from bg20k_fetch.consent.agreement import load_agreement
    from bg20k_fetch.consent.gate import require_consent
    from bg20k_fetch.fetching.dest_lock import destination_lock
    from bg20k_fetch.progress import NullReporter
    from bg20k_fetch.storage.publisher import publish_tree

    require_store_url(dest_url)
    if not 1 <= jobs <= 64:
        raise UsageError(f"jobs must be from 1 to 64, not {jobs}.")
    paths, agreement, release = Paths.from_env(), load_agreement(), load_release()
    target = Target.resolve(dest, paths, release)
    reporter = reporter or NullReporter()
    record = require_consent(paths, agreement, accept=accept, pin=agreement_sha256, ask=ask)
    with destination_lock(target.dest_dir, wait=True, reporter=reporter):
        return publish_tree(
            target.real_root,
            dest_url,
            release=release,
            record=record,
            force=force,
            repair=repair,
            dry_run=dry_run,
            jobs=jobs,
            reporter=reporter,
        )
