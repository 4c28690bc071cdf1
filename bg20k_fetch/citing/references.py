"""The references the agreement requires or encourages, rendered offline in several formats.

Titles and book titles in agreement/bg20k.yaml carry BibTeX brace protection (``{IJCAI-21}``);
formats other than BibTeX and biblatex get the text without the braces.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bg20k_fetch.citing import FORMATS
from bg20k_fetch.errors import UsageError
from bg20k_fetch.release import Person, Reference, Release
from bg20k_fetch.util.fs import OUTPUT_HINT, atomic_write, read_limited

if TYPE_CHECKING:
    from bg20k_fetch.citing import Format

_KEY_RE = re.compile(r"@\s*([A-Za-z]+)\s*[{(]\s*([^,\s]+)\s*,")
_NOT_ENTRIES = {"comment", "string", "preamble"}


def select(release: Release, *, include_encouraged: bool) -> list[Reference]:
    return [r for r in release.references if include_encouraged or r.role == "required"]


def reason(ref: Reference, release: Release) -> str:
    agreement = f"{release.agreement.title} (clause 2)"
    if ref.role == "required":
        return f"required by the {agreement}"
    return f"encouraged by the {agreement}"


def _plain(text: str) -> str:
    return text.replace("{", "").replace("}", "")


def _tex(text: str) -> str:
    # Escape the characters that break LaTeX when BibTeX copies a field into the .bbl.
    return re.sub(r"(?<!\\)([&%#$])", r"\\\1", text)


def _names(people: Iterable[Person]) -> str:
    return " and ".join(f"{p.family}, {p.given}" for p in people)


def _bib_fields(ref: Reference, dialect: Literal["bibtex", "biblatex"]) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = [("author", _names(ref.authors)), ("title", ref.title)]
    if ref.type == "article":
        journal_field = "journaltitle" if dialect == "biblatex" else "journal"
        fields.append((journal_field, ref.journal or ""))
    else:
        fields.append(("booktitle", ref.booktitle or ""))
        if ref.editors:
            fields.append(("editor", _names(ref.editors)))
        if ref.series:
            fields.append(("series", ref.series))
    fields.append(("date" if dialect == "biblatex" else "year", str(ref.year)))
    for name, value in (("volume", ref.volume), ("number", ref.number)):
        if value:
            fields.append((name, value))
    if ref.pages:
        fields.append(("pages", f"{ref.pages[0]}--{ref.pages[1]}"))
    if ref.publisher and ref.type != "article":
        # Neither BibTeX styles nor biblatex's data model have a publisher for an article
        # (biber warns about it); the journal identifies it.
        fields.append(("publisher", ref.publisher))
    if ref.address:
        fields.append(("location" if dialect == "biblatex" else "address", ref.address))
    fields.append(("doi", ref.doi))
    return [(k, v if k == "doi" else _tex(v)) for k, v in fields if v]


def _bib_entry(ref: Reference, release: Release, dialect: Literal["bibtex", "biblatex"]) -> str:
    fields = _bib_fields(ref, dialect)
    width = max(len(k) for k, _ in fields)
    body = ",\n".join(f"  {k.ljust(width)} = {{{v}}}" for k, v in fields)
    # BibTeX and biber ignore text between entries, so the reason travels with the entry
    # without becoming a field. It must never contain an at-sign, which would open an entry.
    comment = f"% {ref.key}: {reason(ref, release)}."
    if ref.note:
        comment += f"\n% {ref.note}"
    return f"{comment}\n@{ref.type}{{{ref.key},\n{body}\n}}\n"


def _csl(ref: Reference, release: Release, explain: bool) -> dict[str, object]:
    item: dict[str, object] = {
        "id": ref.key,
        "type": "article-journal" if ref.type == "article" else "paper-conference",
        "title": _plain(ref.title),
        "author": [{"family": p.family, "given": p.given} for p in ref.authors],
        "issued": {"date-parts": [[ref.year]]},
        "DOI": ref.doi,
    }
    optional: dict[str, object | None] = {
        "container-title": _plain(ref.journal or ref.booktitle or ""),
        "container-title-short": ref.journal_abbrev,
        "collection-title": ref.series,
        "volume": ref.volume,
        "issue": ref.number,
        "page": f"{ref.pages[0]}-{ref.pages[1]}" if ref.pages else None,
        "publisher": ref.publisher,
        "publisher-place": ref.address,
        "editor": [{"family": p.family, "given": p.given} for p in ref.editors] or None,
        "note": reason(ref, release) if explain else None,
    }
    item.update({k: v for k, v in optional.items() if v})
    return item


def _initials(given: str) -> str:
    return " ".join(f"{part[0]}." for part in given.replace(".", " ").split())


def _text(ref: Reference, release: Release, explain: bool) -> str:
    names = [f"{p.family}, {_initials(p.given)}" for p in ref.authors]
    authors = ", ".join(names[:-1]) + f", & {names[-1]}" if len(names) > 1 else names[0]
    where = _plain(ref.journal or ref.booktitle or "")
    if ref.volume:
        where += f", {ref.volume}" + (f"({ref.number})" if ref.number else "")
    if ref.pages:
        where += f", {ref.pages[0]}–{ref.pages[1]}"
    line = f"{authors} ({ref.year}). {_plain(ref.title)}. {where}. https://doi.org/{ref.doi}"
    return f"{line} [{reason(ref, release)}]" if explain else line


def render(
    refs: Sequence[Reference], release: Release, fmt: Format, *, explain: bool = False
) -> str:
    if fmt not in FORMATS:  # a typo must not quietly give BibTeX
        raise UsageError(f"No citation format {fmt!r}; the formats are {', '.join(FORMATS)}.")
    if fmt == "cff":
        # The dataset itself, the required paper as its preferred citation, the other ``refs``
        # (the encouraged ones, with --all) as its references.
        from bg20k_fetch.citing.cff import citation_cff

        return citation_cff(release, refs)
    if fmt == "csl-json":
        return (
            json.dumps([_csl(r, release, explain) for r in refs], indent=2, ensure_ascii=False)
            + "\n"
        )
    if fmt == "text":
        return "".join(_text(r, release, explain) + "\n" for r in refs)
    return "\n".join(_bib_entry(r, release, fmt) for r in refs)


def existing_keys(bib_text: str) -> set[str]:
    """The entry keys a .bib holds, lower-cased: BibTeX compares keys without case, so
    LI2022BRIDGING and li2022bridging are one entry (a second is a "Repeated entry" error)."""
    return {
        m.group(2).lower()
        for m in _KEY_RE.finditer(bib_text)
        if m.group(1).lower() not in _NOT_ENTRIES
    }


_ENTRY_START = re.compile(r"@\s*([A-Za-z]+)\s*([{(])")


def unclosed_entry(bib_text: str) -> str | None:
    """Where the first entry that never closes starts (``line N: @article``), or None.

    Appending after an unclosed entry would swallow every new entry into it, so a merge refuses
    such a file instead of making it worse."""
    pos = 0
    while (match := _ENTRY_START.search(bib_text, pos)) is not None:
        closer = "}" if match.group(2) == "{" else ")"
        depth, i = 0, match.end()
        while i < len(bib_text):
            char = bib_text[i]
            if char == "{":
                depth += 1
            elif char == "}" and depth:
                depth -= 1
            elif char == closer and depth == 0:
                break
            i += 1
        else:
            line = bib_text.count("\n", 0, match.start()) + 1
            return f"line {line}: @{match.group(1)}"
        pos = i + 1
    return None


def merge_into_bib(
    path: Path,
    refs: Sequence[Reference],
    release: Release,
    fmt: Format,
    *,
    mode: int | None = None,
) -> list[str]:
    """Add to ``path`` only the entries whose keys it lacks; return the keys added.

    Raises ValueError when the file is not UTF-8 or holds an entry that never closes."""
    try:
        current = read_limited(path, 64 << 20).decode("utf-8") if path.exists() else ""
    except UnicodeDecodeError as exc:
        raise ValueError("it is not UTF-8 text") from exc
    except OSError as exc:
        raise ValueError(f"it cannot be read ({exc.strerror})") from exc
    if (where := unclosed_entry(current)) is not None:
        raise ValueError(f"the entry at {where} is never closed")
    have = existing_keys(current)
    missing = [r for r in refs if r.key.lower() not in have]
    if missing:
        separator = (
            ""
            if not current or current.endswith("\n\n")
            else ("\n" if current.endswith("\n") else "\n\n")
        )
        data = (current + separator + render(missing, release, fmt)).encode("utf-8")
        atomic_write(path, data, mode=mode, make_parents=False, hint=OUTPUT_HINT)
    return [r.key for r in missing]
