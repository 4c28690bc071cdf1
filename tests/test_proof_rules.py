"""What a prefix proves about itself (bg20k_fetch/storage/proof.py), rule by rule.

bg20k deletes or replaces only what it can prove it wrote. In a bucket the proof is a committed
copy's own receipts and exactly the keys its manifests list, or the journal of a publish that did
not finish; anything else is someone else's, however it is named. A published copy is read only
behind its completion marker, whose digest its manifest must give; every refusal is one line
that says what to do. Against moto's real S3 server: most tests lay a prefix out by hand with
boto3 and ask proof.py, or `bg20k verify`, about it (a full publish costs a second).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bg20k_fetch.dataset.manifest import dataset_digest, manifest_text
from bg20k_fetch.dataset.provenance import (
    Component,
    Provenance,
    ReleaseFile,
    component_manifest,
    provenance_files,
)
from bg20k_fetch.errors import IntegrityError, StorageError
from bg20k_fetch.release import load_release
from bg20k_fetch.storage.lease import JOURNAL
from bg20k_fetch.storage.proof import committed_marker, data_files, owned_keys, read_published
from bg20k_fetch.storage.store import PUBLISHED_MARKER, open_store
from tests.data import jpeg
from tests.helpers import Result, cli
from tests.s3server import NEEDS_STORE, keys

# Slow: every rule here drives moto's S3 server and s3fs, a second of CPU a publish; the fast
# layer keeps its budget (docs/testing.md) and the mutation runs select these by `store_rules`.
pytestmark = [
    NEEDS_STORE,
    pytest.mark.slow,
    pytest.mark.store_rules,
]


def error_line(result: Result) -> str:
    return result.err.splitlines()[-1]


# -- a published copy, laid out by hand as `bg20k publish` leaves it ----------------------------

IMAGES = {"train/h_0.jpg": jpeg(0), "train/h_1.jpg": jpeg(1), "testval/h_2.jpg": jpeg(2)}
SPLIT = {"train_denoise/d_0.jpg": jpeg(10), "train_denoise/d_1.jpg": jpeg(11)}
RELEASED = {"README.txt": b"the release's own notes\n"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest(files: dict[str, bytes]) -> bytes:
    return manifest_text({p: sha(b) for p, b in files.items()}).encode()


def marker(manifest_bytes: bytes, **extra: object) -> bytes:
    body = {"digest": sha(manifest_bytes), "file_count": 3, "tool": "bg20k test", **extra}
    return json.dumps(body).encode() + b"\n"


def put(s3: Any, bucket: str, prefix: str, objects: dict[str, bytes]) -> None:
    for rel, body in objects.items():
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{rel}", Body=body)


def copy_objects(
    images: dict[str, bytes] = IMAGES,
    *,
    split: dict[str, bytes] | None = None,
    released: dict[str, bytes] | None = None,
) -> dict[str, bytes]:
    """Every object of a committed copy: images, manifests, SIZES.json, PROVENANCE.yaml (as
    bg20k writes them) and the completion marker over the manifest."""
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    components = {}
    if split is not None:
        hashes = {p: sha(b) for p, b in split.items()}
        components["train_denoise"] = Component(
            file_count=len(split), digest=dataset_digest(hashes), served_by="test", created_at=when
        )
    provenance = Provenance(
        tool="bg20k test",
        created_at=when,
        dataset="BG-20k",
        release="v1.0",
        agreement_version="1.0",
        agreement_sha256="a" * 64,
        complete=True,
        served_by="test",
        counts={"train": 2, "testval": 1},
        file_count=len(images),
        digest=dataset_digest({p: sha(b) for p, b in images.items()}),
        release_files={
            n: ReleaseFile(origin="release", size=len(b), sha256=sha(b))
            for n, b in (released or {}).items()
        },
        components=components,
        sizes={p: len(b) for p, b in {**images, **(split or {})}.items()},
    )
    main = manifest(images)
    objects = {**images, "MANIFEST.sha256": main, **provenance_files(provenance)}
    if split is not None:
        objects |= {**split, component_manifest("train_denoise"): manifest(split)}
    if released:
        objects |= {**released, "RELEASE-FILES.sha256": manifest(released)}
    return objects | {PUBLISHED_MARKER: marker(main)}


def hashes(*parts: dict[str, bytes]) -> dict[str, str]:
    return {p: sha(b) for part in parts for p, b in part.items()}


# -- read_published: only a committed copy is a dataset, and every refusal says what to do -----


def test_a_prefix_without_a_completion_marker_is_no_dataset(bucket: str, s3: Any) -> None:
    """A publish killed half-way leaves receipts but no marker: it is never read as a dataset,
    and the user is told what it may be and what to do, in one line (exit 5)."""
    put(s3, bucket, "p/BG-20k", {"MANIFEST.sha256": manifest(IMAGES), **IMAGES})
    result = cli("verify", f"s3://{bucket}/p/BG-20k")
    assert result.code == 5, result.err
    assert error_line(result) == (
        f"bg20k: error: s3://{bucket}/p/BG-20k is not a published dataset: it has no "
        "completion marker (a publish that did not finish, or another prefix). "
        "Publish it with `bg20k publish`, or check the URL (it ends in /BG-20k)."
    )


@pytest.mark.parametrize("url_suffix", ["/BG-20k", ""], ids=["the URL's own", "one level down"])
def test_a_marker_is_never_read_past_64_kib(bucket: str, s3: Any, url_suffix: str) -> None:
    """bg20k's markers are a few hundred bytes. An object over 64 KiB at a marker's key is not
    one (even when it names the right digest): it is refused in one line (exit 7), never read
    whole, neither as the copy's commit nor as the hint that a copy lies one level down."""
    objects = copy_objects()
    padded = marker(objects["MANIFEST.sha256"], padding="x" * (1 << 16))
    assert (1 << 16) < len(padded) < (1 << 17)
    put(s3, bucket, "p/BG-20k", objects | {PUBLISHED_MARKER: padded})
    result = cli("verify", f"s3://{bucket}/p{url_suffix}")
    assert result.code == 7, result.err
    assert error_line(result) == (
        f"bg20k: error: s3://{bucket}/p/BG-20k/{PUBLISHED_MARKER} is larger than 65536 bytes; "
        "refused."
    )


