"""The decision record: verdict, what authorised each capability, what is missing, why not.

Both evaluators return this type; its JSON form (DESIGN.md) is deterministic to the byte.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import encode_basestring as _encode_str
from typing import Any

import attrs

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


@attrs.frozen
class Authorised:
    capability: str
    power: str
    cites: str | None


@attrs.frozen
class Missing:
    requirement: str
    kind: str  # safeguard | assessment
    power: str  # the power or share rule that imposes it
    cites: str | None
    because: str | None = None  # the `when` condition that made it necessary
    note: str | None = None  # e.g. an approval dated after the start


@attrs.frozen
class Violation:
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
# from the decision: no intermediate dicts and no key sorting at run time (the keys are written in
# sorted order). Each string goes through the C function the json module itself uses to write
# strings with `ensure_ascii=False`; any value of an unexpected type goes through the canonical
# encoder, so the bytes are the same whatever the evaluator puts in a decision. Fragments of the
# objects an evaluator reuses (its Authorised and Missing records, the law's identity, the steps of
# a trace other than its start) are remembered, a bounded number of them.

_FRAGMENTS = 1 << 12  # remembered fragments of each kind; all are forgotten when full
_canonical = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode


def _quote(value: object) -> str:
    return _encode_str(value) if type(value) is str else _canonical(value)


def _quote_opt(value: object) -> str:
    if value is None:
        return "null"
    return _encode_str(value) if type(value) is str else _canonical(value)


_by_id: dict[int, tuple[object, str]] = {}  # id(record) -> (record, its fragment)


def _authorised_fragment(a: Authorised) -> str:
    return (f'{{"capability":{_quote(a.capability)},"cites":{_quote_opt(a.cites)},'
            f'"power":{_quote(a.power)}}}')


def _missing_fragment(m: Missing) -> str:
    because = "" if m.because is None else f'"because":{_quote(m.because)},'
    note = "" if m.note is None else f'"note":{_quote(m.note)},'
    return (f'{{{because}"cites":{_quote_opt(m.cites)},"kind":{_quote(m.kind)},{note}'
            f'"power":{_quote(m.power)},"requirement":{_quote(m.requirement)}}}')


def _violation_fragment(v: Violation) -> str:
    help_ = "" if v.help is None else f',"help":{_quote(v.help)}'
    return (f'{{"cites":{_quote_opt(v.cites)},"code":{_quote(v.code)}{help_},'
            f'"message":{_quote(v.message)}}}')


def _fragment(record: Authorised | Missing, build: Callable[[Any], str]) -> str:
    """The fragment of a record, remembered by identity (holding the record, so that its id is
    not reused while it is remembered)."""
    seen = _by_id.get(id(record))
    if seen is not None and seen[0] is record:
        return seen[1]
    text = build(record)
    if len(_by_id) >= _FRAGMENTS:
        _by_id.clear()
    _by_id[id(record)] = (record, text)
    return text


_laws: dict[tuple[tuple[object, object], ...], str] = {}
_steps: dict[tuple[str, ...], str] = {}


def _law_fragment(law: dict[str, str]) -> str:
    key = tuple(law.items())
    text = _laws.get(key)
    if text is None:
        text = _canonical(dict(law))
        if all(type(k) is str and type(v) is str for k, v in key):
            if len(_laws) >= _FRAGMENTS:
                _laws.clear()
            _laws[key] = text
    return text


def _step_fragment(step: tuple[str, ...]) -> str:
    text = _steps.get(step)
    if text is None:
        text = _quote(render_step(step))
        # A start step names the operation and its date: not worth remembering.
        if step[:1] != ("start",) and all(type(part) is str for part in step):
            if len(_steps) >= _FRAGMENTS:
                _steps.clear()
            _steps[step] = text
    return text


def record_parts(d: Decision) -> tuple[str, str]:
    """The canonical JSON of `d.to_json()` with a `"line"` key, in two parts: `head + str(n) +
    tail == dumps({**d.to_json(), "line": n})` for an int `n`."""
    by_id = _by_id
    parts = ['{"alternatives":[']
    if d.alternatives:
        parts.append(",".join([_quote(a) for a in d.alternatives]))
    parts.append('],"authorised":[')
    if d.authorised:
        texts = []
        for a in d.authorised:
            seen = by_id.get(id(a))
            texts.append(seen[1] if seen is not None and seen[0] is a
                         else _fragment(a, _authorised_fragment))
        parts.append(",".join(texts))
    parts.append('],"law":')
    parts.append(_law_fragment(d.law))
    parts.append(',"line":')
    head = "".join(parts)
    parts = [',"missing":[']
    if d.missing:
        texts = []
        for m in d.missing:
            seen = by_id.get(id(m))
            texts.append(seen[1] if seen is not None and seen[0] is m
                         else _fragment(m, _missing_fragment))
        parts.append(",".join(texts))
    parts.append('],"operation":')
    parts.append(_quote(d.operation))
    parts.append(',"trace":[')
    steps = _steps
    parts.append(",".join([steps.get(s) or _step_fragment(s) for s in d.steps]))
    parts.append('],"verdict":')
    parts.append(_quote(d.verdict))
    parts.append(',"violations":[')
    if d.violations:
        parts.append(",".join([_violation_fragment(v) for v in d.violations]))
    parts.append("]}")
    return head, "".join(parts)


def record_dumps(d: Decision, line: int) -> str:
    """`dumps({**d.to_json(), "line": line})`, fast (see `record_parts`)."""
    head, tail = record_parts(d)
    return head + str(line) + tail
