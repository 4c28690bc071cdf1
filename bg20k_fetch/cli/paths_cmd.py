"""`bg20k paths`: a split's verified images, one path per line (for scripts and shells)."""

from __future__ import annotations

import argparse

from bg20k_fetch.cli.ui import Ui
from bg20k_fetch.dataset.splits import split_paths


def cmd_paths(args: argparse.Namespace, ui: Ui) -> int:
    # -0: NUL after each path, for `xargs -0`; a name may hold a newline, never a NUL.
    found = split_paths(args.split, args.dest)
    if args.json:
        ui.json([str(path) for path in found])
        return 0
    end = "\0" if args.null else "\n"
    ui.raw("".join(f"{path}{end}" for path in found))
    return 0
