"""Typed conditions: the checker turns an ast.Expr into a small typed IR, the evaluators run it.

Types are strings: `threat`, `capability`, `protected`, `recipient`, `scope`, `data`, `int`,
`string`, `bool`, `date`, `duration`, and `set[T]` for sets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import NamedTuple

import attrs

from . import ast
from .countries import COUNTRIES, country_hint
from .diagnostics import Diagnostic, Span, did_you_mean, error
from .durations import Duration, Unit

# Facts about the whole operation, and the extra facts about one sharing (inside `any share (...)`
# and in the clauses of a share rule).
OPERATION_FACTS: dict[str, str] = {
    "threat": "threat",
    "severity": "int",
    "threat.severity": "int",
    "capabilities": "set[capability]",
    "intrusion": "int",
    "scope": "scope",
    "protected": "set[protected]",
    "duration": "duration",
    "retention": "duration",
    "urgent": "bool",
    "date": "date",
    "service": "string",
    "recipients": "set[recipient]",
}
SHARE_FACTS: dict[str, str] = {
    "recipient": "recipient",
    "country": "string",
    "data": "data",
    "foreign": "bool",
}
ENUMS: dict[str, str] = {"targeted": "scope", "bulk": "scope", "evaluated": "data",
                         "unevaluated": "data"}
ORDERED = ("int", "date", "duration")
# Declared names a condition may not mention: the language is monotone in what is obtained.
REQUIREMENT_TYPES = ("safeguard", "assessment")
NO_RETENTION = Duration(0, Unit.DAYS)


@attrs.frozen
class Fact:
    name: str
    type: str


@attrs.frozen
class Const:
    value: object
    type: str


@attrs.frozen
class Op:
    """A typed comparison; `op` is one of == != < <= > >= in notin contains under."""

    op: str
    left: Cond
    right: Cond


@attrs.frozen
class AllOf:
    items: tuple[Cond, ...]


@attrs.frozen
class AnyOf:
    items: tuple[Cond, ...]


@attrs.frozen
class Negate:
    item: Cond


@attrs.frozen
class SomeShare:
    item: Cond


Cond = Fact | Const | Op | AllOf | AnyOf | Negate | SomeShare


class CannotEvaluate(Exception):
    """A condition needs a fact the operation does not state (fails closed)."""


@attrs.frozen
class Typer:
    """Types conditions against a law's declarations; collects diagnostics."""

    names: Mapping[str, str]  # declared name -> its type (threat, capability, protected, ...)
    sets: Mapping[str, tuple[frozenset[object], str]]  # named set -> (values, type)
    diagnostics: list[Diagnostic] = attrs.field(factory=list)
    used: set[str] = attrs.field(factory=set)

    def check(self, expr: ast.Expr, share_scope: bool = False) -> Cond | None:
        """A boolean condition, or None after reporting why it is not one."""
        result = self.typed(expr, share_scope)
        if result is None:
            return None
        cond, type_ = result
        if type_ != "bool":
            self.fail(expr.span, "a condition must be true or false, but this is "
                      f"{with_article(type_)}",
                      "compare it with something, e.g. `x == y` or `s contains x`")
            return None
        return cond

    def fail(self, span: Span, message: str, help_text: str | None = None) -> None:
        self.diagnostics.append(error("type-error", message, span, help_text))

    def typed(self, expr: ast.Expr, share: bool) -> tuple[Cond, str] | None:
        if isinstance(expr, (ast.And, ast.Or)):
            items = [self.check(i, share) for i in expr.items]
            if any(i is None for i in items):
                return None
            kind = AllOf if isinstance(expr, ast.And) else AnyOf
            return kind(tuple(i for i in items if i is not None)), "bool"
        if isinstance(expr, ast.Not):
            inner = self.check(expr.item, share)
            return (Negate(inner), "bool") if inner is not None else None
        if isinstance(expr, ast.AnyShare):
            if share:
                self.fail(expr.span, "`any share (...)` cannot be nested in a sharing condition")
                return None
            inner = self.check(expr.item, True)
            return (SomeShare(inner), "bool") if inner is not None else None
        if isinstance(expr, ast.Literal):
            return Const(expr.value, _literal_type(expr.value)), _literal_type(expr.value)
        if isinstance(expr, ast.SetLiteral):
            return self.set_literal(expr)
        if isinstance(expr, ast.Path):
            return self.path(expr, share)
        return self.compare(expr, share)

    def path(self, expr: ast.Path, share: bool) -> tuple[Cond, str] | None:
        key = str(expr)
        if key in OPERATION_FACTS:
            return Fact(key if key != "threat.severity" else "severity",
                        OPERATION_FACTS[key]), OPERATION_FACTS[key]
        if key in SHARE_FACTS:
            if not share:
                self.fail(expr.span, f"`{key}` is a fact of one sharing and is only known inside "
                          "`any share (...)` or a share rule",
                          f"write `any share ({key} ...)`")
                return None
            return Fact(key, SHARE_FACTS[key]), SHARE_FACTS[key]
        if key in ENUMS:
            return Const(key, ENUMS[key]), ENUMS[key]
        if key in self.sets:
            self.used.add(key)
            values, type_ = self.sets[key]
            return Const(values, type_), type_
        if len(expr.parts) == 1 and key in self.names:
            self.used.add(key)
            if self.names[key] in REQUIREMENT_TYPES:
                self.diagnostics.append(error(
                    "wrong-kind", f"`{key}` is {with_article(self.names[key])}: conditions may "
                    "not mention approvals or assessments (so that obtaining more approvals can "
                    "never make an operation less lawful)", expr.span,
                    f"to demand it, write `requires: {key}` in the power or share rule, or "
                    f"`when ... requires {key}`"))
                return None
            return Const(key, self.names[key]), self.names[key]
        known = [*OPERATION_FACTS, *(SHARE_FACTS if share else ()), *ENUMS, *self.sets,
                 *(n for n, t in self.names.items() if t not in REQUIREMENT_TYPES)]
        what = "attribute" if len(expr.parts) > 1 else "name"
        self.diagnostics.append(error("unknown-name", f"unknown {what} `{key}`", expr.span,
                                      did_you_mean(key, known)))
        return None

    def set_literal(self, expr: ast.SetLiteral) -> tuple[Cond, str] | None:
        values: set[object] = set()
        types: set[str] = set()
        for item in expr.items:
            typed = self.typed(item, False)
            if typed is None:
                return None
            cond, type_ = typed
            assert isinstance(cond, Const)
            values.add(cond.value)
            types.add(type_)
        if len(types) > 1:
            self.fail(expr.span, f"a set mixes {' and '.join(sorted(types))}")
            return None
        elem = types.pop() if types else "any"
        return Const(frozenset(values), f"set[{elem}]"), f"set[{elem}]"

    def compare(self, expr: ast.Compare, share: bool) -> tuple[Cond, str] | None:
        left, right = self.typed(expr.left, share), self.typed(expr.right, share)
        if left is None or right is None:
            return None
        (lc, lt), (rc, rt) = left, right
        op = expr.op
        if op in ("==", "!="):
            ok = lt == rt or _set_compatible(lt, rt)
        elif op in ("<", "<=", ">", ">="):
            ok = lt == rt and lt in ORDERED
        elif op in ("in", "not in"):
            ok = rt.startswith("set[") and rt[4:-1] in (lt, "any")
        elif op == "contains":
            ok = lt.startswith("set[") and lt[4:-1] in (rt, "any")
        else:  # under
            ok = lt == rt == "threat"
        if not ok:
            self.fail(expr.span, _mismatch(op, lt, rt), _compare_help(op, lt, rt))
            return None
        for fact, other, side in ((lc, rc, expr.right), (rc, lc, expr.left)):
            if isinstance(fact, Fact) and fact.name == "country" and isinstance(other, Const):
                # A code no sharing can state would make the comparison never hold: a `forbid`
                # that never fires.
                values = other.value if isinstance(other.value, frozenset) else (other.value,)
                bad = sorted(v for v in values if isinstance(v, str) and v not in COUNTRIES)
                if bad:
                    self.fail(side.span, f"`{bad[0]}` is not a country code: a sharing's "
                              "country is an ISO 3166-1 alpha-2 code in capitals",
                              country_hint(bad[0]))
                    return None
        return Op(op.replace(" ", ""), lc, rc), "bool"