def test_a_manifest_changed_after_its_commit_is_refused(
    bucket: str, s3: Any, tmp_path: Path
) -> None:
    """The marker commits the manifest's digest: a manifest edited afterwards (here, one image
    dropped from it) makes the copy unusable, and both verify and a fetch say so, with what to
    do, before anything is downloaded."""
    objects = copy_objects()
    put(s3, bucket, "p/BG-20k", objects)
    put(s3, bucket, "p/BG-20k", {"MANIFEST.sha256": manifest(dict(list(IMAGES.items())[1:]))})
    expected = (
        f"bg20k: error: s3://{bucket}/p/BG-20k/MANIFEST.sha256 does not give the digest its "
        "completion marker committed; the published dataset was changed afterwards. "
        "Publish it again, or fetch from another source."
    )
    result = cli("verify", f"s3://{bucket}/p/BG-20k")
    assert result.code == 5 and error_line(result) == expected, result.err
    dest = tmp_path / "fetched"
    fetched = cli("fetch", "--accept", "--source", f"s3://{bucket}/p/BG-20k", "--dest", str(dest))
    assert fetched.code == 5 and error_line(fetched) == expected, fetched.err
    assert not (dest / "BG-20k" / "train").exists()


def test_an_empty_manifest_is_the_empty_text(bucket: str, s3: Any) -> None:
    """The digest is compared with the manifest's bytes as stored: an empty manifest object (S3
    answers its ranged read with no bytes) is the empty text, the digest of no files, and a
    marker that committed exactly that is honoured, as the same bytes are on disk."""
    objects = copy_objects(images={})
    assert objects["MANIFEST.sha256"] == b""
    put(s3, bucket, "p/BG-20k", objects)
    expected, provenance = read_published(open_store(f"s3://{bucket}/p/BG-20k"))
    assert expected == {} and provenance.file_count == 0


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        ({"PROVENANCE.yaml": b""}, "expected a mapping, got NoneType"),
        ({"SIZES.json": None}, "SIZES.json is missing or is not a map of paths to sizes"),
    ],
    ids=["empty provenance", "sizes gone"],
)
def test_a_damaged_provenance_is_refused_saying_why(
    bucket: str, s3: Any, damage: dict[str, bytes | None], why: str
) -> None:
    """The provenance (and the sizes it keeps apart) is what a fetch records and the quick
    check compares sizes with: a copy whose provenance cannot be read is refused, naming what
    is wrong with it and what to do (exit 5)."""
    objects = copy_objects()
    for rel, body in damage.items():
        if body is None:
            del objects[rel]
        else:
            objects[rel] = body
    put(s3, bucket, "p/BG-20k", objects)
    result = cli("verify", f"s3://{bucket}/p/BG-20k")
    assert result.code == 5, result.err
    assert error_line(result) == (
        f"bg20k: error: s3://{bucket}/p/BG-20k/PROVENANCE.yaml is damaged: {why}. "
        "Publish it again, or fetch from another source."
    )


