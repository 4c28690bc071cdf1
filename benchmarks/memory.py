"""Case 10: peak memory against the number of files (issue 25: flat in the number of files).

The paths whose memory grew with the file count: a zip's extraction (its central directory and
a record per member) and a Drive folder (state per file). Each runs at every size of the
many-file case, once (peak RSS barely varies between runs), with small files so the time goes
to the per-file work, not the bytes."""

from __future__ import annotations

from typing import Any

from lib import make_stored_zip, photo_bytes, timed
from report import by_size


def peak_memory(b: Any) -> dict[str, dict[int, float]]:
    """{what: {files: peak RSS in MiB}}."""
    from tests.gdrive_emulator import DriveEmulator, Options

    found: dict[str, dict[int, float]] = {}
    for n in b.sizes.many:
        env = b.env(f"rss{n}", n)
        archive, out = b.work / f"rss-{n}.zip", b.work / f"rss-out-{n}"
        make_stored_zip(archive, n, n * 2048)
        command = f"{b.bg20k} fetch --quiet --source {archive} --dest {out}"
        zipped = timed(
            "zip", command, runs=1, env=env, warmup=False, prepare=lambda out=out: b.fresh(out)
        )
        found.setdefault("bg20k fetch --source FILE.zip", {})[n] = zipped.peak_mib
        b.fresh(archive, out)
        train = n * 3 // 4
        files = {
            f"{'train' if i < train else 'testval'}/h_{i:08x}.jpg": photo_bytes(2048)
            for i in range(n)
        }
        with DriveEmulator(Options()) as emu:
            folder = emu.add_tree(files)
            command = f"{b.bg20k} fetch --quiet --source gdrive-folder:{folder} --dest {out}"
            cache = b.work / f"cache-rss{n}"
            drive = timed(
                "drive", command, runs=1, env={**env, **emu.env()}, warmup=False,
                prepare=lambda out=out, cache=cache: b.fresh(out, cache),
            )  # fmt: skip
        found.setdefault("bg20k fetch (Drive folder)", {})[n] = drive.peak_mib
        b.fresh(out)
    return found


def memory_table(found: dict[str, dict[int, float]]) -> str:
    return by_size(
        "Peak memory against the number of files (10): peak RSS at each size; growth = the "
        "peak at the largest size over the peak at the smallest (1.0 is flat).",
        "command",
        [
            (what, {n: f"{mib:.0f} MiB" for n, mib in row.items()}, row[max(row)] / row[min(row)])
            for what, row in found.items()
        ],
    )
