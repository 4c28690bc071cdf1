"""`bg20k verify` and `bg20k lock`: reading a finished tree, so they load nothing of the
network, consent or progress machinery (a quick verify answers in a fraction of a second)."""

from __future__ import annotations

import argparse

from bg20k_fetch.api import verify
from bg20k_fetch.cli.ui import Ui
from bg20k_fetch.dataset.pin import LockFile
from bg20k_fetch.errors import IntegrityError, UsageError
from bg20k_fetch.release import load_release
from bg20k_fetch.util.fs import OUTPUT_HINT, atomic_write, output_target
from bg20k_fetch.util.userpath import user_path


def cmd_verify(args: argparse.Namespace, ui: Ui) -> int:
    if args.location and args.dest:
        raise UsageError("Give a dataset URL or --dest, not both.")
    report = verify(args.location or args.dest, deep=args.deep, lock=args.lock)
    if args.json:
        ui.json(
            {
                "path": str(report.root),
                "ok": report.ok,
                "deep": args.deep,
                "digest": report.digest,
                "complete": report.complete,
                "missing": report.missing,
                "added": report.added,
                "changed": report.changed,
                "lock_problem": report.lock_problem,
            }
        )
    report.require_ok()
    if not args.json:
        remote = isinstance(report.root, str)
        how = "names, sizes and counts checked"
        if args.deep:
            how = "every object's stored SHA-256 compared" if remote else "every file re-hashed"
        partial = "" if report.complete else " (recorded as PARTIAL)"
        ui.info(
            f"{report.root}: {report.file_count} files OK{partial}, {how}; digest {report.digest}."
        )
    return 0


def cmd_lock(args: argparse.Namespace, ui: Ui) -> int:
    release = load_release()
    report = verify(args.dest)
    if not report.ok:
        raise IntegrityError(
            f"{report.root} differs from its manifest: {report.describe()}; "
            "refusing to lock an unverified dataset."
        )
    lock = LockFile(
        release.dataset, release.release, report.digest, report.manifest, report.complete
    )
    partial = "" if report.complete else " (a PARTIAL dataset)"
    if args.output == "-":
        ui.raw(lock.to_json())
        return 0
    output = user_path(args.output, "-o")
    mode = output_target(output, replace=args.force)
    atomic_write(
        output,
        lock.to_json().encode("utf-8"),
        mode=mode if mode is not None else 0o644,
        make_parents=False,
        hint=OUTPUT_HINT,
    )
    ui.info(f"Wrote {output}: {report.file_count} files{partial}, digest {report.digest}.")
    return 0
