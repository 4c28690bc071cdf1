"""What a folder fetch could not bring, by why, and the one error that names it at the end:
the other files go on when one is invalid, over its quota or unreachable."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from bg20k_fetch.errors import InvalidFiles, SourceError
from bg20k_fetch.gdrive.errors import quota_hint


@dataclass
class Outcome:
    invalid: list[str] = field(default_factory=list)
    over_quota: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)  # not found, not shared
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, bucket: list[Any], item: object) -> None:
        with self.lock:
            bucket.append(item)

    def raise_for_missing(self, listed: int, done: int) -> None:
        if self.invalid:
            raise InvalidFiles("the Drive folder", sorted(self.invalid))
        kept = f"the other {done} of {listed} files are done and kept"
        if self.over_quota:
            raise SourceError(
                f"Google Drive says {len(self.over_quota)} file(s) of the folder are over their "
                f"download quota ({_some(self.over_quota)}); {kept}.",
                hint=quota_hint() + " Re-running later fetches only the missing files.",
            )
        if self.unavailable:
            raise SourceError(
                f"Google Drive would not serve {len(self.unavailable)} file(s) of the folder "
                f"({_some(self.unavailable)}); {kept}.",
                hint="The folder changed or a file is not shared; use another source for them.",
            )
        if self.unreachable:
            raise SourceError(
                f"{len(self.unreachable)} file(s) of the Drive folder could not be downloaded "
                f"({_some(self.unreachable)}); {kept}.",
                hint="Run the same command again: it fetches only the missing files.",
            )


def _some(names: list[str]) -> str:
    names = sorted(names)
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
