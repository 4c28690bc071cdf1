"""The command line built for one command (bg20k_fetch/cli/one_command.py) reads every command
line exactly as the whole parser does: the same values, the same help, the same errors."""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest

from bg20k_fetch.cli import build_parser
from bg20k_fetch.cli.one_command import command_word
from bg20k_fetch.errors import UsageError

FULL = build_parser()
COMMANDS = sorted(
    next(a for a in FULL._actions if isinstance(a, argparse._SubParsersAction)).choices
)

LINES = [
    ["cite"],
    ["cite", "--all", "--format", "text", "--explain"],
    ["--debug", "cite", "-o", "refs.bib", "--force"],
    ["agreement", "--sha256"],
    ["status", "--json"],
    ["accept", "--yes", "--name", "A", "--agreement-sha256", "abcdef012345"],
    ["fetch", "--accept", "--dest", "d", "--jobs", "3"],
    ["verify", "--deep"],
    ["publish", "s3://b/p", "--dry-run"],
    ["check-paper", "paper.tex"],
    ["audit", "--format", "csv"],
    ["bom", "--format", "spdx"],
    ["--", "paths"],
]


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[str, str]:
    """What argparse made of ``argv``: the namespace, or the error or help it ended with."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            args = parser.parse_args(argv)
    except UsageError as exc:
        return "error", str(exc)
    except SystemExit as exc:
        return f"exit {exc.code}", out.getvalue()
    return "parsed", repr(sorted((k, _value(v)) for k, v in vars(args).items()))


def _value(value: object) -> object:
    """A handler made per parser (a lazy import) as what it will run: name and bound values."""
    if callable(value):
        cells = getattr(value, "__closure__", None) or ()
        return value.__qualname__, [c.cell_contents for c in cells]
    return value


@pytest.mark.parametrize("argv", LINES, ids=" ".join)
def test_a_command_line_reads_the_same_when_only_its_command_is_built(argv: list[str]) -> None:
    assert _parse(build_parser(command_word(argv)), argv) == _parse(FULL, argv)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_commands_help_and_errors_are_the_same(command: str) -> None:
    for argv in ([command, "--help"], [command, "--no-such-option"], [command, "--help", "x"]):
        assert _parse(build_parser(command), argv) == _parse(FULL, argv)


def test_the_list_of_commands_and_a_mistyped_one_are_the_same() -> None:
    for argv in (["--help"], ["cite", "x"], ["citee"], [], ["--version"]):
        assert _parse(build_parser(command_word(argv)), argv) == _parse(FULL, argv)
    top_help = _parse(build_parser("cite"), ["--help"])  # the listing, from a partial parser
    assert top_help == _parse(FULL, ["--help"]) and "check-paper" in top_help[1]
