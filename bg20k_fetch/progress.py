"""How the library tells its caller what it is doing, without printing anything itself.

The CLI turns these calls into rich bars, plain log lines or JSON events; Python callers get
silence unless they pass a reporter.
"""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    def phase(self, name: str, total: int | None, unit: str = "bytes") -> None:
        """A new phase starts (download, extract, verify …); ``total`` may be unknown."""

    def advance(self, amount: int) -> None:
        """Progress within the current phase."""

    def note(self, message: str) -> None:
        """Something a person should read: a failover, a retry, a skipped step."""

    def transferred(self, amount: int) -> None:
        """Bytes moved during a phase counted in other units (files of a folder)."""


class NullReporter:
    def phase(self, name: str, total: int | None, unit: str = "bytes") -> None:
        pass

    def advance(self, amount: int) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def transferred(self, amount: int) -> None:
        pass
