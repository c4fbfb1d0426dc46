"""The compiled evaluator: the same semantics as the reference interpreter, indexed for speed.

At compile time it indexes powers by (threat, capability), following the threat hierarchy, turns
every condition into a Python closure and keeps requirements as frozensets. A property test keeps
it equal to the reference interpreter on generated laws and operations.
"""

from __future__ import annotations

import bisect
import datetime as dt
import operator
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
    Op,
    ShareFacts,
    SomeShare,
    apply,
)
from ..decision import Authorised, Decision, Missing, Violation
from ..durations import Duration, Unit, Validity
from ..model import Law, PowerDef
from ..operation import Operation
from . import messages
from .common import (
    Option,
    Outcome,
    Problem,
    check_names,
    facts_of,
    finish,
    limit_problems,
    obtained,
    report_failed_options,
    requirement_missing,
    settle,
    timely,
)

Pred = Callable[[Facts, "ShareFacts | None"], Any]
# Bounds on what a compiled law remembers: memory stays flat however many operations it sees.
MEMO_SIZE = 1 << 12
TEMPLATES_SIZE = 1 << 12


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
    reads: Callable[[Facts], object]  # the facts its clauses and limits depend on


@attrs.frozen
class _Prohibition:
    name: str
    test: Pred
    text: str
    cites: str | None
    valid: Validity
    violation: Violation


