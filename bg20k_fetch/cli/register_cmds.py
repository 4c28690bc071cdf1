"""`bg20k register LOCATION` and `bg20k audit LOCATION`: a lab's consent register."""

from __future__ import annotations

import argparse

from bg20k_fetch.cli.ui import Ui
from bg20k_fetch.errors import Bg20kError, ExitCode

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of `bg20k cite`'s start
if TYPE_CHECKING:
    from typing import Any


class NotAllAccepted(Bg20kError):
    exit_code = ExitCode.NOT_ALL_ACCEPTED


class DamagedRegister(Bg20kError):
    exit_code = ExitCode.INTEGRITY


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "register",
        help="add your consent (or its revocation) to a shared copy's register",
        description="Adds the consent record in force here (or its revocation) to the register "
        "of a shared copy: a BG-20k folder on a shared file system, or a published "
        "s3://…/BG-20k. Records are only ever added; everyone with access can read them.",
    )
    p.add_argument("location", metavar="LOCATION", help="the shared BG-20k folder or URL")
    p.set_defaults(handler=cmd_register)

    p = sub.add_parser(
        "audit",
        help="who with access to a shared copy has accepted the current agreement",
        description="One row per person in the copy's register; with --people/--group, also "
        "those with access and no acceptance on record. Exit 0: everyone has accepted the "
        "current text; 10: someone has not; 5: a record in the register is damaged or altered.",
    )
    p.add_argument("location", metavar="LOCATION", help="the shared BG-20k folder or URL")
    p.add_argument("--people", metavar="FILE", help="the OS users with access, one per line")
    p.add_argument("--group", metavar="NAME", help="the Unix group whose members have access")
    p.add_argument("--json", action="store_true", help="the audit as JSON on stdout")
    p.add_argument("--csv", metavar="FILE", help="also write the rows as CSV to FILE")
    p.add_argument("--html", metavar="FILE", help="also write a page to file, self-contained")
    p.set_defaults(handler=cmd_audit)


def cmd_register(args: argparse.Namespace, ui: Ui) -> int:
    from bg20k_fetch.api import register

    ui.info(register(args.location).line())
    return 0


def cmd_audit(args: argparse.Namespace, ui: Ui) -> int:
    from bg20k_fetch.api import audit
    from bg20k_fetch.register.audit import read_people
    from bg20k_fetch.register.report import to_csv, to_html, to_table
    from bg20k_fetch.util.fs import atomic_write
    from bg20k_fetch.util.userpath import user_path

    people = read_people(args.people) if args.people else None
    report = audit(args.location, people=people, group=args.group)
    if args.csv:
        atomic_write(user_path(args.csv, "--csv"), to_csv(report).encode("utf-8"))
    if args.html:
        atomic_write(user_path(args.html, "--html"), to_html(report).encode("utf-8"))
    if args.json:
        ui.json(report.to_json())
    else:
        ui.raw(to_table(report))
    if report.damaged:
        raise DamagedRegister(
            f"{len(report.damaged)} file(s) in the register are not intact records "
            "(altered, truncated or foreign): see DAMAGED above.",
            hint="Find out who changed them; bg20k never rewrites or deletes a record.",
        )
    if report.missing:
        raise NotAllAccepted(
            f"{len(report.missing)} of {len(report.rows)} people with access have not accepted "
            f"the current text ({report.agreement_version}).",
            hint="Each of them runs `bg20k accept --register LOCATION`.",
        )
    return 0
