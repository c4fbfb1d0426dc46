"""`diff`: the semantic difference between two versions of a law, and the structural one.

Every class of operations (space.py) is decided under both laws with nothing obtained yet; its
*outcome* is the verdict and the set of missing requirements. A change is one of:
- newly permitted: denied under the old law, not under the new one (permitted once the listed
  requirements are obtained);
- newly denied: the other way round;
- requirement added / requirement dropped: allowed under both, with a requirement more / fewer;
- limit changed: newly permitted or newly denied because of a maximum duration or a retention
  limit.
Changes are grouped by kind, reason, threat class, capabilities and sharings; each group keeps
the number of classes in it and a minimal example operation.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Sequence
from typing import Any

import attrs
from msgspec.structs import replace

from ..decision import DENIED, Decision
from ..engine import CompiledLaw, compile_law
from ..model import Law
from ..operation import Operation
from .minimise import minimise
from .space import Scalars, Shape, Space
from .structure import DeclChange, structural_diff

KINDS = ("newly permitted", "newly denied", "requirement added", "requirement dropped",
         "limit changed")
LIMIT_CODES = frozenset({"duration-exceeded", "retention-exceeded", "duration-missing"})
_LABELS = {
    "law-not-in-force": "the law is not in force",
    "threat-not-in-force": "the threat is not in force",
    "missing-threat": "no threat stated",
    "nothing-to-decide": "nothing to decide",
    "no-legal-basis": "no legal basis",
    "duration-missing": "no duration stated",
    "duration-exceeded": "maximum duration",
    "retention-exceeded": "retention limit",
    "cannot-evaluate": "a condition cannot be evaluated",
    "sharing-not-allowed": "no share rule allows the sharing",
}
DEFAULT_EXAMPLES = 2000
# Reasons that hold for every operation for a threat on a date: grouped by threat alone.
_WHOLE_THREAT = ("the law is not in force", "the threat is not in force", "unknown threat")


@attrs.frozen
class Outcome:
    """What a decision with nothing obtained says: denied or not, and what is missing."""

    denied: bool
    missing: frozenset[str]
    codes: frozenset[str]
    reason: str

    @staticmethod
    def of(decision: Decision) -> Outcome:
        return Outcome(decision.verdict == DENIED,
                       frozenset(m.requirement for m in decision.missing),
                       frozenset(v.code for v in decision.violations), denial_reason(decision))


# Why a decision denies, most fundamental first: a group names the first reason that applies.
_PRIORITY = ("law-not-in-force", "unknown-name", "threat-not-in-force", "missing-threat",
             "nothing-to-decide", "no-legal-basis", "prohibited", "sharing-not-allowed",
             "sharing-forbidden", "cannot-evaluate", "duration-missing", "duration-exceeded",
             "retention-exceeded")


def denial_reason(decision: Decision) -> str:
    """Why a decision denies, in a few words: its most fundamental kind of violation, naming
    the prohibitions and share rules concerned."""
    if not decision.violations:
        return ""
    rank = {code: i for i, code in enumerate(_PRIORITY)}
    first = min(decision.violations, key=lambda v: rank.get(v.code, len(rank))).code
    labels = set()
    for v in decision.violations:
        if v.code != first:
            continue
        named = re.search(r"(prohibition|share rule) `([^`]*)`", v.message)
        if v.code == "prohibited" and named:
            labels.add(f"prohibition `{named.group(2)}`")
        elif v.code == "sharing-forbidden" and named:
            labels.add(f"share rule `{named.group(2)}` forbids it")
        elif v.code == "unknown-name":
            labels.add(v.message)
        else:
            labels.add(_LABELS.get(v.code, v.code))
    return "; ".join(sorted(labels))


def changes(old: Outcome, new: Outcome) -> list[tuple[str, str]]:
    """The (kind, reason) of each change between two outcomes; reason names the requirement for
    requirement changes and says why for verdict changes."""
    if old.denied and new.denied:
        return []
    if old.denied:
        kind = "limit changed" if old.codes <= LIMIT_CODES else "newly permitted"
        return [(kind, f"old: {old.reason}")]
    if new.denied:
        kind = "limit changed" if new.codes <= LIMIT_CODES else "newly denied"
        return [(kind, f"new: {new.reason}")]
    return ([("requirement added", r) for r in sorted(new.missing - old.missing)]
            + [("requirement dropped", r) for r in sorted(old.missing - new.missing)])


GroupKey = tuple[str, str, str, tuple[str, ...], tuple[str, ...]]


@attrs.frozen
class Group:
    """Classes of operations that changed in the same way."""

    kind: str
    reason: str
    threats: tuple[str, ...]  # the threat class ("*": every threat)
    capabilities: tuple[tuple[str, ...], ...]  # each capability class of the operations
    sharings: tuple[str, ...]  # `recipient:country:data` of each sharing
    count: int | None  # classes in the group (None: every operation of some dates or threats)
    example: Operation | None
    old: Decision | None = attrs.field(default=None, eq=False)
    new: Decision | None = attrs.field(default=None, eq=False)
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "reason": self.reason, "threats": list(self.threats),
            "capabilities": [list(c) for c in self.capabilities],
            "sharings": list(self.sharings), "count": self.count, "note": self.note,
            "example": self.example.to_json() if self.example else None,
            "old": _summary(self.old), "new": _summary(self.new),
        }


def _summary(decision: Decision | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {"verdict": decision.verdict,
            "missing": sorted(m.requirement for m in decision.missing),
            "violations": sorted(v.code for v in decision.violations)}


@attrs.frozen
class SemanticDiff:
    groups: tuple[Group, ...]
    classes: int  # classes decided under both laws or known to be denied under both
    exhaustive: bool
    examples: int  # operations tried by the search fallback
    limits: tuple[str, ...]
    seconds: float = attrs.field(default=0.0, eq=False)


@attrs.frozen
class DiffReport:
    old: Law
    new: Law
    structural: tuple[DeclChange, ...]
    semantic: SemanticDiff

    def to_json(self) -> dict[str, Any]:
        s = self.semantic
        return {
            "old": self.old.info, "new": self.new.info,
            "structural": [c.to_json() for c in self.structural],
            "semantic": {"exhaustive": s.exhaustive, "classes": s.classes,
                         "examples": s.examples, "limits": list(s.limits),
                         "groups": [g.to_json() for g in s.groups]},
        }


class _Differ:
    """The enumeration with its caches: decisions per law projected on what the law reads, and
    shapes denied under both laws (with increasing conditions, a larger operation is then denied
    under both too, and is skipped)."""

    def __init__(self, old: Law, new: Law, dates: Sequence[dt.date] | None) -> None:
        self.laws = (old, new)
        self.compiled: tuple[CompiledLaw, CompiledLaw] = (compile_law(old), compile_law(new))
        # Dates given (`--date`) are the only ones compared: sorted, each once.
        self.given = dates is not None
        self.space = Space(self.laws, mode="diff",
                           dates=sorted(set(dates)) if dates is not None else None)
        self.cache: dict[object, Outcome] = {}
        self.dead: dict[Shape, set[tuple[dt.date, Scalars]]] = {}
        self.fully_dead: set[Shape] = set()
        self.found: dict[GroupKey, tuple[int, Operation]] = {}
        self.changed: dict[Shape, dict[tuple[dt.date, Scalars], dict[tuple[str, str],
                                                                      GroupKey]]] = {}
        self.summaries: list[Group] = []
        self.classes = 0

    def outcome(self, index: int, shape: Shape, day: dt.date, scalars: Scalars,
                op: Operation) -> Outcome:
        key = (index, shape, day, self.space.project(index, shape, scalars))
        cached = self.cache.get(key)
        if cached is None:
            cached = Outcome.of(self.compiled[index].decide(op))
            self.cache[key] = cached
        return cached

    def key(self, op: Operation, kind: str, reason: str) -> GroupKey:
        """The group of a change: threat, capabilities and countries by their class."""
        space = self.space
        sharings = tuple(sorted({str(space.config_of(s)) for s in op.sharing}))
        caps = tuple(sorted({space.capability_rep.get(c, c) for c in op.capabilities}))
        threat = space.threat_rep.get(op.threat, op.threat) if op.threat else ""
        if reason.endswith(_WHOLE_THREAT):  # true of every operation for the threat
            caps, sharings = (), ()
        return (kind, reason, threat, caps, sharings)

    def record(self, shape: Shape, day: dt.date, scalars: Scalars, op: Operation,
               found: list[tuple[str, str]]) -> None:
        """Count each change in the group of the smallest shape that shows it with the same
        facts, or open a group for this shape."""
        mine: dict[tuple[str, str], GroupKey] = {}
        for kind, reason in found:
            key = self._explained(shape, day, scalars, kind, reason)
            if key is None:
                key = self.key(op, kind, reason)
                mine[kind, reason] = key
            count, example = self.found.get(key, (0, op))
            self.found[key] = (count + 1, example)
        if mine:
            self.changed.setdefault(shape, {})[day, scalars] = mine

    def _explained(self, shape: Shape, day: dt.date, scalars: Scalars, kind: str,
                   reason: str) -> GroupKey | None:
        for sub, table in self.changed.items():
            if sub is shape or sub.threat not in (shape.threat, None) or not (
                    sub.capabilities <= shape.capabilities and sub.sharings <= shape.sharings):
                continue
            entry = table.get(self._onto(sub, day, scalars))
            if entry is not None and (kind, reason) in entry:
                return entry[kind, reason]
        return None

    def _onto(self, sub: Shape, day: dt.date, scalars: Scalars) -> tuple[dt.date, Scalars]:
        """The class of a smaller shape that an operation of a larger one projects onto."""
        space = self.space
        reads = space.reads(sub)
        protected, duration, retention, urgent, service = scalars
        if "protected" not in reads:
            protected = tuple(p for p in protected if p in space.unknown_protected)
        return (space.date_rep(sub, day),
                (protected, duration if "duration" in reads else None,
                 retention if "retention" in reads else None,
                 urgent and "urgent" in reads, service if "service" in reads else None))

    def run(self) -> None:
        space = self.space
        both = [d for d in space.dates if all(law.in_force_on(d) for law in self.laws)]
        self.summarise_dates()
        for threat in [None, *space.threat_reps()[:-1]]:  # without a threat first: it is smaller
            members = space.threat_members(threat)
            if threat is not None and any(any(t not in law.threats for t in members)
                                          for law in self.laws):
                self.summarise_threat(threat, both)
                continue
            for shape in space.shapes_by_threat[threat]:
                self.shape(shape, set(both))

    def shape(self, shape: Shape, both: set[dt.date]) -> None:
        space = self.space
        prune = space.positive
        subs = [s for s in self.dead if s.capabilities <= shape.capabilities
                and s.sharings <= shape.sharings and s.threat == shape.threat] if prune else []
        if any(s in self.fully_dead for s in subs):
            self.classes += sum(space.scalar_count(shape, d) for d in space.date_reps(shape)
                                if d in both)
            return
        all_dead = True
        dead: set[tuple[dt.date, Scalars]] = set()
        for day in space.date_reps(shape):
            if day not in both:
                continue
            for scalars in space.scalars(shape, day):
                self.classes += 1
                if subs and any(self._onto(s, day, scalars) in self.dead[s] for s in subs):
                    continue
                op = space.operation(shape, day, scalars)
                old = self.outcome(0, shape, day, scalars, op)
                new = self.outcome(1, shape, day, scalars, op)
                if old.denied and new.denied:
                    dead.add((day, scalars))
                    continue
                all_dead = False
                found = changes(old, new)
                if found:
                    self.record(shape, day, scalars, op, found)
        if prune and dead:
            self.dead[shape] = dead
            if all_dead:
                self.fully_dead.add(shape)

    # ---- whole dates and whole threats that only one law knows --------------------------------

    def summarise_dates(self) -> None:
        """Dates on which only one law is in force: every operation the other allows changes."""
        space, laws = self.space, self.laws
        runs: list[tuple[tuple[bool, bool], list[dt.date]]] = []
        for day in space.dates:
            status = (laws[0].in_force_on(day), laws[1].in_force_on(day))
            if runs and runs[-1][0] == status:
                runs[-1][1].append(day)
            else:
                runs.append((status, [day]))
        for index, (status, days) in enumerate(runs):
            if all(status) or not any(status):
                continue
            live = 0 if status[0] else 1
            if self.given:  # only these days were compared: say so, nothing between them
                when = "on " + ", ".join(str(day) for day in days)
            else:
                # Each run starts on the first day of an interval between the laws' dates, but
                # the first, which stands for every day before the first of those dates.
                until = runs[index + 1][1][0] - dt.timedelta(days=1) if index + 1 < len(runs) \
                    else None
                if index == 0:
                    when = f"up to {until}" if until else "on any date"
                else:
                    when = f"from {days[0]}" + (f" to {until}" if until else "")
            kind = "newly denied" if live == 0 else "newly permitted"
            side = "new" if live == 0 else "old"
            example = self._allowed_example(live, days)
            if example is not None:
                self.summaries.append(self._group(
                    (kind, f"{side}: the law is not in force", "*", (), ()), None, example,
                    note=f"every operation starting {when} that the "
                         f"{'old' if live == 0 else 'new'} law does not deny"))

    def summarise_threat(self, threat: str, both: list[dt.date]) -> None:
        members = self.space.threat_members(threat)
        live = [i for i, law in enumerate(self.laws) if members[0] in law.threats]
        if len(live) != 1:
            return
        index = live[0]
        example = self._allowed_example(index, both, threat)
        if example is None:
            return
        kind = "newly denied" if index == 0 else "newly permitted"
        side = "new" if index == 0 else "old"
        self.summaries.append(self._group(
            (kind, f"{side}: unknown threat", threat, (), ()), None, example,
            note=f"every operation for {_names(members)} that the "
                 f"{'old' if index == 0 else 'new'} law does not deny"))

    def _allowed_example(self, index: int, days: Sequence[dt.date],
                         threat: str | None = None) -> Operation | None:
        """A small operation on one of `days` that law `index` does not deny."""
        space, compiled = self.space, self.compiled[index]
        threats = [threat] if threat is not None else [
            t for t in space.threat_reps() if t is None or t in self.laws[index].threats]
        for t in threats:
            for shape in space.shapes_by_threat[t]:
                for day in days:
                    for scalars in space.scalars(shape, day):
                        op = space.operation(shape, day, scalars)
                        if compiled.decide(op).verdict != DENIED:
                            return replace(op, id="example")
        return None

    # ---- groups ---------------------------------------------------------------------------

    def _group(self, key: GroupKey, count: int | None, example: Operation,
               note: str | None = None) -> Group:
        kind, reason, threat, caps, sharings = key
        space = self.space
        return Group(kind, reason, space.threat_members(threat) if threat != "*" else ("*",),
                     tuple(space.capability_members(c) for c in caps), sharings, count, example,
                     self.compiled[0].decide(example), self.compiled[1].decide(example), note)

    def minimal(self, key: GroupKey, op: Operation) -> Operation:
        def still(candidate: Operation) -> bool:
            old = Outcome.of(self.compiled[0].decide(candidate))
            new = Outcome.of(self.compiled[1].decide(candidate))
            return any(self.key(candidate, k, r) == key for k, r in changes(old, new))

        return minimise(replace(op, id="example"), still)

    def groups(self) -> tuple[Group, ...]:
        out = list(self.summaries)
        for key, (count, example) in self.found.items():
            out.append(self._group(key, count, self.minimal(key, example)))
        order = {k: i for i, k in enumerate(KINDS)}
        return tuple(sorted(out, key=lambda g: (order[g.kind], g.threats, g.capabilities,
                                                g.sharings, g.reason)))

    def search(self, examples: int, seed: int | None) -> int:
        """When the space is bounded: look for changes of a kind no group has yet."""
        from .search import search

        def new_change(op: Operation) -> bool:
            old = Outcome.of(self.compiled[0].decide(op))
            new = Outcome.of(self.compiled[1].decide(op))
            return any(self.key(op, k, r) not in self.found for k, r in changes(old, new))

        tried = 0
        while tried < examples:
            op, count = search(self.space, new_change, examples - tried, seed)
            tried += count
            if op is None:
                break
            old = Outcome.of(self.compiled[0].decide(op))
            new = Outcome.of(self.compiled[1].decide(op))
            for kind, reason in changes(old, new):
                key = self.key(op, kind, reason)
                count, example = self.found.get(key, (0, op))
                self.found[key] = (count + 1, example)
        return tried


def _names(members: Sequence[str]) -> str:
    return ", ".join(f"`{m}`" for m in members)


def semantic_diff(old: Law, new: Law, *, dates: Sequence[dt.date] | None = None,
                  examples: int = DEFAULT_EXAMPLES, seed: int | None = None) -> SemanticDiff:
    started = time.perf_counter()
    differ = _Differ(old, new, dates)
    differ.run()
    exhaustive = differ.space.exhaustive
    tried = 0 if exhaustive else differ.search(examples, seed)
    return SemanticDiff(differ.groups(), differ.classes, exhaustive, tried,
                        tuple(differ.space.limits), time.perf_counter() - started)


def diff(old: Law, new: Law, *, dates: Sequence[dt.date] | None = None,
         examples: int = DEFAULT_EXAMPLES, seed: int | None = None) -> DiffReport:
    """The structural and the semantic difference from `old` to `new`."""
    return DiffReport(old, new, structural_diff(old, new),
                      semantic_diff(old, new, dates=dates, examples=examples, seed=seed))
