"""Critical sections that a Ctrl-C or a `kill` must not cut in two.

Swapping a finished tree into place and moving the user's files out of the old one are a few
renames; stopping between two of them would leave the user's files in a working directory until
the next run puts them back. During such a section SIGINT and SIGTERM are held and acted on
right after it. (SIGKILL cannot be held: then the next run finishes the job.)
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bg20k_fetch.errors import Terminated


@contextmanager
def deferred() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread runs Python's signal handlers
        return
    received: list[int] = []

    def hold(signum: int, frame: object) -> None:
        received.append(signum)

    previous = {s: signal.signal(s, hold) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if signal.SIGTERM in received:
            raise Terminated()
        if received:
            raise KeyboardInterrupt()
