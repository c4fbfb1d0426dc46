"""A seeded generator of realistic synthetic operation logs (JSON Lines) for `authority audit`.

The vocabulary comes from the laws given (by default the two example specs): threats, techniques,
capabilities, protected categories, safeguards, assessments and recipients. Each operation picks a
threat and a technique (sometimes bare capabilities), then obtains most of the requirements of a
power that grants them, the way a service files its requests: usually complete, sometimes missing
one approval or assessment, sometimes with an approval dated after the start. A small share of
names are misspelt, and a share of lines (`--malformed`) is broken on purpose: truncated JSON, wrong
types, absurd values, NUL bytes, invalid UTF-8 and empty lines. With `--repeat P` (default 0) a
share P of the operations repeats the one before with a new id: the same request filed for several
targets, as for the phone numbers of one target group.

    python benchmarks/gen_ops.py -n 1000000 --seed 7 -o /tmp/ops.jsonl

Same seed, same arguments, same bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPECS = (ROOT / "specs" / "wiv2017.auth", ROOT / "specs" / "wiv_threat_draft.auth")
FIRST_DAY = dt.date(2018, 5, 1)
LAST_DAY = dt.date(2031, 12, 31)
COUNTRIES = ("BE", "DE", "FR", "GB", "US", "DK", "NO", "NL", "RU", "IR")
DURATIONS = ("3 months", "3 months", "3 months", "1 month", "6 months", "12 months", "2 weeks",
             "10 days", "1 year", "18 months")
RETENTIONS = ("12 months", "18 months", "18 months", "24 months", "30 months", "3 years")


@attrs.frozen
class Vocabulary:
    """The names one law offers, and which power needs what for each capability."""

    start: dt.date
    threats: tuple[str, ...]
    techniques: dict[str, tuple[str, ...]]
    capabilities: tuple[str, ...]
    protected: tuple[str, ...]
    safeguards: tuple[str, ...]
    assessments: tuple[str, ...]
    recipients: tuple[str, ...]
    needs: dict[str, tuple[str, ...]]  # capability -> plain requirements of a power granting it
    when_needs: dict[str, tuple[str, ...]]  # capability -> requirements of its `when` clauses
    share_needs: dict[str, tuple[str, ...]]  # recipient -> requirements of a share rule


def vocabulary(spec: Path) -> Vocabulary:
    """Read the names of one law."""
    from authority_dsl.checker import load_law

    law, _ = load_law(spec)
    if law is None:
        raise SystemExit(f"{spec}: the law has errors; run `authority check`")
    needs: dict[str, set[str]] = {}
    when_needs: dict[str, set[str]] = {}
    share_needs: dict[str, set[str]] = {}
    for power in law.powers:
        for cap in power.capabilities:
            needs.setdefault(cap, set()).update(power.requires)
            for clause in power.conditionals:
                when_needs.setdefault(cap, set()).update(clause.requires)
    for rule in law.share_rules:
        for recipient in rule.recipients:
            share_needs.setdefault(recipient, set()).update(rule.requires | rule.guarantees)
            for clause in rule.conditionals:
                share_needs[recipient] |= clause.requires

    def frozen(d: dict[str, set[str]]) -> dict[str, tuple[str, ...]]:
        return {k: tuple(sorted(v)) for k, v in sorted(d.items())}

    return Vocabulary(
        law.in_force.start or FIRST_DAY,
        tuple(sorted(law.threats)),
        {t: tuple(sorted(c)) for t, c in sorted(law.techniques.items())},
        tuple(sorted(law.capabilities)), tuple(sorted(law.protected)),
        tuple(sorted(law.safeguards)), tuple(sorted(law.assessments)),
        tuple(sorted(law.recipients)), frozen(needs), frozen(when_needs), frozen(share_needs))


def misspell(rng: random.Random, name: str) -> str:
    """A plausible typo: a dropped, doubled or swapped letter."""
    i = rng.randrange(len(name))
    kind = rng.randrange(3)
    if kind == 0 and len(name) > 3:
        return name[:i] + name[i + 1:]
    if kind == 1:
        return name[:i] + name[i] + name[i:]
    j = min(i + 1, len(name) - 1)
    return name[:i] + name[j] + name[i] + name[j + 1:] if j > i else name + "s"


class Generator:
    """Realistic operations, one JSON object per call."""

    def __init__(self, laws: Sequence[Vocabulary], seed: int, malformed: float,
                 repeat: float = 0.0) -> None:
        self.laws = sorted(laws, key=lambda v: v.start)
        self.rng = random.Random(seed)
        self.malformed = malformed
        self.repeat = repeat
        self.previous: dict[str, object] | None = None
        self.first = min(v.start for v in self.laws)
        self.span = (LAST_DAY - self.first).days
        self.count = 0

    def law_on(self, day: dt.date) -> Vocabulary:
        """The vocabulary of the latest law in force on `day` (or the earliest one)."""
        current = self.laws[0]
        for v in self.laws:
            if v.start <= day:
                current = v
        return current

    def operation(self) -> dict[str, object]:
        rng = self.rng
        self.count += 1
        if rng.random() < 0.002:  # before every version of the law
            start = self.first - dt.timedelta(days=rng.randrange(1, 1500))
        else:
            start = self.first + dt.timedelta(days=rng.randrange(self.span))
        v = self.law_on(start)
        op: dict[str, object] = {"id": f"op-{start.year}-{self.count:07d}",
                                 "date": start.isoformat(),
                                 "service": rng.choice(("AIVD", "AIVD", "AIVD", "MIVD"))}
        op["threat"] = self.name(rng.choice(v.threats))
        caps: list[str] = []
        if rng.random() < 0.8 and v.techniques:
            technique = rng.choice(list(v.techniques))
            op["technique"] = self.name(technique)
            caps = list(v.techniques[technique])
            op["capabilities"] = []
        else:
            caps = rng.sample(v.capabilities, k=1 if rng.random() < 0.85 else 2)
            op["capabilities"] = [self.name(c) for c in caps]
        subjects = [{"role": "target", "protected": self.protected(v)}]
        if rng.random() < 0.15:
            subjects.append({"role": "contact", "protected": self.protected(v)})
        op["subjects"] = subjects
        if rng.random() < 0.95:
            op["duration"] = rng.choice(DURATIONS)
        urgent = rng.random() < 0.05
        op["urgent"] = urgent
        if rng.random() < 0.3:
            op["retention"] = rng.choice(RETENTIONS)
        needed = {r for c in caps for r in v.needs.get(c, ())}
        special = any(s["protected"] for s in subjects) or "retention" in op
        if rng.random() < (0.9 if special else 0.03):
            needed |= {r for c in caps for r in v.when_needs.get(c, ())}
        op["approvals"] = self.approvals(v, sorted(needed), start, urgent)
        op["assessments"] = [a for a in sorted(needed)
                             if a in v.assessments and rng.random() < 0.95]
        op["sharing"] = self.sharing(v) if rng.random() < 0.12 else []
        return op

    def name(self, name: str) -> str:
        return misspell(self.rng, name) if self.rng.random() < 0.005 else name

    def protected(self, v: Vocabulary) -> list[str]:
        if self.rng.random() < 0.93 or not v.protected:
            return []
        return [self.name(self.rng.choice(v.protected))]

    def approvals(self, v: Vocabulary, needed: list[str], start: dt.date,
                  urgent: bool) -> list[object]:
        rng = self.rng
        out: list[object] = []
        for name in needed:
            if name not in v.safeguards or rng.random() > 0.92:
                continue
            if rng.random() < 0.3:
                out.append(name)
                continue
            offset = rng.choice((-30, -14, -7, -3, -1, 0, 0, 1, 2, 5)) if urgent else \
                rng.choice((-60, -30, -14, -7, -3, -1, 0, 0, 0, 3))
            out.append({"safeguard": name, "date": (start + dt.timedelta(days=offset)).isoformat()})
        return out

    def sharing(self, v: Vocabulary) -> list[dict[str, object]]:
        rng = self.rng
        recipient = rng.choice(v.recipients)
        with_ = [r for r in v.share_needs.get(recipient, ()) if rng.random() < 0.85]
        return [{"recipient": self.name(recipient), "country": rng.choice(COUNTRIES),
                 "data": rng.choice(("evaluated", "evaluated", "unevaluated")), "with": with_}]

    def line(self) -> bytes:
        """One line of the log, without its newline."""
        if self.repeat and self.previous is not None and self.rng.random() < self.repeat:
            # The same request filed again for another target: only the id differs.
            self.count += 1
            op = dict(self.previous, id=f"op-{str(self.previous['date'])[:4]}-{self.count:07d}")
        else:
            op = self.operation()
        self.previous = dict(op)
        text = json.dumps(op, ensure_ascii=False).encode("utf-8")
        if self.rng.random() < self.malformed:
            return self.break_(op, text)
        return text

    def break_(self, op: dict[str, object], text: bytes) -> bytes:
        """A malformed line of one of the kinds a real log has."""
        rng = self.rng
        kind = rng.randrange(9)
        if kind == 0:  # truncated JSON
            return text[: rng.randrange(1, len(text))]
        if kind == 1:  # wrong type
            op["duration"] = 90
            return json.dumps(op).encode()
        if kind == 2:  # absurd duration
            op["duration"] = "100000000000000000000 years"
            return json.dumps(op).encode()
        if kind == 3:  # a date in year 99999
            op["date"] = "99999-01-01"
            return json.dumps(op).encode()
        if kind == 4:  # NUL byte
            i = rng.randrange(len(text))
            return text[:i] + b"\x00" + text[i:]
        if kind == 5:  # invalid UTF-8
            i = rng.randrange(len(text))
            return text[:i] + b"\xff\xfe" + text[i:]
        if kind == 6:  # empty line
            return b""
        if kind == 7:  # not an object
            return b"[" + text + b"]"
        op.pop("date")  # a required field missing
        return json.dumps(op).encode()


def generate(specs: Sequence[Path], count: int, seed: int, malformed: float,
             repeat: float = 0.0) -> Iterator[bytes]:
    gen = Generator([vocabulary(s) for s in specs], seed, malformed, repeat)
    for _ in range(count):
        yield gen.line() + b"\n"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("-n", "--count", type=int, default=10_000, help="number of lines")
    p.add_argument("--seed", type=int, default=1, help="random seed (same seed, same bytes)")
    p.add_argument("--malformed", type=float, default=0.01,
                   help="share of malformed lines, 0 to 1 (default 0.01)")
    p.add_argument("--repeat", type=float, default=0.0,
                   help="share of operations that repeat the one before for another target "
                   "(the same request filed again, a new id), 0 to 1 (default 0)")
    p.add_argument("--spec", action="append", type=Path,
                   help="a law to take names from (repeatable; default: the two example laws)")
    p.add_argument("-o", "--output", type=Path, help="output file (default: stdout)")
    args = p.parse_args(argv)
    if not 0 <= args.malformed <= 1 or not 0 <= args.repeat <= 1:
        p.error("--malformed and --repeat take a share between 0 and 1")
    specs = args.spec or list(DEFAULT_SPECS)
    try:
        out = args.output.open("wb") if args.output else sys.stdout.buffer
    except OSError as exc:
        print(f"error: cannot write `{args.output}`: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        buffer: list[bytes] = []
        for line in generate(specs, args.count, args.seed, args.malformed, args.repeat):
            buffer.append(line)
            if len(buffer) >= 10_000:
                out.write(b"".join(buffer))
                buffer.clear()
        out.write(b"".join(buffer))
    finally:
        if args.output:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
