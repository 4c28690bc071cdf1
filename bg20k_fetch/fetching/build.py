"""Building a dataset from sources: each source in turn into a staging tree, checked against
the layout and any lock file, then installed with its receipts while consent is held."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bg20k_fetch.consent.agreement import Agreement
from bg20k_fetch.consent.record import ConsentRecord
from bg20k_fetch.consent.store import consent_held
from bg20k_fetch.dataset.layout import LayoutReport, check_layout, main_hashes, read_split_lists
from bg20k_fetch.dataset.pin import LockFile
from bg20k_fetch.dataset.provenance import Provenance, SourceAttempt
from bg20k_fetch.dataset.target import Target
from bg20k_fetch.errors import (
    AllSourcesFailed,
    Bg20kError,
    IntegrityError,
    InvalidFiles,
    SourceError,
    StorageError,
    UnsafeArchiveError,
)
from bg20k_fetch.fetching.install import swap_into_place
from bg20k_fetch.fetching.problems import remove_own_problems_file, write_problems
from bg20k_fetch.fetching.receipts import write_receipts
from bg20k_fetch.fetching.staging import Staging
from bg20k_fetch.gdrive.cookies import DriveCookies
from bg20k_fetch.gdrive.links import DriveUrls
from bg20k_fetch.gdrive.throttle import Throttle
from bg20k_fetch.locations import Paths
from bg20k_fetch.progress import Reporter
from bg20k_fetch.release import Release
from bg20k_fetch.sources import Fetching, Source
from bg20k_fetch.transfer.hashing import FileInfo
from bg20k_fetch.transfer.http import make_session
from bg20k_fetch.transfer.policy import RetryPolicy

if TYPE_CHECKING:
    from bg20k_fetch.fetching.pipeline import FetchOptions

FAILOVER_ERRORS = (SourceError, IntegrityError, UnsafeArchiveError)


@dataclass(frozen=True)
class Fetched:
    """What a fetch leaves: where the dataset is and what it is, without re-reading it."""

    path: Path
    digest: str
    file_count: int
    complete: bool
    # Where this fetch took it from, as its receipts say; None when nothing was fetched (the
    # tree was already there) and the receipts on disk are the ones to read.
    served_by: str | None = None

    def __fspath__(self) -> str:
        return os.fspath(self.path)  # usable wherever a path is: os.path.join(result, ...)

    @classmethod
    def written(cls, root: Path, provenance: Provenance) -> Fetched:
        """What a fetch that wrote these receipts leaves."""
        p = provenance
        return cls(root, p.digest, p.file_count, p.complete, p.served_by)


@dataclass
class Run:
    """Everything one fetch carries from source to source."""

    paths: Paths
    agreement: Agreement
    release: Release
    record: ConsentRecord
    target: Target
    options: FetchOptions
    reporter: Reporter
    lock_file: LockFile | None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    throttle: Throttle = field(default_factory=Throttle)
    cookies: DriveCookies | None = None


def try_sources(run: Run, plan: list[list[Source]], urls: DriveUrls) -> Fetched:
    fetching = Fetching(
        make_session(),
        urls,
        run.paths,
        run.target,
        run.reporter,
        run.policy,
        run.options.jobs,
        run.throttle,
        keep_archive=run.options.keep_archive,
        components=run.options.components,
        lock=run.lock_file,
        cookies=run.cookies,
    )
    failed: list[SourceAttempt] = []
    errors: list[tuple[str, Bg20kError]] = []
    try:
        for index, group in enumerate(plan):
            label = " + ".join(str(s) for s in group)
            fetching.archives, fetching.chain = [], []
            held = len(fetching.caches)
            try:
                return try_source(run, group, label, fetching, failed)
            except FAILOVER_ERRORS as exc:
                fetching.failed(held)
                fetching.release()
                failed.append(SourceAttempt(source=label, error=str(exc)))
                errors.append((label, exc))
                if index + 1 == len(plan):
                    raise exc if len(plan) == 1 else AllSourcesFailed(errors) from exc
                run.reporter.note(
                    f"Source {label} failed: {str(exc).rstrip('.')}; trying the next one."
                )
    finally:
        fetching.release()
    raise AssertionError("unreachable")  # pragma: no cover: plan_sources never returns []


def try_source(
    run: Run,
    group: list[Source],
    label: str,
    fetching: Fetching,
    failed: list[SourceAttempt],
) -> Fetched:
    target = run.target
    staging = Staging(
        target.work_dir("staging"),
        run.release,
        run.reporter,
        run.options.limits,
        skip=target.is_own_entry,
    )
    staging.discard()
    try:
        try:
            staging.root.mkdir(parents=True)
        except OSError as exc:
            raise StorageError(f"Cannot create {staging.root}: {exc.strerror}.") from exc
        try:
            for source in group:
                source.gather(staging, fetching)
        except InvalidFiles as exc:
            listed = write_problems(run.target, exc.lines)
            raise exc.listed_in(str(listed)) from exc
        report = checked(
            run, staging.files, label, staging.root, staging.root_files, staging.not_jpeg
        )
        with consent_held(run.paths, run.agreement) as (record, note):
            provenance = write_receipts(
                staging.root,
                staging.files,
                release=run.release,
                agreement=run.agreement,
                record=record,
                report=report,
                served_by=label,
                failed=failed,
                archives=fetching.archives,
                root_files=staging.root_files,
                extras_ignored=len(staging.extras),
                chain=fetching.chain,
            )
            kept = swap_into_place(staging.root, target, run.release)
            note_location(note, target, run.reporter)
    finally:
        staging.discard()
    for line in kept.notes(target.root):
        run.reporter.note(line)
    remove_own_problems_file(target)
    if not run.options.keep_archive:
        fetching.remove_caches()
    return Fetched.written(target.root, provenance)


def checked(
    run: Run,
    files: dict[str, FileInfo],
    label: str,
    base: Path,
    root_files: Collection[str] = (),
    not_jpeg: list[str] | None = None,
) -> LayoutReport:
    """The layout check (against the release's own split lists when they came with the data)
    and the lock file, before anything is installed."""
    lists = read_split_lists(base, root_files, run.release)
    report = check_layout(files, run.release, lists=lists, not_jpeg=not_jpeg)
    if not report.complete:
        fatal = report.damaged or report.surplus or report.unexpected or report.not_jpeg
        problems = write_problems(run.target, report.problem_lines())
        if fatal or not run.options.allow_partial:
            partial_hint = (
                ""
                if run.options.allow_partial
                else ", or --allow-partial to keep a short dataset (recorded as partial)"
            )
            raise IntegrityError(
                f"{label} does not give a complete {run.target.name}: {report.summary()}; "
                f"the full list is in {problems}.",
                hint=f"Use another source{partial_hint}.",
            )
    if run.lock_file:
        run.lock_file.require(main_hashes(files, run.release), label)
    return report


def note_location(note: Callable[[Path], None], target: Target, reporter: Reporter) -> None:
    try:
        note(target.root)
    except StorageError as exc:
        reporter.note(
            f"The dataset is installed, but the consent record could not note where: {exc}"
        )
