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
from typing import Any, TypeVar, cast

import attrs
from msgspec.structs import astuple

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
from ..countries import COUNTRIES
from ..decision import DENIED, PERMITTED, REQUIRES, Authorised, Decision, Missing, Violation
from ..durations import Duration, Unit, Validity, date_dependent
from ..model import Law, PowerDef, ShareRuleDef
from ..operation import Operation
from . import messages
from .common import (
    Option,
    Outcome,
    Problem,
    because_of,
    check_names,
    facts_of,
    finish,
    late_note,
    limit_problems,
    near_service,
    obtained,
    report_failed_options,
    requirement_missing,
    service_names,
    timely,
)

Pred = Callable[[Facts, "ShareFacts | None"], Any]
# Bounds on what a compiled law remembers: memory stays flat however many operations it sees.
PLANS_SIZE = 1 << 12
MEMO_SIZE = 1 << 12
TEMPLATES_SIZE = 1 << 12
GRANTED_SIZE = 256  # the missing requirements remembered per template
_NOTHING: frozenset[str] = frozenset()
# Facts fixed by a plan (the threat and the capabilities), and facts of each operation, in the
# order of the tuple the fast path builds.
_PLAN_FACTS = frozenset({"threat", "severity", "capabilities", "intrusion", "scope", "ancestors"})
_SHARE_FACTS = frozenset({"recipient", "country", "data", "foreign"})
_SHARE_READS = _SHARE_FACTS | {"shares", "recipients"}
_OPERATION_FACTS = ("protected", "duration", "retention", "urgent", "date", "service")


class _Template:
    """What using a power asks of operations with given facts: its limit problems, the
    requirements with the condition that made each necessary (sorted by name), the same as a
    set, each as missing; and, remembered as they come, the missing requirements for each set of
    lacking ones, and why the power fails for a capability."""

    __slots__ = ("failed", "granted", "plain", "problems", "reqset", "required")

    def __init__(self, law: Law, power: PowerDef | ShareRuleDef, problems: tuple[Problem, ...],
                 required: tuple[tuple[str, str | None], ...]) -> None:
        self.problems = problems
        self.required = required
        self.reqset = _one(frozenset(n for n, _ in required))
        self.plain = {n: _one(Missing(n, law.requirement_kind(n), power.name, power.cites, because))
                      for n, because in required}
        # lacking requirements (or those, those approved too late, urgency) -> missing, names
        self.granted: dict[Any, tuple[tuple[Missing, ...], str]] = {}
        self.failed: dict[str, tuple[tuple[Violation, ...], tuple[str, ...]]] = {}


_BASE_SIZES = PLANS_SIZE, TEMPLATES_SIZE, GRANTED_SIZE


def scale_caches(scale: int) -> None:
    """Let the caches of plans and templates (not the memo, whose size follows how soon
    operations repeat) hold `scale` times their usual number of entries, in every compiled law
    of this process; 1 restores the usual bounds. A cache larger than its bound is emptied the
    next time it grows."""
    global PLANS_SIZE, TEMPLATES_SIZE, GRANTED_SIZE
    plans, templates, granted = _BASE_SIZES
    PLANS_SIZE, TEMPLATES_SIZE, GRANTED_SIZE = plans * scale, templates * scale, granted * scale


_DATED: Any = object()  # in the templates: this key also needs the start date
_T = TypeVar("_T")
# Records, sets and tuples the caches keep: one shared copy of each, however many entries hold it.
# Less memory, and the audit's encoder writes each record once.
_SHARED: dict[Any, Any] = {}


def _one(value: _T) -> _T:
    """The shared copy of a value (an equal one met before), or this one."""
    found = _SHARED.get(value)
    if found is None:
        if len(_SHARED) >= 4 * TEMPLATES_SIZE:
            _SHARED.clear()
        found = _SHARED[value] = value
    return cast(_T, found)


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
    types = {getattr(cond.left, "type", None), getattr(cond.right, "type", None)}
    if "duration" in types or "set[duration]" in types:
        return lambda f, s: apply(op, left(f, s), right(f, s), f)  # by length (`apply`)
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


class _Power:
    """A power as the fast path uses it (an extension type in the compiled build)."""

    __slots__ = ("cites", "clauses", "dated", "dyn", "fixed", "name", "plain", "reads", "requires",
                 "shares", "source", "static_fields", "valid")

    def __init__(self, name: str, cites: str | None, valid: Validity, requires: frozenset[str],
                 clauses: tuple[_Clause, ...], plain: bool, source: PowerDef,
                 reads: Callable[[Facts], object], static_fields: tuple[str, ...],
                 dyn: Callable[[tuple[Any, ...]], object], shares: bool,
                 dated: Callable[[Duration | None, Duration | None], bool],
                 fixed: _Template | None) -> None:
        self.name = name
        self.cites = cites
        self.valid = valid
        self.requires = requires
        self.clauses = clauses
        self.plain = plain  # no limits and no clauses: the common fast case
        self.source = source
        self.reads = reads  # the facts its clauses and limits depend on
        self.static_fields = static_fields  # of those, the facts a plan fixes
        # A key of the facts of an operation it depends on (from the tuple of _OPERATION_FACTS).
        self.dyn = dyn
        self.shares = shares  # it reads sharings: the general path decides
        # Whether stated durations make what it asks depend on the start date.
        self.dated = dated
        self.fixed = fixed  # for a plain power: the one template


