"""A proxy in front of moto's S3 server that misbehaves on purpose: ``503 SlowDown`` storms (how
S3 throttles), silence, and cut connections — for the campaign's object-store rounds."""

from __future__ import annotations

import http.client
import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from tests.fileserver import QuietServer

SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


class FaultyS3:
    """``with FaultyS3(moto_url, seed) as proxy:`` then point AWS_ENDPOINT_URL at proxy.url.

    ``slowdown`` is the share of requests answered 503 SlowDown; ``silent`` makes every request
    hang without a byte; ``cut`` is the share of requests whose connection is dropped."""

    def __init__(self, upstream: str, seed: int) -> None:
        self.upstream = urlsplit(upstream)
        self.rng = random.Random(seed)
        self.slowdown = 0.0
        self.cut = 0.0
        self.silent = False
        self.injected: Counter[str] = Counter()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                proxy._handle(self)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FaultyS3:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.silent = False
        self.server.shutdown()
        self.server.server_close()

    def _roll(self, share: float) -> bool:
        with self._lock:
            return self.rng.random() < share

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        body = _read_body(h)
        if self.silent:
            self.injected["silent"] += 1
            time.sleep(30)  # longer than any timeout the campaign sets
            h.close_connection = True
            return
        if self._roll(self.cut):
            self.injected["cut"] += 1
            h.close_connection = True
            return
        if self._roll(self.slowdown):
            self.injected["slowdown"] += 1
            h.send_response(503)
            h.send_header("Content-Type", "application/xml")
            h.send_header("Content-Length", str(len(SLOW_DOWN)))
            h.end_headers()
            if h.command != "HEAD":
                h.wfile.write(SLOW_DOWN)
            return
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        headers = {k: v for k, v in h.headers.items() if k.lower() != "transfer-encoding"}
        headers["Content-Length"] = str(len(body))
        conn.request(h.command, h.path, body=body, headers=headers)
        reply = conn.getresponse()
        data = reply.read()
        h.send_response(reply.status)
        for key, value in reply.getheaders():
            if key.lower() not in ("transfer-encoding", "content-length", "connection"):
                h.send_header(key, value)
        # A HEAD's length is the object's, not its (empty) body's.
        length = reply.getheader("Content-Length") if h.command == "HEAD" else None
        h.send_header("Content-Length", length or str(len(data)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)
        conn.close()


def _read_body(h: BaseHTTPRequestHandler) -> bytes:
    if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                h.rfile.readline()
                break
            chunks.append(h.rfile.read(size))
            h.rfile.readline()
        return b"".join(chunks)
    length = int(h.headers.get("Content-Length") or 0)
    return h.rfile.read(length) if length else b""
