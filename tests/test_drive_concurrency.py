"""How many Drive downloads run at once: by default it grows while Drive answers well and halves
when Drive throttles; ``--jobs N`` fixes it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bg20k_fetch.errors import UsageError
from bg20k_fetch.gdrive.throttle import Concurrency, Throttle
from tests.data import jpeg
from tests.gdrive_emulator import DriveEmulator, Options
from tests.helpers import Clock, run_bg20k, write_release


def test_adaptive_limit_grows_by_one_per_window_and_halves_once_per_window() -> None:
    c = Concurrency(None)
    assert (c.limit, c.ceiling) == (8, 16)
    for _ in range(8):
        c.succeeded()
    assert c.limit == 9  # one more after eight successes in a row
    for _ in range(200):
        c.succeeded()
    assert c.limit == 16  # never above the ceiling
    c.throttled()
    assert c.limit == 8
    c.throttled()  # an answer to a request sent before the cut: no second cut
    assert c.limit == 8
    for _ in range(8):
        with c:
            pass
    c.throttled()  # a full window of new requests later, throttled again: halve again
    assert c.limit == 4
    for _ in range(20):
        with c:
            pass
        c.throttled()
    assert c.limit == 1  # never below one


def successes_to_grow(c: Concurrency) -> int:
    before, n = c.limit, 0
    while c.limit == before:
        c.succeeded()
        n += 1
    return n


def test_climbing_back_to_a_refused_level_is_slow() -> None:
    c = Concurrency(None)
    for _ in range(4):
        c.succeeded()
    c.throttled()  # refused at 8
    assert c.limit == 4
    # To 5, 6 and 7 at the usual pace; back to the refused 8 only after eight times as many.
    assert [successes_to_grow(c) for _ in range(4)] == [4, 5, 6, 7 * 8]
    assert c.limit == 8
    assert successes_to_grow(c) == 8  # 8 held: probing goes on at the usual pace


def test_fixed_jobs_never_change() -> None:
    c = Concurrency(3)
    for _ in range(50):
        c.succeeded()
    c.throttled()
    assert (c.limit, c.ceiling) == (3, 3)


def test_the_limit_holds_across_threads() -> None:
    c = Concurrency(2)
    inside, most = 0, 0
    lock = threading.Lock()
    gate = threading.Barrier(6)

    def worker() -> None:
        nonlocal inside, most
        gate.wait()
        for _ in range(50):
            with c:
                with lock:
                    inside += 1
                    most = max(most, inside)
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most <= 2


@pytest.fixture
def folder_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    emulators: list[DriveEmulator] = []

    def make(options: Options, files: int) -> tuple[DriveEmulator, str]:
        emulator = DriveEmulator(options).__enter__()
        emulators.append(emulator)
        for name, value in emulator.env().items():
            monkeypatch.setenv(name, value)
        train = files * 3 // 4
        tree = {
            f"{'train' if i < train else 'testval'}/h_{i:08x}.jpg": jpeg(i) for i in range(files)
        }
        counts = {"train": train, "testval": files - train}
        monkeypatch.setenv(
            "BG20K_RELEASE_FILE", str(write_release(tmp_path / "rel", counts=counts))
        )
        return emulator, emulator.add_tree(tree)

    yield make
    for emulator in emulators:
        emulator.__exit__(None, None, None)


def fetch(folder: str, dest: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_bg20k(
        "fetch", "--accept", "--source", f"gdrive-folder:{folder}", "--dest", str(dest), *args
    )


def test_default_grows_past_eight_where_drive_answers_well(folder_of, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    emulator, folder = folder_of(Options(warn_size=10**9, latency=0.03), 400)
    result = fetch(folder, tmp_path / "d")
    assert result.code == 0, result.err
    assert 8 < emulator.max_in_flight <= 16
    assert not emulator.throttled_at


def test_default_backs_off_where_drive_limits_concurrency(folder_of, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A Drive that answers 429 beyond four downloads at once. A fixed eight (the old
    default) sends twice what it allows, wave after wave: about half of all requests would be
    refused. The default halves at the first 429s, then probes upward one at a time and only
    slowly back to the level that was refused: about one request in ten is refused (13-17 of
    160 files here), and every file arrives."""
    files = 160
    limited = Options(warn_size=10**9, latency=0.03, max_concurrent=4, retry_after="0")
    emulator, folder = folder_of(limited, files)
    result = fetch(folder, tmp_path / "a")
    assert result.code == 0, result.err
    assert len(emulator.throttled_at) < files // 5
    assert sum(emulator.downloads.values()) == files


def test_a_throttling_answer_pauses_every_worker_until_its_retry_after() -> None:
    clock = Clock()
    t = Throttle(cap=60.0, budget=100.0, clock=clock, sleep=clock.sleep)
    assert t.hit(retry_after=10.0) == 10.0
    clock.now += 4.0
    t.wait()  # any worker, any time in the window: the rest of it
    assert clock.slept == [6.0]
    t.wait()  # the window has passed
    assert clock.slept == [6.0]
    assert t.hit(retry_after=500.0) == 60.0  # the server's word, up to the cap
    assert (t.hits, t.waited) == (2, 70.0) and not t.exhausted
    clock.now += 60.0
    # 60 s more would take the pauses past the budget: not taken, the run stops instead.
    assert t.hit(retry_after=500.0) == 0.0
    assert (t.hits, t.waited) == (3, 70.0) and t.exhausted
    t.wait()
    assert clock.slept == [6.0]


