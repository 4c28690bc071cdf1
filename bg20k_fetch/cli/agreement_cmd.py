"""`bg20k agreement`: the text, its digest or JSON — nothing heavier than the text is loaded."""

from __future__ import annotations

from bg20k_fetch.cli.ui import Ui
from bg20k_fetch.util.shipped import quick_agreement_sha256

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of `bg20k cite`'s start
if TYPE_CHECKING:
    import argparse  # the parser is not loaded for the commands quick.py answers


def cmd_agreement(args: argparse.Namespace, ui: Ui) -> int:
    digest = quick_agreement_sha256() if args.sha256 else None
    if digest is not None:  # the text on disk is the one the current description names
        ui.raw(digest + "\n")
        return 0
    from bg20k_fetch.consent.agreement import load_agreement

    agreement = load_agreement()
    if args.sha256:
        ui.raw(agreement.sha256 + "\n")
    elif args.json:
        ui.json(agreement.to_json())
    else:
        ui.show_agreement(agreement, pager=True)
    return 0
