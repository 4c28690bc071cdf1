"""A mirror that misbehaves on purpose: every request, seeded at random, may get a fault.

Serves two versions of one archive (A, then B once "upstream replaces it"), over HTTPS when
given a certificate, with Range/If-Range/If-None-Match like a real server — and, with
probability ``rate`` per request, one of the faults in ``KINDS``. Every fault injected is
counted by kind, so a campaign can report what it threw at the client.
"""

from __future__ import annotations

import hashlib
import random
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.fileserver import LoopbackServer, reply, serve_bytes

KINDS = (
    "cut",  # close the connection after K body bytes
    "reset",  # a TCP reset after K body bytes
    "stall",  # stop sending past the client's read timeout
    "500",
    "502",
    "503",
    "429",
    "503-retry-after",
    "429-retry-after",
    "length-long",  # Content-Length larger than the body
    "length-short",  # Content-Length smaller than the body
    "ignore-range",  # a 200 with the whole file to a Range request
    "unasked-range",  # a 206 with a range nobody asked for
    "replaced",  # upstream now serves another file (another ETag, other bytes)
    "html-200",  # an HTML error page with status 200
    "redirect-loop",
    "redirect-http",  # from HTTPS to plain HTTP
)


@dataclass
class Version:
    data: bytes
    etag: str = ""

    def __post_init__(self) -> None:
        self.etag = '"' + hashlib.sha256(self.data).hexdigest()[:20] + '"'


class FaultyMirror(LoopbackServer):
    def __init__(
        self,
        a: bytes,
        b: bytes,
        *,
        seed: int,
        rate: float = 0.5,
        tls: tuple[Path, Path] | None = None,
        stall_seconds: float = 2.0,
    ) -> None:
        super().__init__(tls=tls)
        self.versions = (Version(a), Version(b))
        self.current = 0
        self.rng = random.Random(seed)
        self.rate = rate
        self.stall_seconds = stall_seconds
        self.injected: Counter[str] = Counter()
        self.requests = 0
        self.enabled = True
        self._lock = threading.Lock()

    @property
    def path(self) -> str:
        return "/BG-20k.zip"

    def _choose(self, h: BaseHTTPRequestHandler) -> str | None:
        with self._lock:
            self.requests += 1
            if not self.enabled or h.command != "GET" or self.rng.random() >= self.rate:
                return None
            kind = self.rng.choice(KINDS)
            if kind == "replaced":
                self.current = 1 - self.current
            self.injected[kind] += 1
            return kind

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        if h.path.split("?")[0] == "/plain":
            return reply(h, 200, b"plain http", "text/plain")
        if h.path.split("?")[0] != self.path:
            return reply(h, 404, b"not found", "text/plain")
        kind = self._choose(h)
        version = self.versions[self.current]
        data, etag = version.data, version.etag
        with self._lock:
            k = self.rng.randrange(1, max(2, len(data)))
        if kind in ("500", "502", "503", "429"):
            return reply(h, int(kind), b"<html><title>busy</title></html>", "text/html")
        if kind in ("503-retry-after", "429-retry-after"):
            code = int(kind[:3])
            return reply(h, code, b"<html></html>", "text/html", {"Retry-After": "1"})
        if kind == "html-200":
            page = b"<!DOCTYPE html><html><head><title>Mirror error</title></head></html>"
            return reply(h, 200, page, "text/html")
        if kind == "redirect-loop":
            return reply(h, 302, b"", "text/plain", {"Location": self.path})
        if kind == "redirect-http":
            port = self.httpd.server_address[1]
            return reply(h, 302, b"", "text/plain", {"Location": f"http://127.0.0.1:{port}/plain"})
        if kind == "cut":
            return serve_bytes(h, data, etag=etag, cut=k)
        if kind == "reset":
            return self._reset_after(h, data, etag, k)
        if kind == "stall":
            return self._stall_after(h, data, etag, k)
        if kind == "length-long":
            return serve_bytes(h, data, etag=etag, declared_extra=1 + k % 1000, honour_range=False)
        if kind == "length-short":
            return self._short_length(h, data, etag, k)
        if kind == "ignore-range":
            return serve_bytes(h, data, etag=etag, honour_range=False)
        if kind == "unasked-range" and "Range" not in h.headers:
            return self._unasked_range(h, data, etag, k)
        return serve_bytes(h, data, etag=etag)

    # -- the faults that need their own wire format ------------------------------------------

    def _head(
        self, h: BaseHTTPRequestHandler, code: int, etag: str, length: int, **extra: str
    ) -> None:
        h.send_response(code)
        h.send_header("ETag", etag)
        h.send_header("Accept-Ranges", "bytes")
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("Content-Length", str(length))
        for name, value in extra.items():
            h.send_header(name.replace("_", "-"), value)
        h.send_header("Connection", "close")
        h.close_connection = True
        h.end_headers()

    def _reset_after(self, h: BaseHTTPRequestHandler, data: bytes, etag: str, k: int) -> None:
        self._head(h, 200, etag, len(data))
        try:
            h.wfile.write(data[:k])
            h.wfile.flush()
            # SO_LINGER 0: close sends a RST instead of a FIN.
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass

    def _stall_after(self, h: BaseHTTPRequestHandler, data: bytes, etag: str, k: int) -> None:
        self._head(h, 200, etag, len(data))
        try:
            h.wfile.write(data[:k])
            h.wfile.flush()
            time.sleep(self.stall_seconds)
        except OSError:
            pass

    def _short_length(self, h: BaseHTTPRequestHandler, data: bytes, etag: str, k: int) -> None:
        self._head(h, 200, etag, k)  # announces fewer bytes than the file has …
        try:
            h.wfile.write(data)  # … and sends them all: the client must stop at k, or notice
            h.wfile.flush()
        except OSError:
            pass

    def _unasked_range(self, h: BaseHTTPRequestHandler, data: bytes, etag: str, k: int) -> None:
        self._head(h, 206, etag, k, Content_Range=f"bytes 0-{k - 1}/{len(data)}")
        try:
            h.wfile.write(data[:k])
            h.wfile.flush()
        except OSError:
            pass
