"""Case 5c: the Drive folder of case 5 with the emulator on a core of its own.

On two cores the emulator (Python, threads) and the client share both; a real Drive is another
machine. Pinning the server to one core and both clients to the other (``taskset``) measures
what a remote server would change, rather than arguing it (issue 25).
"""

from __future__ import annotations

import os

from cases import Bench, drive_aria, drive_bg20k, drive_tree
from report import Comparison


def drive_pinned(b: Bench) -> list[Comparison]:
    from tests.gdrive_emulator import DriveEmulator, Options

    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return []  # nothing to pin apart
    server, client = cores[-1], cores[0]
    n, latency = b.sizes.drive_files, b.sizes.drive_latency
    before = os.sched_getaffinity(0)
    # The emulator's threads are started from this one, and inherit its core.
    os.sched_setaffinity(0, {server})
    try:
        with DriveEmulator(Options(warn_size=10**9, latency=latency)) as emu:
            files = drive_tree(n)
            folder = emu.add_tree(files)
            on = f"taskset -c {client} "
            ours, yard = b.compare(
                drive_bg20k(b, emu, folder, n, "", on=on),
                drive_aria(b, emu, folder, files, on=on),
            )
    finally:
        os.sched_setaffinity(0, before)
    return [
        Comparison(
            f"5c. Drive folder, {n:,} files of 2 KiB, {latency * 1000:.0f} ms per request, "
            f"server pinned to core {server}, clients to core {client}",
            ours,
            [yard],
            target=1.1,
            higher_is_better=True,
            work=n,
            note="as case 5, with the emulator on a core of its own (taskset): what a remote "
            "server would change",
        )
    ]
