"""The release agreement exactly as shipped, and the digest that identifies it.

The SHA-256 is taken over the file's bytes as shipped: UTF-8, no newline added or removed, no
normalisation. A single changed byte makes a different agreement, which earlier consent does not
cover.
"""

from __future__ import annotations

from dataclasses import dataclass

from bg20k_fetch.errors import IntegrityError, ReleaseDescriptionError, UsageError
from bg20k_fetch.util.shipped import agreement_facts, agreement_path, agreement_text

TYPE_CHECKING = False  # not typing's: `bg20k status` imports this module
if TYPE_CHECKING:
    from bg20k_fetch.release import Release


@dataclass(frozen=True)
class Agreement:
    title: str
    version: str
    dataset: str
    text: str
    sha256: str

    def to_json(self) -> dict[str, str]:
        return {
            "dataset": self.dataset,
            "title": self.title,
            "version": self.version,
            "sha256": self.sha256,
            "text": self.text,
        }


def load_agreement(release: Release | None = None) -> Agreement:
    """The agreement ``release`` names (by default the description in use), its text checked
    against the digest the description pins."""
    # The description in use is read from its compiled copy when that is current: `bg20k
    # status` then never loads the release model, a tenth of its start-up.
    facts = agreement_facts() if release is None else None
    if facts is None:
        if release is None:
            from bg20k_fetch.release import load_release

            release = load_release()
        facts = {
            "title": release.agreement.title,
            "version": release.agreement.version,
            "file": release.agreement.file,
            "sha256": release.agreement.sha256,
            "dataset": release.dataset,
        }
    path = agreement_path(facts)
    try:
        data, digest = agreement_text(path)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise ReleaseDescriptionError(
            f"Cannot read the agreement text {path}: {reason}.", hint="Reinstall bg20k."
        ) from exc
    if digest != facts["sha256"]:
        # The description and the text must travel together; a mismatch means one was edited
        # without the other, and we must not ask anyone to accept an unidentified text.
        raise IntegrityError(
            f"The shipped agreement {path.name} has SHA-256 {digest}, "
            f"but the dataset description says {facts['sha256']}.",
            hint="Update agreement/bg20k.yaml together with the text, or reinstall bg20k.",
        )
    return Agreement(
        title=facts["title"],
        version=facts["version"],
        dataset=facts["dataset"],
        text=data.decode("utf-8"),
        sha256=digest,
    )


def digest_matches(pin: str, digest: str) -> bool:
    """A pin is the full digest or a prefix of at least 12 hex digits (validated by the caller)."""
    return digest.startswith(pin.lower())


def validate_pin(pin: str) -> str:
    pin = pin.strip().lower()
    if len(pin) < 12 or len(pin) > 64 or any(c not in "0123456789abcdef" for c in pin):
        raise UsageError(
            f"'{pin}' is not an agreement digest: give the SHA-256 (or at least its first 12 hex "
            "digits) printed by `bg20k agreement --sha256`."
        )
    return pin
