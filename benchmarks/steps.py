"""The many-file steps of a fetch, timed in-process at one size: listing a Drive folder (the
emulator, no latency), the manifest and digest, and the layout check. Prints JSON seconds.

Usage: python benchmarks/steps.py FILES RELEASE_YAML
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bg20k_fetch.dataset.layout import check_layout  # noqa: E402
from bg20k_fetch.dataset.manifest import dataset_digest, manifest_text  # noqa: E402
from bg20k_fetch.gdrive.links import DriveUrls  # noqa: E402
from bg20k_fetch.gdrive.listing import list_folder  # noqa: E402
from bg20k_fetch.progress import NullReporter  # noqa: E402
from bg20k_fetch.release import load_release  # noqa: E402
from bg20k_fetch.transfer.hashing import FileInfo  # noqa: E402
from bg20k_fetch.transfer.http import make_session  # noqa: E402
from tests.gdrive_emulator import DriveEmulator, Options  # noqa: E402


def best_of(times: int, step: object) -> float:
    took = []
    for _ in range(times):
        start = time.perf_counter()
        step()  # type: ignore[operator]
        took.append(time.perf_counter() - start)
    return min(took)


def main() -> None:
    os.environ["BG20K_RELEASE_FILE"] = sys.argv[2]
    n, release = int(sys.argv[1]), load_release()
    train = n * 3 // 4
    names = [f"{'train' if i < train else 'testval'}/h_{i:08x}.jpg" for i in range(n)]
    files = {p: FileInfo(hashlib.sha256(p.encode()).hexdigest(), 2048, jpeg_ok=True) for p in names}
    hashes = {p: i.sha256 for p, i in files.items()}
    out = {
        "manifest": best_of(3, lambda: (manifest_text(hashes), dataset_digest(hashes))),
        "layout check": best_of(3, lambda: check_layout(files, release)),
    }
    with DriveEmulator(Options(warn_size=10**9)) as emu:
        folder = emu.add_tree(dict.fromkeys(names, b"\xff\xd8\xff\xd9"))
        urls = DriveUrls(emu.base_url, emu.base_url, emu.base_url, emu.base_url)
        session = make_session()
        out["listing"] = best_of(3, lambda: list_folder(session, urls, folder, NullReporter()))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