@attrs.frozen
class _Prohibition:
    name: str
    test: Pred
    text: str
    cites: str | None
    valid: Validity
    violation: Violation
    dynamic: bool  # reads facts of the operation beyond its threat and capabilities
    shares_only: bool  # ...and those are only its sharings


class _Plan:
    """Operations with the same threat, technique and capabilities, between two dates of the law
    (an extension type in the compiled build)."""

    __slots__ = ("capabilities", "caps", "cites", "dormant", "fast", "intrusion", "prohibitions",
                 "scope", "severity", "share_key", "shares_only", "steps", "threat", "violations")

    def __init__(self, fast: bool, threat: str, severity: int, caps: frozenset[str],
                 intrusion: int, scope: str, prohibitions: tuple[_Prohibition, ...],
                 violations: tuple[Violation, ...], steps: tuple[tuple[str, ...], ...],
                 shares_only: bool,
                 capabilities: tuple[tuple[str, tuple[tuple[_Power, tuple[Any, ...]], ...],
                                           tuple[Violation, str] | None], ...],
                 dormant: bool = False, cites: str | None = None,
                 share_key: tuple[Any, ...] = ()) -> None:
        # False: some candidate power reads sharings; the general path decides
        self.fast = fast
        self.threat = threat
        self.severity = severity
        self.caps = caps
        self.intrusion = intrusion
        self.scope = scope
        # to evaluate per operation (they read its facts)
        self.prohibitions = prohibitions
        self.violations = violations  # otherwise: what the prohibitions found, once
        self.steps = steps
        # The prohibitions read only the threat, the capabilities and the sharings: for
        # operations without sharings, `violations` and `steps` hold what they find.
        self.shares_only = shares_only
        # Per capability, sorted: the candidate powers in force (with the plan's facts each
        # reads), or why none is.
        self.capabilities = capabilities
        # The threat is not in force between these dates: every operation of the kind whose
        # names are all known is denied for that alone, and this is the threat's citation.
        self.dormant = dormant
        self.cites = cites
        # For prohibitions that read only the plan's facts and sharings: the interval and the
        # facts of the plan they read, which with the sharings key what they find.
        self.share_key = share_key


# The plan of operations that take the general path (an unknown name, a date outside the law,
# no capability), which words what is wrong.
_GENERAL = _Plan(False, "", 0, frozenset(), 0, "targeted", (), (), (), False, ())
_VERDICT_STEPS = {v: ("verdict", v) for v in (PERMITTED, REQUIRES, DENIED)}
_DENIED_STEP = _VERDICT_STEPS[DENIED]
# What the fast path decides, beside the operation's id and date (`CompiledLaw.outcome`).
OutcomeTuple = tuple[str, tuple[Authorised, ...], tuple[Missing, ...], tuple[Violation, ...],
                     tuple[str, ...], tuple[tuple[str, ...], ...]]


