"""`bg20k fetch` (and `--dry-run`)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bg20k_fetch.cli.reporters import JsonReporter, PlainReporter, QuietReporter, RichReporter
from bg20k_fetch.cli.ui import Ui
from bg20k_fetch.errors import ExitCode, Interrupted, StorageError, Terminated, installed_at
from bg20k_fetch.fetching.dry_run import dry_run
from bg20k_fetch.fetching.pipeline import fetch
from bg20k_fetch.locations import Paths
from bg20k_fetch.progress import Reporter
from bg20k_fetch.transfer.cache import downloaded_since
from bg20k_fetch.util.disk import require_space


@contextmanager
def reporter_for(args: argparse.Namespace, ui: Ui) -> Iterator[Reporter]:
    """Progress as the options ask: JSON events, nothing, bars on a terminal, or log lines."""
    if args.json:
        yield JsonReporter(ui.stdout)
    elif args.quiet:
        yield QuietReporter()
    elif ui.err.is_terminal:
        with RichReporter(ui.err) as rich:
            yield rich
    else:
        yield PlainReporter(ui.stderr)


def cmd_fetch(args: argparse.Namespace, ui: Ui) -> int:
    if args.dry_run:
        return _dry_run(args, ui)
    started = time.time() - 1  # file times have coarse clocks on some file systems
    with reporter_for(args, ui) as reporter:
        try:
            done = fetch(
                args.dest,
                sources=args.source,
                from_paths=args.from_paths,
                accept=args.accept,
                agreement_sha256=args.agreement_sha256,
                sha256=args.sha256,
                force=args.force,
                allow_partial=args.allow_partial,
                lock=args.lock,
                jobs=args.jobs,
                keep_archive=args.keep_archive,
                wait=not args.no_wait,
                components=args.components,
                cookies=args.cookies,
                reporter=reporter,
                ask=ui.ask_consent if ui.interactive else None,
            )
        except KeyboardInterrupt as exc:
            raise _stopped(exc, started) from None
    if isinstance(reporter, JsonReporter):
        reporter.emit(
            event="done",
            path=str(done.path),
            digest=done.digest,
            files=done.file_count,
            complete=done.complete,
        )
    else:
        state = "complete" if done.complete else "PARTIAL"
        ui.info(
            f"BG-20k is ready at {done.path}: {done.file_count} files, {state}, "
            f"digest {done.digest}. Cite it: `bg20k cite`."
        )
    return 0


def _stopped(exc: KeyboardInterrupt, started: float) -> Interrupted:
    """Ctrl-C or a kill: say what is on disk — the dataset when this run put it in place (a
    signal during the swap waits for it, then lands), kept downloads when there are some."""
    how = "Terminated" if isinstance(exc, Terminated) else "Interrupted"
    cache = Paths.from_env().cache_dir
    installed = installed_at(exc)
    if installed is not None:
        stopped = Interrupted(
            f"{how} after this run had put BG-20k in place at {installed}.",
            hint="`bg20k verify` checks it; nothing needs fetching again.",
        )
    elif downloaded_since(cache, started):
        stopped = Interrupted(
            f"{how}; what this run downloaded is kept in {cache}.",
            hint="Run the same command again to resume.",
        )
    else:
        stopped = Interrupted(
            f"{how}; nothing was downloaded by this run.", hint="Run the same command again."
        )
    if isinstance(exc, Terminated):
        stopped.exit_code = ExitCode.TERMINATED
    return stopped


def _dry_run(args: argparse.Namespace, ui: Ui) -> int:
    plan = dry_run(
        args.dest,
        args.source,
        args.from_paths,
        accept=args.accept,
        agreement_sha256=args.agreement_sha256,
        sha256=args.sha256,
        force=args.force,
        allow_partial=args.allow_partial,
        lock=args.lock,
        cookies=args.cookies,
    )
    if args.json:
        ui.json(plan.to_json())
    else:
        say = ui.out.print
        say(f"Consent:     {plan.consent}", markup=False)
        say(f"Agreement:   {plan.agreement_version} ({plan.agreement_sha256})", markup=False)
        say(f"Destination: {plan.destination} ({plan.existing})", markup=False)
        for i, src in enumerate(plan.sources, 1):
            size = f"{src.size} bytes" if src.size else "size unknown"
            say(f"Source {i}:    {src.source} ({src.kind}, {size})", markup=False)
        if not plan.sources:
            say("Source:      none")
        if args.cookies:
            say(f"Cookies:     {args.cookies} (Drive sees your own Google account)", markup=False)
        for d in plan.disk:
            say(
                f"Disk:        {d.path}: {d.free} bytes free, {d.needed} needed"
                + ("" if d.enough else "  NOT ENOUGH"),
                markup=False,
            )
        say("Dry run: nothing was written or downloaded.", markup=False)
    if plan.action == "refuse":
        raise StorageError(
            f"The fetch would refuse: {plan.existing.removeprefix('refused: ')}.",
            hint="Move it away, or choose another --dest.",
        )
    require_space(plan.disk)
    return 0
