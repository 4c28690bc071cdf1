"""The rules of a client-level block (``Throttle.block``, ``Concurrency.blocked``) and the
throttle's bookkeeping, checked on a clock the test moves by hand: no test waits."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bg20k_fetch.gdrive.throttle import Concurrency, Throttle
from bg20k_fetch.transfer import policy
from tests.helpers import Clock


@pytest.fixture
def half_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every jitter draw is 0.5: a block pause is 4 s, 8 s, 16 s… less an eighth (3.5, 7, 14),
    all exact in binary floating point."""
    monkeypatch.setattr(policy, "random", SimpleNamespace(random=lambda: 0.5))


def throttle(budget: float = Throttle.BUDGET) -> tuple[Throttle, Clock]:
    clock = Clock()
    return Throttle(budget=budget, clock=clock, sleep=clock.sleep), clock


def successes_to_grow(c: Concurrency) -> int:
    before = c.limit
    for n in range(1, 1000):
        c.succeeded()
        if c.limit != before:
            return n
    raise AssertionError(f"the limit stayed at {before}")


# Kills Throttle.__init__ 10 (`_blocks = None`) and 11 (`_blocks = 1`), Throttle.block 3
# (`_blocks = 1`), 4 (`_blocks -= 1`), 5 (`_blocks += 2`) and 15 (jitter spread 1.25).
def test_each_new_block_after_a_pause_pauses_twice_as_long(half_jitter: None) -> None:
    t, clock = throttle()
    assert t.block() == 3.5  # the first: four seconds, less the jitter
    t.wait()
    assert t.block() == 7.0
    t.wait()
    assert t.block() == 14.0
    t.wait()
    assert clock.slept == [3.5, 7.0, 14.0]
    assert t.waited == 24.5 and not t.exhausted


# Kills Throttle.block 2 (`now <= self._until`).
def test_answers_on_the_wire_during_a_block_do_not_lengthen_it(half_jitter: None) -> None:
    t, clock = throttle()
    assert t.block() == 3.5  # paused until 103.5
    clock.now = 102.0
    assert t.block() is None  # a request sent before the pause: no new block
    clock.now = 103.5  # the pause is over (wait() no longer sleeps): a new block counts
    t.wait()
    assert clock.slept == []
    assert t.block() == 7.0
    assert t.waited == 10.5


# Kills Throttle.ok 3 (`_blocks = None`) and 4 (`_blocks = 1`).
def test_a_success_resets_the_block_pause_to_its_first_length(half_jitter: None) -> None:
    t, _ = throttle()
    assert t.block() == 3.5
    t.wait()
    assert t.block() == 7.0
    t.wait()
    t.ok()  # a file arrived: the block has lifted
    assert t.block() == 3.5


# Kills Throttle.block 16 (`hits = 1`), 17 (`hits -= 1`) and 18 (`hits += 2`).
def test_a_block_counts_as_one_throttling_answer(half_jitter: None) -> None:
    t, _ = throttle()
    t.hit(retry_after=2.0)
    t.wait()
    t.block()
    assert t.hits == 2
    assert t.block() is None  # an answer from before the pause: not counted
    assert t.hits == 2


# Kills Throttle.block 21 (`return 1.0` when the budget cannot pay).
def test_a_block_the_budget_cannot_pay_for_is_not_taken(half_jitter: None) -> None:
    t, clock = throttle(budget=5.0)
    assert t.block() == 3.5
    t.wait()
    assert t.block() == 0.0  # 7 s more would pass the 5 s budget: no pause, the run stops
    assert t.exhausted and t.waited == 3.5
    t.wait()
    assert clock.slept == [3.5]


# Kills Throttle.__init__ 14 (`over_budget = None`).
def test_a_fresh_throttle_is_not_exhausted_and_says_so_as_a_bool() -> None:
    t, _ = throttle()
    assert t.exhausted is False
    assert t.over_budget is False


# Kills Concurrency.blocked 4 (`limit > 2`) and 7 (`limit = 2`).
def test_a_block_cuts_to_one_download_at_a_time() -> None:
    for jobs in (None, 2, 3):
        c = Concurrency(jobs)
        c.blocked()
        assert c.limit == 1, jobs


# Kills Concurrency.succeeded 3 (`limit = None`).
def test_fixed_jobs_come_back_whole_at_the_first_success_after_a_block() -> None:
    c = Concurrency(3)
    c.blocked()
    assert c.limit == 1
    c.succeeded()
    assert (c.limit, c.ceiling) == (3, 3)
    with c:  # and a download can start under it
        pass


# Kills Concurrency.blocked 5 (`_throttled_at = None`).
def test_after_a_block_climbing_back_to_the_blocked_level_is_slow() -> None:
    c = Concurrency(None)
    c.blocked()  # blocked at 8
    # Up to 7 at the usual pace (one window of successes each); to 8 only after eight windows.
    assert [successes_to_grow(c) for _ in range(7)] == [1, 2, 3, 4, 5, 6, 7 * 8]
    assert c.limit == 8


# Kills Concurrency.blocked 3 (`limit >= 1`).
def test_more_block_reports_at_one_do_not_move_the_refused_level() -> None:
    c = Concurrency(None)
    c.blocked()  # refused at 8
    c.blocked()  # the other workers' quota pages, answered at one
    c.blocked()
    assert c.limit == 1
    assert successes_to_grow(c) == 1  # 2 is far below the refused 8: the usual pace


# Kills Concurrency.blocked 9 (`_started_since_cut = 1`), and 8 (`= None`, a timeout in the run).
def test_a_throttling_answer_just_after_a_block_is_from_before_it() -> None:
    c = Concurrency(None)
    c.blocked()  # refused at 8
    c.throttled()  # a 429 to a request sent before the block: says nothing about one at a time
    assert c.limit == 1
    assert successes_to_grow(c) == 1  # still refused at 8, not at 1
    c.blocked()  # refused at 2 now
    with c:  # one request started at one…
        pass
    c.throttled()  # …and refused: one is remembered as too many
    assert c.limit == 1
    assert successes_to_grow(c) == 8


# Kills Concurrency.blocked 2 (`_good = 1`).
def test_the_success_count_starts_over_at_a_block() -> None:
    c = Concurrency(None)
    c.blocked()  # refused at 8
    assert successes_to_grow(c) == 1  # 1 → 2
    c.succeeded()  # one of the two needed for 3
    c.blocked()  # refused at 2: climbing back to it is careful
    assert c.limit == 1
    assert successes_to_grow(c) == 8  # eight from the block; the earlier one does not count
