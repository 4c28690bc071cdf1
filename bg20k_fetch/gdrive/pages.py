"""Reading the HTML pages Drive answers with: the virus-scan form, failures, folder listings.

Parsed with the standard library's HTML parser, so attribute order, quoting and line breaks do
not matter.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from enum import Enum
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from bg20k_fetch.transfer.http import page_title


class PageKind(Enum):
    WARNING = "virus-scan warning"
    QUOTA = "quota exceeded"
    NEEDS_SIGN_IN = "not shared publicly"
    AUTOMATED = "automated queries"  # Google's "sorry" page: throttling of the client
    OTHER = "other"


@dataclass
class Form:
    action: str
    params: dict[str, str] = field(default_factory=dict)

    def url(self) -> str:
        """The action with every input in its query, merged into a query it already has (an
        input of the same name wins: it is the form's own, fresh value)."""
        parts = urlsplit(self.action)
        query = dict(parse_qsl(parts.query, keep_blank_values=True)) | self.params
        return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass(frozen=True, slots=True)  # one per file: 20,000 of them
class Entry:
    id: str
    name: str
    is_folder: bool


# Drive localises its pages (German, Japanese … for a browser's Accept-Language or the
# account's language), so pages are told apart by their markup and the URL they came from;
# English words are only a last resort. bg20k also asks for English (``hl=en``) every time.
_SORRY = re.compile(r"""(id=["']captcha-form["']|/sorry/index|google\.com/sorry)""", re.I)
_ERROR_SUBCAPTION = re.compile(r"""class=["'][^"']*\buc-error-subcaption\b""", re.I)
_DOWNLOAD_FORM = re.compile(r"""id=["']?download-form\b""", re.I)
_SIGN_IN_PATHS = ("/ServiceLogin", "/signin", "/v3/signin", "/AccountChooser")


def classify(page: str, url: str = "", accounts: str = "https://accounts.google.com") -> PageKind:
    """What a page Drive answered with is, by markup and by the URL it was served from."""
    where = urlsplit(url)
    if where.path.startswith("/sorry") or _SORRY.search(page):
        return PageKind.AUTOMATED
    on_accounts = where.netloc == urlsplit(accounts).netloc or "accounts.google." in where.netloc
    if url and on_accounts and where.path.startswith(_SIGN_IN_PATHS):
        return PageKind.NEEDS_SIGN_IN
    if _DOWNLOAD_FORM.search(page):
        return PageKind.WARNING
    if _ERROR_SUBCAPTION.search(page):
        return PageKind.QUOTA  # Drive's "you can't view or download this file now" page
    return _classify_by_words(page)


# Searched without lowering the page first: a folder's listing page is megabytes (5.7 MiB for
# 15,000 files), and a lowered copy of it was the largest thing a Drive folder fetch held.
_AUTOMATED = re.compile("automated queries", re.I)
_TOO_MANY = re.compile("too many users have viewed or downloaded", re.I)
_NEED_ACCESS = re.compile("need access", re.I)


def _classify_by_words(page: str) -> PageKind:
    heading = page_title(page).lower()
    if _AUTOMATED.search(page):
        return PageKind.AUTOMATED
    if "quota exceeded" in heading or _TOO_MANY.search(page):
        return PageKind.QUOTA
    if "sign in" in heading or "sign-in" in heading or _NEED_ACCESS.search(page):
        return PageKind.NEEDS_SIGN_IN
    if "virus scan warning" in heading:
        return PageKind.WARNING
    return PageKind.OTHER


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.form: Form | None = None
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == "download-form":
            self.form, self._inside = Form(a.get("action", "")), True
        elif tag == "input" and self._inside and self.form is not None and a.get("name"):
            self.form.params[a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


def download_form(page: str, base_url: str) -> Form | None:
    """The confirmation form's absolute action and every named input, if the page has one."""
    parser = _FormParser()
    parser.feed(page)
    if parser.form is None or not parser.form.action:
        return None
    try:
        parser.form.action = urljoin(base_url, parser.form.action)
    except ValueError:  # "http://[::1" and the like: not a form bg20k can follow
        return None
    return parser.form


def legacy_confirm_token(page: str) -> str | None:
    """Before 2022 the page linked to ``uc?export=download&confirm=TOKEN&id=ID``."""
    m = re.search(r"confirm=([0-9A-Za-z_-]+)", html.unescape(page))
    return m.group(1) if m else None


class _FolderParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.entries: list[Entry] = []
        self._id: str | None = None
        self._folder = False
        self._in_title = False
        self._title: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        if tag == "div" and "flip-entry" in classes:
            # Every entry ends the one before, even one without a usable id (which is skipped,
            # so its title is never glued onto its neighbour's).
            self._flush()
            entry = a.get("id", "")
            self._id = entry[len("entry-") :] if entry.startswith("entry-") else None
            self._folder, self._title = False, []
        elif tag == "a" and self._id is not None and "/folders/" in a.get("href", ""):
            self._folder = True
        elif tag == "div" and "flip-entry-title" in classes:
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._in_title:
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)

    def _flush(self) -> None:
        name = "".join(self._title).strip()
        if self._id and name:
            self.entries.append(Entry(self._id, name, self._folder))
        self._id = None

    def close(self) -> None:
        super().close()
        self._flush()


def folder_entries(page: str) -> list[Entry]:
    parser = _FolderParser()
    parser.feed(page)
    parser.close()
    return parser.entries
