"""`bg20k bom`: BG-20k as a CycloneDX 1.6 data component, for training-data records."""

from __future__ import annotations

import argparse
import json

from bg20k_fetch.cli.ui import Ui

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of `bg20k cite`'s start
if TYPE_CHECKING:
    from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "bom",
        help="BG-20k as a CycloneDX 1.6 data component (for training-data records)",
        description="Prints a CycloneDX 1.6 JSON BOM whose subject is BG-20k (the license, "
        "copyright, authors, sources and, for a fetched copy, its digest and provenance), or "
        "adds the component to a model's own CycloneDX BOM with --into.",
    )
    p.add_argument("--dest", metavar="DIR", help="the fetched copy to describe (default: yours)")
    p.add_argument(
        "--format",
        choices=("cyclonedx", "spdx"),
        default="cyclonedx",
        help="cyclonedx (1.6 JSON, default) or spdx (3.0.1 JSON-LD, the spdx extra)",
    )
    target = p.add_mutually_exclusive_group()
    target.add_argument("-o", "--output", metavar="FILE", help="write the BOM to FILE")
    target.add_argument(
        "--into", metavar="FILE", help="add BG-20k to this CycloneDX JSON BOM (a model's)"
    )
    p.add_argument("--force", action="store_true", help="replace an existing -o FILE")
    p.set_defaults(handler=cmd_bom)


def cmd_bom(args: argparse.Namespace, ui: Ui) -> int:
    from bg20k_fetch.dataset.bom import add_into, document
    from bg20k_fetch.dataset.target import Target
    from bg20k_fetch.locations import Paths
    from bg20k_fetch.release import load_release
    from bg20k_fetch.util.fs import OUTPUT_HINT, atomic_write, output_target
    from bg20k_fetch.util.userpath import user_path

    release = load_release()
    root = Target.resolve(args.dest, Paths.from_env(), release).root
    tree = root if (root / "PROVENANCE.yaml").is_file() else None
    if args.into:
        if args.format != "cyclonedx":
            from bg20k_fetch.errors import UsageError

            raise UsageError("--into adds to a CycloneDX BOM; --format spdx writes a document.")
        path = user_path(args.into, "--into")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            from bg20k_fetch.errors import UsageError

            raise UsageError(f"Cannot read {path}: {exc}.") from exc
        atomic_write(path, add_into(text, release, tree).encode("utf-8"), hint=OUTPUT_HINT)
        ui.info(f"Added BG-20k to {path} (a component and a dependency of its subject).")
        return 0
    if args.format == "spdx":
        from bg20k_fetch.dataset.spdx import document as spdx_document

        text = spdx_document(release, tree)
    else:
        text = json.dumps(document(release, tree), indent=2, ensure_ascii=False) + "\n"
    if not args.output or args.output == "-":
        ui.raw(text)
        return 0
    output = user_path(args.output, "-o")
    mode = output_target(output, replace=args.force)
    atomic_write(output, text.encode("utf-8"), mode=mode if mode is not None else 0o644,
                 make_parents=False, hint=OUTPUT_HINT)  # fmt: skip
    kind = "an SPDX 3.0.1 document" if args.format == "spdx" else "a CycloneDX 1.6 BOM"
    ui.info(f"Wrote {output}: {kind} of BG-20k.")
    return 0
