"""A small threaded HTTP server on 127.0.0.1 that serves files and misbehaves on request.

pytest-httpserver cannot cut a connection mid-body or stream slowly, so the download tests use
this. Each path has a Behaviour; every request is logged for assertions.
"""

from __future__ import annotations

import email.utils
import hashlib
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self


class QuietServer(ThreadingHTTPServer):
    """A loopback server that lets a client hang up without a word. The tests cut and drop
    connections on purpose, and socketserver printed a traceback for each from the request's
    own thread, burying real failures in noise. Python 3.11.7 also formats tracebacks with
    ``ast.parse``, whose recursion count is shared by every thread (CPython gh-106905, fixed in
    3.11.8); a worker crashed once with "AST constructor recursion depth mismatch" right after
    such tracebacks, which this removes one suspect for. Other errors are still printed."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@dataclass
class Behaviour:
    data: bytes
    etag: str | None = None  # default: a strong ETag from the content
    honour_range: bool = True
    always_416: bool = False
    statuses: list[tuple[int, str | None]] = field(default_factory=list)  # served first, in order
    cut_after: list[int] = field(default_factory=list)  # per request: close after K body bytes
    declared_extra: int = 0  # lie in Content-Length by this many bytes
    delay_per_chunk: float = 0.0
    chunk: int = 64 * 1024
    content_type: str = "application/octet-stream"
    redirect: str | None = None
    # A Range request is answered with a 206 that does not continue the file: from another
    # byte ("start"), or claiming another total size ("total").
    bad_range: str | None = None
    # Hold every GET's body after ``hold_after`` bytes until the test sets the event: an event
    # the client's progress can be synchronised on, instead of a timed slow server.
    hold: threading.Event | None = None
    hold_after: int = 0
    head_without_length: bool = False  # HEAD says nothing of the size: no disk check ahead


@dataclass
class LoggedRequest:
    method: str
    path: str
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)  # when the request arrived


class LoopbackServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 that hands every GET and HEAD to ``handle``."""

    def __init__(self, port: int = 0, tls: tuple[Path, Path] | None = None) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.handle(self)

            def do_HEAD(self) -> None:
                server.handle(self)

        self.httpd = QuietServer(("127.0.0.1", port), Handler)
        self.scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        # A short poll interval: shutdown() waits for one, at the end of every test.
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"{self.scheme}://{host!s}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FileServer(LoopbackServer):
    def __init__(self, tls: tuple[Path, Path] | None = None) -> None:
        super().__init__(tls=tls)
        self.routes: dict[str, Behaviour] = {}
        self.log: list[LoggedRequest] = []
        self._lock = threading.Lock()

    def url(self, path: str) -> str:
        return self.base_url + path

    def requests_for(self, path: str, method: str = "GET") -> list[LoggedRequest]:
        return [r for r in self.log if r.path == path and r.method == method]

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        head = h.command == "HEAD"
        with self._lock:
            self.log.append(LoggedRequest(h.command, h.path, dict(h.headers.items())))
            b = self.routes.get(h.path.split("?")[0])
            status = b.statuses.pop(0) if b and b.statuses and not head else None
            cut = b.cut_after.pop(0) if b and b.cut_after and not head else None
        if b is None:
            return reply(h, 404, b"not found", "text/plain")
        if status is not None:
            code, retry_after = status
            extra = {"Retry-After": retry_after} if retry_after else {}
            return reply(h, code, b"<html><title>busy</title></html>", "text/html", extra)
        if b.redirect:
            return reply(h, 302, b"", "text/plain", {"Location": b.redirect})
        if head and b.head_without_length:
            return reply(h, 405, b"", "text/plain")
        etag = b.etag or '"' + hashlib.sha256(b.data).hexdigest()[:16] + '"'
        serve_bytes(
            h,
            b.data,
            head=head,
            etag=etag,
            honour_range=b.honour_range,
            always_416=b.always_416,
            cut=cut,
            declared_extra=b.declared_extra,
            delay_per_chunk=b.delay_per_chunk,
            chunk=b.chunk,
            content_type=b.content_type,
            bad_range=b.bad_range,
            hold=b.hold,
            hold_after=b.hold_after,
        )


def serve_bytes(
    h: BaseHTTPRequestHandler,
    data: bytes,
    *,
    head: bool = False,
    etag: str | None = None,
    last_modified: float = 1_700_000_000,
    honour_range: bool = True,
    always_416: bool = False,
    cut: int | None = None,
    declared_extra: int = 0,
    delay_per_chunk: float = 0.0,
    chunk: int = 64 * 1024,
    content_type: str = "application/octet-stream",
    extra: dict[str, str] | None = None,
    bad_range: str | None = None,
    hold: threading.Event | None = None,
    hold_after: int = 0,
) -> None:
    """Serve ``data`` with Range/If-Range (206/416), optionally cut after ``cut`` body bytes."""
    total = len(data)
    validator = etag or email.utils.formatdate(last_modified, usegmt=True)
    headers = {
        "Accept-Ranges": "bytes",
        "Last-Modified": email.utils.formatdate(last_modified, usegmt=True),
        **(extra or {}),
    }
    if etag:
        headers["ETag"] = etag
    if etag and h.headers.get("If-None-Match") == etag:
        h.send_response(304)
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()  # a 304 never has a body
        return None
    start, code = 0, 200
    wanted = h.headers.get("Range")
    if wanted and honour_range and h.headers.get("If-Range", validator) == validator:
        first = int(wanted[6:].split("-")[0]) if wanted.startswith("bytes=") else total
        if always_416 or first >= total:
            return reply(h, 416, b"", "text/plain", {"Content-Range": f"bytes */{total}"})
        start, code = first, 206
        headers["Content-Range"] = f"bytes {start}-{total - 1}/{total}"
        if bad_range == "start" and start > 0:  # serves from byte 0, labelled honestly
            start = 0
            headers["Content-Range"] = f"bytes 0-{total - 1}/{total}"
        elif bad_range == "total":  # the file grew upstream: same offset, another total
            data = data + b"\0" * 1000
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
    body = data[start:]
    h.send_response(code)
    for k, v in headers.items():
        h.send_header(k, v)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body) + declared_extra))
    if cut is not None or declared_extra:
        h.send_header("Connection", "close")
        h.close_connection = True
    h.end_headers()
    if head:
        return None
    sent = 0
    try:
        while sent < len(body):
            if cut is not None and sent >= cut:
                break
            if hold is not None and sent >= hold_after and not hold.is_set():
                h.wfile.flush()
                hold.wait(60)
            size = chunk if cut is None else min(chunk, cut - sent)
            h.wfile.write(body[sent : sent + size])
            h.wfile.flush()
            sent += size
            if delay_per_chunk:
                time.sleep(delay_per_chunk)
    except OSError:  # the client went away (a broken pipe, a reset, a TLS EOF)
        pass
    return None


def reply(
    h: BaseHTTPRequestHandler,
    code: int,
    body: bytes,
    ctype: str,
    extra: dict[str, str] | None = None,
) -> None:
    h.send_response(code)
    h.send_header("Content-Type", ctype)
    h.send_header("Content-Length", str(len(body)))
    for k, v in (extra or {}).items():
        h.send_header(k, v)
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(body)
