"""The decision record: verdict, what authorised each capability, what is missing, why not.

Both evaluators return this type; its JSON form (DESIGN.md) is deterministic to the byte.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring as _encode_str
from typing import Any

import attrs
import msgspec

PERMITTED, REQUIRES, DENIED = "permitted", "requires", "denied"
VERDICTS = (PERMITTED, REQUIRES, DENIED)
RANK = {PERMITTED: 0, REQUIRES: 1, DENIED: 2}

# Violation codes, documented in docs/decisions.md.
VIOLATION_CODES = (
    "law-not-in-force",
    "unknown-name",
    "missing-threat",
    "threat-not-in-force",
    "nothing-to-decide",
    "prohibited",
    "no-legal-basis",
    "duration-missing",
    "duration-exceeded",
    "retention-exceeded",
    "cannot-evaluate",
    "sharing-not-allowed",
    "sharing-forbidden",
)


# The records of a decision are msgspec structures: immutable, compared by value and hashed once,
# in C (an audit keys its caches on tuples of them). Evaluators share one copy of each.
class Authorised(msgspec.Struct, frozen=True, cache_hash=True, gc=False):
    capability: str
    power: str
    cites: str | None


class Missing(msgspec.Struct, frozen=True, cache_hash=True, gc=False):
    requirement: str
    kind: str  # safeguard | assessment
    power: str  # the power or share rule that imposes it
    cites: str | None
    because: str | None = None  # the `when` condition that made it necessary
    note: str | None = None  # e.g. an approval dated after the start


class Violation(msgspec.Struct, frozen=True, cache_hash=True, gc=False):
    code: str
    message: str
    cites: str | None = None
    help: str | None = None


@attrs.frozen
class Decision:
    operation: str
    verdict: str
    law: dict[str, str] = attrs.field(eq=False, hash=False)
    authorised: tuple[Authorised, ...] = ()
    missing: tuple[Missing, ...] = ()
    violations: tuple[Violation, ...] = ()
    alternatives: tuple[str, ...] = ()
    # The reasoning as data; `trace` renders it as text only when asked (it is not cheap).
    steps: tuple[tuple[str, ...], ...] = attrs.field(default=(), eq=False, repr=False)

    @property
    def trace(self) -> tuple[str, ...]:
        return tuple(render_step(step) for step in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "verdict": self.verdict,
            "law": dict(self.law),
            "authorised": [{"capability": a.capability, "power": a.power, "cites": a.cites}
                           for a in self.authorised],
            "missing": [_missing_json(m) for m in self.missing],
            "violations": [_violation_json(v) for v in self.violations],
            "alternatives": list(self.alternatives),
            "trace": list(self.trace),
        }

    def dumps(self) -> str:
        return dumps(self.to_json())


def render_step(step: tuple[str, ...]) -> str:
    """One reasoning step as a sentence."""
    kind, *args = step
    if kind == "start":
        title, version, operation, date = args
        return f"law `{title}` version {version}; operation `{operation}` starting {date}"
    if kind == "granted":
        capability, power, threat, missing = args
        tail = f", missing {missing}" if missing else ", all requirements met"
        return f"`{capability}` is granted by power `{power}` for threat `{threat}`{tail}"
    if kind == "prohibited":
        return f"prohibition `{args[0]}` applies"
    if kind == "shared":
        index, recipient, rule = args
        return f"sharing #{index} with `{recipient}` falls under share rule `{rule}`"
    if kind == "verdict":
        return f"verdict: {args[0]}"
    return " ".join(step)


def _missing_json(m: Missing) -> dict[str, Any]:
    out: dict[str, Any] = {"requirement": m.requirement, "kind": m.kind, "power": m.power,
                           "cites": m.cites}
    if m.because is not None:
        out["because"] = m.because
    if m.note is not None:
        out["note"] = m.note
    return out


def _violation_json(v: Violation) -> dict[str, Any]:
    out: dict[str, Any] = {"code": v.code, "message": v.message, "cites": v.cites}
    if v.help is not None:
        out["help"] = v.help
    return out


def dumps(value: object) -> str:
    """Canonical JSON: sorted keys, no extra spaces, UTF-8 kept readable."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def verdict_of(missing: tuple[Missing, ...], violations: tuple[Violation, ...]) -> str:
    if violations:
        return DENIED
    if missing:
        return REQUIRES
    return PERMITTED


