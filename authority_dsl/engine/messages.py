"""Violations and alternatives, worded once for both evaluators."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

from ..countries import country_hint
from ..decision import Violation
from ..diagnostics import did_you_mean
from ..durations import Duration
from ..model import Law, PowerDef


def unknown(kind: str, name: str, known: Iterable[str]) -> Violation:
    names = frozenset(known)
    return _unknown(kind, name, _known.setdefault(names, names) if len(_known) < 256 else names)


_known: dict[frozenset[str], frozenset[str]] = {}  # one shared copy of each set of known names


@functools.lru_cache(maxsize=8192)
def _unknown(kind: str, name: str, known: frozenset[str]) -> Violation:
    # Remembered: a batch of recorded operations repeats the same misspellings, and finding the
    # nearest known name takes far longer than deciding.
    return Violation("unknown-name", f"unknown {kind} `{name}`", None,
                     did_you_mean(name, known))


def unknown_country(code: str) -> Violation:
    return Violation("unknown-name", f"unknown country `{code}`", None, country_hint(code))


def law_not_in_force(law: Law, day: dt.date) -> Violation:
    return Violation("law-not-in-force",
                     f"`{law.title}` is not in force on {day} (in force {law.in_force})", None)


def threat_not_in_force(name: str, day: dt.date, cites: str | None) -> Violation:
    return Violation("threat-not-in-force", f"threat `{name}` is not in force on {day}", cites)


def no_legal_basis(law: Law, threat: str, capability: str, day: dt.date) -> tuple[Violation, str]:
    grantors = sorted((p for p in law.powers if capability in p.capabilities),
                      key=lambda p: p.name)
    if grantors:
        alt = "; ".join(f"power `{p.name}` grants `{capability}` for "
                        f"{', '.join(f'`{t}`' for t in sorted(p.threats))}"
                        + ("" if p.valid.contains(day) else f" (in force {p.valid})")
                        for p in grantors)
    else:
        alt = f"no power of this law grants `{capability}` for any threat"
    return (Violation("no-legal-basis",
                      f"no power in force grants `{capability}` for threat `{threat}`", None),
            alt)


def duration_missing(power: PowerDef) -> Violation:
    return Violation("duration-missing",
                     f"the operation states no duration; power `{power.name}` allows at most "
                     f"{power.max_duration}", power.cites)


def too_long(kind: str, capability: str, stated: Duration, best: PowerDef,
             limit: Duration) -> tuple[Violation, str]:
    code = "duration-exceeded" if kind == "duration" else "retention-exceeded"
    what = "duration" if kind == "duration" else "retention of unevaluated data"
    renew = " (renewable)" if kind == "duration" and best.renewable else ""
    return (Violation(code, f"{what} of {stated} for `{capability}` exceeds the {limit} allowed "
                      f"by power `{best.name}`", best.cites),
            f"the longest {what} allowed for `{capability}` is {limit}{renew}, "
            f"under power `{best.name}`")


def prohibited(name: str, text: str, cites: str | None) -> Violation:
    return Violation("prohibited", f"prohibition `{name}` applies: {text}", cites)


def cannot_evaluate(where: str, reason: str) -> Violation:
    return Violation("cannot-evaluate", f"cannot evaluate {where}: {reason}", None)


def sharing_not_allowed(index: int, recipient: str) -> Violation:
    return Violation("sharing-not-allowed",
                     f"sharing #{index + 1}: no share rule in force allows sharing with "
                     f"`{recipient}`", None)


def sharing_forbidden(index: int, rule: str, text: str, cites: str | None) -> Violation:
    return Violation("sharing-forbidden",
                     f"sharing #{index + 1}: forbidden by share rule `{rule}`: {text}", cites)
