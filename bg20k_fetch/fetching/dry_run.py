"""`fetch --dry-run`: what a fetch would do, without writing anything or opening a connection
before consent is in force."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bg20k_fetch.config import load_config
from bg20k_fetch.consent.agreement import load_agreement, validate_pin
from bg20k_fetch.consent.gate import check_pin, environment_pin
from bg20k_fetch.consent.record import ConsentStatus, describe, read_status
from bg20k_fetch.dataset.pin import LockFile
from bg20k_fetch.dataset.target import Target
from bg20k_fetch.fetching.decision import Action, decide
from bg20k_fetch.gdrive.cookies import DriveCookies
from bg20k_fetch.locations import Paths
from bg20k_fetch.release import load_release
from bg20k_fetch.sources import Source, plan_sources
from bg20k_fetch.transfer.http import make_session
from bg20k_fetch.util.disk import Space, plan_space


@dataclass(frozen=True)
class PlannedSource:
    source: str
    kind: str
    size: int | None
    sha256: str | None
    needs: str


@dataclass(frozen=True)
class Plan:
    consent: str
    agreement_version: str
    agreement_sha256: str
    destination: Path
    action: str  # reuse, build, rebuild or refuse: what the fetch would do
    existing: str
    sources: list[PlannedSource]
    cache_dir: Path
    disk: list[Space]

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        for item, space in zip(data["disk"], self.disk, strict=True):
            item["enough"] = space.enough
        return data


def dry_run(
    dest: str | Path | None,
    sources: Sequence[str],
    from_paths: Sequence[str],
    *,
    accept: bool,
    agreement_sha256: str | None,
    sha256: str | None,
    force: bool = False,
    allow_partial: bool = False,
    lock: Path | None = None,
    cookies: Path | None = None,
) -> Plan:
    paths, agreement, release = Paths.from_env(), load_agreement(), load_release()
    config = load_config(paths)
    if cookies is not None:
        DriveCookies.load(cookies)  # a file that is not one is refused by the plan too
    if agreement_sha256 is not None:
        check_pin(validate_pin(agreement_sha256), agreement)
    status = read_status(paths, agreement)
    target = Target.resolve(dest, paths, release)
    decision = decide(
        target,
        release,
        force=force,
        allow_partial=allow_partial,
        lock_file=LockFile.read(lock, release.dataset) if lock else None,
        archive_sha256=sha256,
    )
    existing = decision.describe(target.root)

    chosen = [
        s for group in plan_sources(sources, from_paths, sha256, config, release) for s in group
    ]
    planned = _described(chosen, online=status.in_force)
    first = next((p.size for p in planned if p.size), None)
    need = first if not from_paths else sum(p.size or 0 for p in planned)
    local = all(p.needs == "local files" for p in planned)  # nothing goes through the cache
    space = (
        plan_space(paths.cache_dir, target.dest_dir, need, partial=need if local else 0)
        if need and decision.action is not Action.REUSE
        else []
    )
    return Plan(
        _consent_phrase(status, accept),
        agreement.version,
        agreement.sha256,
        target.root,
        decision.action.value,
        existing,
        planned,
        paths.cache_dir,
        space,
    )


def _consent_phrase(status: ConsentStatus, accept: bool) -> str:
    if status.in_force:
        return "in force"
    if accept or environment_pin() is not None:
        return f"not yet recorded ({describe(status)}); the fetch would record it"
    return f"missing ({describe(status)}); the fetch would ask or exit 3"


def _described(chosen: list[Source], *, online: bool) -> list[PlannedSource]:
    # Asking a server for a size is a connection: only once consent is in force.
    session = make_session() if online else None
    planned = []
    for source in chosen:
        described = source.describe(session)
        planned.append(
            PlannedSource(str(source), source.kind, described.size, source.sha256, described.needs)
        )
    return planned
