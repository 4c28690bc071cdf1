"""The `bg20k` command line: its parser, and `main`, which parses, runs and says how it ended."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence

from bg20k_fetch._version import __version__
from bg20k_fetch.citing import FORMATS
from bg20k_fetch.cli.bom_cmd import add_parser as add_bom_parser
from bg20k_fetch.cli.check_paper_cmd import add_parser as add_paper_parser
from bg20k_fetch.cli.fetch_args import add_fetch_parsers
from bg20k_fetch.cli.one_command import OneCommand, command_word
from bg20k_fetch.cli.register_cmds import add_parsers as add_register_parsers
from bg20k_fetch.cli.running import lazy, output_written, run_handler
from bg20k_fetch.cli.ui import Ui
from bg20k_fetch.errors import UsageError

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of `bg20k cite`'s start
if TYPE_CHECKING:
    from typing import Any, NoReturn

Handler = Callable[[argparse.Namespace, Ui], int]
cmd_cite = lazy("cite_cmd", "cmd_cite")
cmd_agreement = lazy("agreement_cmd", "cmd_agreement")
cmd_accept = lazy("consent_cmds", "cmd_accept")
cmd_status = lazy("consent_cmds", "cmd_status")
cmd_history = lazy("consent_cmds", "cmd_history")
cmd_revoke = lazy("consent_cmds", "cmd_revoke")


class _Parser(argparse.ArgumentParser):
    """Usage errors become a UsageError, shown as one line like every other error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}.", hint=f"See `{self.prog} --help`.")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    # size: one declaration per command and option, read top to bottom like --help
    """The whole command line, or (``only``) the one command being run in full and the others
    by name and help line (see one_command.py)."""
    parser = _Parser(
        prog="bg20k",
        description="Get the BG-20k dataset the right way: agreement, consent, verified data, "
        "citations.",
        epilog="Exit codes: 0 ok, 1 internal error, 2 usage, 3 consent, 4 source, 5 integrity, "
        "6 unsafe archive, 7 local storage, 8 paper does not cite [1], 9 paper unreadable, "
        "10 someone with access has not accepted, 130 interrupted, 143 terminated.",
    )
    parser.add_argument("--version", action="version", version=f"bg20k {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    sub: Any = commands if only is None else OneCommand(commands, only)

    p = sub.add_parser("agreement", help="show the release agreement")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--sha256", action="store_true", help="print only the text's SHA-256")
    group.add_argument("--json", action="store_true", help="title, version, sha256 and text")
    p.set_defaults(handler=cmd_agreement)

    p = sub.add_parser("accept", help="read and accept the release agreement")
    p.add_argument("--yes", action="store_true", help="accept without a prompt (for scripts)")
    _add_pin(p)
    p.add_argument("--name", help="your name, recorded with the consent")
    p.add_argument("--email", help="your e-mail, recorded with the consent")
    p.add_argument("--affiliation", help="your institution, recorded with the consent")
    _add_register(p, "accepting")
    p.set_defaults(handler=cmd_accept)

    p = sub.add_parser("status", help="is consent in force, and where every file lives")
    p.add_argument("--json", action="store_true", help="the same as JSON on stdout")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("history", help="every acceptance and revocation")
    p.add_argument("--json", action="store_true", help="the events as JSON on stdout")
    p.set_defaults(handler=cmd_history)

    p = sub.add_parser("revoke", help="withdraw consent")
    _add_register(p, "revoking")
    p.set_defaults(handler=cmd_revoke)

    p = sub.add_parser("cite", help="print the citations the agreement requires")
    p.add_argument("--all", action="store_true", help="add the two encouraged references")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="bibtex",
        help="bibtex (default), biblatex, csl-json, text, or cff (the Citation File Format)",
    )
    p.add_argument("--explain", action="store_true", help="say why each entry is there")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write to FILE; an existing .bib only gains the missing entries",
    )
    p.add_argument(
        "--force", action="store_true", help="replace an existing FILE that is not a .bib"
    )
    p.set_defaults(handler=cmd_cite)

    add_fetch_parsers(sub, _add_pin)
    add_paper_parser(sub)
    add_register_parsers(sub)
    add_bom_parser(sub)
    if isinstance(sub, OneCommand) and only not in sub.declared:
        return build_parser()  # not a command: argparse says so, with the full list
    return parser


def _add_register(p: argparse.ArgumentParser, doing: str) -> None:
    p.add_argument(
        "--register",
        metavar="LOCATION",
        help=f"after {doing}, add the record to the register of a shared copy (a BG-20k folder "
        "or s3://…/BG-20k), readable by everyone with access to it",
    )


def _add_pin(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--agreement-sha256",
        metavar="HEX",
        help="accept only if the shipped text has this digest (12+ hex digits)",
    )


def main(argv: Sequence[str] | None = None, ui: Ui | None = None) -> int:
    ui = ui or Ui()
    parser = build_parser(command_word(sys.argv[1:] if argv is None else argv))
    try:
        # --help and --version write through the guarded stream too, so a full disk under
        # them is seen (argparse itself ignores a failed write).
        with contextlib.redirect_stdout(ui.stdout):
            args = parser.parse_args(argv)
    except UsageError as exc:
        ui.error(str(exc))
        return int(exc.exit_code)
    except SystemExit as exc:  # --help and --version print, then exit 0
        return output_written(ui, exc.code if isinstance(exc.code, int) else 0)
    handler: Handler = args.handler
    return output_written(ui, run_handler(handler, args, ui))