def test_sizes_json_is_never_read_past_64_mib(tmp_path: Path) -> None:
    """SIZES.json is read into memory: one over 64 MiB (20,000 sizes take about 1 MiB) is
    refused as too large (exit 7), never read whole. A store on local disk, where a sparse
    file of that size costs nothing to make."""
    root = tmp_path / "store" / "BG-20k"
    root.mkdir(parents=True)
    for rel, body in copy_objects().items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(body)
    with (root / "SIZES.json").open("r+b") as sizes:
        sizes.truncate((64 << 20) + 1)
    with pytest.raises(StorageError, match=r"SIZES\.json is larger than 67108864 bytes; refused"):
        read_published(open_store(f"file://{root}"))


def test_a_copys_optional_split_and_release_files_are_expected_too(bucket: str, s3: Any) -> None:
    """What a copy holds is its manifest, the manifest of each optional split its provenance
    records, and the release's own files: a fetch downloads and checks all of them, and verify
    expects each one where it lies (nothing missing, nothing added)."""
    put(s3, bucket, "p/BG-20k", copy_objects(split=SPLIT, released=RELEASED))
    expected, provenance = read_published(open_store(f"s3://{bucket}/p/BG-20k"))
    assert expected == hashes(IMAGES, SPLIT, RELEASED)
    assert set(provenance.components) == {"train_denoise"}
    result = cli("verify", f"s3://{bucket}/p/BG-20k", "--deep")
    assert result.code == 0, result.err


def test_an_empty_split_manifest_lists_no_files(bucket: str, s3: Any) -> None:
    """An optional split recorded with no files has an empty manifest object: it reads as no
    files, as the same bytes do on disk, not as a damaged copy."""
    objects = copy_objects(split={})
    assert objects[component_manifest("train_denoise")] == b""
    put(s3, bucket, "p/BG-20k", objects)
    expected, _ = read_published(open_store(f"s3://{bucket}/p/BG-20k"))
    assert expected == hashes(IMAGES)


# -- owned_keys: which keys of a prefix are provably bg20k's ------------------------------------


def test_a_journal_proves_keys_beside_a_committed_copy(bucket: str, s3: Any) -> None:
    """A publish that adds an optional split to a committed copy (the same dataset, so its
    marker stays) and is killed half-way leaves the journal and some of the split's images, but
    not yet the split's manifest: the journal alone proves those images bg20k's, so the next
    publish resumes over them instead of refusing them as someone else's."""
    objects = copy_objects()
    journal = {"digest": "d" * 64, "keys": [*sorted(SPLIT), "MANIFEST.train_denoise.sha256"]}
    put(s3, bucket, "p/BG-20k", objects | SPLIT | {JOURNAL: json.dumps(journal).encode()})
    store = open_store(f"s3://{bucket}/p/BG-20k")
    present = store.listing()
    committed = json.loads(objects[PUBLISHED_MARKER])
    ours = owned_keys(store, committed, present, load_release())
    assert set(SPLIT) <= ours
    assert set(IMAGES) | {"MANIFEST.sha256", "SIZES.json", "PROVENANCE.yaml"} <= ours


