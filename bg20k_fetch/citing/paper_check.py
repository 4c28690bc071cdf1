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
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from bg20k_fetch.citing.evidence import Evidence, collect
from bg20k_fetch.citing.identify import Wanted, flat, recognise
from bg20k_fetch.citing.paper_inputs import gather
from bg20k_fetch.citing.pdf_scan import cited_in_body, entries
from bg20k_fetch.citing.tex_scan import Place
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


def check_paper(
    paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str], release: Release
) -> PaperReport:
    if isinstance(paths, str | os.PathLike):
        paths = [paths]  # one path, not its characters
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
        seen = recognise(wanted, entry.text, title=entry.title, ids=entry.ids)
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
    if finding.status == CITED and not found.has_sources:
        finding.notes.append(
            "from build outputs alone, \\nocite{key} cannot be told from \\cite{key}: check "
            "the sources too"
        )
    if not (found.has_sources or found.has_build or found.typeset):
        _from_pdfs(wanted, found, finding)  # the PDF only when nothing better was given
    return finding


def _cited_at(key: str, found: Evidence) -> list[Place]:
    """Where ``key`` is cited, by the best evidence there is: the sources tell a ``\\cite`` from
    a ``\\nocite`` and see comments; a build's .aux/.bcf lists what was cited; a .bbl alone
    holds what was typeset."""
    in_text = list(found.tex.cited.get(key, []))
    if found.has_sources and (in_text or key in found.tex.nocited):
        return in_text  # the sources say \cite or \nocite: they know
    # A build cites what sources not given here (an \input file) cite: its .aux counts.
    return in_text or list(found.built.get(key, []))


def _from_pdfs(wanted: Wanted, found: Evidence, finding: Finding) -> None:
    """A PDF's reference list: an entry there that the body cites is cited; one the body
    never cites (``\\nocite``) is listed."""
    for name, pdf in found.pdfs.items():
        body, pages = pdf.body(), pdf.reference_pages()
        listed = "\n".join(text for _, text in pages)
        count = max((int(n) for n in re.findall(r"(?m)^\s*\[(\d+)\]", listed)), default=0)
        for page, text in pages:
            for chunk in entries(text) or [text]:
                seen = recognise(wanted, chunk)
                if seen is None:
                    continue
                cited = cited_in_body(chunk, body, wanted.first_author, count)
                _pdf_finding(finding, CITED if cited else LISTED, seen.how, f"{name} p. {page}")
                finding.notes = _notes(wanted, seen.how, seen.year_found)
                return
            if wanted.flat_title in flat(text) and finding.status == ABSENT:
                # A title broken across two text boxes: in the list; cited if the body names
                # its authors (a number cannot be read off a broken entry).
                cited = cited_in_body("", body, wanted.first_author, count)
                _pdf_finding(finding, CITED if cited else LISTED, "title", f"{name} p. {page}")
                return


def _pdf_finding(finding: Finding, status: str, how: str, where: str) -> None:
    if _rank(status) > _rank(finding.status):
        finding.status, finding.how, finding.listed_at = status, how, where
        finding.where = [where] if status == CITED else []


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
