"""Building only the parser of the command being run.

argparse builds a full parser for every subcommand before it reads a word of the command line:
sixteen parsers and ninety options, a fifth of `bg20k cite`'s whole run. A command's own
options are needed only when that command runs (or shows its --help); the others need just a
name and a help line, for `bg20k --help` and for the check that the name is a command.
"""

from __future__ import annotations

from collections.abc import Sequence

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of `bg20k cite`'s start
if TYPE_CHECKING:
    from typing import Any


def command_word(argv: Sequence[str]) -> str | None:
    """The subcommand argparse will pick: the first word that is not an option (the top level
    has flags only, none of which takes a value)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


class OneCommand:
    """Stands in for argparse's subcommand action while the commands are declared: the one
    named ``only`` is built in full, every other is only listed."""

    def __init__(self, sub: Any, only: str) -> None:
        self._sub, self._only = sub, only
        self.declared: list[str] = []

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        self.declared.append(name)
        if name == self._only:
            return self._sub.add_parser(name, **kwargs)
        # What argparse's own add_parser records for the listing; the parser itself is never
        # asked for, since argparse will pick `only`.
        sub = self._sub
        sub._choices_actions.append(sub._ChoicesPseudoAction(name, (), kwargs.get("help")))
        sub._name_parser_map[name] = None
        return _Unbuilt()


class _Unbuilt:
    """Takes a command's declarations (options, groups, defaults) and keeps none of them."""

    def __getattr__(self, name: str) -> Any:
        return self._ignore

    def _ignore(self, *args: object, **kwargs: object) -> _Unbuilt:
        return self
