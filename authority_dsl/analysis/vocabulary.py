"""What a law's provisions read: the atoms, thresholds and constants that cut the space of
operations into classes.

An *atom* over a set-valued fact (capabilities, protected categories, sharings) is a test that
turns true when one suitable element is added and stays true when more are added, such as
`capabilities contains x`, `intrusion >= 4`, `scope == bulk` or `any share (...)`. Every condition
reads a set-valued fact only through atoms, and an atom that holds has a single element as
witness: this is what bounds the sets the analysis must try (docs/analysis.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

import attrs

from ..conditions import SHARE_FACTS, AllOf, AnyOf, Cond, Const, Fact, Negate, Op, SomeShare
from ..durations import Duration
from ..model import Law

_FLIP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}
DAY = dt.timedelta(days=1)
# A threshold splits durations either into `<= t` and `> t` ("le") or into `< t` and `>= t` ("lt").
LE, LT = "le", "lt"
SET_FACTS = frozenset({"capabilities", "protected", "recipients", "intrusion", "scope"})


@attrs.define
class Vocabulary:
    """The atoms and constants some conditions read (mutable while it is being collected)."""

    facts: set[str] = attrs.field(factory=set)  # every fact read somewhere
    cap_names: set[str] = attrs.field(factory=set)  # `capabilities contains x`
    cap_whole: bool = False  # the capability set is read as a whole (e.g. `==`)
    intrusion_levels: set[int] = attrs.field(factory=set)  # atoms `intrusion >= v`
    intrusion_whole: bool = False
    protected_names: set[str] = attrs.field(factory=set)
    protected_whole: bool = False
    recipient_names: set[str] = attrs.field(factory=set)  # `recipients contains x`
    recipients_whole: bool = False
    share_preds: list[Cond] = attrs.field(factory=list)  # bodies of `any share (...)`
    durations: set[tuple[Duration, str]] = attrs.field(factory=set)  # (threshold, LE or LT)
    retentions: set[tuple[Duration, str]] = attrs.field(factory=set)
    duration_link: bool = False  # `duration` compared with `retention`
    duration_eq: bool = False  # a duration compared with `==` or `!=`
    date_cuts: set[dt.date] = attrs.field(factory=set)  # days on which a date test may flip
    services: set[str] = attrs.field(factory=set)
    countries: set[str] = attrs.field(factory=set)  # literals compared with `country`
    country_sets: set[frozenset[object]] = attrs.field(factory=set)
    threat_ops: list[Op] = attrs.field(factory=list)  # comparisons of `threat` or `severity`
    severity_whole: bool = False

    def scan(self, cond: Cond) -> None:
        """Add what one condition reads."""
        _scan(cond, self)

    def scan_all(self, conds: Iterable[Cond]) -> None:
        for cond in conds:
            _scan(cond, self)


def law_conditions(law: Law) -> Iterator[Cond]:
    """Every condition a decision under `law` may evaluate (principles are not decisions)."""
    for power in law.powers:
        for clause in power.conditionals:
            yield clause.condition
    for prohibition in law.prohibitions:
        yield prohibition.condition
    for rule in law.share_rules:
        for clause in rule.conditionals:
            yield clause.condition
        for cond, _ in rule.forbidden:
            yield cond


def vocabulary(laws: Iterable[Law], extra: Iterable[Cond] = ()) -> Vocabulary:
    """The vocabulary of some laws' decision conditions, their limits and some extra conditions."""
    vocab = Vocabulary()
    for law in laws:
        vocab.scan_all(law_conditions(law))
        for power in law.powers:
            if power.max_duration is not None:
                vocab.durations.add((power.max_duration, LE))
            if power.retention is not None:
                vocab.retentions.add((power.retention, LE))
    vocab.scan_all(extra)
    if vocab.duration_link:
        merged = vocab.durations | vocab.retentions
        vocab.durations, vocab.retentions = set(merged), set(merged)
    return vocab


def facts_read(cond: Cond) -> frozenset[str]:
    """The operation and sharing facts a condition reads (`shares` for `any share`)."""
    if isinstance(cond, Fact):
        return frozenset((cond.name,))
    if isinstance(cond, Const):
        return frozenset()
    if isinstance(cond, (AllOf, AnyOf)):
        return frozenset().union(*(facts_read(i) for i in cond.items))
    if isinstance(cond, Negate):
        return facts_read(cond.item)
    if isinstance(cond, SomeShare):
        return facts_read(cond.item) | {"shares"}
    return facts_read(cond.left) | facts_read(cond.right)


def only_share_facts(cond: Cond) -> bool:
    """True if the condition reads nothing but the facts of one sharing."""
    return facts_read(cond) <= set(SHARE_FACTS)


def increasing(cond: Cond, positive: bool = True) -> bool:
    """True if adding capabilities, protected categories or sharings to an operation can turn
    `cond` from false to true but never from true to false."""
    if isinstance(cond, (AllOf, AnyOf)):
        return all(increasing(i, positive) for i in cond.items)
    if isinstance(cond, Negate):
        return increasing(cond.item, not positive)
    if isinstance(cond, SomeShare):
        return positive and increasing(cond.item, positive)
    if not isinstance(cond, Op):
        return True
    direction = _direction(cond)
    if direction == 0:
        return True
    return direction is not None and (direction > 0) == positive


