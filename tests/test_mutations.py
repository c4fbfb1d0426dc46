"""Mutation tests of the analysis: seeded mutations of the example specs (and the small fixture).

Each mutation drops a safeguard from a power, widens a power's threats, deletes a prohibition or
raises a maximum duration. An oracle written apart from the analysis probes operations around
the mutated provision with the reference interpreter: `verify` must catch every mutation that
breaks a principle the original satisfies, and `diff` must report every mutation (structurally
always, and semantically with a group covering every operation the oracle sees change). The
test prints a table of each mutation and what caught it (`pytest -s` shows it).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import random
from collections.abc import Iterator

import attrs
import pytest
from msgspec.structs import replace

from authority_dsl.analysis.diff import diff
from authority_dsl.analysis.space import Space
from authority_dsl.analysis.verify import verify
from authority_dsl.checker import load_law
from authority_dsl.conditions import Cond, Const, Op
from authority_dsl.durations import Duration
from authority_dsl.model import ConditionalDef, Law, PowerDef
from authority_dsl.operation import Approval, Operation, Sharing, Subject
from tests.test_diff import covered, reference_changes
from tests.test_verify import FIXTURES, SPECS, is_counterexample

KINDS = ("drop safeguard", "widen threats", "delete prohibition", "raise max duration")
PER_KIND = 3  # mutations tried per law and kind, chosen with a seeded random generator


@attrs.frozen
class Mutation:
    kind: str
    what: str
    law: Law
    probes: tuple[Operation, ...]  # operations around the mutated provision


def _descendants(law: Law, threats: frozenset[str]) -> list[str]:
    return [t for t, info in law.threats.items() if info.ancestors & threats]


def _constants(cond: Cond) -> Iterator[object]:
    if isinstance(cond, Const):
        yield cond.value
    elif isinstance(cond, Op):
        yield from _constants(cond.left)
        yield from _constants(cond.right)
    else:
        for item in getattr(cond, "items", ()) or (getattr(cond, "item", None),):
            if item is not None:
                yield from _constants(item)


def _days(law: Law, power: PowerDef | None = None) -> list[dt.date]:
    days = {law.in_force.start or dt.date(2028, 1, 1)}
    if power is not None and power.valid.start:
        days.add(power.valid.start)
    return sorted(d for d in days if law.in_force_on(d))


def _power_probes(law: Law, power: PowerDef, threats: list[str],
                  durations: list[Duration | None], clauses: bool) -> tuple[Operation, ...]:
    """Each capability of the power for each threat, alone or with one protected category,
    with the given durations (and, for `clauses`, retentions around the clauses' constants)."""
    consts = [c for clause in power.conditionals for c in _constants(clause.condition)
              if isinstance(c, Duration)] if clauses else []
    retentions: list[Duration | None] = [None, *(Duration(c.amount + 1, c.unit)
                                                 for c in consts)]
    protected = [(), *((p,) for p in law.protected)]
    return tuple(
        Operation("probe", day, threat=t, capabilities=(c,),
                  subjects=(Subject("target", ps),) if ps else (), duration=du, retention=re_)
        for day, t, c, ps, du, re_ in itertools.product(
            _days(law, power), threats, sorted(power.capabilities), protected,
            dict.fromkeys(durations), dict.fromkeys(retentions)))


def _replace(law: Law, old: PowerDef, new: PowerDef) -> Law:
    return attrs.evolve(law, powers=tuple(new if p is old else p for p in law.powers))


def mutations(law: Law, kind: str) -> list[Mutation]:
    """Every mutation of one kind the law allows."""
    powers = list(law.powers)
    out = []
    if kind == "drop safeguard":
        for power in powers:
            picks: list[tuple[ConditionalDef | None, str]] = [
                (None, s) for s in sorted(power.requires) if s in law.safeguards]
            picks += [(c, s) for c in power.conditionals for s in sorted(c.requires)
                      if s in law.safeguards]
            for clause, name in picks:
                if clause is None:
                    changed = attrs.evolve(power, requires=power.requires - {name})
                else:
                    kept = tuple(attrs.evolve(c, requires=c.requires - {name}) if c is clause
                                 else c for c in power.conditionals)
                    changed = attrs.evolve(power,
                                           conditionals=tuple(c for c in kept if c.requires))
                where = "" if clause is None else f" (when {clause.text})"
                out.append(Mutation(
                    kind, f"power `{power.name}` no longer requires `{name}`{where}",
                    _replace(law, power, changed),
                    _power_probes(law, power, _descendants(law, power.threats),
                                  [None, power.max_duration], clause is not None)))
    elif kind == "widen threats":
        for power in powers:
            for threat in sorted(law.threats):
                if power.threats & law.threats[threat].ancestors:
                    continue
                changed = attrs.evolve(power, threats=power.threats | {threat})
                out.append(Mutation(
                    kind, f"power `{power.name}` is also granted for `{threat}`",
                    _replace(law, power, changed),
                    _power_probes(law, power, _descendants(law, frozenset({threat})),
                                  [None, power.max_duration], False)))
    elif kind == "delete prohibition":
        for gone in law.prohibitions:
            mutant = attrs.evolve(law, prohibitions=tuple(p for p in law.prohibitions
                                                          if p is not gone))
            out.append(Mutation(kind, f"prohibition `{gone.name}` deleted", mutant,
                                _all_probes(law)))
    else:
        for power in powers:
            old = power.max_duration
            if old is None:
                continue
            new = Duration(old.amount * 2, old.unit)
            out.append(Mutation(
                kind, f"power `{power.name}`: max_duration {old} -> {new}",
                _replace(law, power, attrs.evolve(power, max_duration=new)),
                _power_probes(law, power, _descendants(law, power.threats),
                              [old, Duration(old.amount + 1, old.unit), new,
                               Duration(new.amount + 1, new.unit)], False)))
    return out


def _all_probes(law: Law) -> tuple[Operation, ...]:
    """Every threat with each capability alone, and each kind of sharing alone."""
    ops = []
    limits = sorted({p.max_duration for p in law.powers if p.max_duration is not None},
                    key=str)
    countries = [None, "NL", "BE", *sorted({str(v) for s in law.sets.values() for v in s})]
    for day, threat in itertools.product(_days(law), [None, *law.threats]):
        for cap, protected, duration in itertools.product(
                sorted(law.capabilities), [(), *((p,) for p in law.protected)],
                [None, *limits[:1]]):
            if threat is not None:
                ops.append(Operation("probe", day, threat=threat, capabilities=(cap,),
                                     subjects=(Subject("target", protected),) if protected
                                     else (), duration=duration))
        for recipient, country, data in itertools.product(
                sorted(law.recipients), countries, ("evaluated", "unevaluated")):
            ops.append(Operation("probe", day, threat=threat,
                                 sharing=(Sharing(recipient, country, data),)))
    return tuple(ops)


def broken_by(mutant: Law, original_holds: frozenset[str],
              probes: tuple[Operation, ...]) -> set[str]:
    """The principles the original satisfies that some probe breaks in the mutant (reference
    interpreter, every obtainable approval but one of the required ones)."""
    broken = set()
    for principle in mutant.principles:
        if principle.name not in original_holds:
            continue
        missing = [None] if principle.deny else sorted(principle.requires)
        for op, name in itertools.product(probes, missing):
            full = replace(op, approvals=tuple(Approval(s) for s in mutant.safeguards
                                               if s != name),
                           assessments=tuple(a for a in mutant.assessments if a != name))
            if is_counterexample(mutant, principle, full):
                broken.add(principle.name)
                break
    return broken


@functools.cache
def _laws() -> list[tuple[str, Law]]:
    out = []
    for path in [*SPECS, FIXTURES / "small.auth"]:
        law, diags = load_law(path)
        assert law is not None, (path.name, [d.message for d in diags])
        out.append((path.name, law))
    return out


@functools.cache
def _original(spec: str) -> tuple[Law, frozenset[str], frozenset[str]]:
    """The law, the principles it satisfies and all its principles."""
    law = dict(_laws())[spec]
    results = verify(law, examples=100).results
    return (law, frozenset(r.principle.name for r in results if r.holds),
            frozenset(r.principle.name for r in results))


@pytest.fixture(scope="module")
def table() -> list[str]:
    return []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("spec", ["wiv2017.auth", "wiv_threat_draft.auth", "small.auth"])
def test_mutations_are_caught(spec: str, kind: str, table: list[str],
                              capsys: pytest.CaptureFixture[str]) -> None:
    law, holds, everything = _original(spec)
    candidates = mutations(law, kind)
    chosen = random.Random(f"{spec}:{kind}").sample(candidates, min(PER_KIND, len(candidates)))
    rows = []
    for mutation in chosen:
        mutant = mutation.law
        broken = broken_by(mutant, holds, mutation.probes)
        report = verify(mutant, examples=100)
        violated = {r.principle.name for r in report.results if not r.holds}
        for result in report.results:
            if result.counterexample is not None:
                assert is_counterexample(mutant, result.principle, result.counterexample)
        assert broken <= violated, (mutation.what, broken - violated)
        found = diff(law, mutant, examples=100)
        assert found.structural, mutation.what
        space = Space([law, mutant], mode="diff")
        changed = 0
        for op in mutation.probes:
            for change, reason in reference_changes(law, mutant, op):
                changed += 1
                assert covered(op, change, reason, found.semantic.groups, space), (
                    mutation.what, op, change, reason)
        newly = sorted(violated - (everything - holds))
        rows.append(
            f"{spec:22} {kind:18} {mutation.what}\n{'':41}verify: "
            + (", ".join(newly) + " violated" if newly else "no principle broken")
            + (f" (oracle: {', '.join(sorted(broken))})" if broken else "")
            + f"; diff: {len(found.structural)} declaration change(s), "
            f"{len(found.semantic.groups)} group(s), {changed} probe change(s) covered")
    table.extend(rows)
    with capsys.disabled():
        print("\n" + "\n".join(rows))
