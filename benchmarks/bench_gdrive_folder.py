"""A Drive folder of many small files: bg20k --jobs 1 and the default, beside aria2c -j16.

The Drive emulator (tests/gdrive_emulator.py) serves a BG-20k-shaped folder of small JPEG-shaped
files with a fixed latency per request, like a distant server. Each tool gets the same files:
bg20k lists the folder itself; aria2c is handed the list of direct download URLs (the same
usercontent URLs bg20k requests), so it does less work. bg20k's time also includes the listing,
the layout check, the manifest and the compliance trail.

Usage: python benchmarks/bench_gdrive_folder.py [--files 20000] [--latency-ms 20]
       [--jobs 8,1] [--jobs1-files N]  (a subset for --jobs 1, latency-bound; default: all)
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.gdrive_emulator import DriveEmulator, Options  # noqa: E402
from tests.helpers import write_release  # noqa: E402


def tree(files: int, size: int = 2048) -> dict[str, bytes]:
    train = files * 3 // 4
    return {
        f"{'train' if i < train else 'testval'}/h_{i:08x}.jpg": b"\xff\xd8\xff\xe0"
        + secrets.token_bytes(size - 6)
        + b"\xff\xd9"
        for i in range(files)
    }


def run_bg20k(
    emulator: DriveEmulator, folder: str, work: Path, counts: dict[str, int], jobs: int
) -> float:
    env = {
        **os.environ,
        **emulator.env(),
        "BG20K_ACCEPT_AGREEMENT": "yes",
        "BG20K_CONFIG_DIR": str(work / "cfg"),
        "BG20K_CACHE_DIR": str(work / f"cache{jobs}"),
        "BG20K_RELEASE_FILE": str(write_release(work / f"rel{jobs}", counts=counts)),
    }
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bg20k_fetch",
            "fetch",
            "--quiet",
            "--jobs",
            str(jobs),
            "--source",
            f"gdrive-folder:{folder}",
            "--dest",
            str(work / f"out{jobs}"),
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def run_aria2c(emulator: DriveEmulator, folder: str, files: dict[str, bytes], work: Path) -> float:
    lines = []
    for rel in files:
        lines.append(
            f"{emulator.base_url}/download?id={emulator.file_id(rel, folder)}"
            f"&export=download\n  out={rel}"
        )
    listing = work / "urls.txt"
    listing.write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    subprocess.run(
        [
            "aria2c",
            "-i",
            str(listing),
            "-j16",
            "-x1",
            "-d",
            str(work / "aria"),
            "--auto-file-renaming=false",
            "--allow-overwrite=true",
            "-q",
            "--console-log-level=error",
            "--file-allocation=none",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--jobs1-files", type=int, default=None)
    parser.add_argument(
        "--jobs",
        type=lambda t: [int(x) for x in t.split(",")],
        default=[8, 1],
        help="bg20k --jobs values to run, comma-separated (default 8,1)",
    )
    args = parser.parse_args()
    if shutil.which("aria2c") is None:
        sys.exit("aria2c is needed: apt-get install aria2")
    work = Path(tempfile.mkdtemp(prefix="bg20k-drive-bench-"))
    rows = []
    try:
        runs = [
            (
                f"bg20k --jobs {j}",
                args.jobs1_files if j == 1 and args.jobs1_files else args.files,
                j,
            )
            for j in args.jobs
        ]
        for label, n, jobs in [*runs, ("aria2c -i -j16", args.files, 0)]:
            files = tree(n)
            counts = {"train": n * 3 // 4, "testval": n - n * 3 // 4}
            with DriveEmulator(Options(warn_size=10**9, latency=args.latency_ms / 1000)) as emu:
                folder = emu.add_tree(files)
                seconds = (
                    run_aria2c(emu, folder, files, work)
                    if jobs == 0
                    else run_bg20k(emu, folder, work, counts, jobs)
                )
            rows.append((label, n, seconds))
            print(
                f"{label:26} {n:6d} files {seconds:8.1f} s {n / seconds:8.1f} files/s", flush=True
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = next(r for r in rows if r[0].startswith("aria2c"))
    for label, n, seconds in rows:
        print(
            f"ratio to aria2c ({label}): {(n / seconds) / (base[1] / base[2]):.2f} of its files/s"
        )
    print(f"latency {args.latency_ms:.0f} ms per request on loopback; {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
