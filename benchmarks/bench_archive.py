"""Fetch an archive mirror: bg20k against curl + unzip + sha256sum, side by side, in one run.

Serves a stored zip of JPEG-shaped files (random payload between the JPEG start and end
markers, so nothing compresses, like real photos) from a loopback server, then times:

  baseline  curl -o, unzip, sha256sum over every image  (no resume, no checks, no trail)
  bg20k     bg20k fetch --accept --source URL            (download + hash + safe extract +
                                                          layout check + manifest + receipts)
  verify    sha256sum -c MANIFEST.sha256  vs  bg20k verify --deep

Usage: python benchmarks/bench_archive.py [--mib 400] [--files 2000] [--repeat 3]
Reports the best of --repeat runs of each and the ratio bg20k / baseline.
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
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fileserver import Behaviour, FileServer  # noqa: E402
from tests.helpers import write_release  # noqa: E402


def make_zip(path: Path, files: int, total: int) -> None:
    each = total // files
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i in range(files):
            split = "train" if i < files * 3 // 4 else "testval"
            body = b"\xff\xd8\xff\xe0" + secrets.token_bytes(each - 6) + b"\xff\xd9"
            zf.writestr(f"BG-20k/{split}/h_{i:08x}.jpg", body)


def best(runs: int, command: list[str] | str, env: dict[str, str], prepare) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        prepare()
        start = time.perf_counter()
        subprocess.run(
            command,
            shell=isinstance(command, str),
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=400)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bg20k-bench-"))
    try:
        archive = work / "BG-20k.zip"
        make_zip(archive, args.files, args.mib * 2**20)
        counts = {"train": args.files * 3 // 4, "testval": args.files - args.files * 3 // 4}
        env = {
            **os.environ,
            "BG20K_RELEASE_FILE": str(write_release(work / "rel", counts=counts)),
            "BG20K_CONFIG_DIR": str(work / "cfg"),
            "BG20K_CACHE_DIR": str(work / "cache"),
            "BG20K_ACCEPT_AGREEMENT": "yes",
        }
        bg20k = [sys.executable, "-m", "bg20k_fetch"]
        with FileServer() as server:
            server.routes["/BG-20k.zip"] = Behaviour(archive.read_bytes(), chunk=1 << 20)
            url = server.url("/BG-20k.zip")
            out = work / "out"

            def clean() -> None:
                shutil.rmtree(out, ignore_errors=True)
                shutil.rmtree(work / "cache", ignore_errors=True)
                out.mkdir()

            baseline = best(
                args.repeat,
                f"curl -sf -o {out}/a.zip {url} && unzip -q {out}/a.zip "
                f"-d {out} && cd {out}/BG-20k && find . -name '*.jpg' -print0 | "
                "xargs -0 sha256sum > ../M",
                env,
                clean,
            )
            ours = best(
                args.repeat,
                [*bg20k, "fetch", "--quiet", "--source", url, "--dest", str(out)],
                env,
                clean,
            )
            root = out / "BG-20k"
            shasum = best(
                args.repeat, f"cd {root} && sha256sum -c --quiet MANIFEST.sha256", env, lambda: None
            )
            deep = best(
                args.repeat, [*bg20k, "verify", "--deep", "--dest", str(out)], env, lambda: None
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    mib = args.mib
    print(f"archive: {mib} MiB, {args.files} files, loopback HTTP; best of {args.repeat}")
    print(
        f"fetch   curl+unzip+sha256sum {baseline:6.2f} s ({mib / baseline:6.0f} MiB/s)   "
        f"bg20k fetch {ours:6.2f} s ({mib / ours:6.0f} MiB/s)   ratio {ours / baseline:.2f}"
    )
    print(
        f"verify  sha256sum -c         {shasum:6.2f} s ({mib / shasum:6.0f} MiB/s)   "
        f"bg20k verify --deep {deep:6.2f} s ({mib / deep:6.0f} MiB/s)   "
        f"ratio {deep / shasum:.2f}"
    )


if __name__ == "__main__":
    main()
