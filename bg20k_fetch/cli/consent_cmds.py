"""`bg20k accept`, `status`, `history` and `revoke`."""

from __future__ import annotations

from bg20k_fetch.cli.ui import Ui
from bg20k_fetch.consent.agreement import load_agreement, validate_pin
from bg20k_fetch.consent.record import State, accepted_line, describe, read_status
from bg20k_fetch.consent.store import read_history, revoke, tidy
from bg20k_fetch.errors import ConsentError
from bg20k_fetch.locations import Paths
from bg20k_fetch.util.shipped import release_file

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of `bg20k cite`'s start
if TYPE_CHECKING:
    import argparse  # the parser is not loaded for the commands quick.py answers


def cmd_accept(args: argparse.Namespace, ui: Ui) -> int:
    from bg20k_fetch.consent.gate import Identity, environment_pin, require_consent

    paths = Paths.from_env()
    agreement = load_agreement()
    identity: Identity = {"name": args.name, "email": args.email, "affiliation": args.affiliation}
    status = read_status(paths, agreement)
    if status.state is State.DAMAGED:
        ui.info(f"The consent file {paths.consent_file} {status.reason}; it will be kept aside.")
    if status.in_force and not args.yes and not any(identity.values()):
        assert status.record is not None
        ui.info(
            f"Already accepted on {status.record.accepted_at:%Y-%m-%d %H:%M UTC} "
            f"({status.record.method}); nothing to do."
        )
        return 0
    if not args.yes and not ui.interactive and environment_pin() is None:
        if args.agreement_sha256 is not None:
            validate_pin(args.agreement_sha256)  # a malformed pin is a usage error first
        raise ConsentError(
            "No terminal to ask on, so nothing was accepted.",
            hint="Read the text with `bg20k agreement`, then run `bg20k accept --yes` "
            f"(optionally --agreement-sha256 {agreement.sha256[:12]}).",
        )
    record = require_consent(
        paths,
        agreement,
        accept=args.yes,
        pin=args.agreement_sha256,
        ask=ui.ask_consent if ui.interactive else None,
        renew=True,
        identity=identity,
    )
    ui.info(accepted_line(record, paths))
    return _register_too(args, ui)


def _register_too(args: argparse.Namespace, ui: Ui) -> int:
    """``--register LOCATION``: the local record, now in force (or revoked), is added to a
    shared copy's register too. A register that cannot be written keeps the local record."""
    if getattr(args, "register", None) is None:
        return 0
    from bg20k_fetch.api import register
    from bg20k_fetch.errors import Bg20kError

    try:
        ui.info(register(args.register).line())
    except Bg20kError as exc:
        exc.message = f"{exc.message.rstrip('.')}; your consent here stands as recorded."
        raise
    return 0


def cmd_status(args: argparse.Namespace, ui: Ui) -> int:
    paths = Paths.from_env()
    agreement = load_agreement()
    tidy(paths)  # finish what a killed accept or revoke left, so status and history agree
    status = read_status(paths, agreement)
    record = status.record
    files = {
        "consent": str(paths.consent_file),
        "history": str(paths.history_file),
        "accepted_texts": str(paths.accepted_texts_dir),
        "config": str(paths.config_file),
        "data_dir": str(paths.data_dir),
        "cache_dir": str(paths.cache_dir),
        "dataset_description": str(release_file()),
    }
    data = {
        "in_force": status.in_force,
        "state": status.state.value,
        "detail": describe(status),
        "agreement": {
            "title": agreement.title,
            "version": agreement.version,
            "sha256": agreement.sha256,
        },
        "record": record.to_json() if record else None,
        "files": files,
    }
    if args.json:
        ui.json(data)
        return 0
    ui.say(f"Agreement: {agreement.title} {agreement.version}")
    ui.say(f"  SHA-256: {agreement.sha256}")
    verdict = "in force" if status.in_force else f"NOT in force: {describe(status)}"
    ui.say(f"Consent:   {verdict}", style="green" if status.in_force else "red")
    if record is not None:
        ui.say(
            f"  {record.status} {record.accepted_at:%Y-%m-%d %H:%M:%S UTC} by "
            f"{record.method}, user {record.os_user} on {record.host}, "
            f"bg20k {record.tool_version}"
        )
        if record.revoked_at:
            ui.say(f"  revoked {record.revoked_at:%Y-%m-%d %H:%M:%S UTC}")
        for location in record.datasets:
            ui.say(f"  data fetched under it: {location}")
    ui.say("Files:")
    for name, path in files.items():
        ui.say(f"  {name:20} {path}")
    return 0


def cmd_history(args: argparse.Namespace, ui: Ui) -> int:
    paths = Paths.from_env()
    tidy(paths)
    events = read_history(paths)
    if args.json:
        ui.json(events)
        return 0
    if not events:
        ui.info("No consent has been given or revoked yet.")
    for event in events:
        if event.get("event") == "damaged":
            ui.say(
                f"damaged line {event.get('line')} ({event.get('reason')}): {event.get('text')!r}"
            )
            continue
        kind = str(event.get("event"))
        recovered = event.get("reconciled") is True
        when = event.get("revoked_at") if kind == "revoked" else event.get("accepted_at")
        ui.say(
            f"{when}  {kind:9} {event.get('agreement_version')} "
            f"{str(event.get('agreement_sha256'))[:12]}  by {event.get('method')}  "
            f"{event.get('os_user')}@{event.get('host')}"
            + ("  (its writer was stopped; read back from the record)" if recovered else "")
        )
    return 0


def cmd_revoke(args: argparse.Namespace, ui: Ui) -> int:
    paths = Paths.from_env()
    record = revoke(paths, load_agreement())
    if record is None:
        ui.info("No consent is in force; nothing to revoke.")
        return 0
    ui.info(
        f"Consent to the {record.agreement_title} ({record.agreement_version}) is revoked; "
        "nothing counts as accepted until you accept again."
    )
    if record.datasets:
        ui.info("Data fetched under the earlier consent lies at: " + ", ".join(record.datasets))
    else:
        ui.info("No data was fetched under it.")
    return _register_too(args, ui)