def _set_compatible(a: str, b: str) -> bool:
    return a.startswith("set[") and b.startswith("set[") and "set[any]" in (a, b)


def _literal_type(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Duration):
        return "duration"
    assert isinstance(value, dt.date)
    return "date"


def with_article(type_: str) -> str:
    """`a capability`, `an assessment`, `a set of threat`."""
    if type_.startswith("set["):
        return f"a set of {type_[4:-1]}"
    return ("an " if type_[0] in "aeiou" else "a ") + type_


def _mismatch(op: str, lt: str, rt: str) -> str:
    if op in ("<", "<=", ">", ">=") and lt == rt:
        return f"`{op}` cannot order values of type {lt}"
    return f"`{op}` cannot compare {with_article(lt)} with {with_article(rt)}"


def _compare_help(op: str, lt: str, rt: str) -> str | None:
    if {lt, rt} == {"duration", "date"}:
        return "a duration counts from the start date; compare `duration` with e.g. `3 months` " \
            "and `date` with e.g. `2027-01-01`"
    if op == "in" and not rt.startswith("set["):
        return "the right side of `in` must be a set, e.g. `{a, b}` or a named set"
    if op == "contains" and not lt.startswith("set["):
        return "the left side of `contains` must be a set, e.g. `protected` or `capabilities`"
    return None