def test_a_checksum_file_of_someone_elses_proves_nothing(bucket: str, s3: Any) -> None:
    """Only the receipts bg20k writes are read for proof: a `.sha256` file someone else keeps
    in the prefix (their own listing) does not make the objects it names bg20k's."""
    theirs = {"train/theirs.jpg": b"their image", "train/theirs.sha256": b""}
    theirs["train/theirs.sha256"] = manifest({"train/theirs.jpg": theirs["train/theirs.jpg"]})
    theirs["notes.sha256"] = theirs["train/theirs.sha256"]
    put(s3, bucket, "p/BG-20k", copy_objects() | theirs)
    store = open_store(f"s3://{bucket}/p/BG-20k")
    present = store.listing()
    committed = json.loads(copy_objects()[PUBLISHED_MARKER])
    ours = owned_keys(store, committed, present, load_release())
    assert not set(theirs) & ours
    assert set(IMAGES) <= ours


def test_a_forced_publish_leaves_what_a_foreign_checksum_file_lists(
    bucket: str, s3: Any, local: Path
) -> None:
    """The end-to-end face of the rule above: replacing a committed copy (--force) removes the
    old copy's images, proven by its manifest, and leaves every object of someone else's,
    though a checksum file of theirs lists it."""
    theirs = {"train/theirs.jpg": b"their image"}
    theirs["theirs.sha256"] = manifest(theirs)
    put(s3, bucket, "p/BG-20k", copy_objects(images={"train/old.jpg": jpeg(99)}) | theirs)
    result = cli("publish", f"s3://{bucket}/p", "--dest", str(local), "--force")
    assert result.code == 0, result.err
    after = keys(s3, bucket, "p/BG-20k/")
    assert {k: after.get(f"p/BG-20k/{k}") for k in theirs} == theirs  # never deleted or changed
    assert "p/BG-20k/train/old.jpg" not in after


@pytest.mark.parametrize(
    "key",
    [" README.txt", "train/two  spaces.jpg", "train/a  b  c.jpg"],
    ids=["leading space", "two spaces", "two pairs"],
)
def test_a_manifest_line_names_exactly_the_key_after_its_two_spaces(
    bucket: str, s3: Any, key: str
) -> None:
    """A manifest line is ``<sha256>  <key>``, split at its first two spaces and nowhere else:
    a key holding spaces (leading, or two in a row) is claimed whole, and the neighbour it would
    be mistaken for, if the line were cut elsewhere, stays someone else's."""
    body = b"an image with an awkward name"
    lookalikes = {key.strip(), key.split("  ")[0], key.rsplit("  ", 1)[-1]} - {key}
    objects = copy_objects(images={**IMAGES, key: body})
    put(s3, bucket, "p/BG-20k", objects | {k: b"theirs" for k in lookalikes})
    store = open_store(f"s3://{bucket}/p/BG-20k")
    present = store.listing()
    assert key in present and lookalikes <= set(present)
    ours = owned_keys(store, json.loads(objects[PUBLISHED_MARKER]), present, load_release())
    assert key in ours and not lookalikes & ours


# -- data_files: what a publish uploads from a local tree ----------------------------------------


def test_a_publish_uploads_what_every_manifest_of_the_tree_lists(tmp_path: Path) -> None:
    """The files a publish uploads (and keeps as its own) are the images, each optional split's
    and the release's own files, from their manifests in the tree; a split the provenance does
    not record is not taken."""
    root = tmp_path / "BG-20k"
    root.mkdir()
    (root / "MANIFEST.sha256").write_bytes(manifest(IMAGES))
    (root / component_manifest("train_denoise")).write_bytes(manifest(SPLIT))
    (root / "RELEASE-FILES.sha256").write_bytes(manifest(RELEASED))
    assert data_files(root, ["train_denoise"], list(RELEASED)) == hashes(IMAGES, SPLIT, RELEASED)
    assert data_files(root, [], list(RELEASED)) == hashes(IMAGES, RELEASED)
    assert data_files(root, ["train_denoise"], []) == hashes(IMAGES, SPLIT)


# -- what this session's judging of the mutants found --------------------------------------------


