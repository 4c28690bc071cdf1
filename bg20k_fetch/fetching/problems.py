"""``BG-20k.problems.txt``: the full list of what was wrong with a source, in a file bg20k
marks as its own by its first line, so it replaces or removes only a list it wrote."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

from bg20k_fetch.dataset.target import Target
from bg20k_fetch.redact import redact
from bg20k_fetch.util.fs import atomic_write

PROBLEMS_HEADER = "# bg20k: problems found"


def write_problems(target: Target, lines: list[str]) -> Path:
    """The full list of problems, in a file bg20k marks as its own (and so may replace)."""
    path = target.problems_file
    if path.exists() and not is_own_problems_file(path):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = path.with_name(f"{target.name}.problems-{stamp}.txt")
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    text = f"{PROBLEMS_HEADER} in {target.root} ({stamp})\n" + redact("\n".join(lines)) + "\n"
    atomic_write(path, text.encode("utf-8"), make_parents=False)
    return path


def is_own_problems_file(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(PROBLEMS_HEADER)).decode("utf-8", "replace") == PROBLEMS_HEADER
    except OSError:
        return False


def remove_own_problems_file(target: Target) -> None:
    """A later success makes an earlier problems list stale; remove it if bg20k wrote it."""
    if is_own_problems_file(target.problems_file):
        with contextlib.suppress(OSError):
            target.problems_file.unlink()