# ---- evaluation (shared by both evaluators) ----------------------------------------------------


class ShareFacts(NamedTuple):
    recipient: str
    country: str | None
    data: str
    foreign: bool


class Facts(NamedTuple):
    """The facts of one operation that conditions may read (a tuple: cheap to build)."""

    threat: str
    severity: int
    capabilities: frozenset[str]
    intrusion: int
    scope: str
    protected: frozenset[str]
    duration: Duration | None
    retention: Duration | None
    urgent: bool
    date: dt.date
    service: str | None
    recipients: frozenset[str]
    shares: tuple[ShareFacts, ...]
    ancestors: Mapping[str, frozenset[str]]  # threat -> itself and all its ancestors

    def get(self, name: str, share: ShareFacts | None) -> object:
        if name in SHARE_FACTS:
            assert share is not None
            value = getattr(share, name)
            if value is None:
                raise CannotEvaluate(f"the sharing states no {name}")
            return value
        value = getattr(self, name)
        if value is None and name == "duration":
            raise CannotEvaluate("the operation states no duration")
        if value is None and name == "retention":
            return NO_RETENTION
        if value is None and name == "service":
            raise CannotEvaluate("the operation states no service")
        return value


def evaluate(cond: Cond, facts: Facts, share: ShareFacts | None = None) -> bool:
    """Evaluate a typed condition; raises CannotEvaluate when a needed fact is absent."""
    result = _value(cond, facts, share)
    assert isinstance(result, bool)
    return result


def _value(cond: Cond, facts: Facts, share: ShareFacts | None) -> object:
    if isinstance(cond, Const):
        return cond.value
    if isinstance(cond, Fact):
        return facts.get(cond.name, share)
    if isinstance(cond, AllOf):
        return all(_value(i, facts, share) for i in cond.items)
    if isinstance(cond, AnyOf):
        return any(_value(i, facts, share) for i in cond.items)
    if isinstance(cond, Negate):
        return not _value(cond.item, facts, share)
    if isinstance(cond, SomeShare):
        return any(_value(cond.item, facts, s) for s in facts.shares)
    return apply(cond.op, _value(cond.left, facts, share), _value(cond.right, facts, share),
                 facts)


def apply(op: str, left: object, right: object, facts: Facts) -> bool:
    if isinstance(left, Duration) or isinstance(right, Duration):
        return _durations(op, left, right, facts.date)
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if op == "in":
        return left in right  # type: ignore[operator]
    if op == "notin":
        return left not in right  # type: ignore[operator]
    if op == "contains":
        return right in left  # type: ignore[operator]
    if op == "under":
        return right in facts.ancestors.get(str(left), frozenset((left,)))
    return _ORDER[op](left, right)


def _durations(op: str, left: object, right: object, start: dt.date) -> bool:
    """A comparison of durations, or a duration's membership of a set of them, by length: where
    they end when both start on the operation's date (`1 year` equals `12 months`, and `4 weeks`
    equals `28 days`), as `<` and `>` compare them."""
    if op in ("in", "notin", "contains"):
        one, many = (right, left) if op == "contains" else (left, right)
        assert isinstance(one, Duration) and isinstance(many, frozenset)
        found = any(one.compare(d, start) == 0 for d in many)
        return not found if op == "notin" else found
    assert isinstance(left, Duration) and isinstance(right, Duration)
    sign = left.compare(right, start)
    if op in ("==", "!="):
        return (sign == 0) == (op == "==")
    return _ORDER[op](sign, 0)


_ORDER: dict[str, Callable[[object, object], bool]] = {
    "<": lambda a, b: a < b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
}
