"""`bg20k cite`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..citations import merge_into_bib, render, select
from ..fsutil import atomic_write
from ..release import load_release
from .ui import Ui


def cmd_cite(args: argparse.Namespace, ui: Ui) -> int:
    release = load_release()
    refs = select(release, include_encouraged=args.all)
    if args.output is None:
        ui.raw(render(refs, release, args.format, explain=args.explain))
        return 0
    path = Path(args.output)
    if args.format in ("bibtex", "biblatex") and path.suffix == ".bib" and path.exists():
        added = merge_into_bib(path, refs, release, args.format)
        kept = len(refs) - len(added)
        ui.info(
            f"Added {', '.join(added) or 'nothing'} to {path}"
            + (f"; {kept} already there, left alone." if kept else ".")
        )
    else:
        atomic_write(path, render(refs, release, args.format, explain=args.explain).encode("utf-8"))
        ui.info(f"Wrote {len(refs)} reference(s) to {path}.")
    return 0
