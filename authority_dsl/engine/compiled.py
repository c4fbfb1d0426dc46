"""The compiled evaluator: the same semantics as the reference interpreter, indexed for speed.

At compile time it indexes powers by (threat, capability), following the threat hierarchy, turns
every condition into a Python closure and keeps requirements as frozensets. A property test keeps
it equal to the reference interpreter on generated laws and operations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs

from ..conditions import (
    AllOf,
    AnyOf,
    CannotEvaluate,
    Cond,
    Const,
    Fact,
    Facts,
    Negate,
    ShareFacts,
    SomeShare,
    apply,
)
from ..decision import Authorised, Decision, Violation
from ..durations import Validity
from ..model import Law, PowerDef
from ..operation import Operation
from . import messages
from .common import (
    Option,
    Outcome,
    check_names,
    facts_of,
    finish,
    limit_problems,
    obtained,
    report_failed_options,
    requirement_missing,
)

Pred = Callable[[Facts, "ShareFacts | None"], Any]


def compile_cond(cond: Cond) -> Pred:
    """A closure computing the value of a typed condition."""
    if isinstance(cond, Const):
        value = cond.value
        return lambda f, s: value
    if isinstance(cond, Fact):
        name = cond.name
        if name == "country":
            return lambda f, s: f.get(name, s)
        if name in ("recipient", "data", "foreign"):
            return lambda f, s: getattr(s, name)
        if name in ("duration", "retention", "service"):
            return lambda f, s: f.get(name, s)
        return lambda f, s: getattr(f, name)
    if isinstance(cond, AllOf):
        parts = tuple(compile_cond(i) for i in cond.items)
        return lambda f, s: all(p(f, s) for p in parts)
    if isinstance(cond, AnyOf):
        parts = tuple(compile_cond(i) for i in cond.items)
        return lambda f, s: any(p(f, s) for p in parts)
    if isinstance(cond, Negate):
        inner = compile_cond(cond.item)
        return lambda f, s: not inner(f, s)
    if isinstance(cond, SomeShare):
        inner = compile_cond(cond.item)
        return lambda f, s: any(inner(f, share) for share in f.shares)
    left, right, op = compile_cond(cond.left), compile_cond(cond.right), cond.op
    if op == "==":
        return lambda f, s: left(f, s) == right(f, s)
    if op == "contains":
        return lambda f, s: right(f, s) in left(f, s)
    if op == "in":
        return lambda f, s: left(f, s) in right(f, s)
    return lambda f, s: apply(op, left(f, s), right(f, s), f)


@attrs.frozen
class _Clause:
    test: Pred
    requires: frozenset[str]
    text: str


@attrs.frozen
class _Power:
    name: str
    cites: str | None
    valid: Validity
    requires: frozenset[str]
    clauses: tuple[_Clause, ...]
    plain: bool  # no limits and no clauses: the common fast case
    source: PowerDef


@attrs.frozen
class _Prohibition:
    name: str
    test: Pred
    text: str
    cites: str | None
    valid: Validity


class CompiledLaw:
    """A law compiled for fast decisions; `decide` gives the same record as the reference."""

    def __init__(self, law: Law) -> None:
        self.law = law
        powers = [
            _Power(p.name, p.cites, p.valid, p.requires,
                   tuple(_Clause(compile_cond(c.condition), c.requires, c.text)
                         for c in p.conditionals),
                   not p.conditionals and p.max_duration is None and p.retention is None, p)
            for p in sorted(law.powers, key=lambda p: p.name)
        ]
        self.index: dict[tuple[str, str], tuple[_Power, ...]] = {}
        for threat, ancestors in law.ancestors.items():
            for capability in law.capabilities:
                self.index[threat, capability] = tuple(
                    p for p in powers
                    if capability in p.source.capabilities and p.source.threats & ancestors)
        self.prohibitions = tuple(
            _Prohibition(p.name, compile_cond(p.condition), p.text, p.cites, p.valid)
            for p in law.prohibitions)
        self.share_rules = {
            recipient: tuple(sorted((r for r in law.share_rules if recipient in r.recipients),
                                    key=lambda r: r.name))
            for recipient in law.recipients
        }
        self.share_tests = {
            r.name: (tuple((compile_cond(c), t) for c, t in r.forbidden),
                     tuple(_Clause(compile_cond(c.condition), c.requires, c.text)
                           for c in r.conditionals))
            for r in law.share_rules
        }

    def decide(self, op: Operation) -> Decision:
        law = self.law
        out = Outcome()
        out.step(f"law `{law.title}` version {law.version}; operation `{op.id}` starting "
                 f"{op.date}")
        day = op.date
        if not law.in_force.contains(day):
            out.violations.append(messages.law_not_in_force(law, day))
            return finish(law, op, out)
        capabilities = check_names(law, op, out)
        if out.violations:
            return finish(law, op, out)
        threat = law.threats[op.threat] if op.threat else None
        if threat is not None and not threat.valid.contains(day):
            out.violations.append(messages.threat_not_in_force(threat.name, day, threat.cites))
            return finish(law, op, out)
        facts = facts_of(law, op, capabilities)
        have = obtained(law, op)
        for pro in self.prohibitions:
            if pro.valid.contains(day):
                try:
                    if pro.test(facts, None):
                        out.violations.append(messages.prohibited(pro.name, pro.text, pro.cites))
                        out.step(f"prohibition `{pro.name}` applies")
                except CannotEvaluate as exc:
                    out.violations.append(
                        messages.cannot_evaluate(f"prohibition `{pro.name}`", str(exc)))
        for capability in sorted(capabilities):
            self._capability(capability, op, facts, have, out, day)
        for index, sharing in enumerate(op.sharing):
            self._sharing(index, sharing.recipient, frozenset(sharing.with_), op, facts, have,
                          out)
        return finish(law, op, out)

    def _capability(self, capability: str, op: Operation, facts: Facts, have: frozenset[str],
                    out: Outcome, day: dt.date) -> None:
        candidates = [p for p in self.index.get((op.threat or "", capability), ())
                      if p.valid.contains(day)]
        if not candidates:
            violation, alternative = messages.no_legal_basis(
                self.law, op.threat or "", capability, day)
            out.violations.append(violation)
            out.alternatives.append(alternative)
            return
        best: Option | None = None
        options = []
        for power in candidates:
            option = self._option(power, op, facts, have)
            options.append(option)
            if not option.problems and (best is None or len(option.missing) < len(best.missing)):
                best = option
        if best is None:
            report_failed_options(capability, options, out, op)
            return
        out.authorised.append(Authorised(capability, best.rule, best.cites))
        out.missing.extend(best.missing)
        out.step(f"`{capability}` is granted by power `{best.rule}` for threat `{op.threat}`"
                 + (f", missing {', '.join(m.requirement for m in best.missing)}"
                    if best.missing else ", all requirements met"))

    def _option(self, power: _Power, op: Operation, facts: Facts,
                have: frozenset[str]) -> Option:
        if power.plain:
            lacking = power.requires - have
            missing = tuple(requirement_missing(self.law, n, None, power.name, power.cites, op)
                            for n in sorted(lacking))
            return Option(power.name, power.cites, (), missing, power.source)
        problems = list(limit_problems(power.source, op))
        because: dict[str, str | None] = dict.fromkeys(power.requires)
        for clause in power.clauses:
            try:
                if clause.test(facts, None):
                    for name in clause.requires:
                        because.setdefault(name, clause.text)
            except CannotEvaluate as exc:
                problems.append(("cannot-evaluate", messages.cannot_evaluate(
                    f"`when {clause.text}` of power `{power.name}`", str(exc))))
        missing = tuple(requirement_missing(self.law, n, because[n], power.name, power.cites, op)
                        for n in sorted(set(because) - have))
        return Option(power.name, power.cites, tuple(problems), missing, power.source)

    def _sharing(self, index: int, recipient: str, with_: frozenset[str], op: Operation,
                 facts: Facts, have: frozenset[str], out: Outcome) -> None:
        rules = [r for r in self.share_rules.get(recipient, ()) if r.valid.contains(op.date)]
        if not rules:
            out.violations.append(messages.sharing_not_allowed(index, recipient))
            return
        share = facts.shares[index]
        forbidden: list[Violation] = []
        best: Option | None = None
        available = have | with_
        for rule in rules:
            tests, clauses = self.share_tests[rule.name]
            because: dict[str, str | None] = dict.fromkeys(rule.requires | rule.guarantees)
            try:
                for test, text in tests:
                    if test(facts, share):
                        forbidden.append(
                            messages.sharing_forbidden(index, rule.name, text, rule.cites))
                for clause in clauses:
                    if clause.test(facts, share):
                        for name in clause.requires:
                            because.setdefault(name, clause.text)
            except CannotEvaluate as exc:
                forbidden.append(messages.cannot_evaluate(f"share rule `{rule.name}`", str(exc)))
                continue
            lacking = sorted(set(because) - available)
            if best is None or len(lacking) < len(best.missing):
                best = Option(rule.name, rule.cites, (), tuple(
                    requirement_missing(self.law, n, because[n], rule.name, rule.cites, op)
                    for n in lacking))
        if forbidden:
            out.violations.extend(forbidden)
            return
        assert best is not None
        out.missing.extend(best.missing)
        out.step(f"sharing #{index + 1} with `{recipient}` falls under share rule `{best.rule}`")


def compile_law(law: Law) -> CompiledLaw:
    return CompiledLaw(law)


__all__ = ["CompiledLaw", "compile_law", "ShareFacts"]
