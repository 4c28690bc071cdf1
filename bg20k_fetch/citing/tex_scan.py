"""What a LaTeX project's sources say: where each key is cited (``\\cite`` and every natbib and
biblatex variant), what is only ``\\nocite``d, which bibliography files it names, the entries
it writes by hand (``thebibliography``), and where it mentions BG-20k or links its repository.

Comments, ``\\iffalse … \\fi`` and ``comment`` environments are blanked first, line for line,
so that every place reported is the file and line an author would open.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

# Every natbib and biblatex citing command (\cite, \citep, \Citet, \parencite, \autocite, \cites
# with its several {…} groups, \nocite …), not the ones that only configure (\defcitealias).
_CITE = re.compile(
    r"\\((?!def)[A-Za-z]*cite(?!style)[A-Za-z]*)\*?"
    r"((?:\s*(?:\[[^\]]*\]\s*){0,2}\{[^{}]*\})+)"
)
_GROUP = re.compile(r"\{([^{}]*)\}")
_INPUT = re.compile(r"\\(?:input|include|subfile)\s*(?:\{([^}]+)\}|([^\s{}\\]+))")
_VERBATIM = ("comment", "verbatim", "Verbatim", "lstlisting", "minted")
_BIBLIOGRAPHY = re.compile(r"\\(?:bibliography|addbibresource)\s*(?:\[[^\]]*\])?\s*\{([^}]+)\}")
_BIBITEM = re.compile(r"\\bibitem\s*(?:\[[^\]]*\])?\s*\{([^}]+)\}")
_MENTION = re.compile(r"BG[-\s]?20[kK]")
_REPO = re.compile(r"github\.com/JizhiziLi/GFM", re.IGNORECASE)
_IF = re.compile(r"\\if(?!f\b|thenelse)[A-Za-z@]*|\\fi\b")  # \iff is a math symbol


@dataclass(frozen=True)
class Place:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class TexFindings:
    cited: dict[str, list[Place]] = field(default_factory=dict)  # key -> where \cite'd
    nocited: dict[str, list[Place]] = field(default_factory=dict)  # key (or "*") -> where
    bib_files: list[str] = field(default_factory=list)  # as resolved paths
    bibitems: list[tuple[str, str, Place]] = field(default_factory=list)  # key, text, place
    mentions: list[Place] = field(default_factory=list)  # "BG-20k" in the text
    repo_links: list[Place] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def _uncomment(line: str) -> str:
    r"""The line up to its first ``%`` that is not escaped (``\\%`` is a line break then a
    comment; ``\%`` a percent sign)."""
    backslashes = 0
    for i, c in enumerate(line):
        if c == "%" and backslashes % 2 == 0:
            return line[:i]
        backslashes = backslashes + 1 if c == "\\" else 0
    return line


def blank_comments(text: str) -> list[str]:
    """The lines of ``text`` with comments, ``\\iffalse`` blocks and comment or verbatim
    environments replaced by empty lines (so line numbers still hold)."""
    out: list[str] = []
    depth = 0  # inside \iffalse: nesting of \if… seen since
    inside: str | None = None  # a comment/verbatim environment's name
    for raw in text.splitlines():
        line = raw if inside else _uncomment(raw)
        if inside is not None:
            if f"\\end{{{inside}}}" in raw:
                inside = None
            out.append("")
            continue
        opened = next((e for e in _VERBATIM if f"\\begin{{{e}}}" in line), None)
        if opened is not None:
            before, _, after = line.partition(f"\\begin{{{opened}}}")
            inside = None if f"\\end{{{opened}}}" in after else opened
            line = before
        kept, rest = [], line
        while rest:
            if depth == 0:
                at = rest.find("\\iffalse")
                if at == -1:
                    kept.append(rest)
                    break
                kept.append(rest[:at])
                rest, depth = rest[at + len("\\iffalse") :], 1
                continue
            m = _IF.search(rest)
            if m is None:
                break
            depth += -1 if m.group(0) == "\\fi" else 1
            rest = rest[m.end() :]
        out.append("".join(kept))
    return out


def scan_project(mains: list[str], read: Callable[[str], str | None]) -> TexFindings:
    """Every file reachable from the ``mains`` through ``\\input``, ``\\include`` and
    ``\\subfile``, each read once through ``read`` (None: not there)."""
    found = TexFindings()
    # LaTeX resolves every \input against the directory it runs in: the main file's.
    queue = [(m, PurePosixPath(m).parent) for m in mains]
    seen: set[str] = set()
    while queue:
        name, base = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        text = read(name)
        if text is None:
            continue
        found.files.append(name)
        lines = blank_comments(text)
        _scan_lines(name, lines, found)
        for line in lines:
            for m in _INPUT.finditer(line):
                target = (m.group(1) or m.group(2)).strip()
                path = base / (target if target.endswith(".tex") else target + ".tex")
                queue.append((posixpath.normpath(str(path)), base))
            for m in _BIBLIOGRAPHY.finditer(line):
                for part in m.group(1).split(","):
                    part = part.strip()
                    if part:
                        path = base / (part if part.endswith(".bib") else part + ".bib")
                        found.bib_files.append(posixpath.normpath(str(path)))
    return found


def _scan_lines(name: str, lines: list[str], found: TexFindings) -> None:
    joined = "\n".join(lines)  # a \cite{a,<newline>b} spans lines
    for m in _CITE.finditer(joined):
        place = Place(name, joined.count("\n", 0, m.start()) + 1)
        into = found.nocited if m.group(1).lower() == "nocite" else found.cited
        for group in _GROUP.findall(m.group(2)):
            for key in (k.strip() for k in group.split(",")):
                if key:
                    into.setdefault(key, []).append(place)
    for number, line in enumerate(lines, 1):
        place = Place(name, number)
        if _MENTION.search(_CITE.sub(" ", re.sub(r"\\[A-Za-z]+", " ", line))):
            found.mentions.append(place)
        if _REPO.search(line):
            found.repo_links.append(place)
    _scan_bibitems(name, lines, found)


def _scan_bibitems(name: str, lines: list[str], found: TexFindings) -> None:
    """Hand-written ``thebibliography`` entries: each ``\\bibitem`` with its text up to the next
    one or the end of the environment."""
    current: tuple[str, int, list[str]] | None = None
    for number, line in enumerate(lines, 1):
        m = _BIBITEM.search(line)
        end = "\\end{thebibliography}" in line
        if (m or end) and current is not None:
            key, start, parts = current
            found.bibitems.append((key, " ".join(parts), Place(name, start)))
            current = None
        if m:
            current = (m.group(1).strip(), number, [line[m.end() :]])
        elif current is not None:
            current[2].append(line)
    if current is not None:
        key, start, parts = current
        found.bibitems.append((key, " ".join(parts), Place(name, start)))
