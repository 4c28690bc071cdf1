"""The arguments of `bg20k fetch`, `verify` and `lock`.

Kept apart from their handlers so that `bg20k cite` or `bg20k agreement` never import the
download stack (requests, archives, locks) just to build the parser.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from bg20k_fetch.cli.running import lazy

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of `bg20k cite`'s start
if TYPE_CHECKING:
    from typing import Any


def add_fetch_parsers(sub: Any, add_pin: Callable[[argparse.ArgumentParser], None]) -> None:
    # size: one declaration per option, read top to bottom like --help
    p = sub.add_parser("fetch", help="accept (if needed), download and verify BG-20k")
    p.add_argument("--accept", action="store_true", help="accept the agreement (for scripts)")
    add_pin(p)
    _add_dest(p)
    p.add_argument(
        "--source",
        action="append",
        default=[],
        type=_nonempty,
        metavar="SRC",
        help="an http(s):// archive, a Google Drive file or folder link, a published copy "
        "(s3://BUCKET/PREFIX/BG-20k) or a local archive or folder; repeat for failover",
    )
    p.add_argument(
        "--from",
        dest="from_paths",
        action="append",
        default=[],
        type=_nonempty,
        metavar="PATH",
        help="local archives/directories that together make the dataset",
    )
    p.add_argument(
        "--sha256", metavar="HEX", type=_sha256, help="the expected SHA-256 of a single --source"
    )
    p.add_argument(
        "--with",
        dest="components",
        action="append",
        default=[],
        type=_nonempty,
        metavar="SPLIT",
        help="also fetch an optional split (train_denoise) into the dataset",
    )
    p.add_argument(
        "--cookies",
        metavar="FILE",
        type=_path,
        help="cookies.txt (Netscape) from a browser signed in to Google: sent to Google "
        "Drive only, its way through Drive's throttling of anonymous downloads",
    )
    p.add_argument(
        "--keep-archive",
        action="store_true",
        help="keep the downloaded archive (or Drive folder cache)",
    )
    p.add_argument(
        "--jobs",
        type=_positive,
        default=None,
        metavar="N",
        help="files downloaded at once from a Drive folder or a bucket (default: a Drive "
        "folder adapts, 8 up to 16, halving when Drive throttles; a bucket uses 8)",
    )
    p.add_argument(
        "--allow-partial",
        action="store_true",
        help="keep a short dataset (recorded as partial) instead of failing",
    )
    p.add_argument("--force", action="store_true", help="fetch again even if already complete")
    p.add_argument("--lock", metavar="FILE", type=_path, help="require the dataset in this lock")
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="exit 7 instead of waiting when another fetch holds the destination",
    )
    p.add_argument("--dry-run", action="store_true", help="print the plan; write nothing")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--quiet", action="store_true", help="no progress output")
    out.add_argument("--json", action="store_true", help="one JSON event per line on stdout")
    p.set_defaults(handler=lazy("fetch_cmds", "cmd_fetch"))

    p = sub.add_parser("verify", help="check a fetched (or published) dataset against its manifest")
    p.add_argument(
        "location", nargs="?", metavar="URL", help="a published dataset (s3://…/BG-20k) instead"
    )
    _add_dest(p)
    p.add_argument(
        "--deep",
        action="store_true",
        help="re-hash every file on every core (a bucket: compare the SHA-256 it keeps)",
    )
    p.add_argument("--lock", metavar="FILE", type=_path, help="require the dataset in this lock")
    p.add_argument("--json", action="store_true", help="the report as JSON on stdout")
    p.set_defaults(handler=lazy("verify_cmds", "cmd_verify"))

    p = sub.add_parser("publish", help="upload a verified dataset to an object store (a lab's)")
    p.add_argument(
        "dest_url", metavar="DEST_URL", help="s3://BUCKET/PREFIX; the copy goes to …/BG-20k"
    )
    _add_dest(p)
    p.add_argument("--accept", action="store_true", help="accept the agreement (for scripts)")
    add_pin(p)
    p.add_argument(
        "--force",
        action="store_true",
        help="replace another published dataset, or publish beside objects bg20k did not "
        "write (never overwriting or deleting them)",
    )
    p.add_argument(
        "--repair",
        action="store_true",
        help="check every published object's SHA-256 and upload again what differs",
    )
    p.add_argument("--jobs", type=_positive, default=8, metavar="N", help="uploads at once")
    p.add_argument(
        "--dry-run", action="store_true", help="say what would be uploaded; write nothing"
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument("--quiet", action="store_true", help="no progress, only the result line")
    out.add_argument("--json", action="store_true", help="one JSON event per line on stdout")
    p.set_defaults(handler=lazy("publish_cmd", "cmd_publish"))

    p = sub.add_parser("paths", help="a split's verified images, one path per line")
    p.add_argument("--split", required=True, help="train, testval, or a fetched optional split")
    _add_dest(p)
    form = p.add_mutually_exclusive_group()
    form.add_argument(
        "-0", "--null", action="store_true", help="end each path with NUL, not a newline"
    )
    form.add_argument("--json", action="store_true", help="the paths as a JSON list")
    p.set_defaults(handler=lazy("paths_cmd", "cmd_paths"))

    p = sub.add_parser("lock", help="write the dataset digest and manifest to a lock file")
    _add_dest(p)
    p.add_argument(
        "-o", "--output", metavar="FILE", type=_nonempty, required=True, help="- for stdout"
    )
    p.add_argument("--force", action="store_true", help="replace an existing FILE")
    p.set_defaults(handler=lazy("verify_cmds", "cmd_lock"))


def _positive(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("must be between 1 and 64")
    return value


def _nonempty(text: str) -> str:
    # An empty value would silently mean "here"; a script that lost a variable must fail.
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def _path(text: str) -> Path:
    return Path(_nonempty(text))


def _sha256(text: str) -> str:
    value = text.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise argparse.ArgumentTypeError("must be 64 hex digits (a SHA-256)")
    return value


def _add_dest(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dest",
        type=_nonempty,
        metavar="DIR",
        help="the directory holding BG-20k/ (default: BG20K_DATA_DIR, else the user data dir)",
    )
