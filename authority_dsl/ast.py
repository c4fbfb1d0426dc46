"""The frozen AST of the .auth language.

Every node carries a `span` that is left out of equality, so two specs that differ only in layout
have equal ASTs (the formatter relies on this to check it changed nothing).
"""

from __future__ import annotations

import datetime as dt

import attrs

from .diagnostics import Span, span_field
from .durations import Duration, Validity


@attrs.frozen
class Ident:
    """A name as written, with where it was written."""

    name: str
    span: Span = span_field()

    def __str__(self) -> str:
        return self.name


@attrs.frozen
class DatedName:
    """A name with an optional date: `minister_approval on 2027-08-28`."""

    name: str
    on: dt.date | None = None
    span: Span = span_field()


# ---- conditions -------------------------------------------------------------------------------


@attrs.frozen
class Path:
    """A fact or a declared name: `threat`, `threat.severity`, `journalist`."""

    parts: tuple[str, ...]
    span: Span = span_field()

    def __str__(self) -> str:
        return ".".join(self.parts)


def _typed(value: object) -> tuple[str, object]:
    return type(value).__name__, value


@attrs.frozen
class Literal:
    # Compared with its type: `true` and `1` are different literals (bool is an int in Python).
    value: str | int | bool | dt.date | Duration = attrs.field(eq=_typed)
    span: Span = span_field()


@attrs.frozen
class SetLiteral:
    items: tuple[Expr, ...]
    span: Span = span_field()


@attrs.frozen
class Compare:
    """`left op right`; op is one of == != < <= > >= in `not in` contains under."""

    op: str
    left: Expr
    right: Expr
    span: Span = span_field()


@attrs.frozen
class And:
    items: tuple[Expr, ...]
    span: Span = span_field()


@attrs.frozen
class Or:
    items: tuple[Expr, ...]
    span: Span = span_field()


@attrs.frozen
class Not:
    item: Expr
    span: Span = span_field()


@attrs.frozen
class AnyShare:
    """`any share (cond)`: true if some sharing of the operation satisfies cond."""

    item: Expr
    span: Span = span_field()


Expr = Path | Literal | SetLiteral | Compare | And | Or | Not | AnyShare
COMPARATORS = ("==", "!=", "<", "<=", ">", ">=")
RELATIONS = ("in", "not in", "contains", "under")


# ---- declarations -----------------------------------------------------------------------------


def _opt_text() -> str | None:
    return attrs.field(default=None, kw_only=True)  # type: ignore[no-any-return]


@attrs.frozen
class Conditional:
    """`when cond requires a, b` inside a power or share rule."""

    condition: Expr
    requires: tuple[Ident, ...]
    span: Span = span_field()


@attrs.frozen
class Law:
    title: str
    id: str | None = None
    version: str | None = None
    jurisdiction: str | None = None
    in_force: Validity | None = None
    description: str | None = None
    cites: str | None = None
    span: Span = span_field()


@attrs.frozen
class Register:
    title: str
    version: str | None = None
    description: str | None = None
    span: Span = span_field()


@attrs.frozen
class Import:
    path: str
    span: Span = span_field()


@attrs.frozen
class NamedSet:
    name: Ident
    items: tuple[Expr, ...]
    span: Span = span_field()


@attrs.frozen
class Threat:
    name: Ident
    parent: Ident | None = None
    description: str | None = None
    severity: int | None = None
    cites: str | None = None
    valid: Validity | None = None
    span: Span = span_field()


@attrs.frozen
class Capability:
    name: Ident
    description: str | None = None
    intrusion: int | None = None
    scope: Ident | None = None
    cites: str | None = None
    span: Span = span_field()


@attrs.frozen
class Technique:
    name: Ident
    capabilities: tuple[Ident, ...]
    description: str | None = None
    cites: str | None = None
    span: Span = span_field()


@attrs.frozen
class Protected:
    name: Ident
    description: str | None = None
    cites: str | None = None
    span: Span = span_field()


@attrs.frozen
class Safeguard:
    name: Ident
    by: Ident | None = None
    urgent_within: Duration | None = None
    description: str | None = None
    cites: str | None = None
    span: Span = span_field()


