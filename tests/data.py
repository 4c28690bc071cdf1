"""Small BG-20k-shaped datasets of real JPEG bytes, and real archives of them."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

from PIL import Image


def jpeg(seed: int, size: tuple[int, int] = (8, 6)) -> bytes:
    """A real, decodable JPEG; the seed makes each one different."""
    image = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    image.putpixel((seed % size[0], 0), (255 - seed % 256, seed % 256, 7))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def make_tree(root: Path, counts: dict[str, int], *, start: int = 0) -> dict[str, bytes]:
    """Write ``<root>/<split>/h_<n>.jpg`` files; returns {relative path: bytes}."""
    files: dict[str, bytes] = {}
    n = start
    for split, count in counts.items():
        for _ in range(count):
            rel = f"{split}/h_{n:08x}.jpg"
            files[rel] = jpeg(n)
            n += 1
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def zip_bytes(files: dict[str, bytes], prefix: str = "BG-20k/") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in files.items():
            zf.writestr(prefix + rel, data)
    return out.getvalue()


def tar_bytes(files: dict[str, bytes], prefix: str = "BG-20k/", mode: str = "w:gz") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as tf:  # type: ignore[call-overload]
        for rel, data in files.items():
            info = tarfile.TarInfo(prefix + rel)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


SMALL = {"train": 6, "testval": 3}