# ---- the fast encoder of decision records (`authority audit`) ---------------------------------
#
# `record_parts(d)` writes what `dumps(d.to_json())` writes, with a `"line"` key added, straight
# from the decision: no intermediate dicts, no key sorting at run time (the keys are written in
# sorted order). Strings go through the C function that the json module itself uses for them with
# `ensure_ascii=False`; a value of any other type goes through the canonical encoder, so that the
# bytes are the same whatever an evaluator puts in a decision. What repeats is remembered, a bounded
# number of each kind: fragments of the records an evaluator reuses (by identity, holding the
# record so that its id is not reused meanwhile), texts that recur (names, messages,
# alternatives, the law's identity) and steps of a trace. The start step of a trace names the
# operation and its date: it is written from a template per law made by `render_step` itself
# (JSON escapes character by character, so the escaped parts of a text join to its escape).

_REMEMBERED = 1 << 11  # fragments of each kind; all of a kind are forgotten when it is full
_BASE_REMEMBERED = _REMEMBERED
_canonical = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode
_texts: dict[str, str] = {}
_records: dict[int, tuple[object, str]] = {}  # id(record) -> (record, its fragment)
_steps: dict[tuple[str, ...], str] = {}
_laws: dict[tuple[tuple[str, str], ...], str] = {}
_starts: dict[tuple[str, str], tuple[str, str, str] | None] = {}
_OPERATION, _DATE = "\x00operation\x00", "\x00date\x00"  # never in a law's title or version
_OPERATION_TOKEN, _DATE_TOKEN = _encode_str(_OPERATION)[1:-1], _encode_str(_DATE)[1:-1]


def _value(value: object) -> str:
    """A value that is seldom repeated."""
    return _encode_str(value) if type(value) is str else _canonical(value)


def _text(value: object) -> str:
    """A value that often recurs."""
    if type(value) is not str:
        return "null" if value is None else _canonical(value)
    text = _texts.get(value)
    if text is None:
        if len(_texts) >= _REMEMBERED:
            _texts.clear()
        text = _texts[value] = _encode_str(value)
    return text


def _record(record: Authorised | Missing | Violation) -> str:
    if type(record) is Authorised:
        return (f'{{"capability":{_text(record.capability)},"cites":{_text(record.cites)},'
                f'"power":{_text(record.power)}}}')
    if type(record) is Missing:
        because = "" if record.because is None else f'"because":{_text(record.because)},'
        note = "" if record.note is None else f'"note":{_text(record.note)},'
        return (f'{{{because}"cites":{_text(record.cites)},"kind":{_text(record.kind)},{note}'
                f'"power":{_text(record.power)},"requirement":{_text(record.requirement)}}}')
    if type(record) is Violation:
        help_ = "" if record.help is None else f',"help":{_text(record.help)}'
        return (f'{{"cites":{_text(record.cites)},"code":{_text(record.code)}{help_},'
                f'"message":{_text(record.message)}}}')
    # A subclass: its JSON as `to_json` writes it.
    if isinstance(record, Authorised):
        return _canonical({"capability": record.capability, "power": record.power,
                           "cites": record.cites})
    return _canonical(_missing_json(record) if isinstance(record, Missing)
                      else _violation_json(record))


def scale_caches(scale: int) -> None:
    """Remember `scale` times the usual number of fragments of each kind; 1 restores the usual
    bound. A kind holding more than its bound is forgotten the next time it grows."""
    global _REMEMBERED
    _REMEMBERED = _BASE_REMEMBERED * scale


def _records_json(records: tuple[Authorised, ...] | tuple[Missing, ...] | tuple[Violation, ...],
                  ) -> str:
    texts = []
    remembered = _records
    for record in records:
        seen = remembered.get(id(record))
        if seen is None or seen[0] is not record:
            if len(remembered) >= _REMEMBERED:
                remembered.clear()
            seen = remembered[id(record)] = (record, _record(record))
        texts.append(seen[1])
    return ",".join(texts)


def _law(law: dict[str, str]) -> str:
    key = tuple(law.items())
    text = _laws.get(key)
    if text is None:
        text = _canonical(dict(law))
        if all(type(k) is str and type(v) is str for k, v in key):
            if len(_laws) >= _REMEMBERED:
                _laws.clear()
            _laws[key] = text
    return text


def _start_template(title: str, version: str) -> tuple[str, str, str] | None:
    """The JSON of the start step of a trace, split around the operation and the date; None if
    `render_step` is not a plain substitution of them."""
    parts = _encode_str(render_step(("start", title, version, _OPERATION, _DATE)))
    head, sep1, rest = parts.partition(_OPERATION_TOKEN)
    middle, sep2, tail = rest.partition(_DATE_TOKEN)
    probe = _encode_str(render_step(("start", title, version, "op\"1", "2000-01-01")))
    if not sep1 or not sep2 or probe != f'{head}op\\"1{middle}2000-01-01{tail}':
        return None
    return head, middle, tail


