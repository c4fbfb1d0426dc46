"""Steps both evaluators share: name checks (fail closed), facts, timing and the final record."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

import attrs

from ..conditions import Facts, ShareFacts
from ..countries import COUNTRIES
from ..decision import Authorised, Decision, Missing, Violation, verdict_of
from ..model import Law, PowerDef
from ..operation import Operation
from . import messages

Problem = tuple[str, Violation]


@attrs.define
class Outcome:
    """What an evaluator has found so far for one operation."""

    authorised: list[Authorised] = attrs.field(factory=list)
    missing: list[Missing] = attrs.field(factory=list)
    violations: list[Violation] = attrs.field(factory=list)
    alternatives: list[str] = attrs.field(factory=list)
    steps: list[tuple[str, ...]] = attrs.field(factory=list)

    def step(self, *step: str) -> None:
        self.steps.append(step)


@attrs.frozen
class Option:
    """Using one power (or share rule): its limit problems and its missing requirements."""

    rule: str
    cites: str | None
    problems: tuple[Problem, ...]
    missing: tuple[Missing, ...]
    power: PowerDef | None = None


def fold(text: str) -> str:
    """A service's name as compared for a near miss: case (`mivd`, `MİVD`, `mıvd`), spaces and
    invisible characters (`M IVD`, a zero-width space), accents, hyphens and the compatibility
    forms of letters (`ＭＩＶＤ`) do not count."""
    kept = [c for c in unicodedata.normalize("NFKD", text)
            if not c.isspace() and unicodedata.category(c) not in _FOLDED_AWAY]
    return "".join(kept).upper().casefold()


_FOLDED_AWAY = frozenset({"Mn", "Me", "Cf", "Cc", "Pd"})  # accents, invisible, dashes


_SERVICES: dict[int, tuple[Law, dict[str, str]]] = {}


def service_names(law: Law) -> dict[str, str]:
    """The services the law's conditions name (`service == "AIVD"`), by `fold`ed name."""
    found = _SERVICES.get(id(law))
    if found is None or found[0] is not law:
        from ..analysis.vocabulary import vocabulary

        if len(_SERVICES) >= 64:
            _SERVICES.clear()
        found = _SERVICES[id(law)] = (
            law, {fold(s): s for s in sorted(vocabulary([law]).services)})
    return found[1]


def near_service(law: Law, service: str) -> str | None:
    """The service the law names that `service` misspells only in case or spacing (`"aivd"`
    for `"AIVD"`), if any: a condition on `service == "AIVD"` would silently not apply to it."""
    names = service_names(law)
    if not names or service in names.values():
        return None
    return names.get(fold(service))


def check_names(law: Law, op: Operation, out: Outcome) -> frozenset[str]:
    """Every name the operation uses must be declared (fail closed); returns its capabilities."""
    bad = out.violations
    if op.threat is not None and op.threat not in law.threats:
        bad.append(messages.unknown("threat", op.threat, law.threats))
    capabilities: set[str] = set()
    if op.technique is not None:
        if op.technique in law.techniques:
            capabilities |= law.techniques[op.technique]
        elif op.technique in law.capabilities:
            bad.append(Violation("unknown-name", f"`{op.technique}` is a capability, not a "
                                 "technique", None, "list it under `capabilities`"))
        else:
            bad.append(messages.unknown("technique", op.technique, law.techniques))
    for name in op.capabilities:
        if name in law.capabilities:
            capabilities.add(name)
        elif name in law.techniques:
            bad.append(Violation("unknown-name", f"`{name}` is a technique, not a capability",
                                 None, "give it as the operation's `technique`"))
        else:
            bad.append(messages.unknown("capability", name, law.capabilities))
    for subject in op.subjects:
        for name in subject.protected:
            if name not in law.protected:
                bad.append(messages.unknown("protected category", name, law.protected))
    requirements = [*law.safeguards, *law.assessments]
    for approval in op.approvals:
        if approval.safeguard in law.assessments:
            bad.append(Violation("unknown-name", f"`{approval.safeguard}` is an assessment, not "
                                 "a safeguard", None, "list it under `assessments`"))
        elif approval.safeguard not in law.safeguards:
            bad.append(messages.unknown("safeguard", approval.safeguard, law.safeguards))
    for name in op.assessments:
        if name in law.safeguards:
            bad.append(Violation("unknown-name", f"`{name}` is a safeguard, not an assessment",
                                 None, "list it under `approvals`"))
        elif name not in law.assessments:
            bad.append(messages.unknown("assessment", name, law.assessments))
    for sharing in op.sharing:
        if sharing.recipient not in law.recipients:
            bad.append(messages.unknown("recipient", sharing.recipient, law.recipients))
        if sharing.country is not None and sharing.country not in COUNTRIES:
            bad.append(messages.unknown_country(sharing.country))
        for name in sharing.with_:
            if name not in law.safeguards and name not in law.assessments:
                bad.append(messages.unknown("safeguard or assessment", name, requirements))
    if op.service is not None:
        near = near_service(law, op.service)
        if near is not None:
            bad.append(Violation("unknown-name", f"unknown service `{op.service}`", None,
                                 f"did you mean `{near}`?"))
    if capabilities and op.threat is None:
        bad.append(Violation("missing-threat", "the operation names no threat", None,
                             "powers are granted for threats: add `threat`"))
    if not capabilities and not op.sharing and not bad:
        bad.append(Violation("nothing-to-decide", "the operation names no technique, capability "
                             "or sharing", None))
    return frozenset(capabilities)


