"""What `bg20k publish` (bg20k_fetch/storage/publisher.py) leaves in a lab's bucket, rule by rule.

bg20k deletes or replaces only what it can prove it wrote. A publish writes every object with
its SHA-256, the receipts after the data, the completion marker last and only if none exists;
it refuses a prefix holding someone else's objects (and never writes over them even with
--force), refuses to replace another committed dataset without --force, and says in its result
exactly what it uploaded, kept and removed. Against moto's real S3 server: most tests call
publish_tree directly and check its result and the bucket (a full publish costs a second).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bg20k_fetch.errors import StorageError
from tests.data import SMALL
from tests.helpers import cli
from tests.s3server import NEEDS_STORE, dataset, keys, with_denoise

# Slow: every rule here drives moto's S3 server and s3fs, a second of CPU a publish; the fast
# layer keeps its budget (docs/testing.md) and the mutation runs select these by `store_rules`.
pytestmark = [
    NEEDS_STORE,
    pytest.mark.slow,
    pytest.mark.store_rules,
]


# -- helpers: what publish_tree takes, and what a publish should leave -------------------------


@dataclasses.dataclass
class Inputs:
    root: Path
    release: Any
    record: Any


def inputs(local: Path) -> Inputs:
    """The tree, the release and the consent record in force, as api.publish hands them over."""
    from bg20k_fetch.consent.agreement import load_agreement
    from bg20k_fetch.consent.gate import require_consent
    from bg20k_fetch.locations import Paths
    from bg20k_fetch.release import load_release

    record = require_consent(Paths.from_env(), load_agreement(), accept=True)
    return Inputs(local / "BG-20k", load_release(), record)


def data_of(root: Path) -> dict[str, str]:
    from bg20k_fetch.dataset.provenance import read_provenance
    from bg20k_fetch.storage.proof import data_files

    provenance = read_provenance(root)
    return data_files(root, provenance.components, provenance.release_files)


def digest_of(root: Path) -> str:
    from bg20k_fetch.dataset.provenance import read_provenance

    return read_provenance(root).digest


def receipts_of(root: Path, release: Any) -> set[str]:
    """The receipts a publish uploads: those the tree has, CONSENT.yaml always (the record)."""
    from bg20k_fetch.dataset.provenance import CONSENT_NAME, MARKER_NAME, receipt_names

    return {
        n
        for n in receipt_names(release)
        if n != MARKER_NAME and (n == CONSENT_NAME or (root / n).is_file())
    }


def stored_sha256(s3: Any, bucket: str, key: str) -> str:
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    return base64.b64decode(head["ChecksumSHA256"]).hex()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


MARKER = ".bg20k-published"


# -- refusals: said in one line naming the prefix, and nothing written --------------------------


def test_publish_tree_refuses_someone_elses_prefix_unless_forced(
    bucket: str, local: Path, s3: Any
) -> None:
    """A direct caller of publish_tree who passes no flags gets the safe defaults: a prefix
    holding objects bg20k did not write is refused, with the CLI's words and hint. Forced, a
    dry run names those objects as left alone and still writes nothing."""
    from bg20k_fetch.storage.publisher import publish_tree

    got = inputs(local)
    s3.put_object(Bucket=bucket, Key="f/BG-20k/notes.txt", Body=b"theirs")
    before = keys(s3, bucket)
    with pytest.raises(StorageError) as refused:
        publish_tree(got.root, f"s3://{bucket}/f", release=got.release, record=got.record)
    assert refused.value.message == (
        f"s3://{bucket}/f/BG-20k holds 1 object(s) bg20k did not publish (e.g. notes.txt); "
        "refusing to publish into it."
    )
    assert refused.value.hint == (
        "Publish to another prefix, or pass --force to publish beside them "
        "(bg20k never overwrites or deletes them)."
    )
    plan = publish_tree(
        got.root,
        f"s3://{bucket}/f",
        release=got.release,
        record=got.record,
        force=True,
        dry_run=True,
    )
    data = data_of(got.root)
    assert plan.to_json() == {
        "url": f"s3://{bucket}/f/BG-20k",
        "digest": digest_of(got.root),
        "state": "dry run",
        "uploaded": len(data),
        "skipped": 0,
        "removed": 0,
        "bytes": sum((got.root / r).stat().st_size for r in data),
        "foreign": ["notes.txt"],
    }
    assert keys(s3, bucket) == before


def test_objects_of_others_where_a_publish_would_write_are_named_and_kept(
    bucket: str, local: Path, s3: Any
) -> None:
    """Even --force never writes over an object bg20k did not write: the refusal names the
    first three such keys (sorted) and says what to do; the bucket is as it was."""
    from bg20k_fetch.storage.publisher import publish_tree

    got = inputs(local)
    image = sorted(data_of(got.root))[0]
    theirs = ["MANIFEST.sha256", "PROVENANCE.yaml", "README.md", image]
    for rel in theirs:
        s3.put_object(Bucket=bucket, Key=f"c/BG-20k/{rel}", Body=b"theirs " + rel.encode())
    before = keys(s3, bucket)
    with pytest.raises(StorageError) as refused:
        publish_tree(
            got.root, f"s3://{bucket}/c", release=got.release, record=got.record, force=True
        )
    first = sorted(theirs)[:3]
    assert refused.value.message == (
        f"s3://{bucket}/c/BG-20k holds objects bg20k did not write where this publish would "
        f"write ({', '.join(first)}); they were left as they are."
    )
    assert refused.value.hint == "Publish to another prefix, or move those objects away yourself."
    assert keys(s3, bucket) == before


# -- a publish: every object with its checksum, the marker last ---------------------------------


class Phases:
    """A reporter that keeps what it is told."""

    def __init__(self) -> None:
        self.phases: list[tuple[str, int | None, str]] = []
        self.advanced = 0

    def phase(self, name: str, total: int | None, unit: str = "bytes") -> None:
        self.phases.append((name, total, unit))

    def advance(self, amount: int) -> None:
        self.advanced += amount

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def test_a_publish_by_default_writes_every_object_then_trusts_sizes(
    bucket: str, local: Path, s3: Any
) -> None:
    """A publish leaves exactly the data and receipts under <prefix>/BG-20k (a trailing slash
    on the URL changes nothing), each with the SHA-256 S3 keeps for later checks, CONSENT.yaml
    from the record in force now, and a completion marker naming the digest, the file count, a
    UTC second, the tool and the agreement. Run again without --repair it trusts sizes: an
    object of the same size is left as it is, and the result says "unchanged"."""
    from bg20k_fetch._version import __version__
    from bg20k_fetch.dataset.provenance import CONSENT_NAME
    from bg20k_fetch.storage.publisher import publish_tree

    got = inputs(local)
    # The publisher's record now, not the one the tree was fetched under.
    record = dataclasses.replace(got.record, name="A. Publisher", affiliation="The Lab")
    assert record.to_yaml() != (got.root / CONSENT_NAME).read_bytes()
    reporter = Phases()
    # A prefix ending in X, and a trailing slash: only the slash is dropped.
    done = publish_tree(
        got.root, f"s3://{bucket}/boX/", release=got.release, record=record, reporter=reporter
    )
    data = data_of(got.root)
    size = sum((got.root / r).stat().st_size for r in data)
    digest = digest_of(got.root)
    assert done.to_json() == {
        "url": f"s3://{bucket}/boX/BG-20k",
        "digest": digest,
        "state": "published",
        "uploaded": len(data),
        "skipped": 0,
        "removed": 0,
        "bytes": size,
        "foreign": [],
    }
    assert reporter.phases == [(f"publish {len(data)} of {len(data)} files", size, "bytes")]
    assert reporter.advanced == size
    stored = keys(s3, bucket)
    receipts = receipts_of(got.root, got.release)
    expected = {f"boX/BG-20k/{r}" for r in [*data, *receipts, MARKER]}
    assert set(stored) == expected  # no lease, no journal, nothing elsewhere
    for rel in [*data, *receipts]:
        key = f"boX/BG-20k/{rel}"
        want = record.to_yaml() if rel == CONSENT_NAME else (got.root / rel).read_bytes()
        assert stored[key] == want, rel
        assert stored_sha256(s3, bucket, key) == sha(want), rel
    marker = json.loads(stored[f"boX/BG-20k/{MARKER}"])
    assert set(marker) == {"digest", "file_count", "published_at", "tool", "agreement_sha256"}
    assert marker["digest"] == digest
    assert marker["file_count"] == sum(SMALL.values())
    assert marker["tool"] == f"bg20k {__version__}"
    assert marker["agreement_sha256"] == record.agreement_sha256
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", marker["published_at"])
    when = datetime.fromisoformat(marker["published_at"])
    assert abs((datetime.now(UTC) - when).total_seconds()) < 120

    # Same size, other bytes: a plain publish does not look inside; --repair would.
    image = sorted(r for r in data if r.endswith(".jpg"))[0]
    body = bytearray(stored[f"boX/BG-20k/{image}"])
    body[len(body) // 2] ^= 0xFF
    s3.put_object(Bucket=bucket, Key=f"boX/BG-20k/{image}", Body=bytes(body))
    before = keys(s3, bucket)
    again = publish_tree(got.root, f"s3://{bucket}/boX", release=got.release, record=record)
    assert (again.state, again.uploaded, again.skipped, again.removed) == (
        "unchanged",
        0,
        len(data),
        0,
    )
    assert keys(s3, bucket) == before


def test_repair_replaces_only_objects_whose_checksum_differs_and_keeps_the_marker(
    bucket: str, local: Path, s3: Any
) -> None:
    """--repair re-uploads exactly the damaged object, says so (1 uploaded, the rest already
    there), and leaves the committed marker as it was: the copy never stops being a dataset."""
    from bg20k_fetch.api import publish

    url = f"s3://{bucket}/r"
    first = publish(url, dest=local, accept=True)
    assert first.state == "published"
    root = local / "BG-20k"
    data = data_of(root)
    marker = keys(s3, bucket)[f"r/BG-20k/{MARKER}"]
    image = sorted(r for r in data if r.endswith(".jpg"))[0]
    body = bytearray((root / image).read_bytes())
    body[len(body) // 2] ^= 0xFF
    s3.put_object(
        Bucket=bucket, Key=f"r/BG-20k/{image}", Body=bytes(body), ChecksumAlgorithm="SHA256"
    )
    repaired = publish(url, dest=local, accept=True, repair=True)
    assert repaired.to_json() == {
        "url": f"{url}/BG-20k",
        "digest": digest_of(root),
        "state": "repaired",
        "uploaded": 1,
        "skipped": len(data) - 1,
        "removed": 0,
        "bytes": (root / image).stat().st_size,
        "foreign": [],
    }
    after = keys(s3, bucket)
    assert after[f"r/BG-20k/{image}"] == (root / image).read_bytes()
    assert stored_sha256(s3, bucket, f"r/BG-20k/{image}") == data[image]
    assert after[f"r/BG-20k/{MARKER}"] == marker


def test_another_dataset_is_replaced_only_with_force_and_as_the_dry_run_said(
    bucket: str, local: Path, tmp_path: Path, s3: Any
) -> None:
    """A committed copy of another dataset is refused without --force, naming its digest. With
    it, the dry run's numbers are what the publish then does: the new images uploaded, the
    shared receipts re-uploaded, the old images (bg20k's, by the old manifest) removed, the
    marker replaced by the new dataset's; the CLI's JSON result says the same."""
    from bg20k_fetch.api import publish

    url = f"s3://{bucket}/a"
    old = publish(url, dest=local, accept=True)
    other = dataset(tmp_path, "other", start=300)
    with pytest.raises(StorageError) as refused:
        publish(url, dest=other, accept=True)
    assert refused.value.message == (
        f"{url}/BG-20k holds another published dataset (digest {old.digest[:16]}…); "
        "refusing to replace it."
    )
    assert refused.value.hint == "Publish to another prefix, or pass --force to replace it."
    before = keys(s3, bucket)
    plan = publish(url, dest=other, accept=True, force=True, dry_run=True)
    assert keys(s3, bucket) == before
    root, old_root = other / "BG-20k", local / "BG-20k"
    data, old_data = data_of(root), data_of(old_root)
    gone = set(old_data) - set(data)
    assert gone  # the two datasets have different images
    result = cli("publish", url, "--dest", str(other), "--force", "--json")
    assert result.code == 0, result.err
    done = json.loads(result.out.splitlines()[-1])
    assert done.pop("event") == "done"
    assert done == {
        "url": f"{url}/BG-20k",
        "digest": digest_of(root),
        "state": "published",
        "uploaded": plan.uploaded,
        "skipped": plan.skipped,
        "removed": len(gone),
        "bytes": plan.bytes,
        "foreign": [],
    }
    assert plan.state == "dry run" and plan.removed == len(gone)
    assert plan.uploaded + plan.skipped == len(data)
    assert plan.uploaded >= len(set(data) - set(old_data))
    after = keys(s3, bucket)
    assert not {f"a/BG-20k/{r}" for r in gone} & set(after)
    for rel in data:
        assert after[f"a/BG-20k/{rel}"] == (root / rel).read_bytes(), rel
    assert json.loads(after[f"a/BG-20k/{MARKER}"])["digest"] == digest_of(root)


def test_a_commit_seen_while_taking_the_lease_stops_the_publish_before_any_upload(
    bucket: str, local: Path, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another publisher commits between this one's look at the prefix and its lease: all it
    decided is stale, so it uploads nothing, keeps the other's marker, and says to run again."""
    from bg20k_fetch.storage import publisher

    got = inputs(local)
    theirs = json.dumps({"digest": "e" * 64, "file_count": 9}).encode() + b"\n"
    real_lease = publisher.lease

    @contextmanager
    def late(store: Any, digest: str, names: Any) -> Iterator[Any]:
        s3.put_object(Bucket=bucket, Key=f"late/BG-20k/{MARKER}", Body=theirs)
        with real_lease(store, digest, names) as renew:
            yield renew

    monkeypatch.setattr(publisher, "lease", late)
    with pytest.raises(StorageError) as refused:
        publisher.publish_tree(
            got.root, f"s3://{bucket}/late", release=got.release, record=got.record
        )
    assert refused.value.message == (
        f"Another publish committed s3://{bucket}/late/BG-20k while this one was starting; "
        "nothing was written."
    )
    assert refused.value.hint == "Run the same command again: it will see what is there now."
    after = keys(s3, bucket)
    assert after[f"late/BG-20k/{MARKER}"] == theirs
    written = {k.removeprefix("late/BG-20k/") for k in after} - {MARKER}
    assert not written & (set(data_of(got.root)) | receipts_of(got.root, got.release))


def test_a_publish_killed_mid_upload_leaves_a_journal_of_every_key_it_would_write(
    bucket: str, local: Path, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal is the only proof that a half-written prefix is bg20k's: it must name every
    data and receipt key this publish may write, and the dataset's digest, before the first
    upload; no marker is written, so the prefix is never taken for a dataset."""
    from bg20k_fetch.dataset.provenance import receipt_names
    from bg20k_fetch.storage import store as objectstore
    from bg20k_fetch.storage.publisher import publish_tree

    got = inputs(local)
    real_put, calls = objectstore.Store.put, {"n": 0}

    def crashing(self: Any, local_path: str, rel: str, sha256: str) -> None:
        calls["n"] += 1
        if calls["n"] > 2:
            raise KeyboardInterrupt
        real_put(self, local_path, rel, sha256)

    monkeypatch.setattr(objectstore.Store, "put", crashing)
    with pytest.raises(KeyboardInterrupt):
        publish_tree(got.root, f"s3://{bucket}/k", release=got.release, record=got.record, jobs=1)
    left = keys(s3, bucket)
    assert f"k/BG-20k/{MARKER}" not in left
    journal = json.loads(left["k/BG-20k/.bg20k-publish-journal"])
    assert journal == {
        "digest": digest_of(got.root),
        "keys": sorted({*data_of(got.root), *receipt_names(got.release)}),
    }


# -- how many uploads at once -------------------------------------------------------------------


def test_uploads_run_as_many_at_a_time_as_jobs_says(
    bucket: str, local: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--jobs bounds the uploads in flight (a lab's rate limits, a laptop's uplink): one at a
    time with --jobs 1, and eight by default."""
    from bg20k_fetch.storage import store as objectstore
    from bg20k_fetch.storage.publisher import publish_tree

    got = inputs(local)
    data = data_of(got.root)
    real_put = objectstore.Store.put
    lock, state = threading.Lock(), {"now": 0, "most": 0}

    def slow(self: Any, local_path: str, rel: str, sha256: str) -> None:
        if rel in data:
            with lock:
                state["now"] += 1
                state["most"] = max(state["most"], state["now"])
            time.sleep(0.15)
            with lock:
                state["now"] -= 1
        real_put(self, local_path, rel, sha256)

    monkeypatch.setattr(objectstore.Store, "put", slow)
    one = publish_tree(
        got.root, f"s3://{bucket}/j1", release=got.release, record=got.record, jobs=1
    )
    assert one.uploaded == len(data) and state["most"] == 1
    state["most"] = 0
    default = publish_tree(got.root, f"s3://{bucket}/j8", release=got.release, record=got.record)
    assert default.uploaded == len(data) > 8
    assert state["most"] == 8


# -- the optional split ---------------------------------------------------------------------------


def test_a_copy_with_the_optional_split_published_again_is_unchanged(
    bucket: str, local: Path, tmp_path: Path, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Publishing the same tree twice, optional split and all, does nothing the second time:
    the split's own manifest in the bucket is the one the tree has, so nothing is re-uploaded
    and the copy is never uncommitted."""
    from bg20k_fetch.api import publish

    with_denoise(tmp_path, local, monkeypatch)
    url = f"s3://{bucket}/dn"
    first = publish(url, dest=local, accept=True)
    assert first.state == "published"
    data = data_of(local / "BG-20k")
    assert sum(r.startswith("train_denoise/") for r in data) == SMALL["train"]
    before = keys(s3, bucket)
    again = publish(url, dest=local, accept=True)
    assert (again.state, again.uploaded, again.skipped, again.removed) == (
        "unchanged",
        0,
        len(data),
        0,
    )
    assert keys(s3, bucket) == before
