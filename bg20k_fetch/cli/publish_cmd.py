"""`bg20k publish`."""

from __future__ import annotations

import argparse

from bg20k_fetch.api import publish
from bg20k_fetch.cli.fetch_cmds import reporter_for
from bg20k_fetch.cli.reporters import JsonReporter
from bg20k_fetch.cli.ui import Ui


def cmd_publish(args: argparse.Namespace, ui: Ui) -> int:
    with reporter_for(args, ui) as reporter:
        done = publish(
            args.dest_url,
            dest=args.dest,
            force=args.force,
            repair=args.repair,
            dry_run=args.dry_run,
            jobs=args.jobs,
            accept=args.accept,
            agreement_sha256=args.agreement_sha256,
            reporter=reporter,
            ask=ui.ask_consent if ui.interactive else None,
        )
        if isinstance(reporter, JsonReporter):
            reporter.emit(event="done", **done.to_json())
            return 0
    foreign = f"; {len(done.foreign)} object(s) of others left alone" if done.foreign else ""
    if done.state == "unchanged":
        line = (
            f"{done.url} already holds this dataset (digest {done.digest}): every object is "
            f"there with its size; nothing to do{foreign}. `--repair` checks each one's "
            "SHA-256."
        )
    elif done.state == "dry run":
        line = (
            f"Dry run: would upload {done.uploaded} file(s) ({done.bytes} bytes) to {done.url}, "
            f"keep {done.skipped} already there, remove {done.removed} of bg20k's no longer in "
            f"the dataset{foreign}; nothing was written."
        )
    else:
        line = (
            f"{'Repaired' if done.state == 'repaired' else 'Published'} {done.url}: digest "
            f"{done.digest}; {done.uploaded} uploaded, {done.skipped} already there, "
            f"{done.removed} of bg20k's removed{foreign}."
        )
    ui.raw(line + "\n")  # the result, on stdout: the one line a script reads
    return 0
