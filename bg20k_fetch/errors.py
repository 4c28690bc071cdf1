"""Typed errors. Each carries the exit code the CLI uses and a message that says what to do next."""

from __future__ import annotations

from enum import IntEnum

from bg20k_fetch.redact import redact

TYPE_CHECKING = False  # not typing's: `bg20k cite` imports this module, and never typing
if TYPE_CHECKING:
    from pathlib import Path


class ExitCode(IntEnum):
    """Exit statuses documented in README.md. Scripts depend on these: never renumber."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    CONSENT = 3
    SOURCE = 4
    INTEGRITY = 5
    UNSAFE_ARCHIVE = 6
    STORAGE = 7
    NOT_CITED = 8  # check-paper: the paper does not cite the reference the agreement requires
    CANNOT_TELL = 9  # check-paper: nothing given could be read (a scanned PDF, say)
    NOT_ALL_ACCEPTED = 10  # audit: someone with access has not accepted the current text
    INTERRUPTED = 130
    TERMINATED = 143


class Bg20kError(Exception):
    """Root of every error the library raises on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        # Errors quote URLs, and URLs can carry keys and passwords: never let one through.
        message, hint = redact(message), redact(hint) if hint else hint
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class UsageError(Bg20kError):
    exit_code = ExitCode.USAGE


class ConsentError(Bg20kError):
    """Consent is missing, was declined, or a pinned digest does not match the shipped text."""

    exit_code = ExitCode.CONSENT


class SourceError(Bg20kError):
    """A source is unreachable or refuses to serve (network, quota, permission, not found)."""

    exit_code = ExitCode.SOURCE


class IntegrityError(Bg20kError):
    """Bytes or layout are not what they must be (checksum, size, layout, lock, HTML as data)."""

    exit_code = ExitCode.INTEGRITY


class DamagedData(IntegrityError):
    """Bytes that cannot be read as what they claim to be: a broken archive, a failing read."""


class ConflictingFiles(IntegrityError):
    """Two sources (archive parts, Drive duplicates) give different bytes for one path."""

    def __init__(self, rel: str, second: str) -> None:
        super().__init__(
            f"Two different files claim {rel} (the second from {second}).",
            hint="The parts come from different copies of the dataset; use one copy.",
        )


class HtmlInsteadOfData(IntegrityError):
    """A server sent a web page (an error, a quota or sign-in page) where data was expected."""

    def __init__(self, what: str, title: str, *, hint: str | None = None) -> None:
        super().__init__(
            f"{what} sent an HTML page titled {title!r} instead of data; nothing was saved.",
            hint=hint or "The server is refusing or the link is wrong: try another --source.",
        )


class InvalidFiles(IntegrityError):
    """Some files of a source were not valid data; ``lines`` names each, for the problems file."""

    def __init__(self, what: str, lines: list[str], *, listed_in: str | None = None) -> None:
        where = f"; the full list is in {listed_in}" if listed_in else ""
        super().__init__(
            f"{len(lines)} file(s) of {what} were not valid data (e.g. {lines[0]}){where}.",
            hint="Re-running fetches only the missing files; if they stay invalid, use another "
            "source.",
        )
        self.what, self.lines = what, lines

    def listed_in(self, path: str) -> InvalidFiles:
        return InvalidFiles(self.what, self.lines, listed_in=path)


class UnsafeArchiveError(Bg20kError):
    """An archive member could write outside the destination or exhaust the disk."""

    exit_code = ExitCode.UNSAFE_ARCHIVE


class StorageError(Bg20kError):
    """A local storage problem: disk full, permission denied, lock held."""

    exit_code = ExitCode.STORAGE


class ReleaseDescriptionError(UsageError):
    """The dataset description (shipped, or named by BG20K_RELEASE_FILE) cannot be used."""


class Interrupted(Bg20kError):
    exit_code = ExitCode.INTERRUPTED


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C (work stops cleanly, partial files kept), exit 143."""


def mark_installed(stop: KeyboardInterrupt, root: Path) -> None:
    """A Ctrl-C or kill held while the dataset was swapped into place lands after the swap:
    the interruption then carries where the finished tree now is, so the message says so."""
    stop.installed_at = root  # type: ignore[attr-defined]


def installed_at(stop: KeyboardInterrupt) -> Path | None:
    """Where this run put the dataset before the interruption landed (mark_installed)."""
    root: Path | None = getattr(stop, "installed_at", None)
    return root


class AllSourcesFailed(Bg20kError):
    """Every source was tried and failed; exits with the code of the last failure."""

    def __init__(self, errors: list[tuple[str, Bg20kError]]) -> None:
        source, last = errors[-1]
        super().__init__(
            f"All {len(errors)} sources failed; the last, {source}: {last.message}", hint=last.hint
        )
        self.errors = errors
        self.exit_code = last.exit_code
