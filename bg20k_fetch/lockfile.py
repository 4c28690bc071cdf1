"""Lock files: a dataset's digest and manifest, committed by a lab so every machine gets the
same bytes (``bg20k lock``, ``fetch --lock``, ``verify --lock``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import IntegrityError, UsageError
from .fsutil import read_limited
from .manifest import dataset_digest, manifest_text, parse_manifest


@dataclass(frozen=True)
class LockFile:
    dataset: str
    release: str
    digest: str
    files: dict[str, str]
    complete: bool = True

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    "dataset": self.dataset,
                    "release": self.release,
                    "digest": self.digest,
                    "complete": self.complete,
                    "file_count": len(self.files),
                    "manifest": manifest_text(self.files),
                },
                indent=2,
            )
            + "\n"
        )

    @classmethod
    def read(cls, path: Path) -> LockFile:
        try:
            data = json.loads(read_limited(path, 256 << 20).decode("utf-8"))
            files = parse_manifest(data["manifest"])
            lock = cls(
                str(data["dataset"]),
                str(data["release"]),
                str(data["digest"]),
                files,
                complete=data.get("complete", True) is True,
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IntegrityError) as exc:
            raise UsageError(
                f"{path} is not a bg20k lock file ({exc}).",
                hint="Write one with `bg20k lock -o FILE`.",
            ) from exc
        if dataset_digest(files) != lock.digest:
            raise IntegrityError(f"{path} is inconsistent: its manifest does not give its digest.")
        return lock

    def require(self, files: Mapping[str, str], where: str) -> None:
        digest = dataset_digest(files)
        if digest == self.digest:
            return
        missing = sorted(set(self.files) - set(files))
        added = sorted(set(files) - set(self.files))
        changed = sorted(p for p in set(files) & set(self.files) if files[p] != self.files[p])
        detail = ", ".join(
            f"{n} {what}"
            for n, what in (
                (len(missing), "missing"),
                (len(added), "added"),
                (len(changed), "changed"),
            )
            if n
        )
        raise IntegrityError(
            f"{where} has dataset digest {digest}, but the lock file requires {self.digest} "
            f"({detail}).",
            hint="Use the source the lock was made from, or update the lock deliberately.",
        )