class CompiledLaw:
    """A law compiled for fast decisions; `decide` gives the same record as the reference."""

    def __init__(self, law: Law) -> None:
        self.law = law
        powers = []
        for p in sorted(law.powers, key=lambda p: p.name):
            plain = not p.conditionals and p.max_duration is None and p.retention is None
            names = _power_reads(p)
            powers.append(_Power(
                p.name, p.cites, p.valid, p.requires,
                tuple(_Clause(compile_cond(c.condition), c.requires, c.text)
                      for c in p.conditionals),
                plain, p, _reader(p), tuple(sorted(names & _PLAN_FACTS - {"ancestors"})),
                _dyn_reader(p, names), bool(names & {"shares", "recipients"}), _dated(p),
                _Template(law, p, (), tuple(sorted(dict.fromkeys(p.requires).items())))
                if plain else None))
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
                         messages.prohibited(p.name, p.text, p.cites),
                         not _reads(p.condition) <= _PLAN_FACTS,
                         _reads(p.condition) <= _PLAN_FACTS | _SHARE_READS)
            for p in law.prohibitions)
        self.threat_info = {n: (t.ancestors, t.severity, t.in_force)
                            for n, t in law.threats.items()}
        self.capability_names = frozenset(law.capabilities)
        self.protected_names = frozenset(law.protected)
        self.assessment_names = frozenset(law.assessments)
        self.safeguard_names = frozenset(law.safeguards)
        self.requirement_names = self.assessment_names | self.safeguard_names
        self.recipient_foreign = dict(law.recipients)
        # The services the law's conditions name: another way of writing one (`"aivd"`) is
        # left to the general path, which denies it (`common.near_service`).
        self.service_names = frozenset(service_names(law).values())
        self.intrusion = {n: c.intrusion for n, c in law.capabilities.items()}
        self.bulk = {n: c.scope == "bulk" for n, c in law.capabilities.items()}
        self.authorised = {(c, p.name): Authorised(c, p.name, p.cites)
                           for p in law.powers for c in p.capabilities}
        self.missing_cache: dict[tuple[str, str, str | None, bool, bool], Missing] = {}
        self.late_missing: dict[tuple[str, str, str | None, bool], Missing] = {}
        self.info = law.info
        self.title, self.version = law.title, law.version
        self.plans: dict[tuple[Any, ...], _Plan] = {}
        self.memo: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self.lookups = self.hits = self.skip_memo = 0
        self.next_skip = 4 * MEMO_SIZE
        # (interval, threat, capability) -> the powers in force for it, or why there are none
        self.candidates: dict[tuple[Any, ...], tuple[tuple[_Power, ...],
                                                     tuple[Violation, str] | None]] = {}
        self.fast_templates: dict[tuple[Any, ...], _Template] = {}
        self.failures: dict[tuple[object, ...], tuple[tuple[Violation, ...],
                                                      tuple[str, ...]]] = {}
        self.dormant: dict[tuple[str, dt.date], Violation] = {}
        # (plan's share key, sharings) -> what prohibitions reading only those find
        self.share_prohibited: dict[tuple[Any, ...], tuple[tuple[Violation, ...],
                                                           tuple[tuple[str, ...], ...]]] = {}
        self.prohibition_reads = sorted(
            set().union(*(_reads(p.condition) for p in law.prohibitions))
            & (_PLAN_FACTS - {"ancestors"}))
        # (capability, the templates of its candidates, ...) -> why none is usable
        self.failed: dict[tuple[Any, ...], tuple[tuple[Violation, ...], tuple[str, ...]]] = {}
        # violations as found -> in the record's order, without repeats
        self.ordered: dict[tuple[Violation, ...], tuple[Violation, ...]] = {}
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
        # What of the start date the memo keys on, beyond the interval between the law's dates:
        # the day itself where limits of different kinds meet (the longest alternative depends on
        # it) or a stated duration is date-dependent against one of the law's (`_ambiguous`);
        # else the interval between the dates conditions compare with.
        self.memo_day = len(self.duration_kinds) > 1
        self.law_durations = durations
        self.compares_durations = _compares_duration_facts(conditions)
        self.ambiguous: dict[object, bool] = {}
        self.date_points = _date_points(conditions)
        edges: set[dt.date] = set()
        windows = [law.in_force] + [t.in_force for t in law.threats.values()]
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
        # A sharing whose rules read only facts of the sharing is decided once per kind.
        self.share_cacheable = {
            recipient: all(_reads(c) <= _SHARE_FACTS for r in rules
                           for c in [*(c for c, _ in r.forbidden),
                                     *(c.condition for c in r.conditionals)])
            for recipient, rules in self.share_rules.items()}
        self.share_plans: dict[tuple[Any, ...], tuple[tuple[Violation, ...],
                                                      tuple[tuple[Any, _Template], ...]]] = {}
        self.share_tests = {
            r.name: (tuple((compile_cond(c), t) for c, t in r.forbidden),
                     tuple(_Clause(compile_cond(c.condition), c.requires, c.text)
                           for c in r.conditionals))
            for r in law.share_rules
        }

    def decide(self, op: Operation) -> Decision:
        """Decide one operation. The plan of its kind (interval between the law's dates, threat,
        technique, capabilities) is made once: prohibitions that read only those, and the
        candidate powers of each capability. What is left per operation is set arithmetic."""
        found = self.outcome(op)
        if isinstance(found, Decision):
            return found
        return self.decision(op, found)

    def decision(self, op: Operation, outcome: OutcomeTuple) -> Decision:
        """The decision that an outcome of the fast path (`outcome`) stands for."""
        return Decision(op.id, outcome[0], self.info, outcome[1], outcome[2], outcome[3],
                        outcome[4],
                        (("start", self.title, self.version, op.id, op.date.isoformat()),
                         *outcome[5]))

    def outcome(self, op: Operation) -> Decision | OutcomeTuple:
        """The decision of `decide`, or on the fast path only what it says beyond the
        operation's id and date, as a tuple: (verdict, authorised, missing, violations,
        alternatives, the steps of the trace after its start step). Equal tuples, equal
        decisions for operations of the same id and date: a reader may key on them."""
        # The fields at once: in the compiled build, one call costs less than a lookup of each
        # attribute (docs/reviewers.md); plain Python does about as well either way.
        (_, day, threat, service, technique, capabilities, subjects, duration, urgent, retention,
         approvals, assessments, shares) = astuple(op)
        pkey = (bisect.bisect_right(self.boundaries, day), threat, technique, capabilities)
        plan: _Plan | None = self.plans.get(pkey)  # typed in the compiled build (compiled.pxd)
        if plan is None:
            plan = self._plan(pkey, op)
        if not plan.fast:
            return self._decide_general(op)
        # Fail closed on any unknown name: the general path words those violations.
        have = set(assessments)
        if not self.assessment_names.issuperset(have):
            return self._decide_general(op)
        late: set[str] | None = None
        safeguards = self.safeguard_names
        for approval in approvals:
            name = approval.safeguard
            if name not in safeguards:
                return self._decide_general(op)
            when = approval.date
            if when is None or when <= day or (urgent and timely(self.law, op, name, when)):
                have.add(name)
            elif late is None:
                late = {name}
            else:
                late.add(name)
        if late:
            late -= have
        protected = _NOTHING
        for subject in subjects:
            if subject.protected:
                protected = protected.union(subject.protected)
        if protected and not protected <= self.protected_names:
            return self._decide_general(op)
        if service is not None and self.service_names and service not in self.service_names \
                and near_service(self.law, service) is not None:
            return self._decide_general(op)
        if shares:
            for sharing in shares:
                country = sharing.country
                if sharing.recipient not in self.recipient_foreign or \
                        not self.requirement_names.issuperset(sharing.with_) or \
                        (country is not None and country not in COUNTRIES):
                    return self._decide_general(op)
        if plan.dormant:
            return self._dormant(plan, op)
        # Everything the rest of the decision depends on; the start date only where conditions
        # read it or durations of different kinds meet.
        # Durations as plain tuples in keys: hashing those runs in C.
        spans = (duration and (duration.amount, duration.unit),
                 retention and (retention.amount, retention.unit))
        memo_key: tuple[Any, ...] | None = None
        if self.skip_memo:
            self.skip_memo -= 1
        else:
            if self.memo_day or (duration is not None and self._ambiguous(spans[0], duration)) \
                    or (retention is not None and self._ambiguous(spans[1], retention)):
                moment: object = day
            else:
                moment = bisect.bisect_right(self.date_points, day) if self.date_points else None
            memo_key = (pkey, frozenset(have), frozenset(late) if late else None, urgent,
                        protected, spans, service if self.reads_service else None, shares,
                        moment)
            found = self.memo.get(memo_key)
            self.lookups += 1
            if self.lookups >= MEMO_SIZE:
                self._review_memo()
            if found is not None:
                self.hits += 1
                return found
        facts = None
        threat = plan.threat
        if plan.prohibitions and (shares or not plan.shares_only):
            if plan.shares_only:
                # What they find depends on the plan and the sharings alone: found once.
                pro_key = (plan.share_key,
                           tuple([(s.recipient, s.country, s.data) for s in shares]))
                known = self.share_prohibited.get(pro_key)
                if known is None:
                    facts = self._facts(plan, op, protected)
                    fired_v, fired_s = self._prohibited(facts, plan.prohibitions)
                    if len(self.share_prohibited) >= TEMPLATES_SIZE:
                        self.share_prohibited.clear()
                    known = self.share_prohibited[pro_key] = (
                        tuple([_one(v) for v in fired_v]), tuple(fired_s))
                violations, steps = list(known[0]), list(known[1])
            else:
                facts = self._facts(plan, op, protected)
                violations, steps = self._prohibited(facts, plan.prohibitions)
        else:
            violations = list(plan.violations)
            steps = list(plan.steps)
        authorised = []
        parts: list[tuple[Missing, ...]] = []
        alternatives: list[str] = []
        dyn = None
        templates = self.fast_templates
        for capability, candidates, no_basis in plan.capabilities:
            if no_basis is not None:
                violations.append(no_basis[0])
                alternatives.append(no_basis[1])
                continue
            template: _Template | None  # typed variables in the compiled build (compiled.pxd)
            best_template: _Template
            power: _Power
            best = template = None
            best_count = 0
            failing: tuple[_Template, ...] = ()  # templates of candidates with problems
            for power, static in candidates:
                template = power.fixed
                if template is None:
                    if dyn is None:
                        dyn = (protected, spans[0], spans[1], urgent, day, service)
                    tkey = (power.name, static, power.dyn(dyn))
                    cached = templates.get(tkey)  # or _DATED, which `template` cannot hold
                    if cached is None or cached is _DATED:
                        template = self._fast_template(power, plan, op, protected, tkey, cached)
                    else:
                        template = cached
                if template.problems:
                    failing += (template,)
                    continue
                lacking = template.reqset - have
                if best is None or len(lacking) < best_count:
                    best, best_template, best_lacking, best_count = (
                        power, template, lacking, len(lacking))
            if best is None:
                if len(candidates) == 1 and template is not None:
                    failed = template.failed.get(capability)
                    if failed is None:
                        failed = template.failed[capability] = self._fail_fast(
                            capability, candidates, plan, op, protected, have, late)
                else:
                    # The templates word each candidate's problems; which limit is the most
                    # generous may depend on the start date.
                    fkey = (capability, failing, day if self.date_matters else None)
                    failed = self.failed.get(fkey)
                    if failed is None:
                        if len(self.failed) >= TEMPLATES_SIZE:
                            self.failed.clear()
                        failed = self.failed[fkey] = self._fail_fast(
                            capability, candidates, plan, op, protected, have, late)
                violations.extend(failed[0])
                alternatives.extend(failed[1])
                continue
            if best_count:
                missing, names = self._granted(best, best_template, best_lacking, late, urgent)
                parts.append(missing)
            else:
                names = ""
            authorised.append(self.authorised[capability, best.name])
            steps.append(("granted", capability, best.name, threat, names))
        if shares:
            for index, sharing in enumerate(shares):
                recipient = sharing.recipient
                if self.share_cacheable[recipient]:
                    skey = (pkey[0], index, recipient, sharing.country, sharing.data)
                    entry = self.share_plans.get(skey)
                    if entry is None:
                        entry = self._share_plan(skey, plan, op)
                    forbidden, options = entry
                    if forbidden:
                        violations.extend(forbidden)
                        continue
                    available = have.union(sharing.with_)
                    best = None
                    for rule, template in options:
                        lacking = template.reqset - available
                        if best is None or len(lacking) < best_count:
                            best, best_template, best_lacking, best_count = (
                                rule, template, lacking, len(lacking))
                    assert best is not None
                    if best_count:
                        parts.append(self._granted(best, best_template, best_lacking, late,
                                                   urgent)[0])
                    steps.append(("shared", str(index + 1), recipient, best.name))
                    continue
                if facts is None:
                    facts = self._facts(plan, op, protected)
                out = Outcome()
                self._sharing(index, recipient, frozenset(sharing.with_), op, facts,
                              frozenset(have), out)
                violations.extend(out.violations)
                if out.missing:
                    parts.append(tuple(out.missing))
                steps.extend(out.steps)
        if not parts:
            missing_t: tuple[Missing, ...] = ()
        elif len(parts) == 1 and not shares:
            missing_t = parts[0]
        else:
            merged: dict[str, Missing] = {}
            for m in sorted([m for part in parts for m in part], key=_MISSING_ORDER):
                merged.setdefault(m.requirement, m)
            missing_t = tuple(merged.values())
        if violations:
            verdict = DENIED
            violations_t = tuple(violations)
            if len(violations_t) > 1:
                ordered = self.ordered.get(violations_t)
                if ordered is None:
                    if len(self.ordered) >= TEMPLATES_SIZE:
                        self.ordered.clear()
                    ordered = self.ordered[violations_t] = _distinct(
                        sorted(violations, key=_VIOLATION_ORDER))
                violations_t = ordered
        else:
            verdict = REQUIRES if missing_t else PERMITTED
            violations_t = ()
        steps.append(_VERDICT_STEPS[verdict])
        authorised_t = tuple(authorised)
        alternatives_t = tuple(sorted(set(alternatives))) if alternatives else ()
        outcome = (verdict, authorised_t, missing_t, violations_t, alternatives_t, tuple(steps))
        if memo_key is not None:
            memo = self.memo
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            memo[memo_key] = outcome
        return outcome

    def _ambiguous(self, span: object, stated: Duration) -> bool:
        """Whether a stated duration compares with one of the law's differently on other dates."""
        found = self.ambiguous.get(span)
        if found is None:
            if len(self.ambiguous) >= TEMPLATES_SIZE:
                self.ambiguous.clear()
            found = self.ambiguous[span] = self.compares_durations or any(
                date_dependent(stated, limit) for limit in self.law_durations)
        return found

    def _review_memo(self) -> None:
        """The memo steps aside for a while when operations hardly repeat (under 10% of
        lookups hit): building keys would then only cost time. The while doubles as long as
        operations keep not repeating."""
        if self.hits * 10 < self.lookups:
            self.skip_memo = self.next_skip
            self.next_skip = min(2 * self.next_skip, 64 * MEMO_SIZE)
            self.memo.clear()
        else:
            self.next_skip = 4 * MEMO_SIZE
        self.lookups = self.hits = 0

    def _plan(self, pkey: tuple[Any, ...], op: Operation) -> _Plan:
        """What operations of one kind have in common; `_GENERAL` when the general path must
        decide them all (an unknown name, a date outside the law, no capability), or a dormant
        plan when the threat is not in force. Kinds with an unknown name are not remembered:
        misspellings seldom repeat, and telling them is cheap."""
        law = self.law
        day = op.date
        _, threat, technique, given = pkey
        info = self.threat_info.get(threat) if threat is not None else None
        if info is None:
            return _GENERAL
        if technique is not None:
            caps = law.techniques.get(technique)
            if caps is None:
                return _GENERAL
            caps = caps | frozenset(given)
        else:
            caps = frozenset(given)
        if not caps or not caps <= self.capability_names:
            return _GENERAL
        assert threat is not None
        if len(self.plans) >= PLANS_SIZE:
            self.plans.clear()
        self.plans[pkey] = _GENERAL  # until the plan below is made, if it can be
        if not law.in_force.contains(day):
            return _GENERAL
        if not info[2].contains(day):
            plan = self.plans[pkey] = _Plan(True, threat, info[1], caps, 0, "targeted", (), (),
                                            (), False, (), True, law.threats[threat].cites)
            return plan
        intrusion = max(self.intrusion[c] for c in caps)
        scope = "bulk" if any(self.bulk[c] for c in caps) else "targeted"
        neutral = Facts(threat, info[1], caps, intrusion, scope, _NOTHING, None, None, False,
                        day, None, _NOTHING, (), law.ancestors)
        in_force = tuple(p for p in self.prohibitions if p.valid.contains(day))
        dynamic = any(p.dynamic for p in in_force)
        shares_only = all(p.shares_only for p in in_force)
        violations: list[Violation] = []
        steps: list[tuple[str, ...]] = []
        if shares_only:
            violations, steps = self._prohibited(neutral, in_force)
        capabilities = []
        fast = True
        for capability in sorted(caps):
            ckey = (pkey[0], threat, capability)
            found = self.candidates.get(ckey)
            if found is None:
                if len(self.candidates) >= PLANS_SIZE:
                    self.candidates.clear()
                powers = tuple(p for p in self.index.get((threat, capability), ())
                               if p.valid.contains(day))
                found = self.candidates[ckey] = powers, None if powers else \
                    messages.no_legal_basis(law, threat, capability, day)
            powers, no_basis = found
            candidates = tuple((p, tuple([getattr(neutral, f) for f in p.static_fields]))
                               for p in powers)
            fast = fast and not any(p.shares for p in powers)
            capabilities.append((capability, candidates, no_basis))
        plan = _Plan(fast, threat, info[1], caps, intrusion, scope,
                     in_force if dynamic else (), tuple(violations), tuple(steps), shares_only,
                     tuple(capabilities),
                     share_key=(pkey[0], *[getattr(neutral, f) for f in self.prohibition_reads]))
        self.plans[pkey] = plan
        return plan

    def _facts(self, plan: _Plan, op: Operation, protected: frozenset[str]) -> Facts:
        recipients = self.recipient_foreign
        return Facts(plan.threat, plan.severity, plan.caps, plan.intrusion, plan.scope, protected,
                     op.duration, op.retention, op.urgent, op.date, op.service,
                     frozenset(s.recipient for s in op.sharing),
                     tuple(ShareFacts(s.recipient, s.country, s.data, recipients[s.recipient])
                           for s in op.sharing),
                     self.law.ancestors)

    def _prohibited(self, facts: Facts, prohibitions: tuple[_Prohibition, ...],
                    ) -> tuple[list[Violation], list[tuple[str, ...]]]:
        out = Outcome()
        for pro in prohibitions:
            try:
                if pro.test(facts, None):
                    out.violations.append(pro.violation)
                    out.step("prohibited", pro.name)
            except CannotEvaluate as exc:
                out.violations.append(
                    messages.cannot_evaluate(f"prohibition `{pro.name}`", str(exc)))
        return out.violations, out.steps

    def _dormant(self, plan: _Plan, op: Operation) -> OutcomeTuple:
        """Denied: the threat is not in force on the start date (as the general path words it,
        once all names are known to be the law's)."""
        day = op.date
        key = (plan.threat, day)
        violation = self.dormant.get(key)
        if violation is None:
            if len(self.dormant) >= TEMPLATES_SIZE:
                self.dormant.clear()
            violation = self.dormant[key] = messages.threat_not_in_force(plan.threat, day,
                                                                         plan.cites)
        return DENIED, (), (), (violation,), (), (_DENIED_STEP,)

    def _fast_template(self, power: _Power, plan: _Plan, op: Operation,
                       protected: frozenset[str], tkey: tuple[Any, ...],
                       found: Any) -> _Template:
        """What a power asks of operations with these facts, made once. Where the stated
        durations and the limits are of different kinds (days against months), the answer also
        depends on the start date: the key marks that (`found` is then _DATED) and the date
        joins it."""
        templates = self.fast_templates
        if found is None and power.dated(op.duration, op.retention):
            templates[tkey] = found = _DATED
        if found is _DATED:
            tkey = (*tkey, op.date)
            dated = templates.get(tkey)
            if dated is not None:
                return dated
        if len(templates) >= TEMPLATES_SIZE:
            templates.clear()
            if found is _DATED:
                templates[tkey[:-1]] = found
        problems, required = self._template(power, op, self._facts(plan, op, protected))
        made = templates[tkey] = _Template(self.law, power.source, problems, required)
        return made

    def _share_plan(self, skey: tuple[Any, ...], plan: _Plan, op: Operation,
                    ) -> tuple[tuple[Violation, ...], tuple[tuple[Any, _Template], ...]]:
        """What the share rules in force say of one kind of sharing (recipient, country, kind of
        data, its place in the operation), for rules that read only facts of the sharing."""
        _, index, recipient, country, data = skey
        if len(self.share_plans) >= TEMPLATES_SIZE:
            self.share_plans.clear()
        rules = [r for r in self.share_rules.get(recipient, ()) if r.valid.contains(op.date)]
        if not rules:
            entry: tuple[tuple[Violation, ...], tuple[tuple[Any, _Template], ...]] = (
                (messages.sharing_not_allowed(index, recipient),), ())
            self.share_plans[skey] = entry
            return entry
        facts = self._facts(plan, op, _NOTHING)
        share = ShareFacts(recipient, country, data, self.recipient_foreign[recipient])
        forbidden: list[Violation] = []
        options = []
        for rule in rules:
            because = self._share_rule(index, rule, facts, share, forbidden)
            if because is None:
                continue
            options.append((rule, _Template(self.law, rule, (), tuple(sorted(because.items())))))
        entry = self.share_plans[skey] = tuple(forbidden), tuple(options)
        return entry

    def _share_rule(self, index: int, rule: ShareRuleDef, facts: Facts, share: ShareFacts,
                    forbidden: list[Violation]) -> dict[str, str | None] | None:
        """What a share rule asks of one sharing: its requirements, each with the condition that
        made it necessary; what it forbids goes to `forbidden`. None when a condition cannot be
        evaluated (said in `forbidden`)."""
        tests, clauses = self.share_tests[rule.name]
        because: dict[str, str | None] = dict.fromkeys(rule.requires | rule.guarantees)
        # Each clause on its own: what one cannot evaluate must not hide what another says.
        usable = True
        for test, text in tests:
            try:
                if test(facts, share):
                    forbidden.append(messages.sharing_forbidden(index, rule.name, text, rule.cites))
            except CannotEvaluate as exc:
                forbidden.append(messages.cannot_evaluate(f"share rule `{rule.name}`", str(exc)))
                usable = False
        for clause in clauses:
            try:
                if clause.test(facts, share):
                    because_of(because, clause.requires, clause.text)
            except CannotEvaluate as exc:
                forbidden.append(messages.cannot_evaluate(f"share rule `{rule.name}`", str(exc)))
                usable = False
        return because if usable else None

    def _granted(self, power: _Power | ShareRuleDef, template: _Template,
                 lacking: frozenset[str], late: set[str] | None,
                 urgent: bool) -> tuple[tuple[Missing, ...], str]:
        """The missing requirements of a power or share rule, given the lacking ones (some
        perhaps approved too late), as they appear in the record, and their names joined;
        remembered per template."""
        late_part = lacking & late if late else _NOTHING
        key: Any = (lacking, late_part, urgent) if late_part else lacking
        found = template.granted.get(key)
        if found is not None:
            return found
        missing = tuple(
            self._late_missing(power, name, because, urgent) if name in late_part
            else template.plain[name]
            for name, because in template.required if name in lacking)
        granted = template.granted
        if len(granted) >= GRANTED_SIZE:
            granted.clear()
        if key is lacking:
            key = _one(lacking)
        found = granted[key] = missing, ", ".join([m.requirement for m in missing])
        return found

    def _late_missing(self, power: _Power | ShareRuleDef, name: str, because: str | None,
                      urgent: bool) -> Missing:
        """A missing requirement whose approval was given, but too late."""
        key = (power.name, name, because, urgent)
        found = self.late_missing.get(key)
        if found is None:
            found = self.late_missing[key] = Missing(
                name, self.law.requirement_kind(name), power.name, power.cites, because,
                late_note(self.law, name, urgent))
        return found

    def _fail_fast(self, capability: str, candidates: tuple[tuple[_Power, tuple[Any, ...]], ...],
                   plan: _Plan, op: Operation, protected: frozenset[str], have: set[str],
                   late: set[str] | None) -> tuple[tuple[Violation, ...], tuple[str, ...]]:
        """No candidate power is usable within its limits: the general wording."""
        facts = self._facts(plan, op, protected)
        options = [self._option(p, op, facts, frozenset(have), bool(late))
                   for p, _ in candidates]
        out = Outcome()
        self._report_failed(capability, options, out, op)
        return tuple(out.violations), tuple(out.alternatives)

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
        if threat is not None and not threat.in_force.contains(day):
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
            found = self.failures[key] = (tuple([_one(v) for v in report.violations]),
                                          tuple(report.alternatives))
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
                    because_of(because, clause.requires, clause.text)
            except CannotEvaluate as exc:
                problems.append(("cannot-evaluate", messages.cannot_evaluate(
                    f"`when {clause.text}` of power `{power.name}`", str(exc))))
        return tuple(problems), _one(tuple(sorted(because.items())))

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
            because = self._share_rule(index, rule, facts, share, forbidden)
            if because is None:
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


