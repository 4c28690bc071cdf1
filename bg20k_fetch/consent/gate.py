"""The consent gate: what counts as acceptance before anything is fetched.

In order: a record already in force for the shipped text; ``--accept``; the environment
(``BG20K_ACCEPT_AGREEMENT=yes`` or a digest pin); a person answering the prompt. Being in CI
accepts nothing by itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypedDict

from bg20k_fetch.consent.agreement import Agreement, digest_matches, validate_pin
from bg20k_fetch.consent.record import ConsentRecord, ConsentStatus, describe, read_status
from bg20k_fetch.consent.store import record_acceptance
from bg20k_fetch.errors import ConsentError, UsageError
from bg20k_fetch.locations import Paths

ENV_ACCEPT = "BG20K_ACCEPT_AGREEMENT"


def environment_pin() -> str | None:
    """'yes' accepts any shipped text; a digest (or 12+ digit prefix) accepts only that text."""
    value = os.environ.get(ENV_ACCEPT, "").strip()
    if not value or value.lower() in {"no", "0", "false"}:
        return None
    if value.lower() == "yes":
        return ""
    try:
        return validate_pin(value)
    except UsageError as exc:
        raise UsageError(
            f"{ENV_ACCEPT}={value!r} is neither 'yes' nor an agreement digest."
        ) from exc


def check_pin(pin: str | None, agreement: Agreement) -> None:
    if pin and not digest_matches(pin, agreement.sha256):
        raise ConsentError(
            f"The pinned agreement digest {pin} does not match the shipped agreement "
            f"{agreement.version} ({agreement.sha256}); nothing was accepted.",
            hint="Read it with `bg20k agreement` and pin the new digest if you accept it.",
        )


Asker = Callable[[Agreement, ConsentStatus], bool]


class Identity(TypedDict, total=False):
    """Who accepts, recorded with the consent when given."""

    name: str | None
    email: str | None
    affiliation: str | None


def require_consent(
    paths: Paths,
    agreement: Agreement,
    *,
    accept: bool = False,
    pin: str | None = None,
    ask: Asker | None = None,
    renew: bool = False,
    identity: Identity | None = None,
) -> ConsentRecord:
    """Return the record in force, recording a new one from flag, environment or prompt.

    ``renew`` records a new acceptance even when one is in force (``bg20k accept`` with a name
    or ``--yes``). Raises ConsentError when none of them gives consent; nothing else may happen
    before this.
    """
    pin = validate_pin(pin) if pin is not None else None  # an empty pin is refused, never ignored
    check_pin(pin, agreement)
    status = read_status(paths, agreement)
    if status.in_force and status.record is not None and not renew:
        return status.record
    who = identity or {}
    if accept:
        return record_acceptance(paths, agreement, "flag", **who)
    env_pin = environment_pin()
    if env_pin is not None:
        check_pin(env_pin, agreement)
        return record_acceptance(paths, agreement, "environment", **who)
    if ask is not None:
        if ask(agreement, status):
            return record_acceptance(paths, agreement, "prompt", **who)
        raise ConsentError("The agreement was not accepted; nothing was recorded or fetched.")
    raise ConsentError(
        f"The {agreement.dataset} agreement {agreement.version} has not been accepted "
        f"({describe(status)}).",
        hint="Read it with `bg20k agreement`, then run `bg20k accept` or pass --accept.",
    )