def test_overlapping_pauses_count_once_against_the_budget() -> None:
    clock = Clock()
    t = Throttle(budget=12.0, clock=clock, sleep=clock.sleep)
    t.hit(retry_after=10.0)  # paused until 110
    clock.now += 4.0
    t.hit(retry_after=3.0)  # until 107: inside the pause already imposed
    assert t.waited == 10.0
    t.hit(retry_after=8.0)  # until 112: two more seconds
    assert t.waited == 12.0 and not t.exhausted
    t.wait()
    assert clock.slept == [8.0]
    t.hit(retry_after=0.5)  # half a second past the budget: never slept
    assert t.waited == 12.0 and t.exhausted and t.hits == 4


def test_without_retry_after_the_pause_doubles_per_hit_in_a_row_until_one_succeeds() -> None:
    ranges = [(0.5, 1.0), (1.0, 2.0), (2.0, 4.0), (2.5, 5.0)]  # base 1, cap 5, half jitter
    seen: list[list[float]] = [[] for _ in ranges]
    for _ in range(60):
        t = Throttle(base=1.0, cap=5.0, clock=Clock())
        for pauses in seen:
            pauses.append(t.hit())
        t.ok()
        seen[0].append(t.hit())  # a success in between: the next starts small again
    for (low, high), pauses in zip(ranges, seen, strict=True):
        assert all(low <= p <= high for p in pauses), (low, high, pauses)
        assert max(pauses) - min(pauses) > (high - low) / 4  # jittered, not fixed


def test_a_retry_waits_for_a_slot_under_a_limit_cut_meanwhile() -> None:
    c = Concurrency(None)
    for _ in range(5):
        c.__enter__()
    c.throttled()  # 8 → 4, with 5 in flight
    assert c.limit == 4
    back = threading.Event()

    def retry() -> None:
        c.requeue()  # gives its slot back: 4 in flight is the limit, so it must wait
        back.set()

    worker = threading.Thread(target=retry, daemon=True)
    worker.start()
    assert not back.wait(0.3)
    c.__exit__()  # one finishes: 3 in flight, the retry may go
    assert back.wait(10)
    assert c._active == 4


def test_a_worker_past_the_limit_waits_for_a_slot() -> None:
    c = Concurrency(2)
    c.__enter__()
    c.__enter__()
    inside = threading.Event()

    def third() -> None:
        with c:
            inside.set()

    worker = threading.Thread(target=third, daemon=True)
    worker.start()
    assert not inside.wait(0.3)  # two in flight is the limit
    c.__exit__()
    assert inside.wait(10)
    worker.join(10)
    c.__exit__()
    assert c._active == 0


@pytest.mark.parametrize("start", ["enter", "requeue"])
def test_a_throttling_answer_cuts_again_only_after_a_window_of_new_starts(start: str) -> None:
    c = Concurrency(None)
    c.__enter__()  # a request in flight before the cut
    c.throttled()  # the first answer always counts: 8 → 4
    assert c.limit == 4

    def one_start() -> None:
        if start == "enter":
            c.__enter__()
            c.__exit__()
        else:
            c.requeue()  # a retry of the request in flight is a new start too

    for _ in range(3):
        one_start()
    c.throttled()  # three started under the new limit: an answer to an older request
    assert c.limit == 4
    one_start()
    c.throttled()  # the fourth start completes a window: halve again
    assert c.limit == 2


def test_halving_an_odd_limit_rounds_down_to_a_whole_number_of_slots() -> None:
    c = Concurrency(None)
    for _ in range(8 + 9 + 10):  # successes in a row: 8 → 9 → 10 → 11
        c.succeeded()
    assert c.limit == 11
    c.throttled()
    assert c.limit == 5 and isinstance(c.limit, int)


def test_growth_waits_for_a_whole_window_of_successes() -> None:
    c = Concurrency(None)
    for _ in range(7):
        c.succeeded()
    assert c.limit == 8  # seven of eight: not yet
    c.succeeded()
    assert c.limit == 9


def test_the_throttle_defaults_and_its_budget_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    t = Throttle(clock=clock, sleep=clock.sleep)
    assert 0.5 <= t.hit() <= 1.0  # the first pause: a second, less its jitter
    assert t.hit(retry_after=100.0) == 60.0  # never more than a minute at a time
    monkeypatch.delenv("BG20K_THROTTLE_BUDGET", raising=False)
    assert Throttle.from_env().budget == 900.0
    for value, budget in (("0", 0.0), ("60", 60.0), (str(7 * 86400), 7 * 86400.0)):
        monkeypatch.setenv("BG20K_THROTTLE_BUDGET", value)
        assert Throttle.from_env().budget == budget
    for bad in ("-1", str(7 * 86400 + 1)):
        monkeypatch.setenv("BG20K_THROTTLE_BUDGET", bad)
        with pytest.raises(UsageError) as caught:
            Throttle.from_env()
        assert caught.value.message == (
            f"BG20K_THROTTLE_BUDGET={bad!r} must be a number from 0 to 604800."
        )
