"""BG-20k as an SPDX 3.0.1 document (JSON-LD) with a Dataset profile package, built with SPDX's
own generated bindings (``spdx-python-model``, the ``spdx`` extra): every property is checked
against the model as it is set, and the document reads back with the same bindings."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bg20k_fetch._version import __version__
from bg20k_fetch.dataset.bom import COPYRIGHT
from bg20k_fetch.dataset.provenance import read_provenance
from bg20k_fetch.errors import UsageError
from bg20k_fetch.release import Release


def bindings() -> Any:
    try:
        from spdx_python_model import v3_0_1
    except ImportError as exc:
        raise UsageError(
            "SPDX output needs bg20k's spdx extra.", hint="pip install 'bg20k[spdx]'"
        ) from exc
    return v3_0_1


def document(release: Release, tree: Path | None = None) -> str:
    s = bindings()
    base = f"urn:uuid:{uuid.uuid4()}#"
    info = s.CreationInfo()
    info.specVersion = "3.0.1"
    info.created = datetime.now(UTC).replace(microsecond=0)
    tool = _named(s.Tool(), base + "tool", f"bg20k {__version__}", info)
    supplier = _named(s.Organization(), base + "supplier", "The University of Sydney", info)
    info.createdBy = [supplier]
    info.createdUsing = [tool]
    dataset = _named(s.dataset_DatasetPackage(), base + "dataset", release.dataset, info)
    dataset.software_packageVersion = f"v{release.release}"
    dataset.description = release.description
    dataset.dataset_datasetType = [s.dataset_DatasetType.image]
    dataset.software_primaryPurpose = s.software_SoftwarePurpose.data
    dataset.software_downloadLocation = next(src.url for src in release.sources)
    dataset.software_homePage = release.homepage
    dataset.software_copyrightText = COPYRIGHT
    dataset.dataset_intendedUse = "Compositing training data for image matting (research)."
    dataset.originatedBy = [supplier]
    dataset.suppliedBy = supplier
    published = datetime.fromisoformat(release.date_published or "2021-09-21").replace(tzinfo=UTC)
    dataset.releaseTime = published
    dataset.builtTime = published
    if tree is not None:
        provenance = read_provenance(tree)
        dataset.dataset_datasetSize = sum(provenance.sizes.values())
        dataset.builtTime = provenance.created_at
    license_ = s.simplelicensing_LicenseExpression()
    license_.spdxId, license_.creationInfo = base + "license", info
    license_.simplelicensing_licenseExpression = "MIT"
    declared = s.Relationship()
    declared.spdxId, declared.creationInfo = base + "declared-license", info
    declared.from_, declared.to = dataset, [license_]
    declared.relationshipType = s.RelationshipType.hasDeclaredLicense
    doc = s.SpdxDocument()
    doc.spdxId, doc.creationInfo = base + "document", info
    doc.rootElement = [dataset]
    doc.element = [dataset, license_, declared, supplier, tool]
    objects = s.SHACLObjectSet()
    for element in (doc, dataset, license_, declared, supplier, tool):
        objects.add(element)
    out = io.BytesIO()
    s.JSONLDSerializer().write(objects, out, indent=2)
    return out.getvalue().decode("utf-8") + "\n"


def _named(element: Any, spdx_id: str, name: str, info: Any) -> Any:
    element.spdxId, element.name, element.creationInfo = spdx_id, name, info
    return element
