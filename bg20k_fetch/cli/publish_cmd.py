"""`bg20k publish`."""

from __future__ import annotations

import argparse

from ..api import publish
from .reporters import PlainReporter, RichReporter
from .ui import Ui


def cmd_publish(args: argparse.Namespace, ui: Ui) -> int:
    ask = ui.ask_consent if ui.interactive else None
    if ui.err.is_terminal:
        with RichReporter(ui.err) as reporter:
            done = publish(
                args.dest_url,
                dest=args.dest,
                force=args.force,
                jobs=args.jobs,
                accept=args.accept,
                agreement_sha256=args.agreement_sha256,
                reporter=reporter,
                ask=ask,
            )
    else:
        done = publish(
            args.dest_url,
            dest=args.dest,
            force=args.force,
            jobs=args.jobs,
            accept=args.accept,
            agreement_sha256=args.agreement_sha256,
            reporter=PlainReporter(ui.stderr),
            ask=ask,
        )
    ui.info(
        f"Published to {done.url}: digest {done.digest}; {done.uploaded} uploaded, "
        f"{done.skipped} already there, {done.removed} stale removed."
    )
    return 0
