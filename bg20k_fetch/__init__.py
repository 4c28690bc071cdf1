"""bg20k: get the BG-20k dataset with its agreement accepted, its data verified, its papers cited.

Public names are re-exported here; each lives in a module with one job, and is imported only
when first used, so `bg20k --version` or a signal handler never waits for pydantic or requests.
A training script::

    import bg20k_fetch

    if not bg20k_fetch.status().in_force:
        raise SystemExit("Accept the BG-20k agreement first: `bg20k accept`.")
    report = bg20k_fetch.verify("/data")
    report.require_ok()
    print("cite:", ", ".join(bg20k_fetch.citation_keys()))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .agreement import Agreement, load_agreement
    from .api import citation_keys, cite, paths, publish, status, verify
    from .archive import Limits
    from .build import Fetched
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
    from .locations import Paths
    from .pipeline import fetch
    from .progress import NullReporter, Reporter
    from .publisher import Published
    from .release import Release, load_release
    from .retry_policy import RetryPolicy
    from .verification import VerifyReport

_WHERE = {
    "Agreement": "agreement",
    "load_agreement": "agreement",
    "cite": "api",
    "citation_keys": "api",
    "paths": "api",
    "publish": "api",
    "Published": "publisher",
    "status": "api",
    "verify": "api",
    "Limits": "archive",
    "Fetched": "build",
    "render_citations": "citations:render",
    "ConsentRecord": "consent",
    "ConsentStatus": "consent",
    "read_status": "consent",
    "record_acceptance": "consent_store",
    "revoke": "consent_store",
    "AllSourcesFailed": "errors",
    "Bg20kError": "errors",
    "ConsentError": "errors",
    "ExitCode": "errors",
    "IntegrityError": "errors",
    "Interrupted": "errors",
    "SourceError": "errors",
    "StorageError": "errors",
    "UnsafeArchiveError": "errors",
    "UsageError": "errors",
    "require_consent": "gate",
    "Paths": "locations",
    "fetch": "pipeline",
    "NullReporter": "progress",
    "Reporter": "progress",
    "Release": "release",
    "load_release": "release",
    "RetryPolicy": "retry",
    "VerifyReport": "verification",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, _, attribute = where.partition(":")
    return getattr(importlib.import_module(f".{module}", __name__), attribute or name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])


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
    "Published",
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
    "paths",
    "publish",
    "read_status",
    "record_acceptance",
    "render_citations",
    "require_consent",
    "revoke",
    "status",
    "verify",
]
