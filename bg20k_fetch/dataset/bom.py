"""BG-20k in an organisation's training-data records: a CycloneDX 1.6 ``data`` component (the
ML-BOM form), as a whole document or added to a model's own BOM.

The component says what the agreement and the release say — MIT (declared), the images'
copyright staying with their owners (clause 4), the authors, the project page, the official
Drive folder, the agreement's PDF, the paper to cite — and, for a fetched copy, what is on
disk: the dataset digest, the manifest's SHA-256, the splits' counts and where the copy came
from. The consent record is named by its digest only: no person's details go into a BOM.
Plain JSON, no dependency: the tests check it against CycloneDX's own 1.6 schema.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bg20k_fetch._version import __version__
from bg20k_fetch.dataset.manifest import MANIFEST_NAME
from bg20k_fetch.dataset.provenance import CONSENT_NAME, Provenance, read_provenance
from bg20k_fetch.errors import UsageError
from bg20k_fetch.release import Release
from bg20k_fetch.util.jsonio import load_json

SPEC = "1.6"
REF = "bg20k-dataset"
COPYRIGHT = (
    "The copyright of the images belongs to their original owners (BG-20k release agreement, "
    "clause 4); the dataset is released under the MIT license."
)


def component(
    release: Release,
    tree: Path | None = None,
    facts: dict[str, list[dict[str, str]]] | None = None,
) -> dict[str, Any]:
    """The BG-20k ``data`` component; with ``tree`` (a fetched ``BG-20k/``) or its ``facts``
    (copy_facts, while the tree is being written), what that copy holds and where it came
    from."""
    required = next(r for r in release.references if r.role == "required")
    links = [
        {"type": "website", "url": release.homepage or "https://github.com/JizhiziLi/GFM"},
        {"type": "license", "url": release.agreement.pdf, "comment": "release agreement"},
        {
            "type": "documentation",
            "url": f"https://doi.org/{required.doi}",
            "comment": "the paper the agreement requires to be cited",
        },
    ]
    links += [
        {"type": "distribution", "url": s.url, "comment": f"official ({s.kind})"}
        for s in release.sources
        if getattr(s, "url", None)
    ]
    properties = [{"name": "bg20k:agreement:sha256", "value": release.agreement.sha256}]
    data: dict[str, Any] = {
        "type": "dataset",
        "name": release.dataset,
        "description": release.description,
        "governance": {"owners": [{"organization": {"name": "The University of Sydney"}}]},
    }
    found = facts if facts is not None else _copy(tree) if tree is not None else {}
    properties += found.get("properties", [])
    hashes = found.get("hashes", [])
    return {
        "type": "data",
        "bom-ref": REF,
        "name": release.dataset,
        "version": f"v{release.release}",
        "description": release.description,
        "supplier": {"name": "The University of Sydney"},
        "authors": [{"name": f"{p.given} {p.family}"} for p in required.authors],
        "licenses": [{"license": {"id": "MIT", "acknowledgement": "declared"}}],
        "copyright": COPYRIGHT,
        "externalReferences": links,
        "data": [data],
        **({"hashes": hashes} if hashes else {}),
        "properties": properties,
    }


def _copy(tree: Path) -> dict[str, list[dict[str, str]]]:
    consent = tree / CONSENT_NAME
    return copy_facts(
        read_provenance(tree),
        (tree / MANIFEST_NAME).read_bytes(),
        consent.read_bytes() if consent.is_file() else None,
    )


def copy_facts(
    provenance: Provenance, manifest: bytes, consent: bytes | None
) -> dict[str, list[dict[str, str]]]:
    """What a copy holds and where it came from, as CycloneDX properties and hashes."""
    props = [
        {"name": "bg20k:dataset:digest", "value": provenance.digest},
        {"name": "bg20k:copy:served_by", "value": provenance.served_by},
        {"name": "bg20k:copy:created_at", "value": provenance.created_at.isoformat()},
        {"name": "bg20k:copy:complete", "value": str(provenance.complete).lower()},
    ]
    counts = provenance.counts.items()
    props += [{"name": f"bg20k:split:{k}:count", "value": str(v)} for k, v in counts]
    if consent is not None:  # the record's digest, never its contents (a person's details)
        props.append({"name": "bg20k:consent:sha256", "value": hashlib.sha256(consent).hexdigest()})
    props += [
        {"name": f"bg20k:chain:{n}:served_by", "value": str(hop.get("served_by", ""))}
        for n, hop in enumerate(provenance.chain)
    ]
    return {
        "properties": props,
        "hashes": [{"alg": "SHA-256", "content": hashlib.sha256(manifest).hexdigest()}],
    }


def document(
    release: Release,
    tree: Path | None = None,
    facts: dict[str, list[dict[str, str]]] | None = None,
) -> dict[str, Any]:
    """A CycloneDX 1.6 BOM whose subject is BG-20k."""
    return {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC,
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "tools": {
                "components": [{"type": "application", "name": "bg20k", "version": __version__}]
            },
            "component": component(release, tree, facts),
        },
    }


def add_into(bom_text: str, release: Release, tree: Path | None = None) -> str:
    """``bom_text`` (a model's CycloneDX JSON BOM) with the BG-20k component added and a
    dependency on it from the BOM's subject; everything else as it was. UsageError for a
    document that is not a CycloneDX JSON BOM, or one that already has the component."""
    try:
        bom = load_json(bom_text)
    except ValueError as exc:
        raise UsageError(f"It is not JSON ({exc}); nothing was changed.") from exc
    if not isinstance(bom, dict) or bom.get("bomFormat") != "CycloneDX":
        raise UsageError("It is not a CycloneDX BOM (no bomFormat CycloneDX); nothing changed.")
    components = bom.setdefault("components", [])
    if not isinstance(components, list) or any(
        isinstance(c, dict) and c.get("bom-ref") == REF for c in components
    ):
        raise UsageError("It already lists BG-20k (bom-ref bg20k-dataset); nothing was changed.")
    components.append(component(release, tree))
    subject = bom.get("metadata", {}).get("component", {}).get("bom-ref")
    if subject:
        dependencies = bom.setdefault("dependencies", [])
        entry = next((d for d in dependencies if d.get("ref") == subject), None)
        if entry is None:
            dependencies.append({"ref": subject, "dependsOn": [REF]})
        else:
            entry.setdefault("dependsOn", []).append(REF)
    return json.dumps(bom, indent=2, ensure_ascii=False) + "\n"
