"""bg20k: get the BG-20k dataset with its agreement accepted, its data verified, its papers cited.

Public names are re-exported here; each lives in a module with one job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .agreement import Agreement, load_agreement
from .citations import render as render_citations
from .consent import ConsentRecord, read_status, record_acceptance, revoke
from .errors import (
    Bg20kError,
    ConsentError,
    ExitCode,
    IntegrityError,
    SourceError,
    StorageError,
    UnsafeArchiveError,
    UsageError,
)
from .gate import require_consent
from .paths import Paths
from .release import Release, load_release

if TYPE_CHECKING:
    from .pipeline import FetchOptions, fetch


def __getattr__(name: str) -> Any:
    # The download stack (requests, archives, locks) loads on first use, so citing or showing
    # the agreement starts quickly.
    if name in ("fetch", "FetchOptions"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Agreement",
    "Bg20kError",
    "ConsentError",
    "ConsentRecord",
    "ExitCode",
    "FetchOptions",
    "IntegrityError",
    "Paths",
    "Release",
    "SourceError",
    "StorageError",
    "UnsafeArchiveError",
    "UsageError",
    "__version__",
    "fetch",
    "load_agreement",
    "load_release",
    "read_status",
    "record_acceptance",
    "render_citations",
    "require_consent",
    "revoke",
]
