"""Conformance cases: load case files, run them against a law, compare, and measure coverage.

A case file holds `case "name" { expect: ..., operation id { ... } }` blocks (docs/reviewers.md).
Loading checks every case against the law it is meant for: the verdict is one of the three, and
every power, requirement and violation code it names exists, so that a typo in a case is a located
error instead of a case that can never pass. Coverage counts the provisions of the law (powers,
`when` clauses, prohibitions, share rules, and the requirements they impose) that at least one
case's decision applied (see `exercised`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs

from . import ast
from .decision import DENIED, PERMITTED, VERDICTS, VIOLATION_CODES, Decision
from .diagnostics import Diagnostic, DiagnosticError, Span, did_you_mean, error, sort_key
from .model import Law, ShareRuleDef
from .operation import Operation, OperationError, from_spec

Decide = Callable[[Operation], Decision]


@attrs.frozen
class Case:
    """A checked case: its operation and what is expected of the decision."""

    name: str
    span: Span
    operation: Operation
    expect: str
    powers: frozenset[str] | None = None
    missing: frozenset[str] | None = None
    violation: str | None = None
    source: str | None = None

    @property
    def file(self) -> str:
        return self.span.file


@attrs.frozen
class Mismatch:
    """One expectation the decision did not meet."""

    field: str  # verdict | powers | missing | violation
    expected: str
    actual: str


@attrs.frozen
class Result:
    case: Case
    decision: Decision
    mismatches: tuple[Mismatch, ...]

    @property
    def passed(self) -> bool:
        return not self.mismatches


# ---- loading ----------------------------------------------------------------------------------


def case_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Diagnostic]]:
    """The .auth files named, folders searched recursively, in a stable order.

    A file named twice, or named and also found in a folder given, is read once, where it first
    comes: else its cases would run (and be counted, and written to JUnit) twice."""
    files: list[Path] = []
    diags: list[Diagnostic] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            files.append(path)

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(p.rglob("*.auth"))
            if not found:
                diags.append(error("no-cases", f"folder `{p}` holds no .auth case files",
                                   Span(str(p), 1, 1, 1, 1)))
            for path in found:
                add(path)
        elif p.exists():
            add(p)
        else:
            diags.append(error("bad-source", f"file `{p}` not found", Span(str(p), 1, 1, 1, 1)))
    return files, diags


def load_cases(paths: Iterable[str | Path], law: Law) -> tuple[list[Case], list[Diagnostic]]:
    """Read and check every case in `paths` against `law`; cases with errors are left out."""
    from .parser import parse
    from .source import read_source

    files, diags = case_files(paths)
    cases: list[Case] = []
    for path in files:
        try:
            text = read_source(path)
            module = parse(text, str(path))
        except DiagnosticError as exc:
            diags.extend(exc.diagnostics)
            continue
        seen: dict[str, Span] = {}
        found = 0
        for item in module.items:
            if not isinstance(item, ast.Case):
                diags.append(error("file-kind", "a case file holds only `case` blocks", item.span,
                                   "put laws, registers and operations in files of their own"))
                continue
            found += 1
            if item.name in seen:
                diags.append(error("duplicate-definition", f"case `{item.name}` is defined twice",
                                   item.span, f"first defined at {seen[item.name]}"))
                continue
            seen[item.name] = item.span
            case, problems = check_case(item, law, text)
            diags.extend(problems)
            if case is not None:
                cases.append(case)
        if not found and not any(d.span.file == str(path) for d in diags):
            diags.append(error("no-cases", "the file holds no cases", Span(str(path), 1, 1, 1, 1),
                               'add `case "name" { expect: permitted  operation op { ... } }`'))
    return cases, sorted(diags, key=sort_key)


def check_case(item: ast.Case, law: Law, text: str) -> tuple[Case | None, list[Diagnostic]]:
    """Check one case against the law; returns the case, or None with the reasons.

    `text` is the source of the case's file: the case keeps the violation code it names as a
    plain string, and the source says where that string is written."""
    diags: list[Diagnostic] = []
    where = f"case `{item.name}`"
    if not item.name.strip():
        diags.append(error("bad-field", "a case needs a name", item.span))
    expect = item.expect
    if expect is None:
        diags.append(error("bad-field", f"{where} states no `expect`", item.span,
                           "add `expect: permitted`, `expect: requires` or `expect: denied`"))
    elif expect.name not in VERDICTS:
        diags.append(error("bad-value", f"`{expect.name}` is not a verdict", expect.span,
                           did_you_mean(expect.name, VERDICTS) or
                           "a verdict is `permitted`, `requires` or `denied`"))
    for ident in item.powers or ():
        if ident.name not in {p.name for p in law.powers}:
            diags.append(_unknown("power", ident, [p.name for p in law.powers]))
    requirements = [*law.safeguards, *law.assessments]
    for ident in item.missing or ():
        if ident.name not in requirements:
            diags.append(_unknown("safeguard or assessment", ident, requirements))
    if item.violation is not None and item.violation not in VIOLATION_CODES:
        diags.append(error("bad-value", f"`{item.violation}` is not a violation code",
                           _field_value(text, item.span, "violation") or item.span,
                           did_you_mean(item.violation, VIOLATION_CODES) or
                           f"the codes are: {', '.join(VIOLATION_CODES)}"))
    verdict = expect.name if expect is not None and expect.name in VERDICTS else None
    if verdict == PERMITTED and item.missing:
        diags.append(error("bad-field", f"{where} expects `permitted` but lists missing "
                           "requirements", item.span, "a permitted operation misses nothing"))
    if item.violation is not None and verdict is not None and verdict != DENIED:
        diags.append(error("bad-field", f"{where} expects `{verdict}` but names a violation",
                           item.span, "any violation makes the verdict `denied`"))
    operation = None
    if item.operation is None:
        diags.append(error("bad-field", f"{where} holds no operation", item.span,
                           "add `operation name { date: ... threat: ... }`"))
    else:
        try:
            operation = from_spec(item.operation)
        except OperationError as exc:
            diags.append(error("bad-field", exc.message, item.operation.span))
    if diags or operation is None or verdict is None:
        return None, diags
    return Case(
        name=item.name,
        span=item.span,
        operation=operation,
        expect=verdict,
        powers=None if item.powers is None else frozenset(i.name for i in item.powers),
        missing=None if item.missing is None else frozenset(i.name for i in item.missing),
        violation=item.violation,
        source=item.source,
    ), diags


def _field_value(text: str, case: Span, field: str) -> Span | None:
    """Where the value of one of the case's own fields (not its operation's) is written in
    `text`, or None if it cannot be found there."""
    from pygments.token import Comment, Name, Punctuation, String, Whitespace

    start = _offset(text, case)
    if start is None:
        return None
    state = "key"  # key -> colon -> value
    first = last = -1
    for index, kind, value, depth in _block_tokens(text, start):
        blank = kind in Whitespace or kind in Comment or not value.strip()
        if state == "value":
            if kind in String:
                first = index if first < 0 else first
                last = index + len(value)
                continue
            if blank and first < 0:
                continue
            break
        if blank:
            continue
        if state == "colon":
            state = "value" if kind in Punctuation and value == ":" else "key"
        elif depth == 1 and kind in Name and value == field:
            state = "colon"
    if first < 0:
        return None
    return Span(case.file, *_position(text, start + first), *_position(text, start + last))


def _block_tokens(text: str, start: int) -> Iterator[tuple[int, Any, str, int]]:
    """The tokens of the block that starts at `start` (a declaration's name), with their offset
    from `start` and the depth of braces they are in, up to the brace that closes the block. Read
    with the highlighting lexer, which knows strings and comments."""
    from pygments.token import Punctuation

    from .lexer import AuthorityLexer

    depth = 0
    for index, kind, value in AuthorityLexer().get_tokens_unprocessed(text[start:]):
        if kind in Punctuation and value == "{":
            depth += 1
        elif kind in Punctuation and value == "}":
            depth -= 1
            if depth <= 0:
                return
        yield index, kind, value, depth


def _offset(text: str, span: Span) -> int | None:
    """Where in `text` the span starts, or None if the text has fewer lines."""
    start = 0
    for _ in range(span.line - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return None
    return start + span.column - 1


def _position(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of an offset, as the parser counts them."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _unknown(kind: str, ident: ast.Ident, known: Iterable[str]) -> Diagnostic:
    return error("unknown-name", f"unknown {kind} `{ident.name}` in this law", ident.span,
                 did_you_mean(ident.name, known))


# ---- running ----------------------------------------------------------------------------------


def _names(names: Iterable[str]) -> str:
    shown = sorted(names)
    return ", ".join(shown) if shown else "(none)"


def compare(case: Case, decision: Decision) -> tuple[Mismatch, ...]:
    """Every expectation of the case that the decision does not meet."""
    out: list[Mismatch] = []
    if decision.verdict != case.expect:
        out.append(Mismatch("verdict", case.expect, decision.verdict))
    if case.powers is not None:
        actual = {a.power for a in decision.authorised}
        if actual != case.powers:
            out.append(Mismatch("powers", _names(case.powers), _names(actual)))
    if case.missing is not None:
        actual = {m.requirement for m in decision.missing}
        if actual != case.missing:
            out.append(Mismatch("missing", _names(case.missing), _names(actual)))
    if case.violation is not None:
        codes = {v.code for v in decision.violations}
        if case.violation not in codes:
            out.append(Mismatch("violation", case.violation, _names(codes)))
    return tuple(out)


def run_case(decide: Decide, case: Case) -> Result:
    decision = decide(case.operation)
    return Result(case, decision, compare(case, decision))


def run_cases(decide: Decide, cases: Sequence[Case]) -> list[Result]:
    return [run_case(decide, case) for case in cases]


# ---- coverage ---------------------------------------------------------------------------------

KINDS = ("power", "condition", "prohibition", "share rule", "requirement")
KIND_TITLES = {
    "power": "powers",
    "condition": "conditional requirements (`when`)",
    "prohibition": "prohibitions (`forbid`)",
    "share rule": "share rules",
    "requirement": "safeguards and assessments",
}


@attrs.frozen
class Provision:
    """One provision a suite can exercise; `key` is what `exercised` returns for it."""

    kind: str
    key: str
    label: str
    span: Span | None


@attrs.frozen
class Coverage:
    provisions: tuple[Provision, ...]
    by: Mapping[str, tuple[str, ...]]  # provision key -> names of the cases that exercised it

    def exercised(self, provision: Provision) -> bool:
        return bool(self.by.get(provision.key))

    def counts(self, kind: str | None = None) -> tuple[int, int]:
        """(exercised, total) for one kind of provision, or for all."""
        items = [p for p in self.provisions if kind is None or p.kind == kind]
        return sum(self.exercised(p) for p in items), len(items)

    @property
    def exact_percent(self) -> Fraction:
        """The percentage exercised, unrounded, for comparisons (`authority test --fail-under`)."""
        done, total = self.counts()
        return Fraction(100) if total == 0 else Fraction(100 * done, total)

    @property
    def percent(self) -> float:
        return float(self.exact_percent)

    def to_json(self) -> dict[str, object]:
        done, total = self.counts()
        return {
            "percent": round(self.percent, 2),
            "exercised": done,
            "total": total,
            "kinds": {k: dict(zip(("exercised", "total"), self.counts(k), strict=True))
                      for k in KINDS},
            "provisions": [
                {"kind": p.kind, "name": p.key.split(":", 1)[1], "label": p.label,
                 "line": p.span.line if p.span else None,
                 "cases": list(self.by.get(p.key, ()))}
                for p in self.provisions
            ],
        }


def provisions(law: Law, texts: Mapping[str, str] | None = None) -> list[Provision]:
    """Every provision of the law a case can exercise, in declaration order within each kind.

    `texts` (each file's text, as the law was loaded from) say where the `forbid when` clauses of
    the share rules are; without them, the files are read again."""
    spans = law.spans
    out: list[Provision] = []
    for power in law.powers:
        out.append(Provision("power", f"power:{power.name}", f"power `{power.name}`",
                             spans.get(power.name)))
    for power in law.powers:
        for i, clause in enumerate(power.conditionals):
            out.append(Provision("condition", f"when:{power.name}:{i}",
                                 f"`when {clause.text}` of power `{power.name}`",
                                 _line(spans.get(power.name), clause.line)))
    for rule in law.share_rules:
        for i, clause in enumerate(rule.conditionals):
            out.append(Provision("condition", f"when:{rule.name}:{i}",
                                 f"`when {clause.text}` of share rule `{rule.name}`",
                                 _line(spans.get(rule.name), clause.line)))
    for prohibition in law.prohibitions:
        out.append(Provision("prohibition", f"prohibition:{prohibition.name}",
                             f"prohibition `{prohibition.name}`", spans.get(prohibition.name)))
    for rule in law.share_rules:
        where = _forbid_spans(rule, spans.get(rule.name), texts)
        for i, (_, text) in enumerate(rule.forbidden):
            out.append(Provision("prohibition", f"forbid:{rule.name}:{i}",
                                 f"`forbid when {text}` of share rule `{rule.name}`", where[i]))
    for rule in law.share_rules:
        out.append(Provision("share rule", f"share:{rule.name}", f"share rule `{rule.name}`",
                             spans.get(rule.name)))
    imposed = sorted(set().union(*imposes(law).values()))
    for name in imposed:
        kind = law.requirement_kind(name)
        out.append(Provision("requirement", f"requirement:{name}", f"{kind} `{name}`",
                             spans.get(name)))
    return out


def _line(span: Span | None, line: int) -> Span | None:
    return None if span is None else Span(span.file, line, 1, line, 1)


def _forbid_spans(rule: ShareRuleDef, span: Span | None,
                  texts: Mapping[str, str] | None) -> list[Span | None]:
    """Where each `forbid when` clause of a share rule is. The model keeps their conditions, not
    their lines: they are found in the rule's source (`span` is its name); where that cannot be
    read, or holds another number of them, each is placed at the rule."""
    from .source import read_source

    if span is None or not rule.forbidden:
        return [span] * len(rule.forbidden)
    text = None if texts is None else texts.get(span.file)
    if text is None:
        try:
            text = read_source(span.file)
        except DiagnosticError:
            text = ""
    lines = _forbid_lines(text, span)
    if len(lines) != len(rule.forbidden):
        return [span] * len(rule.forbidden)
    return [_line(span, line) for line in lines]


def _forbid_lines(text: str, rule: Span) -> list[int]:
    """The line of each `forbid` of a share rule's body, in order, from the rule's name to the
    brace that closes it."""
    from pygments.token import Keyword

    start = _offset(text, rule)
    if start is None:
        return []
    return [rule.line + text.count("\n", start, start + index)
            for index, kind, value, depth in _block_tokens(text, start)
            if depth == 1 and kind in Keyword and value == "forbid"]


_SHARED = re.compile(r"^sharing #(\d+) with `.*` falls under share rule `(.+)`$")


def exercised(law: Law, op: Operation, decision: Decision) -> set[str]:
    """The provisions a decision applied: `power:P` (P authorised a capability), `when:R:i` (the
    i-th `when` clause of the power or share rule R that was applied held), `prohibition:F`,
    `share:S` (a sharing fell under share rule S, or S forbade it) and `forbid:S:i`.

    Read from the decision (its authorisations, violations and trace); the conditions of the `when`
    clauses of the rules applied are evaluated on the operation's facts, as the evaluators do.
    """
    from .conditions import CannotEvaluate, evaluate
    from .engine import messages
    from .engine.common import facts_of

    keys = {f"power:{a.power}" for a in decision.authorised}
    violations = set(decision.violations)
    for prohibition in law.prohibitions:
        if messages.prohibited(prohibition.name, prohibition.text, prohibition.cites) in violations:
            keys.add(f"prohibition:{prohibition.name}")
    for index in range(len(op.sharing)):
        for rule in law.share_rules:
            for i, (_, text) in enumerate(rule.forbidden):
                if messages.sharing_forbidden(index, rule.name, text, rule.cites) in violations:
                    keys |= {f"share:{rule.name}", f"forbid:{rule.name}:{i}"}
    used: list[tuple[int, str]] = []
    for line in decision.trace:
        match = _SHARED.match(line)
        if match is not None:
            used.append((int(match.group(1)) - 1, match.group(2)))
            keys.add(f"share:{match.group(2)}")
    if not decision.authorised and not used:
        return keys
    capabilities = set(law.techniques.get(op.technique or "", ()))
    capabilities |= {c for c in op.capabilities if c in law.capabilities}
    try:
        facts = facts_of(law, op, frozenset(capabilities))
    except KeyError:  # an unknown name: the evaluators applied no rule
        return keys
    powers = {p.name: p for p in law.powers}
    for name in sorted({a.power for a in decision.authorised}):
        for i, clause in enumerate(powers[name].conditionals):
            try:
                if evaluate(clause.condition, facts):
                    keys.add(f"when:{name}:{i}")
            except CannotEvaluate:
                pass
    rules = {r.name: r for r in law.share_rules}
    for index, name in used:
        if name not in rules or index >= len(facts.shares):
            continue
        for i, clause in enumerate(rules[name].conditionals):
            try:
                if evaluate(clause.condition, facts, facts.shares[index]):
                    keys.add(f"when:{name}:{i}")
            except CannotEvaluate:
                pass
    return keys


def imposes(law: Law) -> dict[str, frozenset[str]]:
    """Exercised key -> the requirements that provision imposes."""
    out: dict[str, frozenset[str]] = {}
    for power in law.powers:
        out[f"power:{power.name}"] = power.requires
        for i, clause in enumerate(power.conditionals):
            out[f"when:{power.name}:{i}"] = clause.requires
    for rule in law.share_rules:
        out[f"share:{rule.name}"] = rule.requires | rule.guarantees
        for i, clause in enumerate(rule.conditionals):
            out[f"when:{rule.name}:{i}"] = clause.requires
    return out


def coverage(law: Law, results: Iterable[Result],
             texts: Mapping[str, str] | None = None) -> Coverage:
    """Which provisions the decisions of the cases applied, and by which cases; `texts` as for
    `provisions`."""
    imposed = imposes(law)
    by: dict[str, list[str]] = {}
    for result in results:
        keys = exercised(law, result.case.operation, result.decision)
        for key in list(keys):
            keys |= {f"requirement:{r}" for r in imposed.get(key, ())}
        for key in sorted(keys):
            by.setdefault(key, []).append(result.case.name)
    return Coverage(tuple(provisions(law, texts)), {k: tuple(v) for k, v in by.items()})
