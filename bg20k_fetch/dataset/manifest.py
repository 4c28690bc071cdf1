"""The manifest (``sha256sum`` format) and the dataset digest.

The dataset digest is the SHA-256 of the manifest text: one ``<sha256>  <path>`` line per image,
sorted by path. It depends only on the images, so the same tree gives the same digest whatever
source or archive packing produced it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from bg20k_fetch.errors import IntegrityError

MANIFEST_NAME = "MANIFEST.sha256"


def manifest_text(files: Mapping[str, str]) -> str:
    """``files`` maps path -> sha256."""
    return "".join(f"{files[path]}  {path}\n" for path in sorted(files))


def dataset_digest(files: Mapping[str, str]) -> str:
    return hashlib.sha256(manifest_text(files).encode("utf-8")).hexdigest()


def parse_manifest(text: str, name: str = MANIFEST_NAME) -> dict[str, str]:
    files: dict[str, str] = {}
    # Lines end in "\n" only, as written: str.splitlines() also breaks at "\x85", "\u2028" and
    # five more, which a file name may hold (a property test found it).
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, 1):
        digest, sep, path = line.partition("  ")
        if not sep or len(digest) != 64 or not path:
            raise IntegrityError(f"{name} line {number} is malformed.")
        files[path] = digest
    return files
