"""Backing off as a whole: when Drive throttles (429, 5xx, "automated queries", or quota pages
that block the whole client — see ``quota.py``), every worker waits.

The pauses together are bounded by BG20K_THROTTLE_BUDGET: a pause that would take the total
past it is not taken — the run is marked over budget instead, and every request checks that
first — so a run stops within the budget, however the throttling is answered (a Retry-After of
an hour with ten minutes left stops it at once rather than an hour later). A host that
cannot be reached is a different failure: see ``health.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bg20k_fetch.transfer.policy import backoff
from bg20k_fetch.transfer.settings import env_number
from bg20k_fetch.transfer.stream import Cancelled


class Throttle:
    BUDGET = 900.0  # seconds of pausing, BG20K_THROTTLE_BUDGET's default (README)
    # A client-level quota block lifts after tens of seconds to minutes: wait longer at first.
    BLOCK_BASE, BLOCK_CAP = 4.0, 120.0

    def __init__(
        self,
        base: float = 1.0,
        cap: float = 60.0,
        budget: float = BUDGET,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base, self.cap, self.budget = base, cap, budget
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._until = 0.0
        self._streak = 0
        self._blocks = 0
        self.waited = 0.0  # total pause imposed, checked against the budget
        self.over_budget = False  # a pause was due that the budget could not pay for
        self.hits = 0

    @classmethod
    def from_env(cls) -> Throttle:
        """BG20K_THROTTLE_BUDGET: seconds of pausing allowed before a folder fetch stops."""
        return cls(budget=env_number("BG20K_THROTTLE_BUDGET", cls.BUDGET, low=0, high=7 * 86400))

    def wait(self, cancel: threading.Event | None = None) -> None:
        """Sit out the pause every worker owes; a stopping fetch (``cancel`` set) does not wait
        out a pause of minutes, and its request is Cancelled."""
        with self._lock:
            delay = self._until - self._clock()
        if delay > 0:
            pause = self._sleep if cancel is None else cancel.wait
            pause(delay)
        if cancel is not None and cancel.is_set():
            raise Cancelled("Stopped during Google Drive's pause; partial files are kept.")

    def hit(self, retry_after: float | None = None) -> float:
        """Record a throttling answer; returns the pause every worker now takes."""
        with self._lock:
            self.hits += 1
            self._streak += 1
            if retry_after is not None:
                delay = min(self.cap, retry_after)  # the server said how long: no less
            else:
                delay = backoff(self._streak, self.base, self.cap, spread=0.5)
            now = self._clock()
            until = now + delay
            if until > self._until and not self._spend(until - max(self._until, now)):
                return 0.0
            self._until = max(self._until, until)
            return delay

    def block(self) -> float | None:
        """The whole client is blocked (quota pages on every file): everyone pauses, each new
        block after a pause twice as long as the last. Answers from requests that were already
        on the wire during a pause do not lengthen it: returns None for those."""
        with self._lock:
            now = self._clock()
            if now < self._until:
                return None
            self._blocks += 1
            delay = backoff(self._blocks, self.BLOCK_BASE, self.BLOCK_CAP, spread=0.25)
            self.hits += 1
            if not self._spend(delay):
                return 0.0
            self._until = now + delay
            return delay

    def _spend(self, pause: float) -> bool:
        """Take ``pause`` out of the budget (the lock is held); False, and over budget, when
        it would not fit."""
        if self.waited + pause > self.budget:
            self.over_budget = True
            return False
        self.waited += pause
        return True

    def ok(self) -> None:
        with self._lock:
            self._streak = 0
            self._blocks = 0

    @property
    def exhausted(self) -> bool:
        return self.over_budget


class Concurrency:
    """How many files download at once. Fixed when the user gave ``--jobs``; otherwise it
    adapts to what Drive answers, as TCP does: one more after each run of ``limit`` successes
    in a row (up to ``ceiling``), half as many at a throttling answer (down to one), at most
    once per ``limit`` requests started, since the requests already in flight were sent under
    the old limit and their answers say nothing new. The level that was throttled is
    remembered: climbing back to it takes eight times as many successes, so a Drive that
    allows four at once sees a probe at five now and then, not every few files.

    A fixed eight was slower than aria2c's sixteen where Drive was happy, and sixteen from the
    start would be rude where it is not; adapting gets the first without the second."""

    START, CEILING = 8, 16

    def __init__(self, jobs: int | None) -> None:
        self.adaptive = jobs is None
        self.limit = self.START if jobs is None else jobs
        self.ceiling = self.CEILING if jobs is None else jobs
        self._active = 0
        self._good = 0
        self._started_since_cut = 1 << 62  # the first throttling answer always counts
        self._throttled_at: int | None = None  # the limit Drive last refused
        self._cond = threading.Condition()

    def __enter__(self) -> None:
        with self._cond:
            while self._active >= self.limit:
                self._cond.wait()
            self._active += 1
            self._started_since_cut += 1

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._active -= 1
            self._cond.notify()

    def requeue(self) -> None:
        """Give the slot back and wait for one under the current limit: what a download does
        before retrying a throttled request, so a cut limit binds the retries in flight too."""
        with self._cond:
            self._active -= 1
            self._cond.notify()
            while self._active >= self.limit:
                self._cond.wait()
            self._active += 1
            self._started_since_cut += 1

    def succeeded(self) -> None:
        if not self.adaptive:
            with self._cond:
                if self.limit < self.ceiling:  # a block lifted: --jobs as the user gave it
                    self.limit = self.ceiling
                    self._cond.notify_all()
            return
        with self._cond:
            self._good += 1
            careful = self._throttled_at is not None and self.limit + 1 >= self._throttled_at
            if self._good >= self.limit * (8 if careful else 1) and self.limit < self.ceiling:
                self._good = 0
                self.limit += 1
                if careful:
                    self._throttled_at = None  # it held: probe on as before
                self._cond.notify()

    def blocked(self) -> None:
        """The client is blocked: one request at a time, to probe, until answers come back
        (then adaptive growth resumes from one; a fixed --jobs is restored at once)."""
        with self._cond:
            self._good = 0
            if self.limit > 1:
                if self.adaptive:
                    self._throttled_at = self.limit
                self.limit = 1
                self._started_since_cut = 0

    def throttled(self) -> None:
        if not self.adaptive:
            return
        with self._cond:
            self._good = 0
            if self._started_since_cut >= self.limit:
                self._throttled_at = self.limit
                self.limit = max(1, self.limit // 2)
                self._started_since_cut = 0
