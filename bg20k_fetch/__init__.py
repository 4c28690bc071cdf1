"""bg20k: get the BG-20k dataset with its agreement accepted, its data verified, its papers cited.

Public names are re-exported here; each lives in a module with one job.
"""

from __future__ import annotations

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
from .fetch import FetchOptions, fetch
from .gate import require_consent
from .paths import Paths
from .release import Release, load_release

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
