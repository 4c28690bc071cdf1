"""`bg20k fetch` (and, later, verify and lock)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from ..agreement import load_agreement
from ..consent import require_consent
from ..errors import NotImplementedYetError
from ..paths import Paths
from .consent_cmds import accepted_line
from .ui import Ui


def add_fetch_parsers(sub: Any, add_pin: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("fetch", help="accept (if needed), download and verify BG-20k")
    p.add_argument("--accept", action="store_true", help="accept the agreement (for scripts)")
    add_pin(p)
    p.add_argument("--dest", metavar="DIR", help="where BG-20k/ goes (default: BG20K_DATA_DIR)")
    p.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="SRC",
        help="archive URL or path; repeat for failover, tried in order",
    )
    p.add_argument(
        "--from",
        dest="from_paths",
        action="append",
        default=[],
        metavar="PATH",
        help="local archives/directories that together make the dataset",
    )
    p.set_defaults(handler=cmd_fetch)


def cmd_fetch(args: argparse.Namespace, ui: Ui) -> int:
    paths = Paths.from_env()
    agreement = load_agreement()
    ask = ui.ask_consent if ui.interactive else None
    record = require_consent(
        paths, agreement, accept=args.accept, pin=args.agreement_sha256, ask=ask
    )
    ui.info(accepted_line(record, paths))
    raise NotImplementedYetError("Downloading is not implemented yet; consent is recorded.")