def _power_reads(power: PowerDef) -> set[str]:
    """The facts a power's clauses and limits read."""
    names = set().union(*(_reads(c.condition) for c in power.conditionals))
    if power.max_duration is not None or power.retention is not None:
        names |= {"duration", "retention"}
    return names


_VIOLATION_ORDER = operator.attrgetter("code", "message")
_MISSING_ORDER = operator.attrgetter("requirement", "power")


def _distinct(ordered: list[Violation]) -> tuple[Violation, ...]:
    """Sorted violations without repeats (equal ones are neighbours once sorted)."""
    out = [ordered[0]]
    for v in ordered[1:]:
        last = out[-1]
        if v is not last and v != last:
            out.append(v)
    return tuple(out)


def _dyn_reader(power: PowerDef, names: set[str]) -> Callable[[tuple[Any, ...]], object]:
    """A key of the facts of an operation a power reads (from a tuple in the order of
    _OPERATION_FACTS); the start date as the interval between the dates its conditions name."""
    index = [i for i, name in enumerate(_OPERATION_FACTS) if name in names and name != "date"]
    get = operator.itemgetter(*index) if index else _no_facts
    if "date" not in names:
        return get
    points = _date_points([c.condition for c in power.conditionals])
    where = bisect.bisect_right

    def read(dyn: tuple[Any, ...]) -> object:
        return get(dyn), where(points, dyn[4])

    return read


