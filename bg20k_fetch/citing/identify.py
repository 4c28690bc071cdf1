"""Recognising a reference in whatever form a paper holds it: a .bib entry, a ``\\bibitem``, a
.bbl entry or a line of a PDF's reference list — by what identifies the work, not by a key.

A DOI in any URL or prefix form, the arXiv id of the same paper (the preprint), or the title
once case, braces, accents, LaTeX commands, ligatures, spacing and line-break hyphenation are
gone — with the year checked beside it, since the wrong year is a mistake authors make.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bg20k_fetch.release import Reference

# The journal paper [1]'s preprint, the same work: cited instead, it still counts, with advice.
PREPRINTS = {"li2022bridging": "2010.16188"}
# [1] appeared online in 2021 and in a 2022 issue; the agreement itself says 2021.
EXTRA_YEARS = {"li2022bridging": (2021,)}

_LIGATURES = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
# \'e, \"{o}, \v{c}, \t{oo} …; a letter accent only when no letter follows (\textbf is not \t).
_ACCENT_COMMAND = re.compile(r"\\(?:[`'^\"~=.]|[uvHtcdbk](?![A-Za-z]))\s*\{?\s*\\?([A-Za-z])\}?")
_COMMAND = re.compile(r"\\[A-Za-z]+\*?")
_DOI = re.compile(r"10\.\d{4,9}/[^\s\"<>{}]+", re.IGNORECASE)


def flat(text: str) -> str:
    """Only letters and digits, lower case: what survives any typesetting of a title. A word
    hyphenated across a line break joins up, as do words split by spaces or braces."""
    for ligature, letters in _LIGATURES.items():
        text = text.replace(ligature, letters)
    text = _ACCENT_COMMAND.sub(r"\1", text)
    text = _COMMAND.sub(" ", text)
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text.lower() if c.isascii() and c.isalnum())


def dois_in(text: str) -> set[str]:
    return {m.group(0).rstrip(".,;)]}").lower() for m in _DOI.finditer(text)}


@dataclass(frozen=True)
class Wanted:
    """One of the agreement's references, in the forms it can be recognised by."""

    key: str
    role: str
    title: str
    flat_title: str
    doi: str
    flat_doi: str
    arxiv: str | None
    years: tuple[int, ...]
    first_author: str

    @classmethod
    def of(cls, ref: Reference) -> Wanted:
        return cls(
            key=ref.key,
            role=ref.role,
            title=ref.title,
            flat_title=flat(ref.title),
            doi=ref.doi.lower(),
            flat_doi=flat(ref.doi),
            arxiv=PREPRINTS.get(ref.key),
            years=(ref.year, *EXTRA_YEARS.get(ref.key, ())),
            first_author=ref.authors[0].family,
        )


@dataclass(frozen=True)
class Recognised:
    how: str  # "doi", "title", "arxiv" (the preprint)
    year_found: int | None  # the year the entry gives, when it is not one the work has


def recognise(
    wanted: Wanted, text: str, *, title: str | None = None, ids: str | None = None
) -> Recognised | None:
    """Whether one entry names the wanted work, and how. ``text`` is all of it; ``title`` and
    ``ids`` (its doi/url/eprint fields), when the entry has fields, are where a title and an
    identifier must be — a DOI in another entry's note, or a title quoted inside another
    title, is not this work."""
    where_ids = text if ids is None else ids
    if wanted.doi in dois_in(where_ids) or wanted.flat_doi in flat(where_ids):
        how = "doi"
    elif _has_title(wanted, text, title):
        how = "title"
    elif wanted.arxiv and _names_arxiv(where_ids, wanted.arxiv):
        how = "arxiv"
    else:
        return None
    years = {int(y) for y in re.findall(r"(?<!\d)(?:19|20)\d\d(?!\d)", text)}
    wrong = None
    if how != "arxiv" and years and not years & set(wanted.years):
        wrong = min(years)
    return Recognised(how, wrong)


def _has_title(wanted: Wanted, text: str, title: str | None) -> bool:
    if not wanted.flat_title:
        return False
    if title is not None:
        return flat(title) == wanted.flat_title
    at = flat(text).find(wanted.flat_title)
    if at == -1:
        return False
    # Quoted inside another title (A Comment on ``…''): an opening quote just before it with
    # a word before the quote. (IEEE quotes every title, after the authors' comma.)
    words = re.escape(wanted.title.split()[0])
    start = re.search(words, text, re.IGNORECASE)
    before = text[: start.start()].rstrip() if start else ""
    for quote in ("``", "\u201c", '"', "'"):
        if before.endswith(quote):
            prior = before[: -len(quote)].rstrip()
            return not (prior and prior[-1].isalpha())
    return True


def _names_arxiv(text: str, arxiv: str) -> bool:
    """The arXiv id, near the word arXiv (a bare number could be anything)."""
    flattened = flat(text)
    number = flat(arxiv)
    at = flattened.find(number)
    while at != -1:
        if "arxiv" in flattened[max(0, at - 40) : at] or "eprint" in text.lower():
            return True
        at = flattened.find(number, at + 1)
    return False
