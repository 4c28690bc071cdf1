"""Progress for people (rich bars on a terminal), for logs (a plain line now and then) and for
machines (one JSON object per line on stdout)."""

from __future__ import annotations

import json
import time
from typing import TextIO

from bg20k_fetch.redact import redact

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType

    from rich.console import Console
    from rich.progress import Progress, TaskID


class _Counting:
    def __init__(self) -> None:
        self.name, self.done, self.unit, self.bytes = "", 0, "bytes", 0
        self.total: int | None = None
        self.started = time.monotonic()

    def phase(self, name: str, total: int | None, unit: str = "bytes") -> None:
        self.name, self.total, self.done, self.unit = name, total, 0, unit
        self.started = time.monotonic()
        self._on_phase()

    def advance(self, amount: int) -> None:
        self.done += amount
        self._on_advance()

    def transferred(self, amount: int) -> None:
        self.bytes += amount

    def _on_phase(self) -> None: ...
    def _on_advance(self) -> None: ...


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} GiB"


class PlainReporter(_Counting):
    """At most a line every few seconds or every 5 %, with no control characters, for logs."""

    def __init__(self, stream: TextIO, every: float = 5.0) -> None:
        super().__init__()
        self.stream, self.every = stream, every
        self._last_time, self._last_pct = 0.0, -5.0

    def _emit(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def _on_phase(self) -> None:
        self._last_time, self._last_pct = time.monotonic(), 0.0
        size = f" ({_size(self.total)})" if self.total and self.unit == "bytes" else ""
        self._emit(f"{self.name}{size}")

    def _on_advance(self) -> None:
        now = time.monotonic()
        pct = 100.0 * self.done / self.total if self.total else 0.0
        if now - self._last_time < self.every and pct - self._last_pct < 5.0:
            return
        self._last_time, self._last_pct = now, pct
        rate = self.done / max(now - self.started, 1e-6)
        if self.unit == "bytes":
            amount = f"{_size(self.done)}" + (f" of {_size(self.total)}" if self.total else "")
            speed = f", {_size(rate)}/s"
        else:
            amount = f"{self.done}" + (f" of {self.total}" if self.total else "") + f" {self.unit}"
            elapsed = max(now - self.started, 1e-6)
            # Bytes only where they were counted (a folder's downloads): never "0 B at 0 B/s".
            speed = (
                f", {_size(self.bytes)} at {_size(self.bytes / elapsed)}/s" if self.bytes else ""
            )
        self._emit(f"{self.name}: " + (f"{pct:.0f}% " if self.total else "") + f"({amount}{speed})")

    def note(self, message: str) -> None:
        self._emit(redact(message))


class JsonReporter(_Counting):
    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self._last = 0.0

    def emit(self, **event: object) -> None:
        self.stream.write(redact(json.dumps(event, default=str)) + "\n")
        self.stream.flush()

    def _on_phase(self) -> None:
        self.emit(event="phase", name=self.name, total=self.total, unit=self.unit)

    def _on_advance(self) -> None:
        now = time.monotonic()
        if now - self._last >= 1.0 or (self.total and self.done >= self.total):
            self._last = now
            self.emit(
                event="progress",
                name=self.name,
                done=self.done,
                total=self.total,
                unit=self.unit,
                bytes=self.bytes,
            )

    def note(self, message: str) -> None:
        self.emit(event="note", message=message)


class RichReporter:
    """One live bar per phase; a finished phase's bar stays on screen above the next one."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Progress | None = None
        self.task: TaskID | None = None
        self.name, self.bytes = "", 0

    def __enter__(self) -> RichReporter:
        # The live display starts with the first phase, so a consent prompt before it is
        # not drawn over.
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.progress is not None:
            self.progress.stop()

    def phase(self, name: str, total: int | None, unit: str = "bytes") -> None:
        # Imported here: rich's progress machinery is 7 MiB of a fetch's memory, and a fetch
        # in a pipe, a log or under --quiet never draws a bar.
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        if self.progress is not None:
            self.progress.stop()
        counts = (
            (MofNCompleteColumn(),)
            if unit != "bytes"
            else (DownloadColumn(), TransferSpeedColumn())
        )
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            *counts,
            TimeRemainingColumn(),
            console=self.console,
        )
        self.progress.start()
        self.name, self.bytes = name, 0
        self.task = self.progress.add_task(name, total=total)

    def advance(self, amount: int) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task, amount)

    def note(self, message: str) -> None:
        self.console.print(redact(message), markup=False, highlight=False)

    def transferred(self, amount: int) -> None:
        self.bytes += amount
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, description=f"{self.name} ({_size(self.bytes)})")


class QuietReporter:
    """--quiet: nothing but the result line (or the error line) at the end."""

    def phase(self, name: str, total: int | None, unit: str = "bytes") -> None:
        pass

    def advance(self, amount: int) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def transferred(self, amount: int) -> None:
        pass
