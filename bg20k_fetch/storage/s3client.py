"""How bg20k's S3 clients are made: one retry loop, bounded timeouts, and the per-process work
(service models, the CA bundle) done once rather than once per client.

Opening a store makes two clients (the store's and a short-timeout prober), and every client
used to parse botocore's service models and load the whole CA bundle into a new TLS context:
most of the CPU a small publish or fetch spent on the client side.
"""

from __future__ import annotations

import threading
from typing import Any

from bg20k_fetch.transfer.settings import CONNECT_TIMEOUT

_LOADERS: list[Any] = []  # one botocore data loader per process, made on first use
_CONTEXTS: dict[str, Any] = {}  # verify setting -> its TLS context, built once per process
_CONTEXTS_LOCK = threading.Lock()


def s3_options(read_timeout: float, attempts: int) -> dict[str, object]:
    """s3fs options: botocore's own retries (standard mode: backoff, SlowDown and 5xx retried)
    are the one retry loop; a connection that answers nothing times out instead of waiting for
    ever."""
    return {
        "config_kwargs": {
            "connect_timeout": min(CONNECT_TIMEOUT, read_timeout),
            "read_timeout": read_timeout,
            "retries": {"total_max_attempts": attempts, "mode": "standard"},
            "http_session_cls": _http_session_cls(),
        },
    }


def aio_session() -> Any:
    """A fresh session (credentials and endpoint read anew, as for a fresh instance) sharing one
    data loader: botocore's service models are parsed once per process, not per store opened."""
    import botocore.loaders
    from aiobotocore.session import AioSession

    if not _LOADERS:
        _LOADERS.append(botocore.loaders.create_loader())
    session = AioSession()
    session.register_component("data_loader", _LOADERS[0])
    return session


_SESSION_CLS: list[type] = []


def _http_session_cls() -> type:
    """aiobotocore's HTTP session, with the verifying TLS context shared per process.

    The context is built exactly as aiobotocore builds it (CERT_REQUIRED, hostname checked, the
    same CA bundle); only the second and later loads of the bundle are skipped. A client
    certificate or a proxy gets aiobotocore's own per-client path, since those mutate the
    context they are given."""
    if _SESSION_CLS:
        return _SESSION_CLS[0]
    from aiobotocore.httpsession import AIOHTTPSession

    class SharedTLSSession(AIOHTTPSession):  # type: ignore[misc]
        def _build_ssl_contexts(self, proxy_url: Any) -> Any:
            if proxy_url or getattr(self, "_cert_file", None):
                return super()._build_ssl_contexts(proxy_url)
            key = repr(getattr(self, "_verify", True))
            with _CONTEXTS_LOCK:
                if key not in _CONTEXTS:
                    _CONTEXTS[key] = self._build_verify_context()
                return _CONTEXTS[key], None

    if not hasattr(AIOHTTPSession, "_build_verify_context"):
        _SESSION_CLS.append(AIOHTTPSession)  # another aiobotocore: its own, unshared contexts
    else:
        _SESSION_CLS.append(SharedTLSSession)
    return _SESSION_CLS[0]