def test_a_forced_publish_never_deletes_what_an_edited_manifest_lists(
    bucket: str, s3: Any, local: Path
) -> None:
    """A committed copy's manifest edited afterwards to list someone else's object no longer
    gives the digest its marker committed: it proves nothing, so even --force leaves the object
    (it used to be deleted as "bg20k's")."""
    objects = copy_objects(images={"train/old.jpg": jpeg(99)})
    edited = objects["MANIFEST.sha256"] + f"{sha(b'their image')}  train/theirs.jpg\n".encode()
    put(s3, bucket, "p/BG-20k", objects | {"MANIFEST.sha256": edited})
    s3.put_object(Bucket=bucket, Key="p/BG-20k/train/theirs.jpg", Body=b"their image")
    store = open_store(f"s3://{bucket}/p/BG-20k")
    present = {k.removeprefix("p/BG-20k/") for k in keys(s3, bucket, "p/BG-20k/")}
    owned = owned_keys(store, committed_marker(store), present, load_release())
    assert "train/theirs.jpg" not in owned and "train/old.jpg" not in owned
    result = cli("publish", f"s3://{bucket}/p", "--dest", str(local), "--force")
    after = keys(s3, bucket, "p/BG-20k/")
    assert after.get("p/BG-20k/train/theirs.jpg") == b"their image", result.err


@pytest.mark.parametrize("edit", ["split", "release files"])
def test_an_optional_split_or_release_files_changed_after_the_commit_are_refused(
    bucket: str, s3: Any, edit: str
) -> None:
    """The marker commits the main manifest; PROVENANCE.yaml records the split's digest and
    each release file: a split manifest or RELEASE-FILES.sha256 that no longer matches them
    means the copy was changed, and verify (and a fetch) say so instead of passing."""
    objects = copy_objects(split=SPLIT, released=RELEASED)
    name = component_manifest("train_denoise") if edit == "split" else "RELEASE-FILES.sha256"
    first_line = objects[name].split(b"\n", 1)[1]  # one file fewer than was recorded
    put(s3, bucket, "p/BG-20k", objects | {name: first_line})
    with pytest.raises(IntegrityError, match=r"does not match what PROVENANCE\.yaml recorded"):
        read_published(open_store(f"s3://{bucket}/p/BG-20k"))
    result = cli("verify", f"s3://{bucket}/p/BG-20k", "--deep")
    assert result.code == 5 and "changed afterwards" in result.err, result.err


def test_a_committed_copys_split_and_release_files_are_bg20ks_while_their_lists_hold(
    bucket: str, s3: Any
) -> None:
    """An optional split's images and the release's files are proven bg20k's through the
    committed provenance; a split manifest changed afterwards (or not even text) proves
    nothing, and never makes a publish fail."""
    split = {"train_denoise/d  0.jpg": jpeg(10), "train_denoise/d_1.jpg": jpeg(11)}
    objects = copy_objects(split=split, released=RELEASED)
    put(s3, bucket, "p/BG-20k", objects)
    store = open_store(f"s3://{bucket}/p/BG-20k")
    present = {k.removeprefix("p/BG-20k/") for k in keys(s3, bucket, "p/BG-20k/")}
    owned = owned_keys(store, committed_marker(store), present, load_release())
    assert set(split) | set(RELEASED) | set(IMAGES) <= owned
    for damaged in (objects[component_manifest("train_denoise")][:-20], b"\xff\xfe  x\n"):
        put(s3, bucket, "p/BG-20k", {component_manifest("train_denoise"): damaged})
        owned = owned_keys(store, committed_marker(store), present, load_release())
        assert not set(split) & owned and set(IMAGES) <= owned
    listed = objects["RELEASE-FILES.sha256"] + f"{'0' * 64}  theirs.txt\n".encode()
    put(s3, bucket, "p/BG-20k", {"RELEASE-FILES.sha256": listed})
    owned = owned_keys(store, committed_marker(store), present | {"theirs.txt"}, load_release())
    assert "theirs.txt" not in owned and not set(RELEASED) & owned


@pytest.mark.parametrize("edit", ["split", "release files"])
def test_the_changed_list_is_named_with_what_to_do(bucket: str, s3: Any, edit: str) -> None:
    objects = copy_objects(split=SPLIT, released=RELEASED)
    name = component_manifest("train_denoise") if edit == "split" else "RELEASE-FILES.sha256"
    put(s3, bucket, "p/BG-20k", objects | {name: b""})
    with pytest.raises(IntegrityError) as caught:
        read_published(open_store(f"s3://{bucket}/p/BG-20k"))
    assert caught.value.message == (
        f"s3://{bucket}/p/BG-20k/{name} does not match what PROVENANCE.yaml recorded; the "
        "published dataset was changed afterwards."
    )
    assert caught.value.hint == "Publish it again, or fetch from another source."
