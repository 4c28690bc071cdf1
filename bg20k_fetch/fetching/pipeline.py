"""The orchestration: settings, consent, one decision about the destination, then the
sources in order (build.py) or the tree adopted in place (adopt.py). Nothing else."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bg20k_fetch.config import load_config
from bg20k_fetch.consent.agreement import load_agreement
from bg20k_fetch.consent.gate import Asker, require_consent
from bg20k_fetch.consent.record import accepted_line, read_status
from bg20k_fetch.dataset.pin import LockFile
from bg20k_fetch.dataset.target import Target
from bg20k_fetch.errors import StorageError, UsageError
from bg20k_fetch.fetching.adopt import adopt, sources_inside
from bg20k_fetch.fetching.build import Fetched, Run, try_sources
from bg20k_fetch.fetching.components import add_component
from bg20k_fetch.fetching.decision import Action, decide
from bg20k_fetch.fetching.dest_lock import destination_lock
from bg20k_fetch.fetching.install import interruption_says_if_installed
from bg20k_fetch.fetching.leftovers import clean_leftovers
from bg20k_fetch.gdrive.cookies import DriveCookies
from bg20k_fetch.gdrive.links import DriveUrls
from bg20k_fetch.gdrive.throttle import Throttle
from bg20k_fetch.locations import Paths
from bg20k_fetch.progress import NullReporter, Reporter
from bg20k_fetch.release import Release, load_release
from bg20k_fetch.sources import Source, plan_sources
from bg20k_fetch.transfer.archive import Limits
from bg20k_fetch.transfer.policy import RetryPolicy
from bg20k_fetch.transfer.settings import read_timeout


@dataclass(frozen=True)
class FetchOptions:
    """How a fetch behaves; ``fetch()``'s keyword arguments, carried as one value inside."""

    sha256: str | None = None
    components: tuple[str, ...] = ()
    keep_archive: bool = False
    allow_partial: bool = False
    force: bool = False
    lock: Path | None = None
    wait: bool = True
    jobs: int | None = None  # None: adapt to what Drive answers
    policy: RetryPolicy | None = None
    limits: Limits = field(default_factory=Limits)
    cookies: Path | None = None  # a signed-in browser's cookies.txt, for Drive only


def fetch(
    dest: str | os.PathLike[str] | None = None,
    *,
    sources: Sequence[str] = (),
    from_paths: Sequence[str] = (),
    accept: bool = False,
    agreement_sha256: str | None = None,
    sha256: str | None = None,
    force: bool = False,
    allow_partial: bool = False,
    lock: str | os.PathLike[str] | None = None,
    jobs: int | None = None,
    keep_archive: bool = False,
    wait: bool = True,
    components: Sequence[str] = (),
    cookies: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    config_dir: str | os.PathLike[str] | None = None,
    policy: RetryPolicy | None = None,
    limits: Limits | None = None,
    reporter: Reporter | None = None,
    ask: Asker | None = None,
) -> Fetched:
    """Make ``<dest>/BG-20k`` a verified dataset, under the agreement's consent gate.

    Args:
        dest: the directory to hold ``BG-20k/`` (default ``BG20K_DATA_DIR``, else the user
            data directory).
        sources: archive URLs, Drive links or local paths, tried in order until one gives a
            complete dataset (default: the mirrors in ``config.yaml``, then the official Drive
            folder).
        from_paths: local archives and/or directories that together make the dataset.
        accept: accept the agreement if no acceptance is in force (``--accept``).
        agreement_sha256: accept only if the shipped text has this digest (12+ hex digits).
        sha256: the expected SHA-256 of a single archive source.
        force: fetch again even if a verified dataset is there (files bg20k did not make are
            kept).
        allow_partial: keep a short dataset, recorded as partial, instead of failing.
        lock: a lock file (``bg20k lock``) the dataset must match.
        jobs: files fetched at once from a Drive folder or a bucket; by default a Drive
            folder adapts it (8 up to 16, halved when Drive throttles), a bucket uses 8.
        keep_archive: keep downloaded archives and Drive caches for later runs.
        wait: wait for another fetch into ``dest`` instead of raising StorageError.
        components: optional splits to fetch into the dataset as well (``train_denoise``);
            added to an existing dataset without fetching the rest again.
        cookies: a Netscape ``cookies.txt`` from a browser signed in to Google, sent to Google
            Drive's hosts only (its way through Drive's throttling of anonymous clients).
        cache_dir, config_dir: instead of ``BG20K_CACHE_DIR`` / ``BG20K_CONFIG_DIR``.
        policy, limits: retry policy and archive limits (defaults from the environment).
        reporter: receives progress and notes (default: silent).
        ask: asked to accept when nothing else gives consent (default: raise ConsentError).

    Returns:
        Fetched: the dataset's path, digest, file count and completeness.

    Raises:
        UsageError (2), ConsentError (3), SourceError (4), IntegrityError (5),
        UnsafeArchiveError (6), StorageError (7), Interrupted (130): all Bg20kError, each with
        its ``exit_code``.
    """
    # One string is one source, never a sequence of one-letter ones.
    sources, from_paths, components = (
        [x] if isinstance(x, str) else list(x) for x in (sources, from_paths, components)
    )
    options = FetchOptions(
        components=tuple(components),
        sha256=sha256,
        keep_archive=keep_archive,
        allow_partial=allow_partial,
        force=force,
        lock=Path(lock) if lock is not None else None,
        wait=wait,
        jobs=jobs,
        policy=policy,
        limits=limits or Limits(),
        cookies=Path(cookies) if cookies is not None else None,
    )
    paths = Paths.from_env(cache_dir=cache_dir, config_dir=config_dir)
    return _fetch(
        dest,
        sources,
        from_paths,
        accept=accept,
        agreement_sha256=agreement_sha256,
        options=options,
        paths=paths,
        reporter=reporter or NullReporter(),
        ask=ask,
    )


