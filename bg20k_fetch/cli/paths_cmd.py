"""`bg20k paths`: a split's verified images, one path per line (for scripts and shells)."""

from __future__ import annotations

import argparse

from ..listing import split_paths
from .ui import Ui


def cmd_paths(args: argparse.Namespace, ui: Ui) -> int:
    ui.raw("".join(f"{path}\n" for path in split_paths(args.split, args.dest)))
    return 0
