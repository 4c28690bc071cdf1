"""Free-space checks, made before a download starts rather than discovered when the disk fills."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from bg20k_fetch.errors import StorageError


@dataclass(frozen=True)
class Space:
    path: Path
    free: int
    needed: int

    @property
    def enough(self) -> bool:
        return self.free >= self.needed


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def plan_space(cache_dir: Path, dest_dir: Path, archive_size: int, partial: int = 0) -> list[Space]:
    """The archive goes to the cache, the images (about as large: JPEGs do not compress) to dest."""
    cache, dest = _existing_parent(cache_dir), _existing_parent(dest_dir)
    download = max(archive_size - partial, 0)
    if cache.stat().st_dev == dest.stat().st_dev:
        return [Space(dest, shutil.disk_usage(dest).free, download + archive_size)]
    return [
        Space(cache, shutil.disk_usage(cache).free, download),
        Space(dest, shutil.disk_usage(dest).free, archive_size),
    ]


def require_space(spaces: list[Space]) -> None:
    for space in spaces:
        if not space.enough:
            raise StorageError(
                f"Not enough free disk at {space.path}: {size_text(space.free)} free, "
                f"{size_text(space.needed)} needed; nothing was downloaded.",
                hint="Free some space, or choose another place with --dest / BG20K_CACHE_DIR.",
            )


def size_text(n: int) -> str:
    """A size a person reads at a glance, never rounded to nothing (``0.0 MiB``)."""
    if n >= 2**28:
        return f"{n / 2**30:.2f} GiB"
    if n >= 2**20:
        return f"{n / 2**20:.1f} MiB"
    if n >= 2**10:
        return f"{n / 2**10:.1f} KiB"
    return f"{n} bytes"
