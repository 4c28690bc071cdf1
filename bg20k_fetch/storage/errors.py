"""An object store's exceptions (botocore's, s3fs's, fsspec's) as one line and a documented
exit code, naming the store they came from and never a secret."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from bg20k_fetch.errors import SourceError, UsageError
from bg20k_fetch.redact import redact


def endpoint_of(url: str) -> str:
    """The store a URL goes to, as a person names it: the endpoint set in the environment, or
    the cloud's own."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "s3":
        for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
            if os.environ.get(name):
                return redact(os.environ[name])
        return "AWS S3"
    return f"the {scheme}:// store"


@contextmanager
def store_errors(url: str) -> Iterator[None]:
    """Turn the store's own exceptions into one line and a documented code."""
    try:
        yield
    except (FileNotFoundError, FileExistsError):
        raise
    except PermissionError as exc:
        raise SourceError(
            f"{redact(url)}: access denied ({first_line(exc)}).",
            hint="Check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID …) and the bucket policy.",
        ) from exc
    except Exception as exc:
        name = type(exc).__name__
        if name in ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"):
            raise SourceError(
                f"{redact(url)}: no credentials for the object store.",
                hint="Set them the usual way: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                "AWS_PROFILE or ~/.aws/credentials (and AWS_ENDPOINT_URL for MinIO or Ceph).",
            ) from exc
        if name == "ParamValidationError":
            raise UsageError(f"{redact(url)} cannot be used: {first_line(exc)}.") from exc
        where = endpoint_of(url)
        if "Timeout" in name:
            raise SourceError(
                f"The object store at {where} timed out ({redact(url)}): {first_line(exc)}.",
                hint="Check AWS_ENDPOINT_URL and the network, then run the same command again.",
            ) from exc
        if isinstance(exc, OSError | ConnectionError) or "Endpoint" in name or "Connect" in name:
            raise SourceError(
                f"Cannot reach the object store at {where} ({redact(url)}): {first_line(exc)}.",
                hint="Check AWS_ENDPOINT_URL (or the store's own setting) and the network.",
            ) from exc
        raise SourceError(
            f"{redact(url)}: the object store at {where} said: {first_line(exc)}.",
            hint="If it is not an S3 store, AWS_ENDPOINT_URL points at the wrong server.",
        ) from exc


def first_line(exc: BaseException) -> str:
    """The line that says what went wrong (botocore puts "Parameter validation failed:" on a
    line of its own, before the reason)."""
    lines = [x.strip() for x in str(exc).strip().splitlines() if x.strip()]
    if len(lines) > 1 and lines[0].endswith(":"):
        lines = [f"{lines[0]} {lines[1]}"]
    return redact(lines[0] if lines else type(exc).__name__)[:300]
