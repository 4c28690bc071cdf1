"""The orchestration: consent, then sources in order, then a verified dataset. Nothing else."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .agreement import load_agreement
from .archive import Limits
from .config import load_config
from .consent import accepted_line, note_dataset, read_status
from .dataset import SourceAttempt, install, verify
from .errors import Bg20kError, IntegrityError, SourceError, UnsafeArchiveError
from .gate import Asker, require_consent
from .gather import Gatherer
from .gdrive.links import DriveUrls
from .http import make_session
from .locking import destination_lock
from .manifest import LayoutReport, LockFile, check_layout
from .paths import Paths
from .progress import NullReporter, Reporter
from .release import Release, load_release
from .retry import RetryPolicy
from .sources import plan_sources
from .staging import Staging

FAILOVER_ERRORS = (SourceError, IntegrityError, UnsafeArchiveError)


@dataclass
class FetchOptions:
    sha256: str | None = None
    keep_archive: bool = False
    allow_partial: bool = False
    force: bool = False
    lock: Path | None = None
    wait: bool = True
    jobs: int = 8
    policy: RetryPolicy | None = None
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class Fetched:
    """What a fetch leaves: where the dataset is and what it is, without re-reading it."""

    root: Path
    digest: str
    file_count: int
    complete: bool


def fetch(
    dest: str | Path | None = None,
    sources: Sequence[str] = (),
    accept: bool = False,
    *,
    from_paths: Sequence[str] = (),
    agreement_sha256: str | None = None,
    options: FetchOptions | None = None,
    reporter: Reporter | None = None,
    ask: Asker | None = None,
) -> Path:
    """Make ``<dest>/BG-20k`` a verified dataset and return its path; raises Bg20kError kinds."""
    return fetch_dataset(
        dest,
        sources,
        accept,
        from_paths=from_paths,
        agreement_sha256=agreement_sha256,
        options=options,
        reporter=reporter,
        ask=ask,
    ).root


def fetch_dataset(
    dest: str | Path | None = None,
    sources: Sequence[str] = (),
    accept: bool = False,
    *,
    from_paths: Sequence[str] = (),
    agreement_sha256: str | None = None,
    options: FetchOptions | None = None,
    reporter: Reporter | None = None,
    ask: Asker | None = None,
) -> Fetched:
    """Like fetch(), returning the dataset's digest, file count and completeness as well."""
    options = options or FetchOptions()
    reporter = reporter or NullReporter()
    paths = Paths.from_env()
    agreement = load_agreement()
    release_ = load_release()
    config = load_config(paths)
    plan = plan_sources(sources, from_paths, options.sha256, config, release_)
    was_in_force = read_status(paths, agreement).in_force
    record = require_consent(paths, agreement, accept=accept, pin=agreement_sha256, ask=ask)
    if not was_in_force:
        reporter.note(accepted_line(record, paths))
    dest_dir = Path(dest).expanduser() if dest else paths.data_dir
    root = dest_dir / release_.layout.root
    lock_file = LockFile.read(options.lock) if options.lock else None

    with destination_lock(dest_dir, wait=options.wait, reporter=reporter):
        existing = (
            None
            if options.force
            else already_complete(root, release_, lock_file, options.allow_partial, reporter)
        )
        if existing is not None:
            return existing
        session = make_session()
        urls = DriveUrls.resolve(config)
        failed: list[SourceAttempt] = []
        for index, group in enumerate(plan):
            label = " + ".join(str(s) for s in group)
            staging = Staging(
                dest_dir / f".{root.name}.staging-{os.getpid()}", release_, reporter, options.limits
            )
            staging.discard()
            gatherer = Gatherer(
                session, urls, paths, dest_dir, reporter, options.policy, options.jobs
            )
            try:
                staging.root.mkdir(parents=True)
                gatherer.gather(group, staging)
                report = check_layout(staging.files, release_)
                _judge(report, dest_dir, root.name, label, options.allow_partial)
                if lock_file:
                    lock_file.require({p: i.sha256 for p, i in staging.files.items()}, label)
                provenance = install(
                    staging,
                    root,
                    release=release_,
                    agreement=agreement,
                    record=record,
                    report=report,
                    served_by=label,
                    failed=failed,
                    archives=gatherer.archives,
                )
            except FAILOVER_ERRORS as exc:
                failed.append(SourceAttempt(source=label, error=str(exc)))
                if index + 1 == len(plan):
                    if len(plan) > 1:
                        exc.message = f"All {len(plan)} sources failed; the last: {exc.message}"
                    raise
                reporter.note(f"Source {label} failed: {exc}; trying the next one.")
                continue
            finally:
                staging.discard()
            note_dataset(paths, agreement, root)
            if not options.keep_archive:
                _remove(gatherer.caches)
            return Fetched(root, provenance.digest, provenance.file_count, provenance.complete)
    raise AssertionError("unreachable")  # pragma: no cover: _plan never returns an empty plan


def _remove(caches: list[Path]) -> None:
    for path in caches:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _judge(
    report: LayoutReport, dest_dir: Path, name: str, label: str, allow_partial: bool
) -> None:
    if report.complete:
        return
    fatal = report.damaged or report.surplus or report.unexpected or not allow_partial
    problems = dest_dir / f"{name}.problems.txt"
    problems.write_text("\n".join(report.problem_lines()) + "\n", encoding="utf-8")
    if fatal:
        raise IntegrityError(
            f"{label} does not give a complete {name}: {report.summary()}; "
            f"the full list is in {problems}.",
            hint="Use another source"
            + (
                ""
                if allow_partial
                else ", or --allow-partial to keep a short dataset (recorded as partial)"
            )
            + ".",
        )


def already_complete(
    root: Path,
    release: Release,
    lock_file: LockFile | None,
    allow_partial: bool,
    reporter: Reporter,
) -> Fetched | None:
    """A verified dataset already in place means no network at all."""
    if not root.exists():
        return None
    try:
        report = verify(root, release)
    except Bg20kError as exc:
        reporter.note(f"{root} exists but cannot be verified ({exc.message}); rebuilding it.")
        return None
    if not report.ok:
        reporter.note(f"{root} differs from its manifest ({report.describe()}); rebuilding it.")
        return None
    if not report.complete and not allow_partial:
        reporter.note(f"{root} is a partial dataset; fetching the complete one.")
        return None
    if lock_file and lock_file.digest != report.digest:
        reporter.note(f"{root} is not the dataset the lock file requires; rebuilding it.")
        return None
    reporter.note(
        f"{root} is already there and verified ({report.file_count} files, "
        f"digest {report.digest[:16]}…); nothing to do. Use --force to fetch again."
    )
    return Fetched(root, report.digest, report.file_count, report.complete)