def facts_of(law: Law, op: Operation, capabilities: frozenset[str]) -> Facts:
    caps = [law.capabilities[c] for c in capabilities]
    threat = law.threats.get(op.threat or "")
    return Facts(
        threat=op.threat or "",
        severity=threat.severity if threat else 0,
        capabilities=capabilities,
        intrusion=max((c.intrusion for c in caps), default=0),
        scope="bulk" if any(c.scope == "bulk" for c in caps) else "targeted",
        protected=frozenset(p for s in op.subjects for p in s.protected),
        duration=op.duration,
        retention=op.retention,
        urgent=op.urgent,
        date=op.date,
        service=op.service,
        recipients=frozenset(s.recipient for s in op.sharing),
        shares=tuple(ShareFacts(s.recipient, s.country, s.data, law.recipients[s.recipient])
                     for s in op.sharing),
        ancestors=law.ancestors,
    )


def obtained(law: Law, op: Operation) -> frozenset[str]:
    """Safeguards obtained in time, and assessments made."""
    have = set(op.assessments)
    for approval in op.approvals:
        if timely(law, op, approval.safeguard, approval.date):
            have.add(approval.safeguard)
    return frozenset(have)


def timely(law: Law, op: Operation, safeguard: str, date: object) -> bool:
    """Prior by default; within the safeguard's urgent window after the start when urgent."""
    if date is None or date <= op.date:  # type: ignore[operator]
        return True
    window = law.safeguards[safeguard].urgent_within
    return bool(op.urgent and window is not None and
                date.toordinal() * 24 <= window.end_hours(op.date))  # type: ignore[attr-defined]


def because_of(because: dict[str, str | None], names: Iterable[str], text: str) -> None:
    """Note that the clause `text` requires `names`: each keeps the condition that comes first
    by its text, whatever the order of the clauses (None, required outright, stays)."""
    for name in names:
        if name not in because:
            because[name] = text
        else:
            known = because[name]
            if known is not None and text < known:
                because[name] = text


def requirement_missing(law: Law, name: str, because: str | None, rule: str, cites: str | None,
                        op: Operation) -> Missing:
    late = any(a.safeguard == name and a.date is not None for a in op.approvals)
    return Missing(name, law.requirement_kind(name), rule, cites, because,
                   late_note(law, name, op.urgent) if late else None)


def late_note(law: Law, name: str, urgent: bool) -> str:
    """Why an approval that was given does not count: it came after the start."""
    window = law.safeguards[name].urgent_within if name in law.safeguards else None
    if window and urgent:
        return f"the approval given is dated after the start and outside the urgent window of " \
            f"{window}"
    return "the approval given is dated after the start; it must be prior"


def limit_problems(power: PowerDef, op: Operation) -> Iterable[Problem]:
    if power.max_duration is not None:
        if op.duration is None:
            yield "duration-missing", messages.duration_missing(power)
        elif op.duration.compare(power.max_duration, op.date) > 0:
            yield "duration-exceeded", messages.too_long(
                "duration", "", op.duration, power, power.max_duration)[0]
    if power.retention is not None and op.retention is not None and \
            op.retention.compare(power.retention, op.date) > 0:
        yield "retention-exceeded", messages.too_long(
            "retention", "", op.retention, power, power.retention)[0]


def report_failed_options(capability: str, options: list[Option], out: Outcome, op: Operation,
                          ) -> None:
    """No power is usable within its limits: say why, and name the most generous limit."""
    best = min(options, key=lambda o: (len(o.problems), o.rule))
    for code, violation in best.problems:
        if code in ("duration-exceeded", "retention-exceeded"):
            kind = "duration" if code == "duration-exceeded" else "retention"
            stated = op.duration if kind == "duration" else op.retention
            # Only powers that fail on this limit alone are alternatives for it.
            limits = [(o.power, getattr(o.power, "max_duration" if kind == "duration"
                                        else "retention")) for o in options
                      if o.power and all(c == code for c, _ in o.problems)]
            own = getattr(best.power, "max_duration" if kind == "duration" else "retention")
            assert stated is not None and best.power is not None
            violation = messages.too_long(kind, capability, stated, best.power, own)[0]
            bounded = [(p, d) for p, d in limits if d is not None]
            if bounded:
                longest_power, longest = max(
                    bounded, key=lambda pd: (pd[1].end_hours(op.date), pd[0].name))
                out.alternatives.append(
                    messages.too_long(kind, capability, stated, longest_power, longest)[1])
        out.violations.append(violation)
    for other in sorted(options, key=lambda o: o.rule):
        if other is not best and other.problems:
            reasons = "; ".join(v.message for _, v in other.problems)
            out.alternatives.append(f"power `{other.rule}` also grants `{capability}` for this "
                                    f"threat, but: {reasons}")


def finish(law: Law, op: Operation, out: Outcome) -> Decision:
    """Normalise the outcome into a deterministic decision record."""
    return Decision(op.id, *settle(out, law.info))


def settle(out: Outcome, info: dict[str, str]) -> tuple[Any, ...]:
    """The fields of a decision after its operation's id, in order, deterministic."""
    missing: dict[str, Missing] = {}
    for m in sorted(out.missing, key=lambda m: (m.requirement, m.power)):
        missing.setdefault(m.requirement, m)
    violations = tuple(sorted(set(out.violations), key=lambda v: (v.code, v.message)))
    missing_t = tuple(missing.values())
    verdict = verdict_of(missing_t, violations)
    out.step("verdict", verdict)
    return (verdict, info, tuple(sorted(out.authorised, key=lambda a: a.capability)), missing_t,
            violations, tuple(sorted(set(out.alternatives))), tuple(out.steps))
