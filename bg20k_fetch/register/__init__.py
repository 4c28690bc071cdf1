"""A lab's consent register: every person's acceptance added to the shared copy they use (a
published prefix or a directory on a shared file system), and the audit of who with access has
accepted the current agreement. May import consent, storage and the layers below."""

from __future__ import annotations

from dataclasses import dataclass

from bg20k_fetch.consent.record import ConsentRecord
from bg20k_fetch.register.places import Register
from bg20k_fetch.register.records import RegisterRecord


@dataclass(frozen=True)
class Registered:
    location: str
    record: str  # its file name in the register
    added: bool  # False: the register held this very record already
    shared_fields: tuple[str, ...]  # what beyond user, host and time others can read
    event: str = "accepted"

    def line(self) -> str:
        what = "added to" if self.added else "already in"
        shared = f" (with your {', '.join(self.shared_fields)})" if self.shared_fields else ""
        return (
            f"Your {self.record_event} of the agreement is {what} the register of "
            f"{self.location}{shared}: everyone with access to that copy can read it."
        )

    @property
    def record_event(self) -> str:
        return "acceptance" if self.event == "accepted" else "revocation"


def add_to_register(location: str, record: ConsentRecord) -> Registered:
    """Add ``record`` (the person's own, as in force locally) to the register at
    ``location``; raises StorageError/SourceError when it cannot be written."""
    entry = RegisterRecord.of(record)
    name = entry.file_name()
    added = Register(location).add(name, entry.to_bytes())
    shared = tuple(
        label
        for label, value in (
            ("name", record.name),
            ("e-mail", record.email),
            ("affiliation", record.affiliation),
        )
        if value
    )
    return Registered(location, name, added, shared, entry.event)
