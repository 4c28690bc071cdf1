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

from bg20k_fetch._version import __version__

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of `bg20k cite`'s start
if TYPE_CHECKING:
    from typing import Any

    from bg20k_fetch.api import (
        bom_component,
        check_paper,
        citation_keys,
        cite,
        paths,
        publish,
        status,
        verify,
    )
    from bg20k_fetch.citing.paper_check import PaperReport
    from bg20k_fetch.citing.references import render as render_citations
    from bg20k_fetch.consent.agreement import Agreement, load_agreement
    from bg20k_fetch.consent.gate import require_consent
    from bg20k_fetch.consent.record import ConsentRecord, ConsentStatus, read_status
    from bg20k_fetch.consent.store import record_acceptance, revoke
    from bg20k_fetch.dataset.verification import VerifyReport
    from bg20k_fetch.errors import (
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
    from bg20k_fetch.fetching.build import Fetched
    from bg20k_fetch.fetching.pipeline import fetch
    from bg20k_fetch.locations import Paths
    from bg20k_fetch.progress import NullReporter, Reporter
    from bg20k_fetch.release import Release, load_release
    from bg20k_fetch.storage.publisher import Published
    from bg20k_fetch.transfer.archive import Limits
    from bg20k_fetch.transfer.policy import RetryPolicy

_WHERE = {
    "Agreement": "consent.agreement",
    "load_agreement": "consent.agreement",
    "cite": "api",
    "citation_keys": "api",
    "check_paper": "api",
    "bom_component": "api",
    "PaperReport": "citing.paper_check",
    "paths": "api",
    "publish": "api",
    "Published": "storage.publisher",
    "status": "api",
    "verify": "api",
    "Limits": "transfer.archive",
    "Fetched": "fetching.build",
    "render_citations": "citing.references:render",
    "ConsentRecord": "consent.record",
    "ConsentStatus": "consent.record",
    "read_status": "consent.record",
    "record_acceptance": "consent.store",
    "revoke": "consent.store",
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
    "require_consent": "consent.gate",
    "Paths": "locations",
    "fetch": "fetching.pipeline",
    "NullReporter": "progress",
    "Reporter": "progress",
    "Release": "release",
    "load_release": "release",
    "RetryPolicy": "transfer.policy",
    "VerifyReport": "dataset.verification",
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
    "PaperReport",
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
    "bom_component",
    "check_paper",
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
