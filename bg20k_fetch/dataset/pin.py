"""Lock files: a dataset's digest and manifest, committed by a lab so every machine gets the
same bytes (``bg20k lock``, ``fetch --lock``, ``verify --lock``)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bg20k_fetch.dataset.manifest import dataset_digest, manifest_text, parse_manifest
from bg20k_fetch.errors import IntegrityError, UsageError
from bg20k_fetch.util.fs import read_limited

_SHA256 = re.compile(r"[0-9a-f]{64}")


def _nan(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows")


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
    def read(cls, path: Path, dataset: str | None = None) -> LockFile:
        """A lock file, every field checked (and, given ``dataset``, that it pins that
        dataset). UsageError (2) for anything that is not one; IntegrityError (5) for one whose
        manifest does not give its digest."""
        try:
            data = json.loads(read_limited(path, 256 << 20).decode("utf-8"), parse_constant=_nan)
            lock = cls._from_json(data)
        except (OSError, ValueError, RecursionError, IntegrityError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            if isinstance(exc, RecursionError):
                reason = "it nests deeper than any lock file"
            raise UsageError(
                f"{path} is not a bg20k lock file ({reason}).",
                hint="Write one with `bg20k lock -o FILE`.",
            ) from exc
        if dataset is not None and lock.dataset != dataset:
            raise UsageError(
                f"{path} pins the dataset {lock.dataset!r}, not {dataset}.",
                hint="Use the lock file written for this dataset (`bg20k lock -o FILE`).",
            )
        if dataset_digest(lock.files) != lock.digest:
            raise IntegrityError(f"{path} is inconsistent: its manifest does not give its digest.")
        return lock

    @classmethod
    def _from_json(cls, data: object) -> LockFile:
        if not isinstance(data, dict):
            raise ValueError("it is not a JSON object")
        fields = {k: data.get(k) for k in ("dataset", "release", "digest", "manifest")}
        for name, value in fields.items():
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be non-empty text")
        if not _SHA256.fullmatch(str(fields["digest"])):
            raise ValueError("digest must be 64 lower-case hex digits")
        complete = data.get("complete", True)
        if type(complete) is not bool:
            raise ValueError("complete must be true or false")
        files = parse_manifest(str(fields["manifest"]))
        count = data.get("file_count", len(files))
        if type(count) is not int or count != len(files):
            raise ValueError(f"file_count must be the manifest's {len(files)} files")
        return cls(
            str(fields["dataset"]), str(fields["release"]), str(fields["digest"]), files, complete
        )

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
