"""`bg20k fetch` (and `--dry-run`)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from ..disk import require_space
from ..dry_run import dry_run
from ..errors import (
    ExitCode,
    Interrupted,
    StorageError,
    Terminated,
)
from ..pipeline import fetch
from ..progress import Reporter
from .reporters import JsonReporter, PlainReporter, QuietReporter, RichReporter
from .ui import Ui


@contextmanager
def _reporter(args: argparse.Namespace, ui: Ui) -> Iterator[Reporter]:
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
    with _reporter(args, ui) as reporter:
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
                reporter=reporter,
                ask=ui.ask_consent if ui.interactive else None,
            )
        except KeyboardInterrupt as exc:
            stopped = Interrupted(
                f"{'Terminated' if isinstance(exc, Terminated) else 'Interrupted'}; finished "
                "work and the partial download are kept.",
                hint="Run the same command again to resume.",
            )
            if isinstance(exc, Terminated):
                stopped.exit_code = ExitCode.TERMINATED
            raise stopped from None
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
