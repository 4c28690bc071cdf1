"""A Google Drive emulator on 127.0.0.1, faithful to shared/reference/google-drive.md.

It serves, on one port, what Drive serves on several hosts (point every BG20K_GDRIVE_*_URL at
it): ``/uc`` and ``/open`` redirecting (303) to ``/download``; the virus-scan warning form
above ``warn_size`` with a fresh ``uuid`` each time (``confirm=t`` without a valid uuid gets
the warning again); files with Content-Disposition, Content-Length and Last-Modified, Range
(206/416); the quota page; the sign-in redirect; 404; ``/embeddedfolderview`` for nested
folders of any size; the Drive API v3 listing (paged) for a key; throttling (429 after K
requests); latency per request; and connections cut after K bytes.

By hand:  python -m tests.gdrive_emulator --tree DIR [--port 8765] [--warn-size BYTES]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import html
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from tests.fileserver import LoopbackServer, reply, serve_bytes


@dataclass
class Node:
    id: str
    name: str
    parent: str | None
    data: bytes | None = None  # None for a folder
    private: bool = False
    quota: bool = False
    html_instead: bool = False
    gone: bool = False  # listed, but deleted since: its download is a 404
    children: list[str] = field(default_factory=list)


@dataclass
class Options:
    warn_size: int = 100_000
    latency: float = 0.0
    throttle_after: int | None = None  # requests served before throttling starts
    throttle_count: int = 0  # how many requests then get 429
    retry_after: str | None = "1"
    cut_after: int | None = None  # cut downloads after this many body bytes …
    cut_count: int = 0  # … for this many downloads
    quota_status: int = 200
    listing_cap: int | None = None  # list at most this many entries per folder
    api_key: str | None = None
    api_page_size: int = 1000
    shuffle_form: bool = False
    form_without_uuid: bool = False  # a page whose form cannot satisfy the uuid check
    delay_per_chunk: float = 0.0  # slow bodies: seconds between chunks of ``chunk`` bytes
    chunk: int = 64 * 1024
    decoy_forms: bool = False  # a search form before and a sign-in form after the real one
    # A rate limiter: a download arriving while this many are being served gets a 429.
    max_concurrent: int | None = None
    # Drive's block of a whole client: after ``block_after`` files served, every download gets
    # the quota page for ``block_seconds`` (then it lifts; with ``block_again``, it comes back
    # after as many files again). A request carrying a signed-in cookie (SID=…) is never blocked.
    block_after: int | None = None
    block_seconds: float = 0.0
    block_again: bool = False
    # Google's "sorry … automated queries" page (403) for this many requests after K.
    sorry_after: int | None = None
    sorry_count: int = 0
    # Pages in German unless the request asks for English (hl=en), or whatever it asks.
    locale: str = "en"
    ignore_hl: bool = False
    # The 2025 form: `at` and `authuser` inputs, and an action that carries a query of its own.
    form_extras: bool = False
    # Where a private file sends you: Drive's newer sign-in (/v3/signin/identifier).
    signin_v3: bool = False


class DriveEmulator(LoopbackServer):
    def __init__(self, options: Options | None = None, port: int = 0) -> None:
        super().__init__(port=port)
        self.options = options or Options()
        self.nodes: dict[str, Node] = {}
        self.uuids: set[str] = set()
        self.log: list[tuple[str, str, dict[str, str]]] = []  # (path, query, headers)
        self.downloads: dict[str, int] = {}  # file id -> bodies served (200/206)
        self.paths: list[str] = []  # every request's path …
        self.times: list[float] = []  # … and when it arrived (time.monotonic())
        self.throttled_at: list[float] = []  # when each 429 was sent
        self.served = 0  # download bodies served (any file): what a client block counts
        self.blocked_until = 0.0
        self.blocked_requests = 0  # downloads answered with the quota page during a block
        self.blocks = 0  # client blocks begun
        self.in_flight = 0  # download bodies being served right now …
        self.max_in_flight = 0  # … and the most at once: proof that --jobs is honoured
        self._lock = threading.Lock()

    # -- content ---------------------------------------------------------------------------
    def _new_id(self, key: str) -> str:
        base = "emu" + hashlib.sha1(key.encode()).hexdigest()[:28]
        return base if base not in self.nodes else base + str(len(self.nodes))

    def add_folder(self, name: str, parent: str | None = None) -> str:
        node = Node(self._new_id(f"{parent}/{name}/"), name, parent)
        self.nodes[node.id] = node
        if parent:
            self.nodes[parent].children.append(node.id)
        return node.id

    def add_file(self, name: str, data: bytes, parent: str | None = None, **flags: bool) -> str:
        node = Node(self._new_id(f"{parent}/{name}"), name, parent, data, **flags)
        self.nodes[node.id] = node
        if parent:
            self.nodes[parent].children.append(node.id)
        return node.id

    def add_tree(self, files: dict[str, bytes], name: str = "BG-20k") -> str:
        """A folder holding ``files`` ({posix path: bytes}); returns the folder's id."""
        root = self.add_folder(name)
        folders = {"": root}
        for rel in sorted(files):
            parts = rel.split("/")
            for i in range(1, len(parts)):
                key = "/".join(parts[:i])
                if key not in folders:
                    folders[key] = self.add_folder(parts[i - 1], folders["/".join(parts[: i - 1])])
            self.add_file(parts[-1], files[rel], folders["/".join(parts[:-1])])
        return root

    def file_id(self, path: str, root: str) -> str:
        node = self.nodes[root]
        for part in path.split("/"):
            node = next(self.nodes[c] for c in node.children if self.nodes[c].name == part)
        return node.id

    # -- serving ---------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        names = ("URL", "USERCONTENT_URL", "ACCOUNTS_URL", "API_URL")
        return {f"BG20K_GDRIVE_{n}": self.base_url for n in names}

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self.log.append((parts.path, parts.query, dict(h.headers.items())))
            self.paths.append(parts.path)
            self.times.append(time.monotonic())
            number = len(self.log)
        if parts.path != "/download":
            return self._route(h, parts.path, query, number)
        with self._lock:  # a download request, from arrival to its last byte: "in flight"
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            limit = self.options.max_concurrent
            over = limit is not None and self.in_flight > limit
            if over:
                self.throttled_at.append(time.monotonic())
        try:
            if over:
                time.sleep(self.options.latency)
                extra = (
                    {"Retry-After": self.options.retry_after} if self.options.retry_after else {}
                )
                return reply(
                    h, 429, b"<html><title>Too Many Requests</title></html>", "text/html", extra
                )
            return self._route(h, parts.path, query, number)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _route(
        self, h: BaseHTTPRequestHandler, path: str, query: dict[str, str], number: int
    ) -> None:
        if self.options.latency:
            time.sleep(self.options.latency)
        o = self.options
        if path in ("/uc", "/download", "/embeddedfolderview") and (
            o.sorry_after is not None and o.sorry_after < number <= o.sorry_after + o.sorry_count
        ):
            with self._lock:
                self.throttled_at.append(time.monotonic())
            return reply(h, 403, SORRY_PAGE.encode(), "text/html")
        if (
            path in ("/uc", "/download")
            and o.throttle_after is not None
            and o.throttle_after < number <= o.throttle_after + o.throttle_count
        ):
            extra = {"Retry-After": o.retry_after} if o.retry_after else {}
            with self._lock:
                self.throttled_at.append(time.monotonic())
            return reply(
                h, 429, b"<html><title>Too Many Requests</title></html>", "text/html", extra
            )
        route = {
            "/uc": self._uc,
            "/open": self._uc,
            "/download": self._download,
            "/embeddedfolderview": self._folder_view,
            "/ServiceLogin": self._sign_in,
            "/v3/signin/identifier": self._sign_in,
            "/drive/v3/files": self._api,
        }.get(path)
        if route is None:
            return reply(h, 404, b"<html><title>Not Found</title></html>", "text/html")
        return route(h, query)

    def _uc(self, h: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        target = f"{self.base_url}/download?" + "&".join(
            f"{k}={quote(v)}" for k, v in {"export": "download", **query}.items()
        )
        reply(h, 303, b"", "text/html", {"Location": target})

    def _download(self, h: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        node = self.nodes.get(query.get("id", ""))
        if node is None or node.data is None or node.gone:
            return reply(h, 404, b"<html><title>Error 404 (Not Found)</title></html>", "text/html")
        if node.private:
            where = "/v3/signin/identifier" if self.options.signin_v3 else "/ServiceLogin"
            login = f"{self.base_url}{where}?continue={quote(self.base_url + h.path)}"
            return reply(h, 302, b"", "text/html", {"Location": login})
        german = self._german(query)
        if node.quota or self._client_blocked(h):
            page = QUOTA_PAGE_DE if german else QUOTA_PAGE
            return reply(h, self.options.quota_status, page.encode(), "text/html")
        if node.html_instead:
            page = b"<!DOCTYPE html><html><head><title>Google Drive - Error</title></head></html>"
            return serve_bytes(h, page, content_type="application/octet-stream")
        if len(node.data) > self.options.warn_size:
            token = query.get("uuid")
            if query.get("confirm") != "t" or token not in self.uuids:
                fresh = str(uuid.uuid4())
                self.uuids.add(fresh)
                return reply(h, 200, self._warning(node, fresh, german).encode(), "text/html")
        with self._lock:
            self.served += h.command == "GET"
            cut = None
            if self.options.cut_after is not None and self.options.cut_count > 0:
                self.options.cut_count -= 1
                cut = self.options.cut_after
            if h.command == "GET":
                self.downloads[node.id] = self.downloads.get(node.id, 0) + 1
        disposition = f"attachment; filename=\"{node.name}\"; filename*=UTF-8''{quote(node.name)}"
        return serve_bytes(
            h,
            node.data,
            head=h.command == "HEAD",
            cut=cut,
            extra={"Content-Disposition": disposition},
            delay_per_chunk=self.options.delay_per_chunk,
            chunk=self.options.chunk,
        )

    def _german(self, query: dict[str, str]) -> bool:
        asked = "" if self.options.ignore_hl else query.get("hl", "")
        return self.options.locale == "de" and asked != "en"

    def _client_blocked(self, h: BaseHTTPRequestHandler) -> bool:
        """Drive's block of this client: every file's quota page, until it lifts."""
        o = self.options
        if o.block_after is None or "SID=" in (h.headers.get("Cookie") or ""):
            return False
        with self._lock:
            now = time.monotonic()
            if now < self.blocked_until:
                self.blocked_requests += 1
                return True
            if self.served >= o.block_after and self.blocked_until == 0.0:
                self.blocked_until = now + o.block_seconds
                self.blocked_requests += 1
                self.blocks += 1
                return True
            if o.block_again and self.blocked_until and self.served >= 2 * o.block_after:
                self.served, self.blocked_until = 0, 0.0
            return False

    def _warning(self, node: Node, token: str, german: bool = False) -> str:
        inputs = [
            f'<input type="hidden" name="id" value="{node.id}">',
            '<input type="hidden" name="export" value="download">',
            '<input type="hidden" name="confirm" value="t">',
            f'<input type="hidden" name="uuid" value="{token}">',
        ]
        action = f"{self.base_url}/download"
        if self.options.form_extras:
            inputs += [
                '<input type="hidden" name="at" value="AKVxyz:1700000000000">',
                '<input type="hidden" name="authuser" value="0">',
            ]
            action += "?usp=sharing&amp;authuser=0"
        if self.options.form_without_uuid:
            inputs = inputs[:3]
        if self.options.shuffle_form:
            inputs = list(reversed(inputs))
        decoy_before = decoy_after = ""
        if self.options.decoy_forms:
            decoy_before = (
                f'<form id="search" action="{self.base_url}/search" method="get">'
                '<input type="text" name="q" value="bg20k">'
                '<input type="hidden" name="confirm" value="no"></form>'
            )
            decoy_after = (
                f'<form action="{self.base_url}/ServiceLogin" method="post">'
                '<input type="hidden" name="Email" value="x@example.org">'
                '<input type="hidden" name="uuid" value="decoy"></form>'
                '<input type="hidden" name="stray" value="outside">'
            )
        title = "Google Drive – Virenwarnung" if german else "Google Drive - Virus scan warning"
        return (
            f"<!DOCTYPE html><html><head><title>{title}</title>"
            '<meta http-equiv="content-type" content="text/html; charset=utf-8"/></head><body>'
            '<div class="uc-main"><div id="uc-text"><p class="uc-warning-caption">Google Drive '
            'can\'t scan this file for viruses.</p><p class="uc-warning-subcaption">'
            f'<span class="uc-name-size"><a href="/open?id={node.id}">{html.escape(node.name)}'
            f"</a> ({len(node.data or b'') // 2**20}M)</span> is too large for Google to scan "
            "for viruses. Would you still like to download this file?</p>\n"
            + decoy_before
            + f'<form\n id="download-form"\n action="{action}" method="get">'
            '<input type="submit" id="uc-download-link" class="goog-inline-block jfk-button" '
            'value="Download anyway"/>\n'
            + "\n".join(inputs)
            + "</form>"
            + decoy_after
            + "</div></div></body></html>"
        )

    def _folder_view(self, h: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        node = self.nodes.get(query.get("id", ""))
        if node is None or node.data is not None:
            return reply(h, 404, b"<html><title>Not Found</title></html>", "text/html")
        if node.private:
            login = f"{self.base_url}/ServiceLogin?continue=folder"
            return reply(h, 302, b"", "text/html", {"Location": login})
        children = node.children[: self.options.listing_cap]
        entries = []
        for cid in children:
            child = self.nodes[cid]
            href = (
                f"https://drive.google.com/drive/folders/{cid}"
                if child.data is None
                else f"https://drive.google.com/file/d/{cid}/view?usp=drive_web"
            )
            entries.append(
                f'<div class="flip-entry" id="entry-{cid}" tabindex="0" role="link">'
                f'<a href="{href}" target="_blank"><div class="flip-entry-thumb"></div>'
                f'<div class="flip-entry-info"><div class="flip-entry-title">'
                f'{html.escape(child.name)}</div><div class="flip-entry-last-modified">'
                "<div>Jun 1, 2021</div></div></div></a></div>"
            )
        page = (
            f"<!DOCTYPE html><html><head><title>{html.escape(node.name)}</title></head>"
            f'<body><div class="flip-entries">{"".join(entries)}</div></body></html>'
        )
        return reply(h, 200, page.encode(), "text/html; charset=utf-8")

    def _sign_in(self, h: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        reply(
            h,
            200,
            b"<!DOCTYPE html><html><head><title>Sign in - Google Accounts</title>"
            b"</head><body>Sign in</body></html>",
            "text/html",
        )

    def _api(self, h: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        if not self.options.api_key or query.get("key") != self.options.api_key:
            return reply(h, 403, b'{"error": {"code": 403}}', "application/json")
        parent = query.get("q", "").split("'")[1] if "'" in query.get("q", "") else ""
        node = self.nodes.get(parent)
        if node is None:
            return reply(h, 404, b'{"error": {"code": 404}}', "application/json")
        start = int(query.get("pageToken", "0"))
        size = min(int(query.get("pageSize", "100")), self.options.api_page_size)
        page = node.children[start : start + size]
        files = []
        for cid in page:
            child = self.nodes[cid]
            item: dict[str, object] = {"id": cid, "name": child.name}
            if child.data is None:
                item["mimeType"] = "application/vnd.google-apps.folder"
            else:
                item.update(
                    mimeType="image/jpeg",
                    size=str(len(child.data)),
                    md5Checksum=hashlib.md5(child.data).hexdigest(),
                )
            files.append(item)
        body: dict[str, object] = {"files": files}
        if start + size < len(node.children):
            body["nextPageToken"] = str(start + size)
        return reply(h, 200, json.dumps(body).encode(), "application/json")


QUOTA_PAGE = (
    "<!DOCTYPE html><html><head><title>Google Drive - Quota exceeded</title></head><body>"
    '<div class="uc-main"><div id="uc-text"><p class="uc-error-caption">Sorry, you can\'t view '
    'or download this file at this time.</p><p class="uc-error-subcaption">Too many users have '
    "viewed or downloaded this file recently. Please try accessing the file again later. If "
    "the file you are trying to access is particularly large or is shared with many people, it "
    "may take up to 24 hours to be able to view or download the file.</p></div></div>"
    "</body></html>"
)


# The same page as Drive serves it to a German browser: the markup is the same, the words not.
QUOTA_PAGE_DE = (
    "<!DOCTYPE html><html><head><title>Google Drive – Kontingent überschritten</title></head>"
    '<body><div class="uc-main"><div id="uc-text"><p class="uc-error-caption">Sie können diese '
    'Datei zurzeit leider nicht aufrufen oder herunterladen.</p><p class="uc-error-subcaption">'
    "Diese Datei wurde in letzter Zeit von zu vielen Nutzern aufgerufen oder heruntergeladen. "
    "Bitte versuchen Sie es später noch einmal.</p></div></div></body></html>"
)
# Google's answer to a client it takes for a robot (403).
SORRY_PAGE = (
    "<html><head><title>https://drive.usercontent.google.com/download</title></head><body>"
    '<div id="infoDiv">Our systems have detected unusual traffic from your computer network. '
    "This page checks to see if it's really you sending the requests, and not a robot. We're "
    "sorry... but your computer or network may be sending automated queries.</div>"
    '<form id="captcha-form" action="index" method="post"><input type="hidden" name="q" '
    'value="x"></form></body></html>'
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, required=True, help="directory to serve as a folder")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--warn-size", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    files = {
        p.relative_to(args.tree).as_posix(): p.read_bytes()
        for p in sorted(args.tree.rglob("*"))
        if p.is_file()
    }
    emulator = DriveEmulator(
        Options(warn_size=args.warn_size, latency=args.latency_ms / 1000), port=args.port
    )
    folder = emulator.add_tree(files, args.tree.name)
    with emulator:
        for name, value in emulator.env().items():
            print(f"export {name}={value}")
        print(
            f"# {len(files)} files; fetch them with:\nbg20k fetch --source gdrive-folder:{folder}"
        )
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
