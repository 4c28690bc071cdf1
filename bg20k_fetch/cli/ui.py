"""Everything the CLI shows or asks goes through one Ui, so tests can swap the streams."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import sys

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of `bg20k cite`'s start
if TYPE_CHECKING:
    from typing import Any, TextIO

    from rich.console import Console

    from bg20k_fetch.consent.agreement import Agreement
    from bg20k_fetch.consent.record import ConsentStatus

ACCEPT_PHRASE = "i agree"
# The reader went away (`| head -1`): the one write error that may end quietly.
_READER_GONE = (errno.EPIPE, errno.ECONNRESET)


class GuardedStream:
    """A text stream whose reader may go away (``bg20k fetch --json | head -1``).

    Once the pipe is closed, writes are dropped instead of raising: the work goes on and the
    command ends with the code the work earned. Any other write error (a full disk, an I/O
    error, a file grown past its limit) also stops the writing, but is kept in ``failure``: the
    output is then incomplete, and the command must not end as a success. Text a locale cannot
    encode is replaced rather than aborting the command; exact bytes go through
    ``write_bytes``.
    """

    def __init__(self, inner: TextIO | None) -> None:
        # None: the descriptor was closed before Python started (`bg20k … >&-`).
        self.broken = inner is None
        self.failure: OSError | None = None
        self.inner: TextIO = inner if inner is not None else io.StringIO()
        with contextlib.suppress(AttributeError, ValueError, OSError):
            self.inner.reconfigure(errors="replace")  # type: ignore[attr-defined]

    def write(self, text: str) -> int:
        if not self.broken:
            with self._guard():
                self.inner.write(text)
        return len(text)

    def write_bytes(self, data: bytes) -> None:
        if self.broken:
            return
        buffer = getattr(self.inner, "buffer", None)
        with self._guard():
            if buffer is None:
                self.inner.write(data.decode("utf-8"))
            else:
                self.inner.flush()
                buffer.write(data)
                buffer.flush()

    def flush(self) -> None:
        if not self.broken:
            with self._guard():
                self.inner.flush()

    @contextlib.contextmanager
    def _guard(self) -> Any:
        try:
            yield
        except (OSError, ValueError) as exc:  # a closed pipe, a full disk, a closed file
            self.broken = True
            if isinstance(exc, OSError) and exc.errno not in _READER_GONE:
                self.failure = self.failure or exc
            # Point the descriptor at /dev/null so the interpreter's last flush at exit
            # does not complain about the same closed pipe.
            with contextlib.suppress(AttributeError, ValueError, OSError):
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, self.inner.fileno())
                os.close(null)

    def isatty(self) -> bool:
        return _isatty(self.inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class Ui:
    # A plain class, not a dataclass: `bg20k cite` then never imports dataclasses (and inspect).
    def __init__(
        self,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        stdin: TextIO | None = None,
        quiet: bool = False,
    ) -> None:
        self.stdout: TextIO = GuardedStream(sys.stdout if stdout is None else stdout)  # type: ignore[assignment]
        self.stderr: TextIO = GuardedStream(sys.stderr if stderr is None else stderr)  # type: ignore[assignment]
        self.stdin: TextIO = sys.stdin if stdin is None else stdin
        self.quiet = quiet
        self._out: Console | None = None
        self._err: Console | None = None

    # The consoles (rich) are made on first use: `bg20k cite` or `agreement --sha256` write raw
    # bytes and never pay for rich's import. soft_wrap keeps each message on one physical line
    # in logs, whatever the width.
    @property
    def out(self) -> Console:
        if self._out is None:
            self._out = _console(self.stdout)
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            self._err = _console(self.stderr)
        return self._err

    @property
    def interactive(self) -> bool:
        """A person can answer: both ends are a terminal (a CI job or a pipe never is)."""
        return _isatty(self.stdin) and _isatty(self.stdout)

    def info(self, message: str) -> None:
        if self.quiet:
            return
        message = one_line(message)
        if _isatty(self.stderr):
            self.err.print(message, markup=False)
        else:  # a log or a pipe: the text as it is, without loading rich
            self.stderr.write(message + "\n")

    def say(self, line: str, style: str | None = None) -> None:
        """A line of a report on stdout (`status`, `history`): in colour on a terminal, as
        plain text in a pipe or a log, where rich would cost more than the whole command."""
        if _isatty(self.stdout):
            self.out.print(line, markup=False, style=style)
        else:
            self.stdout.write(line + "\n")

    def error(self, message: str) -> None:
        # One line, always: a log reader greps for it and a script reads the last line.
        line = " ".join(one_line(message).split())
        if _isatty(self.stderr):
            self.err.print(f"bg20k: error: {line}", markup=False, style="bold red")
        else:
            self.stderr.write(f"bg20k: error: {line}\n")

    def raw(self, text: str) -> None:
        """Machine-readable output (the agreement, BibTeX, JSON): UTF-8 bytes whatever the
        locale, so `bg20k agreement | sha256sum` always gives the agreement's digest."""
        self.stdout.write_bytes(text.encode("utf-8"))  # type: ignore[attr-defined]

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

        Only the typed phrase accepts; an empty line, anything else and Ctrl-D decline; Ctrl-C
        interrupts the command (exit 130), as it does anywhere else.
        """
        from bg20k_fetch.consent.record import (
            agreement_diff,  # the prompt only: pydantic is not needed before
        )

        diff = agreement_diff(status, agreement)
        if diff is not None:
            self.out.print(
                "The agreement has changed since you accepted it. What changed:", style="bold"
            )
            self.out.print(diff or "(the earlier text is no longer on disk)", markup=False)
        self.show_agreement(agreement, pager=False)
        discard_typeahead(self.stdin)
        self.out.print(
            "\nType [bold]I agree[/bold] to accept this agreement (anything else declines): ",
            end="",
        )
        try:
            answer = read_line(self.stdin)
        except EOFError:
            self.out.print()
            return False
        except KeyboardInterrupt:
            self.out.print()
            raise
        return answer.strip().lower() == ACCEPT_PHRASE


def discard_typeahead(stream: TextIO) -> None:
    """What was typed before the agreement was on screen does not answer it: the acceptance is
    typed after the text it accepts."""
    try:
        import termios

        termios.tcflush(stream.fileno(), termios.TCIFLUSH)
    except (ImportError, AttributeError, OSError, ValueError):
        pass  # not a terminal (or not POSIX): nothing was typed ahead


def read_line(stream: TextIO) -> str:
    """A line typed at the terminal, as input() reads it, except for Ctrl-C: a signal that lands
    after Python's last check and before the read blocks only sets a flag, and input() then
    sleeps in read() for ever with ^C on the screen. Waiting in short polls lets Python act on
    it within a fifth of a second. (A terminal hands over one line per read, so nothing typed
    waits unseen in Python's buffer; after a partial line and Ctrl-D the read blocks as
    input()'s did, for the rest of that line.)"""
    import select  # only the prompt needs it

    with contextlib.suppress(AttributeError, OSError, ValueError):  # no descriptor: read at once
        while not select.select([stream.fileno()], [], [], 0.2)[0]:
            pass
    line = stream.readline()
    if not line:
        raise EOFError  # Ctrl-D
    return line.rstrip("\r\n")


def one_line(text: str) -> str:
    """A message is one line in a log: control characters a name may hold (a newline in a
    --dest) are shown escaped, never obeyed."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def _console(stream: TextIO) -> Console:
    from rich import console  # imported on first use: see Ui.out

    # emoji=False: a file named "a:smile:.jpg" is shown as it is named.
    return console.Console(file=stream, soft_wrap=True, highlight=False, emoji=False)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
