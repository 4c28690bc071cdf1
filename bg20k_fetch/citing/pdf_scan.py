"""A compiled paper's text, page by page, and its reference list.

pdfminer.six (the ``pdf`` extra) rather than pypdf: its layout analysis puts a two-column
page's text back in reading order, so a reference that runs down a column stays one piece, and
it is what pdfplumber and most extraction tools stand on. pypdf is faster but keeps the PDF's
drawing order, which splits references in two-column conference papers.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass

from bg20k_fetch.errors import UsageError

_HEADING = re.compile(
    r"^\s*(?:\d+\.?\s*|[IVX]+\.?\s*)?(references|bibliography|literature cited|works cited)\s*$",
    re.I | re.M,
)
MIN_TEXT = 40  # letters in the whole PDF below which it is taken for a scan


@dataclass(frozen=True)
class PdfText:
    pages: list[str]
    refs_from: tuple[int, int]  # (page index, offset) where the reference list starts

    @property
    def readable(self) -> bool:
        return sum(c.isalpha() for page in self.pages for c in page) >= MIN_TEXT

    def body(self) -> str:
        """The text before the reference list: where citations of its entries appear."""
        page, offset = self.refs_from
        return "\n".join([*self.pages[:page], self.pages[page][:offset]]) if self.pages else ""

    def reference_pages(self) -> list[tuple[int, str]]:
        """(1-based page number, text) of the reference list, its first page cut at the
        heading. Without a heading, every page (a reference list still names the work)."""
        page, offset = self.refs_from
        out = [(page + 1, self.pages[page][offset:])] if self.pages else []
        out += [(n + 1, text) for n, text in enumerate(self.pages) if n > page]
        return out


def read_pdf(name: str, data: bytes) -> PdfText:
    try:
        from pdfminer.high_level import extract_pages
        from pdfminer.layout import LAParams, LTTextContainer
    except ImportError as exc:
        raise UsageError(
            "Reading a PDF needs bg20k's pdf extra.",
            hint="Install it with: pip install 'bg20k[pdf]', or check the LaTeX sources instead.",
        ) from exc
    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # its warnings are not ours to print
    pages: list[str] = []
    try:
        for layout in extract_pages(io.BytesIO(data), laparams=LAParams()):
            boxes = [el.get_text() for el in layout if isinstance(el, LTTextContainer)]
            pages.append("\n".join(boxes))  # a blank line between text boxes
    except Exception as exc:  # pdfminer raises many kinds on damaged or locked files
        why = "it is encrypted" if "Password" in type(exc).__name__ else type(exc).__name__
        raise UsageError(f"{name} is not a readable PDF ({why}).") from exc
    start = (0, 0)
    for n, text in enumerate(pages):
        for m in _HEADING.finditer(text):
            start = (n, m.start())  # the last heading wins: the list is at the end
    return PdfText(pages, start)


def entries(text: str) -> list[str]:
    """A reference list cut into entries: at ``[12]``/``12.`` at a line's start, else at the
    blank lines between text boxes (author-year lists set each entry as its own paragraph)."""
    if re.search(r"(?m)^\s*\[\d+\]", text):
        parts = re.split(r"(?m)^(?=\s*\[\d+\])", text)
    else:
        parts = re.split(r"\n\s*\n", text)
    return [p for p in parts if p.strip()]


def cited_in_body(entry: str, body: str, first_author: str, count: int) -> bool:
    """Whether the body cites a reference-list entry: its number for a numbered list of
    ``count`` entries (``[3]``, ``[1, 3]``, ``[2–4]``, IEEE's ``[2]–[4]``; a bracket with a 0
    or a number past the list, like ``[0, 1]`` or ``[0-255]``, is not a citation), or its
    first author as ``Li et al.`` or ``Li and …`` for an author-year one. A ``\\nocite``d
    entry is typeset but cited nowhere."""
    label = re.match(r"\s*\[(\d+)\]", entry)
    if label is None:
        name = re.escape(first_author)
        return re.search(rf"\b{name}(?: et al\.?| and \w+| & \w+)", body) is not None
    wanted = int(label.group(1))
    for low, high in re.findall(r"\[(\d+)\]\s*[–-]\s*\[(\d+)\]", body):
        if 1 <= int(low) <= wanted <= int(high) <= count:
            return True
    for group in re.findall(r"\[([\d,;\s–-]+)\]", body):
        numbers = [int(n) for n in re.findall(r"\d+", group)]
        if not numbers or min(numbers) < 1 or max(numbers) > count:
            continue
        for part in re.split(r"[,;]", group):
            ends = [int(n) for n in re.findall(r"\d+", part)]
            if ends and min(ends) <= wanted <= max(ends):
                return True
    return False


def join_lines(text: str) -> str:
    """A reference list's text with line breaks undone: a word hyphenated at the end of a line
    joins its second half, and every other break becomes a space."""
    return re.sub(r"\s*\n\s*", " ", re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text))