def positive_law(law: Law) -> bool:
    """True if every condition that denies or adds requirements is increasing: then a smaller
    operation is never worse off than a larger one with the same other facts."""
    return all(increasing(c) for c in law_conditions(law))


def _normalised(cond: Op) -> tuple[Cond, str, Cond]:
    """`fact op value` when the fact is written on the right."""
    left, right, op = cond.left, cond.right, cond.op
    if isinstance(left, Const) and isinstance(right, Fact):
        if op == "in":
            return right, "contains", left
        if op == "notin":
            return right, "lacks", left
        if op in _FLIP:
            return right, _FLIP[op], left
    return left, op, right


def _direction(cond: Op) -> int | None:
    """+1 if the comparison is an atom over a set-valued fact, -1 if its negation is, 0 if it
    reads no set-valued fact, None if it is neither (e.g. `intrusion == 3`)."""
    left, op, right = _normalised(cond)
    names = facts_read(cond) & SET_FACTS
    if not names:
        return 0
    if not isinstance(left, Fact) or not isinstance(right, Const):
        return None
    fact = left.name
    if fact in ("capabilities", "protected", "recipients"):
        return {"contains": 1, "lacks": -1}.get(op)
    if fact == "intrusion":
        return {">=": 1, ">": 1, "<": -1, "<=": -1}.get(op)
    bulk = right.value == "bulk"
    if op == "==":
        return 1 if bulk else -1
    if op == "!=":
        return -1 if bulk else 1
    return None


def _scan(cond: Cond, vocab: Vocabulary) -> None:
    if isinstance(cond, Fact):
        vocab.facts.add(cond.name)
        return
    if isinstance(cond, Const):
        return
    if isinstance(cond, (AllOf, AnyOf)):
        for item in cond.items:
            _scan(item, vocab)
        return
    if isinstance(cond, Negate):
        _scan(cond.item, vocab)
        return
    if isinstance(cond, SomeShare):
        vocab.facts.add("shares")
        if cond.item not in vocab.share_preds:
            vocab.share_preds.append(cond.item)
        _scan(cond.item, vocab)
        return
    _scan(cond.left, vocab)
    _scan(cond.right, vocab)
    left, op, right = _normalised(cond)
    if isinstance(left, Fact) and isinstance(right, Fact):
        _link(left.name, right.name, vocab)
        if {left.name, right.name} & {"threat", "severity"}:
            vocab.threat_ops.append(cond)
    elif isinstance(left, Fact) and isinstance(right, Const):
        _atom(left.name, op, right.value, cond, vocab)


def _link(a: str, b: str, vocab: Vocabulary) -> None:
    """Two facts compared with each other: their values matter, not only thresholds."""
    names = {a, b}
    if names == {"duration", "retention"}:
        vocab.duration_link = True
    vocab.intrusion_whole |= "intrusion" in names
    vocab.severity_whole |= "severity" in names
    vocab.cap_whole |= "capabilities" in names
    vocab.protected_whole |= "protected" in names
    vocab.recipients_whole |= "recipients" in names


def _values(value: object) -> tuple[object, ...]:
    return tuple(value) if isinstance(value, frozenset) else (value,)


def _atom(fact: str, op: str, value: object, cond: Op, vocab: Vocabulary) -> None:
    if fact in ("threat", "severity"):
        vocab.threat_ops.append(cond)
    elif fact in ("capabilities", "protected", "recipients"):
        names = {"capabilities": vocab.cap_names, "protected": vocab.protected_names,
                 "recipients": vocab.recipient_names}[fact]
        if op in ("contains", "lacks"):
            names.add(str(value))
        elif fact == "capabilities":
            vocab.cap_whole = True
        elif fact == "protected":
            vocab.protected_whole = True
        else:
            vocab.recipients_whole = True
    elif fact == "intrusion":
        _intrusion(op, value, vocab)
    elif fact in ("duration", "retention"):
        target = vocab.durations if fact == "duration" else vocab.retentions
        kinds = {">": (LE,), "<=": (LE,), ">=": (LT,), "<": (LT,)}.get(op, (LE, LT))
        for v in _values(value):
            if isinstance(v, Duration):
                target.update((v, k) for k in kinds)
        if op in ("==", "!=", "in", "notin"):
            vocab.duration_eq = True
    elif fact == "date":
        for v in _values(value):
            if isinstance(v, dt.date):
                if op in (">=", "<"):
                    vocab.date_cuts.add(v)
                elif op in (">", "<="):
                    if v < dt.date.max:  # no day comes after the last
                        vocab.date_cuts.add(v + DAY)
                else:
                    vocab.date_cuts.add(v)
                    if v < dt.date.max:
                        vocab.date_cuts.add(v + DAY)
    elif fact == "service":
        vocab.services.update(str(v) for v in _values(value))
    elif fact == "country":
        if isinstance(value, frozenset):
            vocab.country_sets.add(value)
        else:
            vocab.countries.add(str(value))


def _intrusion(op: str, value: object, vocab: Vocabulary) -> None:
    for v in _values(value):
        if not isinstance(v, int):
            vocab.intrusion_whole = True
        elif op in (">=", "<"):
            vocab.intrusion_levels.add(v)
        elif op in (">", "<="):
            vocab.intrusion_levels.add(v + 1)
        else:  # == != in notin
            vocab.intrusion_levels.update((v, v + 1))
