"""Does a paper cite what the BG-20k agreement requires? (clause 2: [1], Li et al., IJCV;
[2] and [3] encouraged.)

For each reference: **cited** (where: the key, the file and line, or the PDF page), **listed**
in the bibliography but never cited, listed only through ``\\nocite``, or **absent** — decided
from the best evidence at hand: the sources say which ``\\cite`` is real (a commented-out one
is not); without them a build's .aux/.bcf says what was cited; a PDF's reference list says what
was typeset. Near misses are said too: the preprint instead of the journal paper, the wrong
year, [2] where [1] is required, BG-20k named or its repository linked with no citation.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from bg20k_fetch.citing.evidence import Evidence, collect
from bg20k_fetch.citing.identify import Wanted, flat, recognise
from bg20k_fetch.citing.paper_inputs import gather
from bg20k_fetch.citing.pdf_scan import cited_in_body, entries
from bg20k_fetch.errors import ExitCode
from bg20k_fetch.release import Release

CITED, NOCITE, LISTED, ABSENT = "cited", "nocite only", "listed, never cited", "absent"


@dataclass
class Finding:
    key: str  # the release's key for the reference
    role: str  # required / encouraged
    title: str
    status: str
    paper_key: str | None = None  # the key the paper uses for it
    how: str | None = None  # doi, title, arxiv (the preprint)
    where: list[str] = field(default_factory=list)  # citations: file:line, or PDF page
    listed_at: str | None = None  # where its bibliography entry is
    notes: list[str] = field(default_factory=list)


@dataclass
class PaperReport:
    inputs: list[str]
    findings: list[Finding]
    readable: bool
    notes: list[str] = field(default_factory=list)

    @property
    def required(self) -> Finding:
        return next(f for f in self.findings if f.role == "required")

    @property
    def exit_code(self) -> ExitCode:
        if self.required.status == CITED:
            return ExitCode.OK
        return ExitCode.NOT_CITED if self.readable else ExitCode.CANNOT_TELL

    def to_json(self) -> dict[str, object]:
        return {
            "inputs": self.inputs,
            "readable": self.readable,
            "required_cited": self.required.status == CITED,
            "exit_code": int(self.exit_code),
            "references": [asdict(f) for f in self.findings],
            "notes": self.notes,
        }


def check_paper(paths: Iterable[str | os.PathLike[str]], release: Release) -> PaperReport:
    bundle = gather(paths)
    found = collect(bundle)
    wanted = [Wanted.of(r) for r in release.references]
    findings = [_decide(w, found) for w in wanted]
    report = PaperReport(sorted(bundle.files), findings, found.readable)
    report.notes = _near_misses(report, found, release)
    return report


def _decide(wanted: Wanted, found: Evidence) -> Finding:
    finding = Finding(wanted.key, wanted.role, wanted.title, ABSENT)
    for entry in found.entries:
        seen = recognise(wanted, entry.text)
        if seen is None:
            continue
        cited = _cited_at(entry.key, found)
        nocited = found.tex.nocited.get(entry.key) or found.tex.nocited.get("*")
        if not found.has_sources and "*" in found.built:
            nocited = found.built["*"]
        status = CITED if cited else NOCITE if nocited else LISTED
        if _rank(status) > _rank(finding.status):
            finding.status, finding.paper_key, finding.how = status, entry.key, seen.how
            finding.where = [str(p) for p in cited]
            finding.listed_at = str(entry.place)
            finding.notes = _notes(wanted, seen.how, seen.year_found)
    if finding.status != CITED:
        _from_pdfs(wanted, found, finding)
    return finding


def _cited_at(key: str, found: Evidence) -> list[object]:
    """Where ``key`` is cited, by the best evidence there is: the sources tell a ``\\cite`` from
    a ``\\nocite`` and see comments; a build's .aux/.bcf lists what was cited; a .bbl alone
    holds what was typeset."""
    if found.has_sources:
        return list(found.tex.cited.get(key, []))
    if found.has_build:
        return list(found.built.get(key, []))
    return [found.typeset[key]] if key in found.typeset else []


def _from_pdfs(wanted: Wanted, found: Evidence, finding: Finding) -> None:
    """A PDF's reference list: an entry there that the body cites is cited; one the body
    never cites (``\\nocite``) is listed."""
    for name, pdf in found.pdfs.items():
        body = pdf.body()
        for page, text in pdf.reference_pages():
            for chunk in entries(text) or [text]:
                seen = recognise(wanted, chunk)
                if seen is None:
                    continue
                status = CITED if cited_in_body(chunk, body, wanted.first_author) else LISTED
                if _rank(status) > _rank(finding.status):
                    finding.status, finding.how = status, seen.how
                    finding.where = [f"{name} p. {page}"] if status == CITED else []
                    finding.listed_at = f"{name} p. {page}"
                    finding.notes = _notes(wanted, seen.how, seen.year_found)
                return
            if wanted.flat_title in flat(text) and finding.status == ABSENT:
                # A title broken across two text boxes: in the list, its citation unknown.
                finding.status, finding.how = CITED, "title"
                finding.where, finding.listed_at = [f"{name} p. {page}"], f"{name} p. {page}"
                return


def _rank(status: str) -> int:
    return [ABSENT, LISTED, NOCITE, CITED].index(status)


def _notes(wanted: Wanted, how: str, year: int | None) -> list[str]:
    notes = []
    if how == "arxiv":
        notes.append(
            f"cited through its arXiv preprint (arXiv:{wanted.arxiv}); cite the published "
            f"version, DOI {wanted.doi}"
        )
    if year is not None:
        years = " or ".join(str(y) for y in sorted(wanted.years))
        notes.append(f"the entry gives the year {year}; the paper is from {years}")
    return notes


def _near_misses(report: PaperReport, found: Evidence, release: Release) -> list[str]:
    required = report.required
    if required.status == CITED:
        return []
    notes = []
    others = [f for f in report.findings if f.role != "required" and f.status == CITED]
    for other in others:
        notes.append(
            f"{other.title!r} is cited ({', '.join(other.where) or other.listed_at}), but the "
            f"agreement requires {required.title!r}; cite it as well."
        )
    if found.tex.mentions:
        notes.append(f"BG-20k is named at {found.tex.mentions[0]} with no citation of it.")
    if found.tex.repo_links:
        notes.append(
            f"{release.homepage} is linked at {found.tex.repo_links[0]}: a link is not the "
            "citation the agreement asks for."
        )
    for name, pdf in found.pdfs.items():
        for number, text in enumerate(pdf.pages, 1):
            if "bg20k" in flat(text):
                notes.append(f"BG-20k is named in {name} (p. {number}) with no citation of it.")
                break
    return notes
