"""Download one URL with bg20k's own engine (the one every remote source uses): streamed to a
``.part``, hashed as it arrives, renamed when complete. Prints the SHA-256.

Usage: python benchmarks/fetch_one.py URL DEST
"""

from __future__ import annotations

import sys
from pathlib import Path

from bg20k_fetch.transfer.download import Download
from bg20k_fetch.transfer.http import make_session

if __name__ == "__main__":
    got = Download(make_session(), sys.argv[1], Path(sys.argv[2])).run()
    print(got.sha256)
