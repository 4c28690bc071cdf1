"""Per-module scores from a mutmut run, for docs/testing.md.

    python tests/mutation_scores.py [MUTMUT_WORKING_DIR ...] [--survivors]

Reads the `.meta` files mutmut writes under `mutants/`, and `tests/equivalent_mutants.toml`
(the survivors judged equivalent, each with its reason). It prints the score table and the
equivalents table as Markdown; `--survivors` lists the mutants still unexplained instead.
A mutant no in-process test reaches counts against the score, as a survivor does: a guarantee
that only a subprocess journey checks is not one mutation testing can see.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent

# mutmut's own mapping of a child's exit code to a verdict (mutmut/stats.py, 3.8.1).
_STATUS = {
    1: "killed",
    3: "killed",
    0: "survived",
    5: "no tests",
    33: "no tests",
    34: "skipped",
    36: "timeout",
    24: "timeout",
    -24: "timeout",
    152: "timeout",
    255: "timeout",
    37: "caught by type check",
    None: "not checked",
}


_RANK = ["not checked", "no tests", "survived", "suspicious", "timeout", "killed"]


def _function(name: str) -> str:
    return name.rsplit("__mutmut_", 1)[0].rsplit(".", 1)[-1]


def load_results(run_dirs: list[Path]) -> dict[str, dict[str, str]]:
    """Module path → {mutant name: verdict}, over one or more mutmut working directories.

    When two runs judged the same mutant of the same function body, the stronger verdict
    stands (a mutant one run killed is killed). When a later directory has the function with
    another body, the earlier verdicts on it are dropped: they were about code that is gone."""
    results: dict[str, dict[str, str]] = {}
    bodies: dict[str, dict[str, str]] = {}
    for run_dir in run_dirs:
        root = run_dir / "mutants"
        for meta in sorted(root.rglob("*.py.meta")):
            module = meta.relative_to(root).as_posix().removesuffix(".meta")
            data = json.loads(meta.read_text())
            now = data.get("hash_by_function_name", {})
            verdicts, known = results.setdefault(module, {}), bodies.setdefault(module, {})
            changed = {f for f, body in now.items() if known.get(f, body) != body}
            for name in [n for n in verdicts if _function(n) in changed]:
                del verdicts[name]
            known.update(now)
            for name, code in data["exit_code_by_key"].items():
                verdict = _STATUS.get(code, "suspicious")
                if name in verdicts:
                    verdict = max(verdict, verdicts[name], key=_RANK.index)
                verdicts[name] = verdict
    return {m: v for m, v in sorted(results.items()) if v}


def load_equivalents(path: Path = HERE / "equivalent_mutants.toml") -> dict[str, str]:
    """Mutant name → why it cannot change behaviour."""
    with path.open("rb") as f:
        table = tomllib.load(f)
    return {name: entry["why"] for name, entry in table.items()}


def score_table(results: dict[str, dict[str, str]], equivalents: dict[str, str]) -> str:
    lines = [
        "| module | mutants | killed | timed out | survived | no test reaches it "
        "| equivalent | not run | killed of non-equivalent |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for module, verdicts in results.items():
        count: Counter[str] = Counter()
        for name, verdict in verdicts.items():
            if verdict in ("survived", "no tests") and name in equivalents:
                verdict = "equivalent"
            count[verdict] += 1
        killed = count["killed"] + count["timeout"] + count["caught by type check"]
        judged = killed + count["survived"] + count["no tests"] + count["suspicious"]
        pct = f"{100 * killed / judged:.0f}%" if judged else "–"
        lines.append(
            f"| `{module}` | {len(verdicts)} | {count['killed']} | {count['timeout']} "
            f"| {count['survived'] + count['suspicious']} | {count['no tests']} "
            f"| {count['equivalent']} | {count['not checked']} | {pct} |"
        )
    return "\n".join(lines)


def unexplained(results: dict[str, dict[str, str]], equivalents: dict[str, str]) -> list[str]:
    return [
        f"{verdict:9} {name}"
        for verdicts in results.values()
        for name, verdict in verdicts.items()
        if verdict in ("survived", "no tests", "suspicious") and name not in equivalents
    ]


def main(argv: list[str]) -> int:
    run_dirs = [Path(a) for a in argv if not a.startswith("--")] or [Path.cwd()]
    results = load_results(run_dirs)
    if not results:
        print(f"no mutmut results under {', '.join(map(str, run_dirs))}", file=sys.stderr)
        return 1
    equivalents = load_equivalents()
    if "--survivors" in argv:
        print("\n".join(unexplained(results, equivalents)))
        return 0
    print(score_table(results, equivalents))
    print()
    print("| mutant | why it cannot change behaviour |")
    print("| --- | --- |")
    for name, why in sorted(equivalents.items()):
        print(f"| `{name}` | {why} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
