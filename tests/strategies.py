"""Hypothesis strategies for .auth ASTs: only trees the parser can produce.

Spans are left at their defaults (they are not part of equality). Every strategy is a module-level
name, so failing examples print readable reprs.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from authority_dsl import ast
from authority_dsl.durations import MAX_AMOUNT, Duration, Unit, Validity
from authority_dsl.formatter import KEYWORDS

MAX_INT = 999_999_999  # the parser rejects numbers of more than 9 digits


def _not_keyword(name: str) -> bool:
    return name not in KEYWORDS


def _tuple(items: list[ast.Ident]) -> tuple[ast.Ident, ...]:
    return tuple(items)


# ---- values -----------------------------------------------------------------------------------

identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True).filter(_not_keyword)
idents = st.builds(ast.Ident, identifiers)
strings = st.text(
    st.one_of(st.sampled_from('"\\\n\t #{}'), st.characters(codec="utf-8")), max_size=16
)
ints = st.integers(0, MAX_INT)
dates = st.dates()
units = st.sampled_from(Unit)
durations = st.builds(Duration, st.integers(0, MAX_AMOUNT), units)


@st.composite
def validities(draw: st.DrawFn) -> Validity:
    """A window as the grammar writes it: a start, and an end no earlier than the start."""
    start = draw(dates)
    end = draw(st.none() | st.dates(min_value=start))
    return Validity(start, end)


def name_tuples(min_size: int = 0) -> st.SearchStrategy[tuple[ast.Ident, ...]]:
    return st.lists(idents, min_size=min_size, max_size=3).map(_tuple)


names = name_tuples(min_size=1)
dated_names = st.builds(ast.DatedName, identifiers, st.none() | dates)


def _opt(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.none() | strategy


# ---- conditions -------------------------------------------------------------------------------

paths = st.lists(identifiers, min_size=1, max_size=3).map(tuple).map(ast.Path)
literals = st.builds(ast.Literal, st.one_of(ints, strings, st.booleans(), dates, durations))
set_items = st.one_of(
    identifiers.map(lambda n: ast.Path((n,))), strings.map(ast.Literal)  # type: ignore[arg-type]
)
set_literals = st.lists(set_items, max_size=3).map(tuple).map(ast.SetLiteral)
operands = st.one_of(paths, literals, set_literals)
compares = st.builds(
    ast.Compare, st.sampled_from(ast.COMPARATORS + ast.RELATIONS), operands, operands
)


def _extend(inner: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Expr]:
    # Nested And/Or in And/Or are fine: the formatter parenthesises them.
    items = st.lists(inner, min_size=2, max_size=3).map(tuple)
    return st.one_of(
        items.map(ast.And),
        items.map(ast.Or),
        st.builds(ast.Not, inner),
        st.builds(ast.AnyShare, inner),
    )


conditions: st.SearchStrategy[ast.Expr] = st.recursive(
    st.one_of(operands, compares), _extend, max_leaves=12
)
conditionals = st.builds(ast.Conditional, conditions, names)


# ---- declarations -----------------------------------------------------------------------------

_text = _opt(strings)
laws = st.builds(
    ast.Law, strings, id=_text, version=_text, jurisdiction=_text, in_force=_opt(validities()),
    description=_text, cites=_text,
)
registers = st.builds(ast.Register, strings, version=_text, description=_text)
imports = st.builds(ast.Import, strings)
named_sets = st.builds(ast.NamedSet, idents, st.lists(set_items, max_size=3).map(tuple))
threats = st.builds(
    ast.Threat, idents, parent=_opt(idents), description=_text, severity=_opt(ints),
    cites=_text, valid=_opt(validities()),
)
capabilities = st.builds(
    ast.Capability, idents, description=_text, intrusion=_opt(ints), scope=_opt(idents),
    cites=_text,
)
techniques = st.builds(ast.Technique, idents, names, description=_text, cites=_text)
protected = st.builds(ast.Protected, idents, description=_text, cites=_text)
safeguards = st.builds(
    ast.Safeguard, idents, by=_opt(idents), urgent_within=_opt(durations), description=_text,
    cites=_text,
)
assessments = st.builds(ast.Assessment, idents, description=_text, cites=_text)
recipients = st.builds(
    ast.Recipient, idents, description=_text, foreign=_opt(st.booleans()), cites=_text
)
powers = st.builds(
    ast.Power, idents, threats=name_tuples(), capabilities=name_tuples(),
    requires=name_tuples(), conditionals=st.lists(conditionals, max_size=2).map(tuple),
    max_duration=_opt(durations), renewable=_opt(st.booleans()), retention=_opt(durations),
    description=_text, cites=_text, valid=_opt(validities()),
)
prohibitions = st.builds(
    ast.Prohibition, idents, condition=_opt(conditions), description=_text, cites=_text,
    valid=_opt(validities()),
)
share_rules = st.builds(
    ast.ShareRule, idents, recipients=name_tuples(), requires=name_tuples(),
    guarantees=name_tuples(), conditionals=st.lists(conditionals, max_size=2).map(tuple),
    forbidden=st.lists(conditions, max_size=2).map(tuple), description=_text, cites=_text,
    valid=_opt(validities()),
)
principles = st.builds(
    ast.Principle, idents, condition=_opt(conditions), requires=name_tuples(),
    deny=_opt(st.booleans()), description=_text, cites=_text,
)
subjects = st.builds(ast.SubjectSpec, identifiers, protected=name_tuples())
sharings = st.builds(
    ast.SharingSpec, idents, country=_text, data=_opt(idents), with_=name_tuples()
)
operations = st.builds(
    ast.OperationSpec,
    st.one_of(identifiers, strings),
    date=_opt(dates),
    service=_text,
    threat=_opt(idents),
    technique=_opt(idents),
    capabilities=name_tuples(),
    subjects=st.lists(subjects, max_size=2).map(tuple),
    duration=_opt(durations),
    urgent=_opt(st.booleans()),
    retention=_opt(durations),
    approvals=st.lists(dated_names, max_size=3).map(tuple),
    assessments=name_tuples(),
    sharing=st.lists(sharings, max_size=2).map(tuple),
)
cases = st.builds(
    ast.Case, strings, operation=_opt(operations), expect=_opt(idents), powers=_opt(names),
    missing=_opt(names), violation=_text, source=_text,
)

declarations: st.SearchStrategy[ast.Decl] = st.one_of(
    laws, registers, imports, named_sets, threats, capabilities, techniques, protected,
    safeguards, assessments, recipients, powers, prohibitions, share_rules, principles,
    operations, cases,
)


def _module(items: list[ast.Decl]) -> ast.Module:
    return ast.Module(tuple(items))


def modules(max_items: int = 8) -> st.SearchStrategy[ast.Module]:
    return st.lists(declarations, max_size=max_items).map(_module)


# ---- tokens, for grammar fuzzing --------------------------------------------------------------


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t") + '"'


def _iso(day: dt.date) -> str:
    return day.isoformat()


# Quoted by us, or straight from the grammar's pattern (raw tabs and odd characters included).
string_tokens = st.one_of(
    strings.map(_quote), st.from_regex(r'"([^"\\\n]|\\["\\nt])*"', fullmatch=True)
)
int_tokens = st.integers(0, 10**12).map(str)
date_tokens = dates.map(_iso)
unit_tokens = st.sampled_from(
    ["hour", "hours", "day", "days", "week", "weeks", "month", "months", "year", "years"]
)
