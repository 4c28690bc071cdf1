"""What a benchmark run produces: comparisons (bg20k beside its yardsticks, in one run), their
ratios against the targets, as a Markdown table and as JSON."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lib import Measure


@dataclass
class Comparison:
    case: str
    ours: Measure
    yardsticks: list[Measure]
    # The ratio the target is about: bg20k's time / the first yardstick's (or, for rates,
    # bg20k's rate / the yardstick's), and the bound it must meet.
    target: float | None = None
    higher_is_better: bool = False  # rates (files/s): the ratio must reach the target
    work: float | None = None  # items per run, for a rate column (files)
    note: str = ""
    extra: list[Measure] = field(default_factory=list)  # other bg20k variants (--jobs 1 …)

    def ratio(self, other: Measure | None = None) -> float:
        base = other or self.yardsticks[0]
        if self.higher_is_better:
            return base.median / self.ours.median  # rate ratio, same work
        return self.ours.median / base.median

    def pairs(self) -> list[float]:
        """The ratio within each pair of adjacent runs (ABBA runs bg20k and its yardstick back
        to back): a machine that drifts within minutes moves both sides of a pair alike, so
        their spread says how firm the ratio of medians is."""
        base = self.yardsticks[0]
        return [
            b / o if self.higher_is_better else o / b
            for o, b in zip(self.ours.seconds, base.seconds, strict=False)
        ]

    def met(self) -> bool | None:
        if self.target is None:
            return None
        r = self.ratio()
        return r >= self.target if self.higher_is_better else r <= self.target


def _fmt_s(seconds: float) -> str:
    return f"{seconds:.3f} s" if seconds < 1 else f"{seconds:.2f} s"


def markdown(comparisons: list[Comparison], header: str) -> str:
    lines = [
        header,
        "",
        "| case | command | median (min–max) | runs | peak RSS | vs yardstick |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for c in comparisons:
        rows = [(c.ours, True), *((m, False) for m in c.extra), *((y, False) for y in c.yardsticks)]
        for m, ours in rows:
            rate = f" ({c.work / m.median:,.0f} files/s)" if c.work else ""
            ratio = ""
            if ours:
                ratio = f"**{c.ratio():.2f}×**"
            elif m in c.extra:
                ratio = f"{_ratio(c, m):.2f}×"
            lines.append(
                f"| {c.case if ours else ''} | `{m.name}` | {_fmt_s(m.median)}{rate} "
                f"({_spread(m)}) | "
                f"{len(m.seconds)} | {m.peak_mib:.0f} MiB | {ratio} |"
            )
    lines += [
        "",
        "| target | measured | each pair (min, median, max) | |",
        "| --- | ---: | ---: | --- |",
    ]
    for c in comparisons:
        if c.target is None:
            continue
        sign = "≥" if c.higher_is_better else "≤"
        verdict = "met" if c.met() else "**missed**"
        pairs = sorted(c.pairs())
        each = f"{pairs[0]:.2f}, {statistics.median(pairs):.2f}, {pairs[-1]:.2f}" if pairs else ""
        lines.append(
            f"| {c.case}: {sign} {c.target:.2f}× `{c.yardsticks[0].name}` | "
            f"{c.ratio():.2f}× | {each} | {verdict} |"
        )
    notes = [f"- {c.case}: {c.note}" for c in comparisons if c.note]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def _spread(m: Measure) -> str:
    low, high = m.spread
    return f"{low:.3f}–{high:.3f}" if high < 1 else f"{low:.2f}–{high:.2f}"


def _ratio(c: Comparison, m: Measure) -> float:
    base = c.yardsticks[0]
    return base.median / m.median if c.higher_is_better else m.median / base.median


def write(
    comparisons: list[Comparison], header: str, out: Path, stamp: str, extra: str = ""
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    table = markdown(comparisons, header) + extra
    (out / f"results-{stamp}.md").write_text(table)
    (out / "latest.md").write_text(table)
    raw = [
        {
            **asdict(c),
            "ratio": c.ratio(),
            "pair_ratios": c.pairs(),
            "met": c.met(),
        }
        for c in comparisons
    ]
    (out / f"results-{stamp}.json").write_text(
        json.dumps({"header": header, "cases": raw}, indent=1)
    )
    return out / f"results-{stamp}.md"


def by_size(caption: str, label: str, rows: list[tuple[str, dict[int, str], float]]) -> str:
    """A table of one value per size (the many-file and memory cases): a row per step, a
    column per size, and its growth from the smallest size to the largest."""
    if not rows:
        return ""
    sizes = sorted({n for _, cells, _ in rows for n in cells})
    lines = [
        "",
        caption,
        "",
        f"| {label} | " + " | ".join(f"{n:,} files" for n in sizes) + " | growth |",
        "| --- | " + " | ".join("---:" for _ in sizes) + " | ---: |",
    ]
    for name, cells, growth in rows:
        lines.append(f"| {name} | " + " | ".join(cells[n] for n in sizes) + f" | {growth:.2f} |")
    return "\n".join(lines) + "\n"
