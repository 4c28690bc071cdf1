"""The orchestration: consent, then one decision about the destination, then sources in order
until one gives a verified dataset. Nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .agreement import Agreement, load_agreement
from .archive import Limits
from .config import load_config
from .consent import ConsentRecord, accepted_line, consent_held, read_status
from .dataset import SourceAttempt, receipt_names, write_receipts
from .decision import Action, Decision, Owner, decide
from .errors import (
    AllSourcesFailed,
    Bg20kError,
    IntegrityError,
    SourceError,
    StorageError,
    UnsafeArchiveError,
    UsageError,
)
from .gate import Asker, require_consent
from .gdrive.links import DriveUrls
from .gdrive.throttle import Throttle
from .hashing import FileInfo
from .http import make_session
from .install import (
    clean_leftovers,
    remove_own_problems_file,
    scan_in_place,
    swap_into_place,
    write_problems,
)
from .layout import LayoutReport, check_layout
from .lockfile import LockFile
from .locking import destination_lock
from .paths import Paths
from .progress import NullReporter, Reporter
from .release import Release, load_release
from .retry import RetryPolicy
from .settings import read_timeout
from .sources import Fetching, LocalPath, Source, plan_sources
from .staging import Staging
from .target import Target

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


@dataclass
class _Run:
    """Everything one fetch carries from source to source."""

    paths: Paths
    agreement: Agreement
    release: Release
    record: ConsentRecord
    target: Target
    options: FetchOptions
    reporter: Reporter
    lock_file: LockFile | None
    policy: RetryPolicy
    throttle: Throttle


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
    agreement, release = load_agreement(), load_release()
    config = load_config(paths)
    # Settings are checked before consent and before any traffic: a typo fails at once.
    policy = options.policy or RetryPolicy.from_env()
    throttle = Throttle.from_env()
    read_timeout()
    plan = plan_sources(sources, from_paths, options.sha256, config, release)
    target = Target.resolve(dest, paths, release)
    lock_file = LockFile.read(options.lock) if options.lock else None
    was_in_force = read_status(paths, agreement).in_force
    record = require_consent(paths, agreement, accept=accept, pin=agreement_sha256, ask=ask)
    if not was_in_force:
        reporter.note(accepted_line(record, paths))
    run = _Run(
        paths, agreement, release, record, target, options, reporter, lock_file, policy, throttle
    )

    with destination_lock(target.dest_dir, wait=options.wait, reporter=reporter):
        clean_leftovers(target, release, reporter)
        decision = decide(
            target,
            release,
            force=options.force,
            allow_partial=options.allow_partial,
            lock_file=lock_file,
        )
        if decision.action is Action.REUSE:
            assert decision.report is not None
            reporter.note(
                f"{target.root} is already there and verified ({decision.reason}); nothing to "
                "do. Use --force to fetch again."
            )
            report = decision.report
            return Fetched(target.root, report.digest, report.file_count, report.complete)
        inside = _sources_inside(plan, target)
        if inside:
            return _adopt(run, plan, inside, decision)
        if decision.action is Action.REFUSE:
            raise StorageError(
                f"{decision.reason}; refusing to replace it.",
                hint="Move it away, or choose another --dest.",
            )
        if decision.action is Action.REBUILD:
            reporter.note(f"{target.root}: {decision.reason}; rebuilding it.")
        return _try_sources(run, plan, DriveUrls.resolve(config))


def _try_sources(run: _Run, plan: list[list[Source]], urls: DriveUrls) -> Fetched:
    fetching = Fetching(
        make_session(),
        urls,
        run.paths,
        run.target,
        run.reporter,
        run.policy,
        run.options.jobs,
        run.throttle,
    )
    failed: list[SourceAttempt] = []
    errors: list[tuple[str, Bg20kError]] = []
    try:
        for index, group in enumerate(plan):
            label = " + ".join(str(s) for s in group)
            fetching.archives = []
            try:
                return _try_source(run, group, label, fetching, failed)
            except FAILOVER_ERRORS as exc:
                fetching.release()
                failed.append(SourceAttempt(source=label, error=str(exc)))
                errors.append((label, exc))
                if index + 1 == len(plan):
                    raise exc if len(plan) == 1 else AllSourcesFailed(errors) from exc
                run.reporter.note(f"Source {label} failed: {exc}; trying the next one.")
    finally:
        fetching.release()
    raise AssertionError("unreachable")  # pragma: no cover: plan_sources never returns []


def _try_source(
    run: _Run,
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
        for source in group:
            source.gather(staging, fetching)
        report = _checked(run, staging.files, label)
        with consent_held(run.paths, run.agreement, run.record) as note:
            provenance = write_receipts(
                staging.root,
                staging.files,
                release=run.release,
                agreement=run.agreement,
                record=run.record,
                report=report,
                served_by=label,
                failed=failed,
                archives=fetching.archives,
                extras_ignored=len(staging.extras),
            )
            kept = swap_into_place(staging.root, target, run.release)
            _note_location(note, target, run.reporter)
    finally:
        staging.discard()
    for line in kept.notes(target.root):
        run.reporter.note(line)
    remove_own_problems_file(target)
    if not run.options.keep_archive:
        fetching.remove_caches()
    return Fetched(target.root, provenance.digest, provenance.file_count, provenance.complete)


def _checked(run: _Run, files: dict[str, FileInfo], label: str) -> LayoutReport:
    """The layout check and the lock file, before anything is installed."""
    report = check_layout(files, run.release)
    if not report.complete:
        fatal = report.damaged or report.surplus or report.unexpected
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
        run.lock_file.require({p: i.sha256 for p, i in files.items()}, label)
    return report


def _note_location(note: object, target: Target, reporter: Reporter) -> None:
    try:
        note(target.root)  # type: ignore[operator]
    except StorageError as exc:
        reporter.note(
            f"The dataset is installed, but the consent record could not note where: {exc}"
        )


def _sources_inside(plan: list[list[Source]], target: Target) -> list[Path]:
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


def _adopt(run: _Run, plan: list[list[Source]], inside: list[Path], decision: Decision) -> Fetched:
    """A source that is the destination's own tree is adopted where it lies, or refused."""
    target, release = run.target, run.release
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
    files, blockers = scan_in_place(real, release, run.reporter)
    if blockers:
        raise UsageError(
            f"{target.root} cannot be adopted in place: its split folders hold files that are "
            f"not images ({', '.join(blockers[:3])}); nothing was changed.",
            hint="Move those files out of the split folders, or fetch into another --dest.",
        )
    clashes = [n for n in receipt_names(release) if (real / n).exists()]
    if clashes:
        raise UsageError(
            f"{target.root} cannot be adopted in place: it already holds {', '.join(clashes)}, "
            "which bg20k would write; nothing was changed.",
            hint="Fetch into another --dest.",
        )
    label = f"{source} (adopted in place)"
    report = _checked(run, files, label)
    with consent_held(run.paths, run.agreement, run.record) as note:
        provenance = write_receipts(
            real,
            files,
            release=release,
            agreement=run.agreement,
            record=run.record,
            report=report,
            served_by=label,
            failed=[],
            archives=[],
        )
        _note_location(note, target, run.reporter)
    run.reporter.note(
        f"Adopted {target.root} in place: no file was moved; bg20k's receipts were added."
    )
    remove_own_problems_file(target)
    return Fetched(target.root, provenance.digest, provenance.file_count, provenance.complete)
