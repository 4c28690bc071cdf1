"""Case 5b: the Drive folder under a client-level quota block — Drive answering every file with
its quota page for a while after a client has downloaded many, then lifting (issue 26).

No plain tool survives this (aria2c saves the quota pages as images), so the yardstick is the
floor: the same folder fetched with no block, plus every second the blocks lasted. The figure
that matters beside the time is how many requests bg20k spent into a block."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lib import Measure, photo_bytes
from report import Comparison


@dataclass
class Wasted:
    """Requests answered with the quota page, and blocks begun, per timed run."""

    requests: list[int] = field(default_factory=list)
    blocks: list[int] = field(default_factory=list)


def drive_block(b: Any) -> list[Comparison]:
    from tests.gdrive_emulator import DriveEmulator, Options

    n, latency = b.sizes.drive_files, b.sizes.drive_latency
    every, seconds = max(20, n // 5), (20.0 if n >= 5_000 else 2.0)
    files = {
        f"{'train' if i < n * 3 // 4 else 'testval'}/h_{i:08x}.jpg": photo_bytes(2048)
        for i in range(n)
    }
    env = b.env(f"drive-block{n}", n)
    out_dir, cache = b.work / "drive-block-out", b.work / f"cache-drive-block{n}"

    def run(name: str, options: Options, wasted: Wasted | None) -> Measure:
        with DriveEmulator(options) as emu:
            folder = emu.add_tree(files)

            def prepare() -> None:
                if wasted is not None and emu.served:
                    wasted.requests.append(emu.blocked_requests)
                    wasted.blocks.append(emu.blocks)
                emu.served, emu.blocked_until, emu.blocked_requests, emu.blocks = 0, 0.0, 0, 0
                b.fresh(out_dir, cache)

            measure: Measure = b.run(
                name,
                f"{b.bg20k} fetch --quiet --source gdrive-folder:{folder} --dest {out_dir}",
                env={**env, **emu.env()},
                prepare=prepare,
            )
            if wasted is not None:
                wasted.requests.append(emu.blocked_requests)
                wasted.blocks.append(emu.blocks)
        return measure

    wasted = Wasted()
    blocked = run(
        f"bg20k fetch (blocked {seconds:.0f} s after every {every:,} files)",
        Options(
            warn_size=10**9,
            latency=latency,
            block_after=every,
            block_seconds=seconds,
            block_again=True,
        ),
        wasted,
    )
    free = run("bg20k fetch, no block", Options(warn_size=10**9, latency=latency), None)
    blocks = max(wasted.blocks[-len(blocked.seconds) :] or [0])
    floor = Measure(f"floor: no-block time + {blocks} × {seconds:.0f} s of block")
    floor.seconds = [s + blocks * seconds for s in free.seconds]
    floor.rss_kib = free.rss_kib  # the no-block run's process: the floor adds only waiting
    spent = wasted.requests[-len(blocked.seconds) :]
    return [
        Comparison(
            f"5b. Drive folder under a client block, {n:,} files, {latency * 1000:.0f} ms "
            "per request",
            blocked,
            [floor],
            target=1.25,
            work=n,
            extra=[free],
            note=f"requests into a block: {', '.join(map(str, spent))} per run "
            f"({blocks} blocks each); the run finished every time",
        )
    ]
