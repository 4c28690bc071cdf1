"""bg20k: get the BG-20k dataset with its agreement accepted, its data verified, its papers cited.

Public names are re-exported here; each lives in a module with one job. A training script::

    import bg20k_fetch

    if not bg20k_fetch.status().in_force:
        raise SystemExit("Accept the BG-20k agreement first: `bg20k accept`.")
    report = bg20k_fetch.verify("/data")
    report.require_ok()
    print("cite:", ", ".join(bg20k_fetch.citation_keys()))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .agreement import Agreement, load_agreement
from .api import citation_keys, cite, status, verify
from .citations import render as render_citations
from .consent import ConsentRecord, ConsentStatus, read_status
from .consent_store import record_acceptance, revoke
from .errors import (
    AllSourcesFailed,
    Bg20kError,
    ConsentError,
    ExitCode,
    IntegrityError,
    Interrupted,
    SourceError,
    StorageError,
    UnsafeArchiveError,
    UsageError,
)
from .gate import require_consent
from .paths import Paths
from .progress import NullReporter, Reporter
from .release import Release, load_release
from .verify import VerifyReport

if TYPE_CHECKING:
    from .archive import Limits
    from .build import Fetched
    from .pipeline import fetch
    from .retry import RetryPolicy

_LAZY = {
    "fetch": "pipeline",
    "Fetched": "build",
    "Limits": "archive",
    "RetryPolicy": "retry",
}


def __getattr__(name: str) -> Any:
    # The download stack (requests, archives, locks) loads on first use, so citing, checking
    # consent or showing the agreement starts quickly.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Agreement",
    "AllSourcesFailed",
    "Bg20kError",
    "ConsentError",
    "ConsentRecord",
    "ConsentStatus",
    "ExitCode",
    "Fetched",
    "IntegrityError",
    "Interrupted",
    "Limits",
    "NullReporter",
    "Paths",
    "Release",
    "Reporter",
    "RetryPolicy",
    "SourceError",
    "StorageError",
    "UnsafeArchiveError",
    "UsageError",
    "VerifyReport",
    "__version__",
    "citation_keys",
    "cite",
    "fetch",
    "load_agreement",
    "load_release",
    "read_status",
    "record_acceptance",
    "render_citations",
    "require_consent",
    "revoke",
    "status",
    "verify",
]
