"""`bg20k bom`: CycloneDX 1.6 records of BG-20k, checked against CycloneDX's own JSON schema
(the copy cyclonedx-python-lib ships) offline, and read back with its model classes.

cyclonedx-python-lib's JsonStrictValidator needs jsonschema 4, which cffconvert (the CFF
check) forbids; the same official schema files are applied here with jsonschema 3.2, whose
draft-07 support is what the 1.6 schema is written in."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.data import SMALL, make_tree, zip_bytes
from tests.helpers import cli

cyclonedx = pytest.importorskip("cyclonedx")


def validate(doc: dict[str, Any]) -> None:
    """Raises jsonschema's ValidationError where the document breaks the 1.6 schema."""
    import jsonschema

    res = Path(cyclonedx.__file__).parent / "schema" / "_res"
    base = "http://cyclonedx.org/schema/"
    schema = json.loads((res / "bom-1.6.SNAPSHOT.schema.json").read_text())
    store = {
        base + name: json.loads((res / name).read_text())
        for name in ("spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json")
    }
    resolver = jsonschema.RefResolver(schema["$id"], schema, store=store)
    jsonschema.Draft7Validator(schema, resolver=resolver).validate(doc)


def load_back(doc: dict[str, Any]) -> Any:
    from cyclonedx.model.bom import Bom

    return Bom.from_json(doc)  # type: ignore[attr-defined]


@pytest.fixture
def fetched(tmp_path: Path, small_release: Path) -> Path:
    (tmp_path / "a.zip").write_bytes(zip_bytes(make_tree(tmp_path / "orig", SMALL)))
    result = cli("fetch", "--accept", "--from", str(tmp_path / "a.zip"), "--dest", str(tmp_path))
    assert result.code == 0, result.err
    return tmp_path


def test_the_bom_of_a_fetched_copy_is_valid_cyclonedx_and_reads_back(fetched: Path) -> None:
    result = cli("bom", "--dest", str(fetched))
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    validate(doc)
    bom = load_back(doc)
    subject = bom.metadata.component
    assert subject.name == "BG-20k" and subject.type.value == "data"
    props = {p["name"]: p["value"] for p in doc["metadata"]["component"]["properties"]}
    provenance = (fetched / "BG-20k" / "PROVENANCE.yaml").read_text()
    assert props["bg20k:dataset:digest"] in provenance
    assert props["bg20k:split:train:count"] == str(SMALL["train"])
    consent = (fetched / "BG-20k" / "CONSENT.yaml").read_text()
    assert "bg20k:consent:sha256" in props and "os_user" not in json.dumps(doc)
    assert props["bg20k:consent:sha256"] not in consent  # named by digest, never copied
    license_ = doc["metadata"]["component"]["licenses"][0]["license"]
    assert license_ == {"id": "MIT", "acknowledgement": "declared"}


def test_the_check_can_fail(fetched: Path) -> None:
    import jsonschema

    doc = json.loads(cli("bom", "--dest", str(fetched)).out)
    broken = copy.deepcopy(doc)
    broken["metadata"]["component"]["licenses"][0]["license"]["id"] = "NOT-A-LICENSE"
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)


MODEL_BOM = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
    "version": 1,
    "metadata": {
        "component": {
            "type": "machine-learning-model",
            "bom-ref": "matting-model",
            "name": "our-matting-model",
            "version": "2.1",
        },
        "authors": [{"name": "ML team"}],
    },
    "components": [{"type": "library", "bom-ref": "torch", "name": "torch", "version": "2.13.0"}],
    "dependencies": [{"ref": "matting-model", "dependsOn": ["torch"]}, {"ref": "torch"}],
}


def test_into_a_models_bom_adds_one_component_and_one_dependency(
    fetched: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model.cdx.json"
    model.write_text(json.dumps(MODEL_BOM, indent=1))
    result = cli("bom", "--dest", str(fetched), "--into", str(model))
    assert result.code == 0, result.err
    after = json.loads(model.read_text())
    validate(after)
    load_back(after)
    added = [c for c in after["components"] if c not in MODEL_BOM["components"]]
    assert [c["bom-ref"] for c in added] == ["bg20k-dataset"]
    assert after["dependencies"][0] == {
        "ref": "matting-model",
        "dependsOn": ["torch", "bg20k-dataset"],
    }
    rest = {k: v for k, v in after.items() if k not in ("components", "dependencies")}
    assert rest == {k: v for k, v in MODEL_BOM.items() if k not in ("components", "dependencies")}
    again = cli("bom", "--dest", str(fetched), "--into", str(model))
    assert again.code == 2 and "already lists BG-20k" in again.err
    assert json.loads(model.read_text()) == after  # refused: untouched


@pytest.mark.parametrize("text", ["{not json", '{"bomFormat": "SPDX"}', "[]"])
def test_into_refuses_what_is_not_a_cyclonedx_bom_and_leaves_it(tmp_path: Path, text: str) -> None:
    other = tmp_path / "x.json"
    other.write_text(text)
    result = cli("bom", "--into", str(other))
    assert result.code == 2 and "nothing" in result.err
    assert other.read_text() == text


def test_output_never_replaces_a_file_without_force(fetched: Path, tmp_path: Path) -> None:
    out = tmp_path / "bg20k.cdx.json"
    out.write_text("mine")
    assert cli("bom", "--dest", str(fetched), "-o", str(out)).code != 0
    assert out.read_text() == "mine"
    assert cli("bom", "--dest", str(fetched), "-o", str(out), "--force").code == 0
    validate(json.loads(out.read_text()))


def test_the_api_gives_the_component(fetched: Path) -> None:
    from bg20k_fetch import bom_component

    component = bom_component(fetched)
    doc = copy.deepcopy(MODEL_BOM)
    doc["components"].append(component)
    validate(doc)


def test_spdx_reads_back_with_the_dataset_profiles_required_properties(fetched: Path) -> None:
    s = pytest.importorskip("spdx_python_model").v3_0_1
    import io

    result = cli("bom", "--format", "spdx", "--dest", str(fetched))
    assert result.code == 0, result.err
    objects = s.SHACLObjectSet()
    s.JSONLDDeserializer().read(io.BytesIO(result.out.encode()), objects)
    (dataset,) = list(objects.foreach_type(s.dataset_DatasetPackage))
    for required in ("name", "creationInfo", "builtTime", "releaseTime", "originatedBy",
                     "software_downloadLocation", "software_primaryPurpose",
                     "dataset_datasetType"):  # fmt: skip
        assert getattr(dataset, required), required
    assert dataset.dataset_datasetType == [s.dataset_DatasetType.image]
    assert dataset.dataset_datasetSize > 0 and "original owners" in dataset.software_copyrightText
    (declared,) = [
        r for r in objects.foreach_type(s.Relationship)
        if r.relationshipType == s.RelationshipType.hasDeclaredLicense
    ]  # fmt: skip
    assert declared.from_ is dataset or declared.from_ == dataset.spdxId
    (license_,) = declared.to
    license_ = objects.find_by_id(license_) if isinstance(license_, str) else license_
    assert license_.simplelicensing_licenseExpression == "MIT"


def test_every_fetched_copy_holds_its_bom_as_a_receipt(fetched: Path) -> None:
    receipt = fetched / "BG-20k" / "bg20k.cdx.json"
    doc = json.loads(receipt.read_text())
    validate(doc)
    printed = json.loads(cli("bom", "--dest", str(fetched)).out)
    assert doc["metadata"]["component"] == printed["metadata"]["component"]
    assert cli("verify", "--dest", str(fetched)).code == 0
