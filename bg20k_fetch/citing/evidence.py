"""Everything a bundle of paper files says, read once: the sources' citations, the
bibliography entries of every form, what a build cited, and the PDFs' reference lists."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bg20k_fetch.citing.bib_scan import (
    Entry,
    decode,
    parse_aux,
    parse_bbl,
    parse_bcf,
    parse_bib,
)
from bg20k_fetch.citing.paper_inputs import Bundle
from bg20k_fetch.citing.pdf_scan import PdfText, read_pdf
from bg20k_fetch.citing.tex_scan import Place, TexFindings, blank_comments, scan_project


@dataclass
class Evidence:
    tex: TexFindings
    entries: list[Entry] = field(default_factory=list)  # .bib, \bibitem, .bbl
    built: dict[str, list[Place]] = field(default_factory=dict)  # .aux / .bcf citations
    has_build: bool = False
    typeset: dict[str, Place] = field(default_factory=dict)  # .bbl entries: cited or nocited
    pdfs: dict[str, PdfText] = field(default_factory=dict)

    @property
    def has_sources(self) -> bool:
        return bool(self.tex.files)

    @property
    def readable(self) -> bool:
        """Something says what the paper cites and what its citations refer to: sources with
        their bibliography, a build, or a PDF with text. (A .tex without its .bib, or a .bib
        alone, cannot tell.)"""
        sources = self.has_sources and bool(self.entries)
        return (
            sources
            or self.has_build
            or bool(self.typeset)
            or any(p.readable for p in self.pdfs.values())
        )


def collect(bundle: Bundle) -> Evidence:
    def text_of(name: str) -> str | None:
        data = bundle.files.get(name)
        return None if data is None else decode(data)

    tex_names = bundle.of_kind(".tex")
    mains = [n for n in tex_names if _is_main(text_of(n) or "")]
    if mains:  # a backup main.tex in old/ is not the paper: the shallowest mains are
        depth = min(n.count("/") for n in mains)
        mains = [n for n in mains if n.count("/") == depth or n in bundle.given]
    mains = mains or [n for n in tex_names if n in bundle.given] or tex_names
    found = Evidence(scan_project(mains, text_of))
    for key, text, place in found.tex.bibitems:
        found.entries.append(Entry(key, text, place))
    named = set(found.tex.bib_files)
    for name in bundle.of_kind(".bib"):
        if named and name not in named and name not in bundle.given:
            continue  # a .bib the paper does not name (an old one beside it) is not its own
        found.entries += parse_bib(name, text_of(name) or "")
    for name in bundle.of_kind(".bbl"):
        typeset = parse_bbl(name, text_of(name) or "")
        found.entries += typeset
        found.typeset.update({e.key: e.place for e in typeset})
    for name in bundle.of_kind(".aux"):
        _merge(found.built, parse_aux(name, text_of(name) or ""))
        found.has_build = True
    for name in bundle.of_kind(".bcf"):
        _merge(found.built, parse_bcf(name, bundle.files[name]))
        found.has_build = True
    for name in bundle.of_kind(".pdf"):
        found.pdfs[name] = read_pdf(name, bundle.files[name])
    return found


def _is_main(text: str) -> bool:
    return any(re.search(r"\\documentclass", line) for line in blank_comments(text))


def _merge(into: dict[str, list[Place]], more: dict[str, list[Place]]) -> None:
    for key, places in more.items():
        into.setdefault(key, []).extend(places)
