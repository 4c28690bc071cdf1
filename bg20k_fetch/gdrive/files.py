"""One Drive file: the redirect, the virus-scan confirmation form, and Drive's failure pages.

The opener runs on every attempt of the download engine, so a resumed download gets a fresh
confirmation (Drive's ``uuid`` is single-use) and the Range header reaches the final request.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

import requests

from bg20k_fetch.errors import SourceError
from bg20k_fetch.gdrive.cookies import DriveCookies
from bg20k_fetch.gdrive.errors import (
    DriveAccessError,
    DriveNotFound,
    DriveQuotaError,
    drive_page_instead_of_data,
)
from bg20k_fetch.gdrive.links import DriveUrls
from bg20k_fetch.gdrive.pages import PageKind, classify, download_form, legacy_confirm_token
from bg20k_fetch.transfer.http import RetryableHTTPError, get, page_title, parse_retry_after
from bg20k_fetch.transfer.stream import Opener

MAX_PAGE = 2 * 2**20


def _is_html(response: requests.Response) -> bool:
    return "text/html" in response.headers.get("Content-Type", "").lower()


def _read_page(response: requests.Response) -> str:
    with response:
        body = response.raw.read(MAX_PAGE, decode_content=True)
    return body.decode(response.encoding or "utf-8", "replace")


def drive_opener(
    session: requests.Session,
    urls: DriveUrls,
    file_id: str,
    *,
    first_url: str | None = None,
    cookies: DriveCookies | None = None,
) -> Opener:
    cookie = (lambda url: cookies.header(url, urls.drive_hosts)) if cookies else None

    def open_(headers: Mapping[str, str]) -> requests.Response:
        url = first_url or urls.file_url(file_id)
        for _ in range(4):  # page -> form -> file; legacy token; then it is a loop
            response = get(session, url, headers=headers, cookie=cookie)
            if response.status_code == 404:
                response.close()
                raise DriveNotFound("file", file_id)
            if not _is_html(response) and response.status_code in (200, 206, 416):
                return response
            page = _read_page(response)
            kind = classify(page, response.url, urls.accounts)
            if kind is PageKind.AUTOMATED:  # Google's "automated queries": it throttles us
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                raise RetryableHTTPError(response.url, response.status_code, retry_after)
            if kind is PageKind.QUOTA:
                raise DriveQuotaError(file_id)
            if kind is PageKind.NEEDS_SIGN_IN or response.status_code in (401, 403):
                raise DriveAccessError(f"file {file_id}")
            form = download_form(page, response.url) if kind is PageKind.WARNING else None
            token = None if form else legacy_confirm_token(page) or _cookie_token(session)
            if form is not None:
                form.params.setdefault("hl", "en")
                url = form.url()
            elif token is not None:
                query = urlencode({"export": "download", "confirm": token, "id": file_id})
                url = f"{urls.drive}/uc?{query}"
            else:
                raise drive_page_instead_of_data(file_id, page_title(page))
        raise SourceError(
            f"Google Drive kept asking to confirm the download of file {file_id}.",
            hint="Drive may have changed its confirmation page; please report it, and use "
            "another source meanwhile.",
        )

    return open_


def _cookie_token(session: requests.Session) -> str | None:
    for cookie in session.cookies:
        if cookie.name.startswith("download_warning") and cookie.value:
            return cookie.value
    return None
