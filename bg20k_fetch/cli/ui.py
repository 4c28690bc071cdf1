"""Everything the CLI shows or asks goes through one Ui, so tests can swap the streams."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console

from ..agreement import Agreement
from ..consent import ConsentStatus, agreement_diff

ACCEPT_PHRASE = "i agree"


@dataclass
class Ui:
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    quiet: bool = False

    def __post_init__(self) -> None:
        # soft_wrap keeps each message on one physical line in logs, whatever the width.
        self.out = Console(file=self.stdout, soft_wrap=True, highlight=False)
        self.err = Console(file=self.stderr, soft_wrap=True, highlight=False)

    @property
    def interactive(self) -> bool:
        """A person can answer: both ends are a terminal (a CI job or a pipe never is)."""
        return _isatty(self.stdin) and _isatty(self.stdout)

    def info(self, message: str) -> None:
        if not self.quiet:
            self.err.print(message, markup=False)

    def error(self, message: str) -> None:
        # One line, always: a log reader greps for it and a script reads the last line.
        line = " ".join(message.split())
        self.err.print(f"bg20k: error: {line}", markup=False, style="bold red")

    def raw(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def json(self, data: object) -> None:
        self.raw(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")

    def show_agreement(self, agreement: Agreement, *, pager: bool) -> None:
        if not self.out.is_terminal:
            self.raw(agreement.text)  # exact bytes: `bg20k agreement | sha256sum` gives the digest
            return
        from rich.markdown import Markdown  # only a terminal needs the renderer

        if pager:
            with self.out.pager(styles=True):
                self.out.print(Markdown(agreement.text), soft_wrap=False)
        else:
            self.out.print(Markdown(agreement.text), soft_wrap=False)
        self.out.print(
            f"\n{agreement.title} — version {agreement.version}, SHA-256 {agreement.sha256}",
            markup=False,
            style="dim",
        )

    def ask_consent(self, agreement: Agreement, status: ConsentStatus) -> bool:
        """Show the whole text (and what changed since the last acceptance), then ask.

        Only the typed phrase accepts; an empty line, anything else, Ctrl-C and Ctrl-D decline.
        """
        diff = agreement_diff(status, agreement)
        if diff is not None:
            self.out.print(
                "The agreement has changed since you accepted it. What changed:", style="bold"
            )
            self.out.print(diff or "(the earlier text is no longer on disk)", markup=False)
        self.show_agreement(agreement, pager=False)
        try:
            answer = self.out.input(
                "\nType [bold]I agree[/bold] to accept this agreement (anything else declines): "
            )
        except (EOFError, KeyboardInterrupt):
            self.out.print()
            return False
        return answer.strip().lower() == ACCEPT_PHRASE


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
