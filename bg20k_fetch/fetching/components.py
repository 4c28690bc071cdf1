"""Optional splits (``train_denoise``): fetched on request, through the same engine, into an
existing dataset — without touching, or fetching again, the rest of it.

The denoised training images are one official Drive file of their own, with no published count
(one user reports about 9,000), reusing the train file names. However the archive nests them,
each image lands at ``train_denoise/<name>``. The component gets its own manifest and digest in
the tree's receipts; the dataset digest (train and testval) does not change.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from bg20k_fetch.config import Config
from bg20k_fetch.consent.store import consent_held
from bg20k_fetch.dataset.ecosystem import ecosystem_files, images_by_split
from bg20k_fetch.dataset.manifest import dataset_digest, manifest_text
from bg20k_fetch.dataset.provenance import (
    RELEASE_FILES_NAME,
    Component,
    component_manifest,
    provenance_files,
    read_manifest,
    read_provenance,
    was_adopted,
)
from bg20k_fetch.dataset.verification import verify_tree
from bg20k_fetch.errors import IntegrityError, StorageError, UsageError
from bg20k_fetch.fetching.build import Run
from bg20k_fetch.fetching.problems import write_problems
from bg20k_fetch.fetching.staging import Staging
from bg20k_fetch.gdrive.links import DriveUrls
from bg20k_fetch.sources import Fetching, ObjectStore, Source, parse_source
from bg20k_fetch.transfer.http import make_session
from bg20k_fetch.util.fs import atomic_write, fsync_dir


def add_component(run: Run, name: str, urls: DriveUrls, plan: list[list[Source]]) -> int:
    """Fetch the optional split ``name`` into the installed dataset; returns its file count.

    From a published copy when the fetch names one (a lab's nodes never go to Drive for it),
    else from the release's own source for it."""
    release, target = run.release, run.target
    info = release.component_source(name)
    if info is None:
        raise UsageError(f"The release names no source for {name}.")
    provenance = read_provenance(target.real_root)
    if name in provenance.components and not run.options.force:
        report = verify_tree(target.real_root, release)
        if report.ok:
            run.reporter.note(f"{name} is already there and verified; nothing to do.")
            return provenance.components[name].file_count
    published = [s for g in plan for s in g if isinstance(s, ObjectStore) and not s.archive]
    source: Source = (
        published[0]
        if published
        else parse_source(info.url if info.kind == "http" else f"gdrive:{info.id}", Config())
    )
    fetching = Fetching(
        make_session(),
        urls,
        run.paths,
        target,
        run.reporter,
        run.policy,
        run.options.jobs,
        run.throttle,
        keep_archive=run.options.keep_archive,
        cookies=run.cookies,
    )
    staging = Staging(
        target.work_dir("staging"), release, run.reporter, run.options.limits, component=name
    )
    staging.discard()
    try:
        staging.root.mkdir(parents=True)
        source.gather(staging, fetching)
        _check(run, name, staging)
        with consent_held(run.paths, run.agreement):
            count = _install(run, name, staging, str(source))
    finally:
        fetching.release()
        staging.discard()
    if not run.options.keep_archive:
        fetching.remove_caches()
    return count


def _check(run: Run, name: str, staging: Staging) -> None:
    damaged = sorted(p for p, i in staging.files.items() if not i.jpeg_ok)
    problems = [f"damaged (not a complete JPEG): {p}" for p in damaged]
    problems += [f"not a JPEG (another image type): {p}" for p in staging.not_jpeg]
    if not staging.files:
        problems.append(f"no images at all for {name}/")
    if problems:
        listed = write_problems(run.target, problems)
        raise IntegrityError(
            f"The source of {name} does not give a usable {name}/: {problems[0]}; the full list "
            f"is in {listed}.",
            hint="Try again later, or leave it out: the dataset itself is unchanged.",
        )
    train = {p.split("/", 1)[1] for p in read_manifest(run.target.real_root) if "/" in p}
    names = {p.split("/", 1)[1] for p in staging.files}
    if train and not names <= train:
        run.reporter.note(
            f"{len(names - train)} of {len(names)} {name} images have no namesake in train/."
        )


def _install(run: Run, name: str, staging: Staging, served_by: str) -> int:
    """Swap the component's folder in, then rewrite its manifest and the provenance."""
    root = run.target.real_root
    hashes = {p: i.sha256 for p, i in staging.files.items()}
    previous = set(_listed(root, name))
    old = root.parent / f".{root.name}.old-{name}-{os.getpid()}"
    try:
        if (root / name).exists():
            os.rename(root / name, old)
        try:
            os.rename(staging.root / name, root / name)
        except OSError:
            if old.exists():
                os.rename(old, root / name)
            raise
        fsync_dir(root)
    except OSError as exc:
        raise StorageError(f"Cannot move {name}/ into {run.target.root}: {exc.strerror}.") from exc
    atomic_write(root / component_manifest(name), manifest_text(hashes).encode("utf-8"))
    provenance = read_provenance(root)
    provenance.components[name] = Component(
        file_count=len(hashes),
        digest=dataset_digest(hashes),
        served_by=served_by,
        created_at=datetime.now(UTC).replace(microsecond=0),
    )
    provenance.sizes = {p: s for p, s in provenance.sizes.items() if not p.startswith(f"{name}/")}
    provenance.sizes |= {p: staging.files[p].size for p in sorted(staging.files)}
    for receipt, data in provenance_files(provenance).items():
        atomic_write(root / receipt, data)
    _refresh_metadata(run, root, list(provenance.components), bool(provenance.release_files))
    if old.exists():
        _retire(run, name, old, previous)
    run.reporter.note(
        f"Added {name}/ to {run.target.root}: {len(hashes)} images, digest "
        f"{dataset_digest(hashes)[:16]}…; the dataset digest is unchanged."
    )
    return len(hashes)


def _refresh_metadata(run: Run, root: Path, parts: list[str], released: bool) -> None:
    """croissant.json and the dataset card name every split the tree now holds."""
    main = read_manifest(root)
    paths = [*main, *(p for n in parts for p in read_manifest(root, component_manifest(n)))]
    roots = read_manifest(root, RELEASE_FILES_NAME) if released else {}
    images = images_by_split(run.release, paths)
    for receipt, text in ecosystem_files(run.release, manifest_text(main), images, roots).items():
        atomic_write(root / receipt, text.encode("utf-8"))


def _listed(root: Path, name: str) -> dict[str, str]:
    try:
        return read_manifest(root, component_manifest(name))
    except IntegrityError:
        return {}


def _retire(run: Run, name: str, old: Path, listed: set[str]) -> None:
    """Remove the replaced copy of the component: what its manifest listed is bg20k's; any
    other file in it (the user's) is moved beside the tree first, and said so. In a tree bg20k
    adopted in place, every file is the user's: the old folder moves aside whole."""
    if was_adopted(run.target.real_root):
        aside = run.target.kept_dir()
        aside.mkdir()
        os.rename(old, aside / name)
        run.reporter.note(f"The {name}/ bg20k had adopted in place is yours: moved to {aside}.")
        return
    kept = []
    for path in sorted(p for p in old.rglob("*") if p.is_file() or p.is_symlink()):
        rel = f"{name}/{path.relative_to(old).as_posix()}"
        if rel in listed:
            path.unlink()
            continue
        beside = run.target.kept_dir() / rel
        beside.parent.mkdir(parents=True, exist_ok=True)
        os.rename(path, beside)
        kept.append(rel)
    for directory in sorted((p for p in old.rglob("*") if p.is_dir()), reverse=True):
        directory.rmdir()
    old.rmdir()
    if kept:
        run.reporter.note(f"Kept {len(kept)} file(s) bg20k did not make from the old {name}/.")
