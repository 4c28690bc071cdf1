"""Why extraction's workers create their files in directories of their own (transfer/workerdir.py).

Creating a file holds its directory's lock while the file system allocates the inode. Two
threads writing 20,000 files of 50 KB into one directory (as two extraction workers did into
``train/``) take turns on that lock; each in a directory of its own, linking every file into
the shared directory once written, they do not. Run standalone, ABBA, each run from settled
memory like the extraction case:

    .venv/bin/python benchmarks/create_dirs.py --pairs 4 --work /var/tmp/create-dirs
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import threading
import time
from pathlib import Path

from lib import settle_memory

FILES, SIZE = 20_000, 50_000


def create(root: Path, own_dirs: bool, threads: int = 2) -> tuple[float, float]:
    """Wall and CPU seconds for ``threads`` threads writing FILES files into root/train."""
    (root / "train").mkdir(parents=True)
    body = os.urandom(SIZE)

    def work(k: int) -> None:
        own = root / f".w{k}"
        if own_dirs:
            own.mkdir()
        for i in range(k, FILES, threads):
            final = root / "train" / f"h_{i:08x}.jpg"
            path = own / "member" if own_dirs else final
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, body)
            os.close(fd)
            if own_dirs:
                os.link(path, final)
                os.unlink(path)

    wall, cpu = time.perf_counter(), time.process_time()
    pool = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--work", type=Path, default=Path("/var/tmp/create-dirs"))
    args = parser.parse_args()
    found: dict[str, list[tuple[float, float]]] = {"one directory": [], "own directories": []}
    for n in range(args.pairs):
        order = list(found) if n % 2 == 0 else list(reversed(found))
        for name in order:
            shutil.rmtree(args.work, ignore_errors=True)
            os.sync()
            settle_memory()
            found[name].append(create(args.work, own_dirs=name == "own directories"))
            print(f"{name}: {found[name][-1][0]:.2f} s wall, {found[name][-1][1]:.2f} s CPU")
    shutil.rmtree(args.work, ignore_errors=True)
    for name, runs in found.items():
        walls = [w for w, _ in runs]
        cpus = [c for _, c in runs]
        print(
            f"{name}: wall {statistics.median(walls):.2f} s ({min(walls):.2f}-{max(walls):.2f}), "
            f"CPU {statistics.median(cpus):.2f} s"
        )


if __name__ == "__main__":
    main()
