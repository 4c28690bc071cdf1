"""The three commands scripts run most, answered without building the command line's parser.

`bg20k cite`, `bg20k agreement --sha256` and `bg20k status`, typed exactly so, mean what the
parser would make of them (tests/test_quick.py holds the two to the same output): nothing is
left for argparse to decide, and importing it and declaring sixteen commands was a third of
their start-up. Any other command line, and these with anything added, goes to the parser.
"""

from __future__ import annotations

from bg20k_fetch.cli.running import lazy, output_written, run_handler
from bg20k_fetch.cli.ui import Ui

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of `bg20k cite`'s start
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from bg20k_fetch.cli.running import Handler


class Parsed:
    """What the parser gives these command lines: the options at their defaults."""

    def __init__(self, **values: object) -> None:
        self.debug = False
        self.__dict__.update(values)


QUICK: dict[tuple[str, ...], tuple[Handler, dict[str, object]]] = {
    ("cite",): (
        lazy("cite_cmd", "cmd_cite"),
        {"all": False, "format": "bibtex", "explain": False, "output": None, "force": False},
    ),
    ("agreement", "--sha256"): (
        lazy("agreement_cmd", "cmd_agreement"),
        {"sha256": True, "json": False},
    ),
    ("status",): (lazy("consent_cmds", "cmd_status"), {"json": False}),
}


def answer(argv: Sequence[str], ui: Ui | None = None) -> int | None:
    """The exit code of one of these commands, run; None for any other command line."""
    quick = QUICK.get(tuple(argv))
    if quick is None:
        return None
    handler, values = quick
    ui = ui or Ui()
    args: argparse.Namespace = Parsed(command=argv[0], **values)  # type: ignore[assignment]
    return output_written(ui, run_handler(handler, args, ui))
