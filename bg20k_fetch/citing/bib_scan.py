"""Bibliography files and build outputs, read for what they say about citations.

``.bib`` (BibTeX and biblatex: ``@string`` macros, ``#`` concatenation, braces or quotes,
``crossref``), and what a build leaves: ``.aux`` (``\\citation{…}``, biblatex's
``\\abx@aux@cite``), ``.bbl`` (BibTeX's ``\\bibitem`` or biblatex's ``\\entry``) and biber's
``.bcf``. Each entry keeps the file and line it starts on. The parser is ours because the
places matter: libraries drop line numbers, and a paper's .bib is often not one they accept.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from xml.etree import ElementTree

from bg20k_fetch.citing.tex_scan import Place

# Month macros stand for themselves: what matters is that a bare ``month = feb`` reads.
_MONTHS = {m: m for m in ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct")}
_MONTHS |= {"nov": "nov", "dec": "dec"}


@dataclass(frozen=True)
class Entry:
    key: str
    text: str  # every field's value, joined: what identify.recognise reads
    place: Place
    title: str | None = None  # when the entry has fields: its title field
    ids: str | None = None  # … and its doi, url, eprint and journal fields


_ID_FIELDS = ("doi", "url", "eprint", "archiveprefix", "journal", "journaltitle", "howpublished")


_BBL_IDS = re.compile(r"(?:doi|url|eprint)\s+\S+|\\field\{(?:eprint\w*|journaltitle)\}\{[^}]*\}")


class _Lines:
    """Line numbers of offsets in one text, found by bisection (counting newlines from the
    start for every entry made a 10,000-entry .bib take seconds)."""

    def __init__(self, text: str) -> None:
        self.starts = [m.end() for m in re.finditer("\n", text)]

    def of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) + 1


def decode(data: bytes) -> str:
    """Any encoding a real .bib uses: UTF-8 (with or without a BOM), else Latin-1."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse_bib(name: str, text: str) -> list[Entry]:
    strings: dict[str, str] = dict(_MONTHS)
    raw: list[tuple[str, dict[str, str], int]] = []
    lines = _Lines(text)
    for m in re.finditer(r"@\s*([A-Za-z]+)\s*[{(]", text):
        kind = m.group(1).lower()
        body, _ = _balanced(text, m.end() - 1)
        line = lines.of(m.start())
        if kind == "string":
            strings.update(_fields(body, strings))
        elif kind not in ("comment", "preamble"):
            key, _, rest = body.partition(",")
            raw.append((key.strip(), _fields(rest, strings), line))
    by_key = {key.lower(): fields for key, fields, _ in raw}
    entries = []
    for key, fields, line in raw:
        parent = by_key.get(fields.get("crossref", "").lower(), {})
        merged = {**parent, **fields}
        text = " ".join(f"{field} {value}" for field, value in merged.items())
        ids = " ".join(f"{f} {merged[f]}" for f in _ID_FIELDS if f in merged)
        entries.append(Entry(key, text, Place(name, line), merged.get("title"), ids))
    return entries


def _balanced(text: str, start: int) -> tuple[str, int]:
    """The text inside the bracket at ``start`` (``{`` or ``(``), and where it ends."""
    opener, braces, parens = text[start], 0, 0
    for i in range(start, len(text)):
        c = text[i]
        if c == "{":
            braces += 1
        elif c == "}":
            braces -= 1
        elif opener == "(" and braces == 0 and c in "()":
            parens += 1 if c == "(" else -1
            if parens == 0:
                return text[start + 1 : i], i
        if opener == "{" and braces == 0:
            return text[start + 1 : i], i
    return text[start + 1 :], len(text)


def _fields(body: str, strings: dict[str, str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    i = 0
    while True:
        m = re.compile(r"\s*,?\s*([A-Za-z][\w:.+-]*)\s*=\s*").match(body, i)
        if not m:
            return fields
        value, i = _value(body, m.end(), strings)
        fields[m.group(1).lower()] = value


def _value(body: str, i: int, strings: dict[str, str]) -> tuple[str, int]:
    parts = []
    while i < len(body):
        c = body[i]
        if c == "{":
            inner, end = _balanced(body, i)
            parts.append(inner)
            i = end + 1
        elif c == '"':
            end = body.find('"', i + 1)
            end = len(body) if end == -1 else end
            parts.append(body[i + 1 : end])
            i = end + 1
        else:
            m = re.compile(r"[\w:.+-]+").match(body, i)
            if m:
                parts.append(strings.get(m.group(0).lower(), m.group(0)))
                i = m.end()
        m = re.compile(r"\s*#\s*").match(body, i)
        if not m:
            return "".join(parts), i
        i = m.end()
    return "".join(parts), i


def parse_aux(name: str, text: str) -> dict[str, list[Place]]:
    """Keys a build cited (``*`` for ``\\nocite{*}``): BibTeX's and biblatex's forms."""
    cited: dict[str, list[Place]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        for m in re.finditer(r"\\citation\{([^}]*)\}|\\abx@aux@cite\{(?:\d+\}\{)?([^}]*)\}", line):
            for key in (m.group(1) or m.group(2) or "").split(","):
                if key.strip():
                    cited.setdefault(key.strip(), []).append(Place(name, number))
    return cited


def parse_bbl(name: str, text: str) -> list[Entry]:
    """The typeset bibliography: each ``\\bibitem`` (BibTeX) or ``\\entry`` (biblatex)."""
    marks = [
        (m.start(), m.group(1) or m.group(2))
        for m in re.finditer(r"\\bibitem\s*(?:\[[^\]]*\])?\s*\{([^}]+)\}|\\entry\{([^}]+)\}", text)
    ]
    entries = []
    lines = _Lines(text)
    for n, (at, key) in enumerate(marks):
        end = marks[n + 1][0] if n + 1 < len(marks) else len(text)
        chunk = re.sub(r"\\verb\s*\{?(\w+)\}?\s*\n?\s*\\verb\s*", r"\1 ", text[at:end])
        title, ids = None, None
        if chunk.startswith("\\entry"):  # biblatex: fields by name
            found = re.search(r"\\field\{title\}\{((?:[^{}]|\{[^{}]*\})*)\}", chunk)
            title = found.group(1) if found else ""
            ids = " ".join(
                m.group(0)
                for m in re.finditer(
                    r"(?:doi|url|eprint)\s+\S+|\\field\{eprint\w*\}\{[^}]*\}", chunk
                )
            )
        entries.append(Entry(key.strip(), chunk, Place(name, lines.of(at)), title, ids))
    return entries


def parse_bcf(name: str, data: bytes) -> dict[str, list[Place]]:
    """Biber's control file: the keys cited (with ``*`` when ``\\nocite{*}`` was used)."""
    try:
        root = ElementTree.fromstring(data)  # noqa: S314 - a file of the user's own build
    except ElementTree.ParseError:
        return {}
    cited: dict[str, list[Place]] = {}
    for element in root.iter():
        if element.tag.endswith("citekey") and element.text:
            cited.setdefault(element.text.strip(), []).append(Place(name, 0))
    return cited