@attrs.frozen
class Assessment:
    name: Ident
    description: str | None = None
    cites: str | None = None
    span: Span = span_field()


@attrs.frozen
class Recipient:
    name: Ident
    description: str | None = None
    foreign: bool | None = None
    cites: str | None = None
    span: Span = span_field()


@attrs.frozen
class Power:
    name: Ident
    threats: tuple[Ident, ...] = ()
    capabilities: tuple[Ident, ...] = ()
    requires: tuple[Ident, ...] = ()
    conditionals: tuple[Conditional, ...] = ()
    max_duration: Duration | None = None
    renewable: bool | None = None
    retention: Duration | None = None
    description: str | None = None
    cites: str | None = None
    valid: Validity | None = None
    span: Span = span_field()


@attrs.frozen
class Prohibition:
    name: Ident
    condition: Expr | None = None
    description: str | None = None
    cites: str | None = None
    valid: Validity | None = None
    span: Span = span_field()


@attrs.frozen
class ShareRule:
    name: Ident
    recipients: tuple[Ident, ...] = ()
    requires: tuple[Ident, ...] = ()
    guarantees: tuple[Ident, ...] = ()
    conditionals: tuple[Conditional, ...] = ()
    forbidden: tuple[Expr, ...] = ()
    description: str | None = None
    cites: str | None = None
    valid: Validity | None = None
    span: Span = span_field()


@attrs.frozen
class Principle:
    """A statement that must hold for every operation: when `condition` holds, a permitted
    operation has all of `requires`; with `deny`, no such operation is permitted at all."""

    name: Ident
    condition: Expr | None = None
    requires: tuple[Ident, ...] = ()
    deny: bool | None = None
    description: str | None = None
    cites: str | None = None
    span: Span = span_field()


# ---- operations and cases ---------------------------------------------------------------------


@attrs.frozen
class SubjectSpec:
    role: str
    protected: tuple[Ident, ...] = ()
    span: Span = span_field()


@attrs.frozen
class SharingSpec:
    recipient: Ident
    country: str | None = None
    data: Ident | None = None
    with_: tuple[Ident, ...] = ()
    span: Span = span_field()


@attrs.frozen
class OperationSpec:
    """An operation written in the DSL; mirrors the JSON operation format."""

    id: str
    date: dt.date | None = None
    service: str | None = None
    threat: Ident | None = None
    technique: Ident | None = None
    capabilities: tuple[Ident, ...] = ()
    subjects: tuple[SubjectSpec, ...] = ()
    duration: Duration | None = None
    urgent: bool | None = None
    retention: Duration | None = None
    approvals: tuple[DatedName, ...] = ()
    assessments: tuple[Ident, ...] = ()
    sharing: tuple[SharingSpec, ...] = ()
    span: Span = span_field()


@attrs.frozen
class Case:
    """A conformance case: an operation and what is expected of its decision."""

    name: str
    operation: OperationSpec | None = None
    expect: Ident | None = None
    powers: tuple[Ident, ...] | None = None
    missing: tuple[Ident, ...] | None = None
    violation: str | None = None
    source: str | None = None
    span: Span = span_field()


Decl = (
    Law
    | Register
    | Import
    | NamedSet
    | Threat
    | Capability
    | Technique
    | Protected
    | Safeguard
    | Assessment
    | Recipient
    | Power
    | Prohibition
    | ShareRule
    | Principle
    | OperationSpec
    | Case
)

NAMED_KINDS: dict[type, str] = {
    NamedSet: "set",
    Threat: "threat",
    Capability: "capability",
    Technique: "technique",
    Protected: "protected category",
    Safeguard: "safeguard",
    Assessment: "assessment",
    Recipient: "recipient",
    Power: "power",
    Prohibition: "prohibition",
    ShareRule: "share rule",
    Principle: "principle",
}


@attrs.frozen
class Comment:
    line: int
    column: int
    text: str
    own_line: bool


@attrs.frozen
class Module:
    """One parsed source file."""

    items: tuple[Decl, ...]
    file: str = attrs.field(default="<string>", eq=False, kw_only=True)
    comments: tuple[Comment, ...] = attrs.field(default=(), eq=False, repr=False, kw_only=True)
