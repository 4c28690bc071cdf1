"""Metadata the ML ecosystem reads, written beside the images and carrying the license and the
citation: Croissant (``croissant.json``), a Hugging Face dataset card (``README.md``) and the
Citation File Format (``CITATION.cff``). Each is generated from ``agreement/bg20k.yaml`` and the
manifest, and each is validated in the tests by the ecosystem's own tool.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

import yaml

from .citations import render, select
from .release import Person, Reference, Release

CROISSANT_NAME, CARD_NAME, CFF_NAME = "croissant.json", "README.md", "CITATION.cff"
METADATA_NAMES = (CROISSANT_NAME, CARD_NAME, CFF_NAME)

# The standard Croissant 1.0 @context, inline and complete (mlcroissant warns on any other).
_CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
    "equivalentProperty": "cr:equivalentProperty",
}


def _required(release: Release) -> Reference:
    return next(r for r in release.references if r.role == "required")


def _bibtex(release: Release, refs: Sequence[Reference]) -> str:
    # The comments before each entry are for .bib files; a citeAs string is the entries alone.
    text = render(refs, release, "bibtex")
    return "\n".join(line for line in text.splitlines() if not line.startswith("%")).strip()


def croissant(release: Release, manifest: str, splits: Sequence[str]) -> str:
    """Croissant 1.0: the manifest as a hashed FileObject (per-file integrity goes through it:
    a FileSet has no sha256), a FileSet and a RecordSet (image, file name) per split."""
    distribution: list[dict[str, object]] = [
        {
            "@type": "cr:FileObject",
            "@id": "manifest",
            "name": "MANIFEST.sha256",
            "description": "The SHA-256 of every image; its own digest is the dataset digest.",
            "contentUrl": "MANIFEST.sha256",
            "encodingFormat": "text/plain",
            "sha256": hashlib.sha256(manifest.encode("utf-8")).hexdigest(),
        }
    ]
    record_sets = []
    for split in splits:
        distribution.append(
            {
                "@type": "cr:FileSet",
                "@id": f"{split}-images",
                "name": f"{split}-images",
                "encodingFormat": "image/jpeg",
                "includes": f"{split}/*.jpg",
            }
        )
        record_sets.append(_record_set(split))
    doc = {
        "@context": _CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": "http://mlcommons.org/croissant/1.0",
        "name": release.dataset,
        "description": release.description or release.title,
        "license": release.license_url or release.agreement.license,
        "url": release.homepage,
        "version": _semver(release.release),
        "datePublished": release.date_published,
        "citeAs": _bibtex(release, [_required(release)]),
        "distribution": distribution,
        "recordSet": record_sets,
    }
    return json.dumps({k: v for k, v in doc.items() if v is not None}, indent=2) + "\n"


def _record_set(split: str) -> dict[str, object]:
    fields = [("image", "sc:ImageObject", "content"), ("file_name", "sc:Text", "filename")]
    return {
        "@type": "cr:RecordSet",
        "@id": split,
        "name": split,
        "field": [
            {
                "@type": "cr:Field",
                "@id": f"{split}/{name}",
                "name": name,
                "dataType": data_type,
                "source": {
                    "fileSet": {"@id": f"{split}-images"},
                    "extract": {"fileProperty": prop},
                },
            }
            for name, data_type, prop in fields
        ],
    }


def _semver(version: str) -> str:
    parts = [*version.split("."), "0", "0"][:3]
    return ".".join(parts)


def dataset_card(release: Release, counts: Mapping[str, int], splits: Sequence[str]) -> str:
    """A Hugging Face card: ``datasets.load_dataset(".../BG-20k")`` then gives one split per
    folder (imagefolder alone would drop ``testval``, not a split name it knows) and no label
    column (the folders are splits, not classes)."""
    front = {
        "license": (release.agreement.license or "other").lower(),
        "pretty_name": release.dataset,
        "task_categories": ["image-segmentation"],
        "size_categories": ["10K<n<100K"],
        "configs": [
            {
                "config_name": "default",
                "drop_labels": True,
                "data_files": [{"split": s, "path": f"{s}/*.jpg"} for s in splits],
            }
        ],
    }
    required = [r for r in release.references if r.role == "required"]
    encouraged = [r for r in release.references if r.role != "required"]
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False).rstrip(),
        "---",
        f"# {release.dataset}",
        "",
        release.description or release.title,
        "",
        "| split | images |",
        "| --- | --- |",
        *[f"| {s} | {counts.get(s, 0)} |" for s in splits],
        "",
        f"Fetched and verified by bg20k under the {release.agreement.title} "
        f"({release.agreement.file} beside this card); license: {release.agreement.license}.",
        "Every image's SHA-256 is in MANIFEST.sha256 (`sha256sum -c MANIFEST.sha256`).",
        "",
        "## Citation",
        "",
        "The agreement requires:",
        "",
        "```bibtex",
        _bibtex(release, required),
        "```",
    ]
    if encouraged:
        lines += ["", "and encourages:", "", "```bibtex", _bibtex(release, encouraged), "```"]
    return "\n".join(lines) + "\n"


def _cff_person(p: Person) -> dict[str, str]:
    return {"family-names": p.family, "given-names": p.given}


def _cff_reference(ref: Reference) -> dict[str, object]:
    item: dict[str, object] = {
        "type": "article" if ref.type == "article" else "conference-paper",
        "title": ref.title.replace("{", "").replace("}", ""),
        "authors": [_cff_person(p) for p in ref.authors],
        "year": ref.year,
        "doi": ref.doi,
    }
    if ref.journal:
        item["journal"] = ref.journal
    if ref.booktitle:
        item["collection-title"] = ref.booktitle.replace("{", "").replace("}", "")
    if ref.volume:
        item["volume"] = int(ref.volume) if ref.volume.isdigit() else ref.volume
    if ref.number:
        item["issue"] = int(ref.number) if ref.number.isdigit() else ref.number
    if ref.pages:
        item["start"], item["end"] = ref.pages
    if ref.publisher:
        item["publisher"] = {"name": ref.publisher}
    return item


def citation_cff(release: Release) -> str:
    """CITATION.cff (GitHub, Zenodo, cffconvert): the dataset, citing the required paper as its
    preferred citation and the encouraged ones as references."""
    required = _required(release)
    doc: dict[str, object] = {
        "cff-version": "1.2.0",
        "message": f"If you use {release.dataset}, please cite it as below "
        f"({release.agreement.title}, clause 2).",
        "type": "dataset",
        "title": release.title,
        "version": release.release,
        "authors": [_cff_person(p) for p in required.authors],
        "license": release.agreement.license or "other",
        "preferred-citation": _cff_reference(required),
    }
    if release.homepage:
        doc["url"] = release.homepage
    if release.date_published:
        doc["date-released"] = release.date_published
    encouraged = [_cff_reference(r) for r in select(release, include_encouraged=True)]
    doc["references"] = [r for r in encouraged if r["doi"] != required.doi]
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