def _start_of(title: object, version: object) -> tuple[str, str, str] | None:
    """The template of the start steps of law `title` `version` (`_start_template`),
    remembered."""
    if type(title) is not str or type(version) is not str:
        return None
    key = title, version
    template: tuple[str, str, str] | None = _starts.get(key, _UNSEEN)
    if template is _UNSEEN:
        if len(_starts) >= _REMEMBERED:
            _starts.clear()
        template = _starts[key] = _start_template(title, version)
    return template


def _start(step: tuple[str, ...]) -> str:
    """A start step (five parts), from the template of its law when its parts are texts."""
    _, title, version, operation, date = step
    template = _start_of(title, version)
    if template is not None and type(operation) is str and type(date) is str:
        head, middle, tail = template
        return f"{head}{_encode_str(operation)[1:-1]}{middle}{_encode_str(date)[1:-1]}{tail}"
    return _value(render_step(step))


_UNSEEN: Any = ("", "", "")  # a law whose start template is not made yet


def _step(step: tuple[str, ...]) -> str:
    if len(step) == 5 and step[0] == "start":
        return _start(step)
    text = _value(render_step(step))
    if all(type(part) is str for part in step):
        if len(_steps) >= _REMEMBERED:
            _steps.clear()
        _steps[step] = text
    return text


def _fields(verdict: str, authorised: tuple[Authorised, ...], missing: tuple[Missing, ...],
            violations: tuple[Violation, ...], alternatives: tuple[str, ...],
            law: dict[str, str]) -> tuple[str, str, str]:
    """A record's JSON, in keys' order, but for its line, operation and trace: what comes before
    the line, between the line and the operation, and after the trace's steps."""
    return (f'{{"alternatives":[{",".join([_text(a) for a in alternatives])}],'
            f'"authorised":[{_records_json(authorised) if authorised else ""}],'
            f'"law":{_law(law)},"line":',
            f',"missing":[{_records_json(missing) if missing else ""}],"operation":',
            f'],"verdict":{_text(verdict)},'
            f'"violations":[{_records_json(violations) if violations else ""}]}}')


def record_parts(d: Decision) -> tuple[str, str]:
    """The canonical JSON of `d.to_json()` with a `"line"` key, in two parts: `head + str(n) +
    tail == dumps({**d.to_json(), "line": n})` for an int `n`."""
    head, middle, end = _fields(d.verdict, d.authorised, d.missing, d.violations,
                                d.alternatives, d.law)
    trace_steps = d.steps
    if trace_steps and len(first := trace_steps[0]) == 5 and first[0] == "start":
        # The start step (the only one naming the operation): from its law's template.
        rest = trace_steps[1:]
        trace = f"{_start(first)},{_steps_json(rest)}" if rest else _start(first)
    else:
        trace = _steps_json(trace_steps)
    return head, f'{middle}{_value(d.operation)},"trace":[{trace}{end}'


def _steps_json(steps: tuple[tuple[str, ...], ...]) -> str:
    """The items of the JSON list of some steps of a trace."""
    known = _steps
    return ",".join([known.get(s) or _step(s) for s in steps])


def record_dumps(d: Decision, line: int) -> str:
    """`dumps({**d.to_json(), "line": line})`, fast (see `record_parts`)."""
    head, tail = record_parts(d)
    return f"{head}{line}{tail}"


def outcome_parts(verdict: str, authorised: tuple[Authorised, ...], missing: tuple[Missing, ...],
                  violations: tuple[Violation, ...], alternatives: tuple[str, ...],
                  steps: tuple[tuple[str, ...], ...], law: dict[str, str], title: str,
                  version: str) -> tuple[str, str, str, str, str] | None:
    """The record of a decision whose trace starts with the start step of law `title`
    `version`, in five parts around its line, operation and date: `a + str(n) + b + e + c + e
    + d + date + f` is `record_dumps(decision, n)` for the operation whose id JSON-escapes to
    `e` (without quotes). The fields as `record_parts` writes them (`_fields`), the start step
    from its law's template; None where there is none (`_start_template`)."""
    template = _start_of(title, version)
    if template is None:
        return None
    start_head, start_middle, start_tail = template
    head, middle, end = _fields(verdict, authorised, missing, violations, alternatives, law)
    rest = f",{_steps_json(steps)}" if steps else ""
    return (head, f'{middle}"', f'","trace":[{start_head}', start_middle,
            f"{start_tail}{rest}{end}")
