"""What every benchmark needs: the tools it compares against, nginx on 127.0.0.1, data that does
not compress (like photos), and timing that reports medians and peak memory."""

from __future__ import annotations

import os
import secrets
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
TOOLS = {
    "nginx": "nginx",
    "curl": "curl",
    "openssl": "openssl",
    "7z": "p7zip-full",
    "unzip": "unzip",
    "aria2c": "aria2",
    "sha256sum": "coreutils",
    "pdftotext": "poppler-utils",
    "pdflatex": "texlive-latex-base",
}


def ensure_tools() -> list[str]:
    """Install what is missing from Debian's packages when root; returns what is still missing."""
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing and os.geteuid() == 0:
        packages = sorted({TOOLS[t] for t in missing})
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
            check=False,
            capture_output=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    if not Path("/usr/bin/time").exists() and os.geteuid() == 0:
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "time"], check=False, capture_output=True
        )
    return [t for t in TOOLS if shutil.which(t) is None]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {sys.version.split()[0]}"


def photo_bytes(size: int) -> bytes:
    """A JPEG's markers around random bytes: the shape of a photo, incompressible like one."""
    return b"\xff\xd8\xff\xe0" + secrets.token_bytes(max(0, size - 6)) + b"\xff\xd9"


def make_stored_zip(path: Path, files: int, total: int) -> None:
    each = max(64, total // files)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i in range(files):
            split = "train" if i < files * 3 // 4 else "testval"
            zf.writestr(f"BG-20k/{split}/h_{i:08x}.jpg", photo_bytes(each))


def make_file(path: Path, size: int) -> None:
    with open(path, "wb") as out:
        left = size
        block = secrets.token_bytes(1 << 20)
        while left > 0:
            out.write(block[: min(left, len(block))])
            left -= len(block)


@dataclass
class Measure:
    name: str
    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak_mib(self) -> float:
        return max(self.rss_kib) / 1024 if self.rss_kib else 0.0

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.seconds), max(self.seconds)


@dataclass
class Spec:
    """One command of a comparison: what runs, in what environment, from what state."""

    name: str
    command: str
    env: dict[str, str] | None = None
    prepare: Callable[[], None] | None = None
    cold: bool = False  # drop the page cache before each run (data at rest, not just written)
    settle: bool = False  # wait until memory freed by the last run is back with the host


def timed_abba(specs: list[Spec], *, runs: int, warmup: bool = True) -> list[Measure]:
    """Every command ``runs`` times, interleaved A B … then … B A, so that whatever drifts
    during a case (the page cache, a neighbour's load, the clock) falls on each side alike; a
    verdict must not depend on which side ran first. Each run starts from the same state: its
    ``prepare``, ``sync``, and for a cold spec an empty page cache."""
    measures = [Measure(s.name) for s in specs]
    if warmup:
        for spec in specs:
            _once(spec)
    for n in range(runs):
        order = list(range(len(specs)))
        for i in order if n % 2 == 0 else reversed(order):
            took, rss = _once(specs[i])
            measures[i].seconds.append(took)
            if rss is not None:
                measures[i].rss_kib.append(rss)
    return measures


def _once(spec: Spec) -> tuple[float, int | None]:
    if spec.prepare:
        spec.prepare()
    os.sync()
    if spec.cold:
        drop_page_cache()
    if spec.settle:
        settle_memory()
    return run_timed(spec.name, spec.command, spec.env)


def run_timed(name: str, command: str, env: dict[str, str] | None) -> tuple[float, int | None]:
    """One run of ``command`` (bash: pipelines and `&&`), its wall time and the peak RSS in KiB
    of its largest process, from /usr/bin/time."""
    rss_file = f"/tmp/bench-rss-{os.getpid()}"
    argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file, "--", "bash", "-c", command]
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed ({proc.returncode}): {proc.stderr[-800:]!r}")
    try:
        return took, int(Path(rss_file).read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return took, None


REPORTED = Path("/sys/module/page_reporting/parameters/reported_kib")


def settle_memory(*, steady: float = 4.0, limit: float = 60.0) -> float:
    """Wait until the guest has handed the memory the last run freed back to its host; returns
    the seconds waited (0 on a machine without free-page reporting).

    In a VM with free-page reporting (this one: Firecracker, virtio-balloon) the pages a deleted
    tree held are returned to the host over the next ~25 s, and a page the host took back costs
    a fault to the host when it is written again. Writing 2,000 MiB with `dd` then took 0.4 s of
    system time right after the previous copy was deleted, 1.7 s six seconds later and 3-5 s
    once everything was returned: a write-heavy case's verdict depended on how long the harness
    happened to pause. Waiting until the reported total stops growing starts every run from the
    same state, and the state of a machine at rest."""
    try:
        last = REPORTED.read_text()
    except OSError:
        return 0.0
    start = quiet_since = time.monotonic()
    while time.monotonic() - start < limit:
        time.sleep(0.5)
        now = REPORTED.read_text()
        if now != last:
            last, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= steady:
            break
    return time.monotonic() - start


def drop_page_cache() -> bool:
    """Empty the kernel's page cache (root, and a /proc that allows it); False where it cannot,
    and the case then says it ran warm."""
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def timed(
    name: str,
    command: str,
    *,
    runs: int,
    env: dict[str, str] | None = None,
    prepare: Callable[[], None] | None = None,
    warmup: bool = True,
) -> Measure:
    """Median wall time over ``runs`` (after a warm-up run) and the peak RSS of the slowest
    process in the pipeline, via /usr/bin/time."""
    measure = Measure(name)
    for n in range(runs + (1 if warmup else 0)):
        if prepare:
            prepare()
        took, rss = run_timed(name, command, env)
        if n == 0 and warmup:
            continue
        measure.seconds.append(took)
        if rss is not None:
            measure.rss_kib.append(rss)
    return measure


@contextmanager
def nginx(root: Path, work: Path) -> Iterator[str]:
    """nginx serving ``root`` on 127.0.0.1 with Range and ETag, as a real mirror would."""
    work.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    conf = work / "nginx.conf"
    # Started as root, nginx's workers would run as "nobody" and could not read a private
    # work directory (pytest's tmp_path is 0700): keep them as the user who started it.
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(
        f"""
{user}
daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    etag on;
    client_body_temp_path {work}/tmp;
    proxy_temp_path {work}/tmp;
    fastcgi_temp_path {work}/tmp;
    uwsgi_temp_path {work}/tmp;
    scgi_temp_path {work}/tmp;
    types {{ application/zip zip; application/octet-stream bin; }}
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
"""
    )
    (work / "tmp").mkdir(exist_ok=True)
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(work)])
    try:
        _wait_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int) -> None:
    import socket

    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("nginx did not start")


def drop_caches() -> None:
    """Start each run from the same state: written data on disk (not evicted: reads stay warm,
    as they are for a file just downloaded)."""
    os.sync()
