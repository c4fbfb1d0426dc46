"""Parse + check time of a generated spec with 500 powers and 200 threats.

Usage: python benchmarks/parse.py [--runs N] [--powers N] [--threats N]
The grammar is built once per process (before timing); each run parses and checks the whole spec.
The last line is the median time in seconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from authority_dsl.checker import load_law
from authority_dsl.parser import _lark


def generate(powers: int, threats: int, seed: int = 1) -> str:
    rnd = random.Random(seed)
    out = ['law "Generated benchmark law" {\n    version: "1"\n    in_force: 2027-01-01 ..\n}']
    for i in range(threats):
        parent = f" under t{rnd.randrange(i)}" if i and rnd.random() < 0.7 else ""
        out.append(f'threat t{i}{parent} {{\n    severity: {rnd.randint(1, 5)}\n'
                   f'    cites: "art. {i}"\n}}')
    caps = 40
    for i in range(caps):
        scope = "bulk" if i % 7 == 0 else "targeted"
        out.append(f"capability c{i} {{\n    intrusion: {rnd.randint(1, 5)}\n"
                   f"    scope: {scope}\n}}")
    out.append("protected journalist\nprotected lawyer")
    for name in ("minister", "review_board", "court", "head"):
        out.append(f"safeguard {name} {{\n    by: {name}\n}}")
    out.append("assessment necessity\nassessment proportionality")
    for i in range(powers):
        ts = ", ".join(sorted({f"t{rnd.randrange(threats)}" for _ in range(3)}))
        cs = ", ".join(sorted({f"c{rnd.randrange(caps)}" for _ in range(2)}))
        out.append(
            f"power p{i} {{\n    threats: {ts}\n    capabilities: {cs}\n"
            f"    requires: minister, review_board, necessity\n"
            f"    when protected contains journalist and intrusion >= 3 requires court\n"
            f"    when scope == bulk or severity < 2 requires proportionality\n"
            f"    max_duration: 3 months\n    cites: \"art. {i}(1)\"\n}}")
    out.append("forbid no_bulk_on_lawyers {\n    when scope == bulk and protected contains "
               "lawyer\n}")
    return "\n\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--powers", type=int, default=500)
    ap.add_argument("--threats", type=int, default=200)
    args = ap.parse_args()
    text = generate(args.powers, args.threats)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.auth"
        path.write_text(text, encoding="utf-8")
        start = time.perf_counter()
        _lark()
        print(f"grammar built once in {time.perf_counter() - start:.3f} s")
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            law, diags = load_law(path)
            times.append(time.perf_counter() - start)
            assert law is not None, [d.message for d in diags if d.is_error][:3]
        print(f"spec: {len(text) / 1024:.0f} KiB, {args.powers} powers, {args.threats} threats; "
              f"runs: {', '.join(f'{t:.3f}' for t in times)}")
        print(f"median parse+check time: {statistics.median(times):.3f} s")


if __name__ == "__main__":
    main()
