"""The decision record: verdict, what authorised each capability, what is missing, why not.

Both evaluators return this type; its JSON form (DESIGN.md) is deterministic to the byte.
"""

from __future__ import annotations

import json
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
