"""In-memory decisions per second of both evaluators on the threat-oriented example spec.

Usage: python benchmarks/decide.py [--ops N] [--profiles N] [--seed S] [--spec PATH]

Operations are generated from the spec's own vocabulary (seeded) and built in memory first.
Three figures, each on one core:
- the reference interpreter on unique operations (random in every field);
- the compiled evaluator on the same unique operations (its memo never hits);
- the compiled evaluator on a log drawn from N recurring operation profiles (each operation a
  profile with its own id and start date, approval dates moving with it), as recorded logs are:
  the same kinds of operation recur with the same approvals. Here its memo of decisions hits.
The last line is the compiled evaluator's figure on the log.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import random
import time
from pathlib import Path

from msgspec.structs import replace

from authority_dsl.checker import load_law
from authority_dsl.durations import parse_duration
from authority_dsl.engine import compile_law
from authority_dsl.engine.reference import decide as reference_decide
from authority_dsl.model import Law
from authority_dsl.operation import Approval, Operation, Sharing, Subject

SPEC = Path(__file__).resolve().parent.parent / "specs" / "wiv_threat_draft.auth"


def generate(law: Law, n: int, seed: int) -> list[Operation]:
    rnd = random.Random(seed)
    threats = sorted(law.threats)
    techniques = sorted(law.techniques)
    caps = sorted(law.capabilities)
    protected = sorted(law.protected)
    safeguards = sorted(law.safeguards)
    assessments = sorted(law.assessments)
    recipients = sorted(law.recipients)
    start = law.in_force.start or dt.date(2028, 1, 1)
    ops = []
    for i in range(n):
        date = start + dt.timedelta(days=rnd.randrange(900))
        use_technique = rnd.random() < 0.7
        op = Operation(
            id=f"op-{i}",
            date=date,
            service=rnd.choice(["AIVD", "MIVD"]),
            threat=rnd.choice(threats),
            technique=rnd.choice(techniques) if use_technique else None,
            capabilities=() if use_technique else tuple(rnd.sample(caps, rnd.randint(1, 2))),
            subjects=tuple(Subject("target", tuple(rnd.sample(protected, 1))
                                   if rnd.random() < 0.15 else ())
                           for _ in range(rnd.randint(1, 2))),
            duration=parse_duration(f"{rnd.choice([1, 2, 3, 6, 12])} months"),
            urgent=rnd.random() < 0.1,
            retention=parse_duration(f"{rnd.choice([6, 12, 18, 24])} months")
            if rnd.random() < 0.3 else None,
            approvals=tuple(Approval(s, date - dt.timedelta(days=rnd.randrange(-3, 10)))
                            for s in safeguards if rnd.random() < 0.6),
            assessments=tuple(a for a in assessments if rnd.random() < 0.75),
            sharing=tuple(Sharing(rnd.choice(recipients), rnd.choice(["NL", "BE", "DE", "RU"]),
                                  rnd.choice(["evaluated", "unevaluated"]),
                                  tuple(s for s in safeguards if rnd.random() < 0.4))
                          for _ in range(rnd.random() < 0.2)),
        )
        ops.append(op)
    return ops


def recurring(law: Law, n: int, profiles: int, seed: int) -> list[Operation]:
    """A log of n operations drawn from a fixed set of operation profiles."""
    rnd = random.Random(seed)
    base = generate(law, profiles, seed + 1)
    ops = []
    for i in range(n):
        profile = base[rnd.randrange(profiles)]
        shift = dt.timedelta(days=rnd.randrange(-20, 21))
        ops.append(replace(
            profile, id=f"log-{i}", date=profile.date + shift,
            approvals=tuple(replace(a, date=a.date + shift) if a.date else a
                            for a in profile.approvals)))
    return ops


def rate(fn: object, ops: list[Operation]) -> tuple[float, dict[str, int]]:
    verdicts: dict[str, int] = {}
    decide = fn
    start = time.perf_counter()
    for op in ops:
        d = decide(op)  # type: ignore[operator]
        verdicts[d.verdict] = verdicts.get(d.verdict, 0) + 1
    return len(ops) / (time.perf_counter() - start), verdicts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ops", type=int, default=100_000)
    ap.add_argument("--profiles", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--spec", type=Path, default=SPEC)
    args = ap.parse_args()
    law, diags = load_law(args.spec)
    assert law is not None, [d.message for d in diags if d.is_error]
    ops = generate(law, args.ops, args.seed)
    log = recurring(law, args.ops, args.profiles, args.seed)
    # The operations are built in memory up front, which a streaming caller (`decide`, `audit`)
    # never does: freeze them, so that the garbage collector does not rescan 200,000 inputs each
    # time it looks at the oldest generation.
    gc.collect()
    gc.freeze()
    compiled = compile_law(law)
    ref_ops = ops[: max(1, args.ops // 5)]
    ref_rate, _ = rate(lambda op: reference_decide(law, op), ref_ops)
    print(f"reference interpreter: {ref_rate:,.0f} decisions/s on {len(ref_ops):,} operations")
    cold_rate, verdicts = rate(compiled.decide, ops)
    print(f"compiled evaluator, unique operations: {cold_rate:,.0f} decisions/s on "
          f"{len(ops):,} operations; verdicts {verdicts}")
    compiled = compile_law(law)
    log_rate, verdicts = rate(compiled.decide, log)
    print(f"verdicts on the log: {verdicts}")
    print(f"compiled evaluator: {log_rate:,.0f} decisions/s on a log of {len(log):,} operations "
          f"from {args.profiles:,} profiles")


if __name__ == "__main__":
    main()