def _fetch(
    dest: str | os.PathLike[str] | None,
    sources: Sequence[str],
    from_paths: Sequence[str],
    *,
    accept: bool,
    agreement_sha256: str | None,
    options: FetchOptions,
    paths: Paths,
    reporter: Reporter,
    ask: Asker | None,
) -> Fetched:
    agreement, release = load_agreement(), load_release()
    _check(options, release)
    config = load_config(paths)
    # Settings are checked before consent and before any traffic: a typo fails at once.
    policy = options.policy or RetryPolicy.from_env()
    throttle = Throttle.from_env()
    read_timeout()
    plan = plan_sources(sources, from_paths, options.sha256, config, release)
    target = Target.resolve(dest, paths, release)
    lock_file = LockFile.read(options.lock, release.dataset) if options.lock else None
    cookies = DriveCookies.load(options.cookies) if options.cookies is not None else None
    was_in_force = read_status(paths, agreement).in_force
    record = require_consent(paths, agreement, accept=accept, pin=agreement_sha256, ask=ask)
    if not was_in_force:
        reporter.note(accepted_line(record, paths))
    if cookies is not None:
        reporter.note(
            f"Google Drive requests carry the cookies in {cookies.path}: Drive sees your own "
            "Google account, and the agreement you accepted still binds you."
        )
    run = Run(paths, agreement, release, record, target, options, reporter, lock_file)
    run.policy, run.throttle, run.cookies = policy, throttle, cookies

    fetched = _locked(run, plan, DriveUrls.resolve(config))
    _join_register(run, fetched)
    return fetched


def _locked(run: Run, plan: list[list[Source]], urls: DriveUrls) -> Fetched:
    """Under the destination's lock: leftovers cleared, the dataset fetched (or reused), then
    the optional splits asked for."""
    lock = destination_lock(run.target.dest_dir, wait=run.options.wait, reporter=run.reporter)
    with lock, interruption_says_if_installed(run.target.root):
        clean_leftovers(run.target, run.release, run.reporter)
        fetched = _act(run, plan, urls)
        for name in run.options.components:
            add_component(run, name, urls, plan)
    return fetched


def _join_register(run: Run, fetched: Fetched) -> None:
    """Fetched from a lab's published copy: this person's acceptance joins its register, so
    the lab can see who with access has agreed. A register that cannot be written leaves the
    fetch and the local acceptance as they are, and says so in one line."""
    from bg20k_fetch.dataset.provenance import read_provenance
    from bg20k_fetch.errors import Bg20kError
    from bg20k_fetch.register import add_to_register
    from bg20k_fetch.storage.store import is_store_url

    try:  # what this fetch wrote, or else its receipts (reading them parses 20,000 sizes)
        served_by = fetched.served_by or read_provenance(fetched.path).served_by
    except (OSError, ValueError):
        return
    if not is_store_url(served_by):
        return
    try:
        run.reporter.note(add_to_register(served_by, run.record).line())
    except Bg20kError as exc:
        run.reporter.note(
            f"Your acceptance could not be added to the register of {served_by} "
            f"({exc.message.rstrip('.')}); it stands here, and the lab's audit will not show it."
        )


def _check(options: FetchOptions, release: Release) -> None:
    if options.jobs is not None and not 1 <= options.jobs <= 64:
        raise UsageError(f"jobs must be from 1 to 64, not {options.jobs}.")
    unknown = [c for c in options.components if c not in release.components]
    if unknown:
        known = ", ".join(release.components) or "none"
        raise UsageError(f"No optional split {unknown[0]!r}; the release has: {known}.")


def _act(run: Run, plan: list[list[Source]], urls: DriveUrls) -> Fetched:
    """Do what the destination calls for: reuse, adopt, refuse, build or rebuild."""
    target, reporter, options = run.target, run.reporter, run.options
    decision = decide(
        target,
        run.release,
        force=options.force,
        allow_partial=options.allow_partial,
        lock_file=run.lock_file,
        archive_sha256=options.sha256,
    )
    if decision.action is Action.REUSE:
        assert decision.report is not None
        reporter.note(
            f"{target.root} is already there and verified ({decision.reason}); nothing to "
            "do. Use --force to fetch again."
        )
        report = decision.report
        return Fetched(target.root, report.digest, report.file_count, report.complete)
    inside = sources_inside(plan, target)
    if inside:
        return adopt(run, plan, inside, decision)
    if decision.action is Action.REFUSE:
        raise StorageError(
            f"{decision.reason}; refusing to replace it.",
            hint="Move it away, or choose another --dest.",
        )
    if decision.action is Action.REBUILD:
        reporter.note(f"{target.root}: {decision.reason}; rebuilding it.")
    return try_sources(run, plan, urls)
