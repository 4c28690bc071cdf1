"""Metadata the ML ecosystem reads, written beside the images and carrying the license and the
citation: Croissant (``croissant.json``), a Hugging Face dataset card (``README.md``) and the
Citation File Format (``CITATION.cff``). Each is generated from ``agreement/bg20k.yaml`` and the
manifest, and each is validated in the tests by the ecosystem's own tool.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence

from bg20k_fetch.citing.cff import citation_cff
from bg20k_fetch.citing.references import render, select
from bg20k_fetch.release import Reference, Release
from bg20k_fetch.util.yamlio import dump_yaml

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


def patterns(paths: Iterable[str], split: str) -> list[str]:
    """Globs that match exactly the images a split holds, from the manifest: one per folder
    and extension as named on disk (``*.jpg``, ``*.JPG``, ``*.jpeg`` …), since the readers'
    globs are case-sensitive."""
    found = {_folder_and_suffix(p) for p in paths if p.split("/", 1)[0] == split}
    return [f"{folder}/*{suffix}" for folder, suffix in sorted(found)]


def _folder_and_suffix(path: str) -> tuple[str, str]:
    """PurePosixPath(path)'s parent and suffix, for a manifest's clean relative paths, without
    building two Paths for each of 20,000 files (a third of the receipts' time)."""
    folder, _, name = path.rpartition("/")
    dot = name.rfind(".")
    return folder or ".", name[dot:] if 0 < dot < len(name) - 1 else ""


def croissant(
    release: Release,
    manifest: str,
    images: Mapping[str, Sequence[str]],
    root_files: Mapping[str, str] | None = None,
) -> str:
    """Croissant 1.0: the manifest as a hashed FileObject (per-file integrity goes through it:
    a FileSet has no sha256), the release's root files each with its SHA-256, and a FileSet
    and a RecordSet (image, file name) per split in ``images`` (split -> its image paths)."""
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
    for name, sha256 in sorted((root_files or {}).items()):
        distribution.append(
            {
                "@type": "cr:FileObject",
                "@id": name,
                "name": name,
                "contentUrl": name,
                "encodingFormat": "text/plain",
                "sha256": sha256,
            }
        )
    record_sets = []
    for split, paths in images.items():
        globs = patterns(paths, split)
        distribution.append(
            {
                "@type": "cr:FileSet",
                "@id": f"{split}-images",
                "name": f"{split}-images",
                "encodingFormat": "image/jpeg",
                "includes": globs[0] if len(globs) == 1 else globs,
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


def dataset_card(release: Release, images: Mapping[str, Sequence[str]]) -> str:
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
                "data_files": [
                    {"split": s, "path": globs[0] if len(globs) == 1 else globs}
                    for s, paths in images.items()
                    if (globs := patterns(paths, s))
                ],
            }
        ],
    }
    required = [r for r in release.references if r.role == "required"]
    encouraged = [r for r in release.references if r.role != "required"]
    lines = [
        "---",
        dump_yaml(front).rstrip(),
        "---",
        f"# {release.dataset}",
        "",
        release.description or release.title,
        "",
        "| split | images |",
        "| --- | --- |",
        *[f"| {s} | {len(paths)} |" for s, paths in images.items()],
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


def ecosystem_files(
    release: Release,
    manifest: str,
    images: Mapping[str, Sequence[str]],
    root_files: Mapping[str, str],
) -> dict[str, str]:
    """croissant.json, the dataset card and CITATION.cff for a tree holding ``images`` (split
    -> its image paths, optional splits included) and the release's ``root_files``."""
    return {
        CROISSANT_NAME: croissant(release, manifest, images, root_files),
        CARD_NAME: dataset_card(release, images),
        CFF_NAME: citation_cff(release, select(release, include_encouraged=True)),
    }


def images_by_split(release: Release, paths: Iterable[str]) -> dict[str, list[str]]:
    """The required splits, then each optional split that has images, with their paths."""
    by: dict[str, list[str]] = {s.name: [] for s in release.layout.splits}
    for path in sorted(paths):
        split = path.split("/", 1)[0]
        if split in by or split in {s.name for s in release.layout.optional_splits}:
            by.setdefault(split, []).append(path)
    return by