class CompiledLaw:
    """A law compiled for fast decisions; `decide` gives the same record as the reference."""

    def __init__(self, law: Law) -> None:
        self.law = law
        powers = [
            _Power(p.name, p.cites, p.valid, p.requires,
                   tuple(_Clause(compile_cond(c.condition), c.requires, c.text)
                         for c in p.conditionals),
                   not p.conditionals and p.max_duration is None and p.retention is None, p,
                   _reader(p))
            for p in sorted(law.powers, key=lambda p: p.name)
        ]
        # (power, the facts it reads) -> (limit problems, requirements with their reasons)
        self.templates: dict[tuple[str, object], tuple[tuple[Problem, ...],
                                                       tuple[tuple[str, str | None], ...]]] = {}
        self.index: dict[tuple[str, str], tuple[_Power, ...]] = {}
        for threat, ancestors in law.ancestors.items():
            for capability in law.capabilities:
                self.index[threat, capability] = tuple(
                    p for p in powers
                    if capability in p.source.capabilities and p.source.threats & ancestors)
        self.prohibitions = tuple(
            _Prohibition(p.name, compile_cond(p.condition), p.text, p.cites, p.valid,
                         messages.prohibited(p.name, p.text, p.cites))
            for p in law.prohibitions)
        self.threat_info = {n: (t.ancestors, t.severity, t.valid) for n, t in law.threats.items()}
        self.capability_names = frozenset(law.capabilities)
        self.protected_names = frozenset(law.protected)
        self.assessment_names = frozenset(law.assessments)
        self.safeguard_names = frozenset(law.safeguards)
        self.requirement_names = self.assessment_names | self.safeguard_names
        self.recipient_foreign = dict(law.recipients)
        self.intrusion = {n: c.intrusion for n, c in law.capabilities.items()}
        self.bulk = {n: c.scope == "bulk" for n, c in law.capabilities.items()}
        self.cap_summary: dict[frozenset[str], tuple[int, str]] = {}
        self.authorised = {(c, p.name): Authorised(c, p.name, p.cites)
                           for p in law.powers for c in p.capabilities}
        self.missing_cache: dict[tuple[str, str, str | None, bool, bool], Missing] = {}
        self.info = law.info
        self.memo: dict[tuple[object, ...], tuple[Any, ...]] = {}
        self.lookups = self.hits = self.skip_memo = 0
        self.failures: dict[tuple[object, ...], tuple[tuple[Violation, ...],
                                                      tuple[str, ...]]] = {}
        conditions = [c.condition for p in law.powers for c in p.conditionals]
        conditions += [p.condition for p in law.prohibitions]
        conditions += [c for r in law.share_rules for c, _ in r.forbidden]
        conditions += [c.condition for r in law.share_rules for c in r.conditionals]
        read = set().union(*(_reads(c) for c in conditions))
        self.reads_date = "date" in read
        self.reads_service = "service" in read
        durations = [d for p in law.powers for d in (p.max_duration, p.retention) if d]
        durations += [c.value for c in _consts(conditions) if isinstance(c.value, Duration)]
        self.duration_kinds = {_calendar(d.unit) for d in durations}
        # An urgent window in months ends on a date that depends on the start date.
        calendar_windows = any(
            s.urgent_within is not None and _calendar(s.urgent_within.unit)
            for s in law.safeguards.values())
        self.date_matters = self.reads_date or calendar_windows or len(self.duration_kinds) > 1
        # The one kind of duration the law compares with (or no limit at all: any kind fits).
        self.calendar_limits = next(iter(self.duration_kinds), None)
        edges: set[dt.date] = set()
        windows = [law.in_force] + [t.valid for t in law.threats.values()]
        windows += [p.valid for p in law.powers] + [p.valid for p in law.prohibitions]
        windows += [r.valid for r in law.share_rules]
        for window in windows:
            if window.start is not None:
                edges.add(window.start)
            if window.end is not None and window.end < dt.date.max:
                edges.add(window.end + dt.timedelta(days=1))
        self.boundaries = sorted(edges)
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
        """Decide one operation. Operations equal in everything the decision depends on (all
        but the id, the start date only as far as it matters, approval dates relative to it)
        are decided once and remembered; the rest runs on precomputed indexes."""
        day = op.date
        if self.skip_memo:
            # Recent operations hardly repeated: building keys would only cost time.
            self.skip_memo -= 1
            found = self._decide_new(op)
            if found is None:
                return self._decide_general(op)
        else:
            found = self._remembered(op, day)
            if found is None:
                return self._decide_general(op)
        verdict, authorised, missing, violations, alternatives, steps = found
        law = self.law
        return Decision(op.id, verdict, self.info, authorised, missing, violations,
                        alternatives, (("start", law.title, law.version, op.id, day.isoformat()),
                                       *steps))

    def _remembered(self, op: Operation, day: dt.date) -> tuple[Any, ...] | None:
        """The decision parts for this operation, from the memo when an equal one was seen."""
        duration, retention = op.duration, op.retention
        # What of the start date can matter: the interval between the law's own dates, or the
        # date itself where conditions read it or durations of different kinds are compared.
        if self.date_matters:
            when: object = day
        else:
            when = bisect.bisect_right(self.boundaries, day)
            calendar = self.calendar_limits
            for stated in (duration, retention):
                if stated is not None and calendar is not None and (
                        stated.unit is Unit.MONTHS or stated.unit is Unit.YEARS) != calendar:
                    when = day
        # Plain values only: hashing them runs in C, hashing attrs objects would not.
        key = (when, op.threat, op.technique, op.capabilities,
               tuple([s.protected for s in op.subjects]),
               duration and (duration.amount, duration.unit._value_),
               retention and (retention.amount, retention.unit._value_), op.urgent,
               op.service if self.reads_service else None,
               tuple([(a.safeguard, None if a.date is None else (a.date - day).days)
                      for a in op.approvals]),
               op.assessments, op.sharing)
        self.lookups += 1
        found = self.memo.get(key)
        if found is not None:
            self.hits += 1
        else:
            found = self._decide_new(op)
            if found is None:
                return None
            if len(self.memo) >= MEMO_SIZE:
                self.memo.clear()
            self.memo[key] = found
        if self.lookups >= MEMO_SIZE:
            if self.hits * 10 < self.lookups:  # under 10% hits: pause the memo for a while
                self.skip_memo = 4 * MEMO_SIZE
                self.memo.clear()
            self.lookups = self.hits = 0
        return found

    def _decide_new(self, op: Operation) -> tuple[Any, ...] | None:
        """The parts of a decision that do not depend on the operation's id, or None when the
        general path must decide (unknown names, dates outside the law or the threat)."""
        law = self.law
        day = op.date
        threat = op.threat
        info = self.threat_info.get(threat) if threat is not None else None
        if info is None or not law.in_force.contains(day) or not info[2].contains(day):
            return None
        # Fail closed on any unknown name: the general path words those violations.
        if op.technique is not None:
            caps = self.law.techniques.get(op.technique)
            if caps is None:
                return None
            if op.capabilities:
                caps = caps | frozenset(op.capabilities)
        else:
            caps = frozenset(op.capabilities)
        if not caps or not caps <= self.capability_names:
            return None
        protected: frozenset[str] = frozenset()
        for subject in op.subjects:
            if subject.protected:
                protected = protected.union(subject.protected)
        if not protected <= self.protected_names:
            return None
        have = set(op.assessments)
        if not have <= self.assessment_names:
            return None
        late: set[str] = set()
        safeguards = self.safeguard_names
        for approval in op.approvals:
            name = approval.safeguard
            if name not in safeguards:
                return None
            when = approval.date
            if when is None or when <= day or timely(law, op, name, when):
                have.add(name)
            else:
                late.add(name)
        late -= have
        for sharing in op.sharing:
            if sharing.recipient not in self.recipient_foreign or \
                    not self.requirement_names.issuperset(sharing.with_):
                return None
        assert threat is not None
        return self._decide_fast(op, threat, info[1], caps, protected, frozenset(have), late)

    def _decide_fast(self, op: Operation, threat: str, severity: int, caps: frozenset[str],
                     protected: frozenset[str], have: frozenset[str],
                     late: set[str]) -> tuple[Any, ...]:
        law = self.law
        day = op.date
        recipients = self.recipient_foreign
        summary = self.cap_summary.get(caps)
        if summary is None:
            summary = self.cap_summary[caps] = (
                max(self.intrusion[c] for c in caps),
                "bulk" if any(self.bulk[c] for c in caps) else "targeted")
        facts = Facts(threat, severity, caps, summary[0], summary[1], protected, op.duration,
                      op.retention, op.urgent, day, op.service,
                      frozenset(s.recipient for s in op.sharing),
                      tuple(ShareFacts(s.recipient, s.country, s.data, recipients[s.recipient])
                            for s in op.sharing),
                      law.ancestors)
        out = Outcome()
        self._prohibitions(facts, day, out)
        for capability in sorted(caps):
            self._capability(capability, op, facts, have, out, day, bool(late))
        for index, sharing in enumerate(op.sharing):
            self._sharing(index, sharing.recipient, frozenset(sharing.with_), op, facts, have,
                          out)
        verdict, _, authorised, missing, violations, alternatives, steps = settle(out, self.info)
        return verdict, authorised, missing, violations, alternatives, steps

    def _prohibitions(self, facts: Facts, day: dt.date, out: Outcome) -> None:
        for pro in self.prohibitions:
            if pro.valid.contains(day):
                try:
                    if pro.test(facts, None):
                        out.violations.append(pro.violation)
                        out.step("prohibited", pro.name)
                except CannotEvaluate as exc:
                    out.violations.append(
                        messages.cannot_evaluate(f"prohibition `{pro.name}`", str(exc)))

    def _decide_general(self, op: Operation) -> Decision:
        """Every case, including unknown names and dates outside the law's validity."""
        law = self.law
        out = Outcome()
        out.step("start", law.title, law.version, op.id, op.date.isoformat())
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
        self._prohibitions(facts, day, out)
        late = any(a.date is not None and a.safeguard not in have for a in op.approvals)
        for capability in sorted(capabilities):
            self._capability(capability, op, facts, have, out, day, late)
        for index, sharing in enumerate(op.sharing):
            self._sharing(index, sharing.recipient, frozenset(sharing.with_), op, facts, have,
                          out)
        return finish(law, op, out)

    def _capability(self, capability: str, op: Operation, facts: Facts, have: frozenset[str],
                    out: Outcome, day: dt.date, late: bool) -> None:
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
            option = self._option(power, op, facts, have, late)
            options.append(option)
            if not option.problems and (best is None or len(option.missing) < len(best.missing)):
                best = option
        if best is None:
            self._report_failed(capability, options, out, op)
            return
        out.authorised.append(self.authorised[capability, best.rule])
        out.missing.extend(best.missing)
        out.step("granted", capability, best.rule, op.threat or "",
                 ", ".join(m.requirement for m in best.missing))

    def _report_failed(self, capability: str, options: list[Option], out: Outcome,
                       op: Operation) -> None:
        """Why no candidate power is usable; remembered, since its wording is not cheap."""
        key = (capability, tuple((o.rule, o.problems) for o in options), op.duration,
               op.retention, op.date if self.date_matters else None)
        found = self.failures.get(key)
        if found is None:
            report = Outcome()
            report_failed_options(capability, options, report, op)
            if len(self.failures) >= TEMPLATES_SIZE:
                self.failures.clear()
            found = self.failures[key] = (tuple(report.violations), tuple(report.alternatives))
        out.violations.extend(found[0])
        out.alternatives.extend(found[1])

    def _missing(self, power: _Power, name: str, because: str | None, op: Operation,
                 late: bool) -> Missing:
        key = (power.name, name, because, late and op.urgent,
               late and any(a.safeguard == name and a.date is not None for a in op.approvals))
        found = self.missing_cache.get(key)
        if found is None:
            found = self.missing_cache[key] = requirement_missing(
                self.law, name, because, power.name, power.cites, op)
        return found

    def _option(self, power: _Power, op: Operation, facts: Facts,
                have: frozenset[str], late: bool) -> Option:
        if power.plain:
            lacking = power.requires - have
            missing = tuple(self._missing(power, n, None, op, late) for n in sorted(lacking))
            return Option(power.name, power.cites, (), missing, power.source)
        key = (power.name, power.reads(facts))
        template = self.templates.get(key)
        if template is None:
            if len(self.templates) >= TEMPLATES_SIZE:
                self.templates.clear()
            template = self.templates[key] = self._template(power, op, facts)
        problems, required = template
        missing = tuple(self._missing(power, n, because, op, late)
                        for n, because in required if n not in have)
        return Option(power.name, power.cites, problems, missing, power.source)

    @staticmethod
    def _template(power: _Power, op: Operation, facts: Facts) -> tuple[
            tuple[Problem, ...], tuple[tuple[str, str | None], ...]]:
        """What a power with limits or clauses asks of operations with these facts."""
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
        return tuple(problems), tuple(sorted(because.items()))

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
        out.step("shared", str(index + 1), recipient, best.rule)


