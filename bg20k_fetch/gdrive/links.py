"""Every Drive link form a user might paste, and the base URLs (configurable for tests and
air-gapped sites; Google's by default)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from bg20k_fetch.config import Config

DEFAULTS = {
    "drive": "https://drive.google.com",
    "usercontent": "https://drive.usercontent.google.com",
    "accounts": "https://accounts.google.com",
    "api": "https://www.googleapis.com",
}
ENV = {
    "drive": "BG20K_GDRIVE_URL",
    "usercontent": "BG20K_GDRIVE_USERCONTENT_URL",
    "accounts": "BG20K_GDRIVE_ACCOUNTS_URL",
    "api": "BG20K_GDRIVE_API_URL",
}
_ID = r"[A-Za-z0-9_-]{10,}"


@dataclass(frozen=True)
class DriveUrls:
    drive: str
    usercontent: str
    accounts: str
    api: str
    api_key: str | None = None

    @classmethod
    def resolve(cls, config: Config | None = None) -> DriveUrls:
        """Environment first, then config.yaml's ``gdrive:`` section, then Google's."""
        configured = config.gdrive if config is not None else None
        values = {}
        for name, default in DEFAULTS.items():
            from_config = getattr(configured, name, None) if configured else None
            values[name] = (os.environ.get(ENV[name]) or from_config or default).rstrip("/")
        key = os.environ.get("BG20K_GDRIVE_API_KEY") or (configured.api_key if configured else None)
        return cls(**values, api_key=key or None)

    def is_drive_host(self, url: str) -> bool:
        host = urlsplit(url).netloc.lower()
        return host in {urlsplit(self.drive).netloc.lower(), "drive.google.com", "docs.google.com"}

    # Every page asked for in English (hl=en): words are a last resort for telling Drive's
    # pages apart (pages.classify reads markup first), but a log reader sees English titles.
    def file_url(self, file_id: str) -> str:
        return f"{self.drive}/uc?export=download&id={file_id}&hl=en"

    def direct_url(self, file_id: str) -> str:
        """Where ``uc`` redirects to; folder files go here directly, saving a round trip each."""
        return f"{self.usercontent}/download?id={file_id}&export=download&hl=en"

    def folder_view(self, folder_id: str) -> str:
        return f"{self.drive}/embeddedfolderview?id={folder_id}&hl=en"

    @property
    def drive_hosts(self) -> frozenset[str]:
        """The hosts a user's Drive cookies may go to (``--cookies``), and no other."""
        return frozenset(urlsplit(u).netloc.lower() for u in (self.drive, self.usercontent))


@dataclass(frozen=True)
class DriveLink:
    kind: Literal["file", "folder"]
    id: str


def parse_drive_link(text: str, urls: DriveUrls) -> DriveLink | None:
    """The file or folder a link names, or None when it is not a Drive link."""
    for prefix, kind in (("gdrive:", "file"), ("gdrive-folder:", "folder")):
        if text.startswith(prefix) and re.fullmatch(_ID, text[len(prefix) :]):
            return DriveLink(kind, text[len(prefix) :])  # type: ignore[arg-type]
    if not urls.is_drive_host(text):
        return None
    parts = urlsplit(text)
    path = parts.path
    base_path = urlsplit(urls.drive).path.rstrip("/")
    if base_path and path.startswith(base_path):
        path = path[len(base_path) :]
    if m := re.search(rf"/drive/(?:u/\d+/)?folders/({_ID})", path):
        return DriveLink("folder", m.group(1))
    if m := re.search(rf"/file/(?:u/\d+/)?d/({_ID})", path):
        return DriveLink("file", m.group(1))
    if re.fullmatch(r"/(uc|open)", path):
        ids = parse_qs(parts.query).get("id", [])
        if ids and re.fullmatch(_ID, ids[0]):
            return DriveLink("file", ids[0])
    return None