def _dated(power: PowerDef) -> Callable[[Duration | None, Duration | None], bool]:
    """Whether stated durations make what a power asks depend on the start date: only a fixed
    length (days) compared with a calendar one (months) it may be shorter or longer than,
    depending on the months it spans; or any stated duration where two durations of the
    operation are compared with each other."""
    if not _power_reads(power) & {"duration", "retention"}:
        return _never
    conditions = [c.condition for c in power.conditionals]
    if _compares_duration_facts(conditions):
        return _stated
    limits = [d for d in (power.max_duration, power.retention) if d is not None]
    limits += [c.value for c in _consts(conditions) if isinstance(c.value, Duration)]

    def dated(duration: Duration | None, retention: Duration | None) -> bool:
        return any(d is not None and date_dependent(d, limit)
                   for d in (duration, retention) for limit in limits)

    return dated


def _stated(duration: Duration | None, retention: Duration | None) -> bool:
    return duration is not None or retention is not None


def _compares_duration_facts(conditions: list[Cond]) -> bool:
    """Whether a condition compares two durations of the operation (duration > retention)."""
    stack: list[Cond] = list(conditions)
    while stack:
        node = stack.pop()
        if isinstance(node, (AllOf, AnyOf)):
            stack.extend(node.items)
        elif isinstance(node, (Negate, SomeShare)):
            stack.append(node.item)
        elif isinstance(node, Op):
            if not isinstance(node.left, Const) and not isinstance(node.right, Const) and (
                    getattr(node.left, "type", None) == "duration"
                    or getattr(node.right, "type", None) == "duration"):
                return True
            stack.extend((node.left, node.right))
    return False


def _date_points(conditions: list[Cond]) -> list[dt.date]:
    """The dates where what conditions say may change: each date they compare with, and the
    day after. Between two of these, every comparison of the start date gives one answer."""
    points: set[dt.date] = set()
    for const in _consts(conditions):
        values = const.value if isinstance(const.value, (frozenset, set, tuple)) \
            else (const.value,)
        for value in values:
            if isinstance(value, dt.date):
                points.add(value)
                if value < dt.date.max:
                    points.add(value + dt.timedelta(days=1))
    return sorted(points)


def _never(duration: Duration | None, retention: Duration | None) -> bool:
    return False


def _no_facts(dyn: tuple[Any, ...]) -> object:
    return ()


def _reader(power: PowerDef) -> Callable[[Facts], object]:
    """A fast getter of every fact a power's clauses and limits depend on."""
    names = _power_reads(power)
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
