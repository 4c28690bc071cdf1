"""The `bg20k` command: parses, renders and exits. The only package that prints or prompts.

The parser and ``main`` live in parser.py and are loaded on first use, so that the commands
quick.py answers without a parser (importing this package comes first) never load them.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of `bg20k cite`'s start
if TYPE_CHECKING:
    from bg20k_fetch.cli.parser import build_parser, main

__all__ = ["build_parser", "main"]


def __getattr__(name: str) -> object:
    if name in __all__:
        from bg20k_fetch.cli import parser

        return getattr(parser, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
