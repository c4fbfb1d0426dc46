"""How long `verify` and `diff` take on the example specs, and whether each was exhaustive.

Usage: python benchmarks/analysis.py [--repeat N] [--budget SECONDS] [--json]

Runs in one process on one core (the analysis is single-threaded): `verify` on each example spec
(every principle) and `diff` from the Wiv 2017 model to the threat-oriented draft. Each figure is
wall-clock: the first run (cold: parsing aside, everything is computed afresh) and the best of N
runs (default 3). The target is under 10 seconds each; with `--budget` the script exits 1 when a
first run is over it. The tests (tests/test_verify.py, tests/test_diff.py) check what these same
analyses find on these laws, not how long they take: their speed is measured here alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from authority_dsl.analysis.diff import diff
from authority_dsl.analysis.verify import verify
from authority_dsl.checker import load_law
from authority_dsl.model import Law

SPECS = Path(__file__).resolve().parent.parent / "specs"
OLD, NEW = SPECS / "wiv2017.auth", SPECS / "wiv_threat_draft.auth"


def _load(path: Path) -> Law:
    law, diags = load_law(path)
    if law is None:
        sys.exit(f"{path}: does not check: {diags[0].message if diags else '?'}")
    return law


def _timed(repeat: int, run: object) -> tuple[float, float, object]:
    """(first, best, result) of `repeat` runs."""
    assert callable(run)
    times, result = [], None
    for _ in range(max(repeat, 1)):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return times[0], min(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budget", type=float, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for path in (OLD, NEW):
        law = _load(path)
        first, best, report = _timed(args.repeat, lambda law=law: verify(law))
        results = report.results  # type: ignore[attr-defined]
        rows.append({
            "check": f"verify {path.name}", "first": round(first, 3), "best": round(best, 3),
            "exhaustive": all(r.exhaustive for r in results),
            "classes": sum(r.classes for r in results),
            "result": f"{sum(r.holds for r in results)}/{len(results)} principles hold",
            "detail": [f"{r.principle.name}: {r.method}" for r in results],
        })
    old, new = _load(OLD), _load(NEW)
    first, best, report = _timed(args.repeat, lambda: diff(old, new))
    semantic = report.semantic  # type: ignore[attr-defined]
    rows.append({
        "check": f"diff {OLD.name} {NEW.name}", "first": round(first, 3), "best": round(best, 3),
        "exhaustive": semantic.exhaustive, "classes": semantic.classes,
        "result": f"{len(report.structural)} declarations changed, "  # type: ignore[attr-defined]
                  f"{len(semantic.groups)} groups of semantic changes",
        "detail": list(semantic.limits),
    })
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"{'check':46} {'first s':>8} {'best s':>7} {'classes':>8}  exhaustive  result")
        for row in rows:
            print(f"{row['check']:46} {row['first']:8.2f} {row['best']:7.2f} {row['classes']:8,}  "
                  f"{'yes' if row['exhaustive'] else 'NO':10}  {row['result']}")
            for line in row["detail"]:
                print(f"    {line}")
    over = [r for r in rows if args.budget is not None and r["first"] > args.budget]
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
