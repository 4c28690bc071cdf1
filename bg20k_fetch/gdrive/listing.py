"""Listing a Drive folder recursively: the public folder view, or the Drive API with a key."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from functools import partial

import requests

from bg20k_fetch.errors import IntegrityError, SourceError
from bg20k_fetch.gdrive.cookies import DriveCookies
from bg20k_fetch.gdrive.errors import DriveAccessError, DriveNotFound
from bg20k_fetch.gdrive.links import DriveUrls
from bg20k_fetch.gdrive.pages import PageKind, classify, folder_entries
from bg20k_fetch.progress import Reporter
from bg20k_fetch.transfer.http import RetryableHTTPError, get, parse_retry_after
from bg20k_fetch.transfer.policy import RetryPolicy
from bg20k_fetch.transfer.retry import with_retries

FOLDER_MIME = "application/vnd.google-apps.folder"


MAX_NAME_BYTES = 255  # what common file systems allow for one name
MAX_ENTRIES, MAX_FOLDERS = 1_000_000, 10_000  # BG-20k has 20,000 files in a few folders
_DATASET = "BG-20k"


@dataclass(frozen=True, slots=True)  # one per file: 20,000 of them
class RemoteFile:
    id: str
    path: str  # POSIX path relative to the listed folder
    size: int | None = None
    md5: str | None = None
    cache_path: str | None = None  # where a second file listed under one path is kept

    @property
    def local(self) -> str:
        """Where the file lives in the folder's cache."""
        return self.cache_path or self.path


def _clean(name: str, folder_id: str) -> str:
    # A Drive name may hold a slash, be "..", or be absurdly long: never let it become a path
    # component that moves, and never hand the file system a name it will refuse mid-fetch.
    name = name.replace("/", "_").replace("\\", "_").replace("\x00", "_").strip()
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise IntegrityError(
            f"The listing of Drive folder {folder_id} names an entry of "
            f"{len(name.encode('utf-8'))} bytes ({name[:40]}…), longer than a file name can be.",
            hint="This is not the BG-20k folder; check the link.",
        )
    return "_" if name in ("", ".", "..") else name


def without_clashes(files: list[RemoteFile], reporter: Reporter) -> list[RemoteFile]:
    """Drive allows two files with one name, and flattened names can meet: a second file
    listed under a path is kept apart in the cache, and staging then requires both to hold
    the same bytes (or stops, naming them)."""
    first: dict[str, RemoteFile] = {}
    out = []
    for f in files:
        if f.path in first:
            reporter.note(
                f"Google Drive lists more than one file as {f.path} (ids {first[f.path].id} and "
                f"{f.id}); both are fetched, and they must be identical."
            )
            f = replace(f, cache_path=f".duplicates/{f.id}/{f.path}")
        else:
            first[f.path] = f
        out.append(f)
    return out


def list_folder(
    session: requests.Session,
    urls: DriveUrls,
    folder_id: str,
    reporter: Reporter,
    policy: RetryPolicy | None = None,
    cookies: DriveCookies | None = None,
) -> list[RemoteFile]:
    """Every file below the folder, breadth first; each page is retried like a download.

    A folder listed twice (Drive shortcuts can make a folder its own descendant) is listed
    once; a listing beyond MAX_ENTRIES files or MAX_FOLDERS folders is refused rather than
    followed forever."""
    lister = _list_api if urls.api_key else _list_view
    policy = policy or RetryPolicy.from_env()
    files: list[RemoteFile] = []
    queue = deque([(folder_id, "")])
    seen = {folder_id}
    folders = 0
    while queue:
        fid, prefix = queue.popleft()
        if folders >= MAX_FOLDERS or len(files) > MAX_ENTRIES:
            raise IntegrityError(
                f"Drive folder {folder_id} holds more than {MAX_FOLDERS} folders or "
                f"{MAX_ENTRIES} files; it is not a copy of {_DATASET}.",
                hint="Check the link.",
            )
        rows = with_retries(
            partial(lister, session, urls, fid, cookies),
            f"the listing of Drive folder {fid}",
            policy,
            reporter,
        )
        for child_id, name, is_folder, size, md5 in rows:
            path = prefix + _clean(name, fid)
            if is_folder and child_id in seen:
                reporter.note(f"Drive folder {path} leads back to a folder already listed.")
            elif is_folder:
                seen.add(child_id)
                queue.append((child_id, path + "/"))
            else:
                files.append(RemoteFile(child_id, path, size, md5))
        folders += 1
    how = "the Drive API" if urls.api_key else "the folder view"
    reporter.note(f"Listed {len(files)} files in {folders} folder(s) through {how}.")
    return without_clashes(files, reporter)


Row = tuple[str, str, bool, int | None, str | None]


def _list_view(
    session: requests.Session,
    urls: DriveUrls,
    folder_id: str,
    cookies: DriveCookies | None = None,
) -> list[Row]:
    cookie = (lambda url: cookies.header(url, urls.drive_hosts)) if cookies else None
    response = get(session, urls.folder_view(folder_id), stream=False, cookie=cookie)
    if response.status_code == 404:
        raise DriveNotFound("folder", folder_id)
    page = response.text  # decoded once: each .text is a new copy of a page of megabytes
    entries = folder_entries(page) if response.status_code == 200 else []
    # A page that lists files is a listing, whatever the files are called: only a page that
    # lists nothing is read for Drive's throttling and sign-in words ("need access.jpg").
    kind = PageKind.OTHER if entries else classify(page, response.url, urls.accounts)
    if kind is PageKind.AUTOMATED:  # throttling: retried like any 429
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise RetryableHTTPError(response.url, response.status_code, retry_after)
    if kind is PageKind.NEEDS_SIGN_IN or response.status_code in (401, 403):
        raise DriveAccessError(f"folder {folder_id}")
    if response.status_code != 200:
        raise SourceError(
            f"Listing Google Drive folder {folder_id} failed: HTTP {response.status_code}."
        )
    return [(e.id, e.name, e.is_folder, None, None) for e in entries]


def _list_api(
    session: requests.Session, urls: DriveUrls, folder_id: str, cookies: object = None
) -> list[Row]:
    rows: list[Row] = []
    token: str | None = None
    while True:
        params = {
            "q": f"'{folder_id}' in parents and trashed = false",
            "key": urls.api_key or "",
            "fields": "nextPageToken,files(id,name,mimeType,size,md5Checksum)",
            "pageSize": "1000",
        }
        if token:
            params["pageToken"] = token
        response = get(session, f"{urls.api}/drive/v3/files", params=params, stream=False)
        if response.status_code != 200:
            raise SourceError(
                f"The Drive API refused to list folder {folder_id}: HTTP {response.status_code}.",
                hint="Check BG20K_GDRIVE_API_KEY, or unset it to use the public folder view.",
            )
        data = response.json()
        for item in data.get("files", []):
            size = item.get("size")
            rows.append(
                (
                    item["id"],
                    item["name"],
                    item.get("mimeType") == FOLDER_MIME,
                    int(size) if size is not None else None,
                    item.get("md5Checksum"),
                )
            )
        token = data.get("nextPageToken")
        if not token:
            return rows
