"""What a LaTeX project's sources say: where each key is cited (``\\cite`` and every natbib and
biblatex variant), what is only ``\\nocite``d, which bibliography files it names, the entries
it writes by hand (``thebibliography``), and where it mentions BG-20k or links its repository.

Comments, ``\\iffalse … \\fi`` and ``comment`` environments are blanked first, line for line,
so that every place reported is the file and line an author would open.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

_CITE = re.compile(
    r"\\([A-Za-z]*cite[A-Za-z]*)\*?\s*(?:\[[^\]]*\]\s*){0,2}\{([^}]*)\}", re.IGNORECASE
)
_INPUT = re.compile(r"\\(?:input|include|subfile)\s*\{([^}]+)\}")
_BIBLIOGRAPHY = re.compile(r"\\(?:bibliography|addbibresource)\s*(?:\[[^\]]*\])?\s*\{([^}]+)\}")
_BIBITEM = re.compile(r"\\bibitem\s*(?:\[[^\]]*\])?\s*\{([^}]+)\}")
_MENTION = re.compile(r"BG[-\s]?20[kK]")
_REPO = re.compile(r"github\.com/JizhiziLi/GFM", re.IGNORECASE)
_IF = re.compile(r"\\if[A-Za-z@]*|\\fi\b")


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


def blank_comments(text: str) -> list[str]:
    """The lines of ``text`` with comments, ``\\iffalse`` blocks and ``comment`` environments
    replaced by empty lines (so line numbers still hold)."""
    out: list[str] = []
    depth = 0  # inside \iffalse: nesting of \if… seen since
    in_comment_env = False
    for raw in text.splitlines():
        line = re.sub(r"(?<!\\)%.*", "", raw)
        if in_comment_env:
            in_comment_env = "\\end{comment}" not in line
            out.append("")
            continue
        if "\\begin{comment}" in line:
            in_comment_env = "\\end{comment}" not in line
            out.append(line.split("\\begin{comment}", 1)[0])
            continue
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
                target = m.group(1).strip()
                path = base / (target if target.endswith(".tex") else target + ".tex")
                queue.append((str(path), base))
            for m in _BIBLIOGRAPHY.finditer(line):
                for part in m.group(1).split(","):
                    part = part.strip()
                    if part:
                        path = base / (part if part.endswith(".bib") else part + ".bib")
                        found.bib_files.append(str(path))
    return found


def _scan_lines(name: str, lines: list[str], found: TexFindings) -> None:
    for number, line in enumerate(lines, 1):
        place = Place(name, number)
        for m in _CITE.finditer(line):
            keys = [k.strip() for k in m.group(2).split(",") if k.strip()]
            into = found.nocited if m.group(1).lower() == "nocite" else found.cited
            for key in keys:
                into.setdefault(key, []).append(place)
        if _MENTION.search(re.sub(r"\\[A-Za-z]+", " ", line)):
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
