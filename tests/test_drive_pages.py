"""Drive's HTML pages read by the parser alone: tables of pages and what must come out.

The end-to-end Drive tests prove the fetch works against the emulator; these pin down each
rule of the parser, so a change to one is caught by name.
"""

from __future__ import annotations

import pytest

from bg20k_fetch.gdrive.pages import (
    Entry,
    PageKind,
    classify,
    download_form,
    folder_entries,
    legacy_confirm_token,
)

BASE = "https://drive.google.com/uc?id=X"
FORM = (
    '<form id="download-form" action="{action}" method="get">'
    '<input type="hidden" name="id" value="X">'
    '<input type="hidden" name="confirm" value="t">'
    '<input type="hidden" name="uuid">'
    '<input type="submit" value="Download anyway">'
    "</form>"
)


def test_form_action_is_made_absolute_and_every_named_input_kept() -> None:
    form = download_form(FORM.format(action="/download?x=1&amp;y=2"), BASE)
    assert form is not None
    assert form.action == "https://drive.google.com/download?x=1&y=2"
    # A valueless input counts with an empty value; the unnamed submit button is not a field.
    assert form.params == {"id": "X", "confirm": "t", "uuid": ""}


@pytest.mark.parametrize(
    "page",
    [
        "<html><title>Google Drive</title><p>no form at all</p></html>",
        FORM.format(action=""),  # a form with nowhere to send it
        FORM.replace(' action="{action}"', ""),
        FORM.replace('id="download-form"', 'id="search"').format(action="/search"),
    ],
    ids=["no form", "empty action", "no action", "another form"],
)
def test_no_usable_download_form(page: str) -> None:
    assert download_form(page, BASE) is None


def test_inputs_after_the_form_closes_are_not_its_own() -> None:
    page = FORM.format(action="/download") + '<input name="q" value="after">'
    form = download_form(page, BASE)
    assert form is not None and "q" not in form.params


def test_legacy_confirm_token() -> None:
    page = '<a href="/uc?export=download&amp;confirm=Ab_9-z&amp;id=X">Download anyway</a>'
    assert legacy_confirm_token(page) == "Ab_9-z"
    assert legacy_confirm_token("<a href='/uc?export=download&amp;id=X'>x</a>") is None


@pytest.mark.parametrize(
    ("page", "kind"),
    [
        ("<title>Google Drive - Quota exceeded</title>", PageKind.QUOTA),
        ("<title>Google Drive</title>Too many users have viewed or downloaded", PageKind.QUOTA),
        ("<title>Google Drive: Sign-in</title>", PageKind.NEEDS_SIGN_IN),
        ("<title>Sign in - Google Accounts</title>", PageKind.NEEDS_SIGN_IN),
        ("<title>Google Drive</title>You need access", PageKind.NEEDS_SIGN_IN),
        ("<title>Google Drive - Virus scan warning</title>", PageKind.WARNING),
        ('<title>x</title><form id="download-form">', PageKind.WARNING),
        ("<title>Google Drive</title><form id='download-form'>", PageKind.WARNING),
        ("<title>Google Drive</title><p>Not found</p>", PageKind.OTHER),
    ],
)
def test_classify(page: str, kind: PageKind) -> None:
    assert classify(page) == kind


def test_folder_entries_names_ids_and_subfolders() -> None:
    page = (
        '<div class="other" id="entry-Z"><div class="flip-entry-title">ignored</div></div>'
        '<div class="flip-entry" id="not-entry-Y"><div class="flip-entry-title">no id</div></div>'
        '<div class="flip-entry" id="entry-F1"><a href="https://drive.google.com/drive/folders/F1">'
        '<div class="flip-entry-title">train</div></a></div>'
        '<div class="flip-entry" id="entry-J1"><a href="https://drive.google.com/file/d/J1/view">'
        '<div class="flip-entry-title"> h_0001.jpg </div></a></div>'
        '<div class="flip-entry" id="entry-E1"><div class="flip-entry-title"> </div></div>'
        '<div class="flip-entry"><div class="flip-entry-title">no id at all</div></div>'
        '<div class="flip-entry" id="entry-N"><a name="top"></a>'
        '<div class="flip-entry-title"><span>h_</span>0002.jpg</div></div>'
        '<div class="flip-entry" id="entry-L"><div class="flip-entry-title">a &amp; b.jpg</div>'
    )
    assert folder_entries(page) == [
        Entry("F1", "train", True),
        Entry("J1", "h_0001.jpg", False),  # trimmed; a file link is not a folder
        Entry("N", "h_0002.jpg", False),  # a link without href; a title in two pieces
        Entry("L", "a & b.jpg", False),  # the last entry, flushed at the end of the page
    ]


def test_text_before_the_first_title_is_not_part_of_it() -> None:
    # The page opens with an entry, so no closing tag has been seen before its icon's text.
    page = (
        '<div class="flip-entry" id="entry-A"><span>icon</span>'
        '<div class="flip-entry-title">a.jpg</div></div>'
    )
    assert folder_entries(page) == [Entry("A", "a.jpg", False)]


def test_a_form_whose_action_has_a_query_keeps_it_blank_values_and_all() -> None:
    """Drive's newer forms post to ``download?usp=sharing&authuser=``: the action's own query
    travels with the inputs (blank values too), and an input of the same name wins."""
    from bg20k_fetch.gdrive.pages import Form

    form = Form(
        "https://drive.usercontent.google.com/download?usp=sharing&authuser=&id=old",
        {"id": "abc", "confirm": "t"},
    )
    assert form.url() == (
        "https://drive.usercontent.google.com/download?usp=sharing&authuser=&id=abc&confirm=t"
    )


@pytest.mark.parametrize(
    ("url", "accounts", "page", "kind"),
    [
        # Google's "sorry" page is throttling by where it was served, whatever it says ...
        ("https://www.google.com/sorry/index?continue=x", "", "<html>Bitte warten</html>",
         PageKind.AUTOMATED),
        # ... or by its markup, wherever it came from.
        ("https://drive.google.com/uc", "", '<form id="captcha-form">', PageKind.AUTOMATED),
        # A sign-in page on the accounts host bg20k was told about (an emulator, a proxy) ...
        ("http://127.0.0.1:9/ServiceLogin?continue=x", "http://127.0.0.1:9", "<html>Anmelden",
         PageKind.NEEDS_SIGN_IN),
        # ... or on any of Google's accounts hosts, whichever country.
        ("https://accounts.google.co.uk/v3/signin/identifier", "http://127.0.0.1:9", "<p>x",
         PageKind.NEEDS_SIGN_IN),
        # The same path on Drive's own host is not a sign-in page.
        ("https://drive.google.com/ServiceLogin", "http://127.0.0.1:9", "<p>x", PageKind.OTHER),
        ("https://drive.google.com/uc", "", "<p>Our systems have detected automated queries",
         PageKind.AUTOMATED),
    ],
    ids=["sorry-url", "captcha-markup", "own-accounts-host", "google-accounts-host",
         "drive-host", "automated-words"],
)  # fmt: skip
def test_pages_are_told_apart_by_where_they_came_from(
    url: str, accounts: str, page: str, kind: PageKind
) -> None:
    assert classify(page, url, accounts or "https://accounts.google.com") is kind
