"""The Citation File Format (CITATION.cff) for the dataset and the papers its agreement names."""

from __future__ import annotations

from collections.abc import Sequence

from bg20k_fetch.release import Person, Reference, Release
from bg20k_fetch.util.yamlio import dump_yaml


def _short(ref: Reference) -> str:
    first = ref.authors[0].family + (" et al." if len(ref.authors) > 1 else "")
    where = ref.journal or ref.booktitle or ""
    title = ref.title.replace("{", "").replace("}", "")
    return f'{first}, "{title}", {where}, {ref.year}, doi:{ref.doi}'


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


def citation_cff(release: Release, refs: Sequence[Reference]) -> str:
    """CITATION.cff: the dataset at the top (what Zenodo and cffconvert 2.0 read), the
    required paper as its preferred citation (what GitHub's "Cite this repository" gives), and
    the other ``refs`` (the encouraged ones, with ``--all``) as references. The message names
    the required paper in words, for readers of tools that ignore preferred-citation."""
    required = next(r for r in release.references if r.role == "required")
    doc: dict[str, object] = {
        "cff-version": "1.2.0",
        "message": f"If you use {release.dataset}, the {release.agreement.title} (clause 2) "
        f"requires you to cite the paper under preferred-citation: {_short(required)}.",
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
    others = [_cff_reference(r) for r in refs if r.doi != required.doi]
    if others:
        doc["references"] = others
    return dump_yaml(doc, allow_unicode=True)
