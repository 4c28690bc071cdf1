"""Critical sections that a Ctrl-C or a `kill` must not cut in two.

Swapping a finished tree into place and moving the user's files out of the old one are a few
renames; stopping between two of them would leave the user's files in a working directory until
the next run puts them back. During such a section SIGINT and SIGTERM are held and acted on
right after it. (SIGKILL cannot be held: then the next run finishes the job.) A signal the
process was started with ignored (a script's background job) stays ignored.

A pool of workers is such a section too, in another way: a KeyboardInterrupt raised in the
main thread while it starts the workers or waits on their futures can land inside
concurrent.futures' own code (before the ``try`` that would tell the workers to stop, or
between two lock acquisitions), and the pool then waits for every file in flight, or for ever.
There the held signal only stops the workers (``wait_or_stop``) and is raised once they have.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from bg20k_fetch.errors import Terminated

if TYPE_CHECKING:
    from concurrent.futures import Future


@contextmanager
def deferred() -> Iterator[list[int]]:
    """SIGINT and SIGTERM held until the block ends, then raised as KeyboardInterrupt or
    Terminated; yields the signals held so far."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received  # only the main thread runs Python's signal handlers
        return

    def hold(signum: int, frame: object) -> None:
        # Nothing else here: a handler runs between any two bytecodes of the main thread,
        # which may be holding any lock at that moment.
        received.append(signum)

    previous = {
        s: signal.signal(s, hold)
        for s in (signal.SIGINT, signal.SIGTERM)
        if signal.getsignal(s) is not signal.SIG_IGN
    }
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if signal.SIGTERM in received:
            raise Terminated()
        if received:
            raise KeyboardInterrupt()


def wait_or_stop(
    futures: Sequence[Future[Any]],
    stop: threading.Event,
    held: list[int],
    on_stop: Callable[[], None] | None = None,
) -> set[Future[Any]]:
    """Wait until every future is done or one has failed; returns those done. A signal held
    meanwhile (``held``, from ``deferred``) sets ``stop`` from here rather than from the
    handler: Event.set takes a lock the main thread may hold when the signal lands."""
    from concurrent.futures import FIRST_EXCEPTION, wait

    while True:
        finished, pending = wait(futures, timeout=0.2, return_when=FIRST_EXCEPTION)
        if held and not stop.is_set():
            stop.set()
            if on_stop is not None:
                on_stop()
        if not pending or any(f.exception() is not None for f in finished):
            return finished