def _reads(cond: Cond) -> set[str]:
    """The facts a condition reads."""
    if isinstance(cond, Fact):
        return {cond.name}
    if isinstance(cond, Const):
        return set()
    if isinstance(cond, (AllOf, AnyOf)):
        return set().union(*(_reads(i) for i in cond.items))
    if isinstance(cond, (Negate, SomeShare)):
        return _reads(cond.item) | ({"shares"} if isinstance(cond, SomeShare) else set())
    names = _reads(cond.left) | _reads(cond.right)
    if cond.op == "under":
        names.add("ancestors")
    return names


def _reader(power: PowerDef) -> Callable[[Facts], object]:
    """A fast getter of every fact a power's clauses and limits depend on."""
    names = set().union(*(_reads(c.condition) for c in power.conditionals))
    if power.max_duration is not None or power.retention is not None:
        names |= {"duration", "retention"}
    # Durations compare from the start date; only units of different kinds (months against
    # days) make the result depend on it, so the key carries the date only then.
    dated = "duration" in names or "retention" in names
    names &= set(Facts._fields)  # per-sharing facts are reached through `shares`
    names.discard("ancestors")  # fixed for the law
    fields = sorted(names) or ["threat"]
    get = operator.attrgetter(*fields) if len(fields) > 1 else operator.attrgetter(fields[0])
    if not dated:
        return get
    limits = [d for d in (power.max_duration, power.retention) if d is not None]
    limits += [c.value for c in _consts([c.condition for c in power.conditionals])
               if isinstance(c.value, Duration)]
    kinds = {_calendar(d.unit) for d in limits}

    def read(facts: Facts) -> object:
        stated = [d for d in (facts.duration, facts.retention) if d is not None]
        if any(_calendar(d.unit) not in kinds for d in stated) or len(kinds) > 1:
            return get(facts), facts.date
        return get(facts)

    return read


def _calendar(unit: Unit) -> bool:
    return unit is Unit.MONTHS or unit is Unit.YEARS


def _consts(conditions: list[Cond]) -> list[Const]:
    out: list[Const] = []
    stack: list[Cond] = list(conditions)
    while stack:
        node = stack.pop()
        if isinstance(node, Const):
            out.append(node)
        elif isinstance(node, (AllOf, AnyOf)):
            stack.extend(node.items)
        elif isinstance(node, (Negate, SomeShare)):
            stack.append(node.item)
        elif isinstance(node, Op):
            stack.extend((node.left, node.right))
    return out


def compile_law(law: Law) -> CompiledLaw:
    return CompiledLaw(law)


__all__ = ["CompiledLaw", "ShareFacts", "compile_law"]
