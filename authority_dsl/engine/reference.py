"""The reference interpreter: a direct reading of the decision semantics in DESIGN.md.

It scans every provision for every operation and favours clarity over speed; the compiled
evaluator must agree with it on every law and operation (a property test checks this).
"""

from __future__ import annotations

from ..conditions import CannotEvaluate, Facts, evaluate
from ..decision import Authorised, Decision, Violation
from ..model import Law, PowerDef
from ..operation import Operation
from . import messages
from .common import (
    Option,
    Outcome,
    because_of,
    check_names,
    facts_of,
    finish,
    limit_problems,
    obtained,
    report_failed_options,
    requirement_missing,
)


def decide(law: Law, op: Operation) -> Decision:
    """Decide one operation under one law."""
    out = Outcome()
    out.step("start", law.title, law.version, op.id, op.date.isoformat())
    if not law.in_force_on(op.date):
        out.violations.append(messages.law_not_in_force(law, op.date))
        return finish(law, op, out)
    capabilities = check_names(law, op, out)
    if out.violations:
        return finish(law, op, out)
    threat = law.threats[op.threat] if op.threat else None
    if threat is not None and not threat.in_force.contains(op.date):
        out.violations.append(messages.threat_not_in_force(threat.name, op.date, threat.cites))
        return finish(law, op, out)
    facts = facts_of(law, op, capabilities)
    have = obtained(law, op)

    for prohibition in law.prohibitions:
        if not prohibition.valid.contains(op.date):
            continue
        try:
            if evaluate(prohibition.condition, facts):
                out.violations.append(
                    messages.prohibited(prohibition.name, prohibition.text, prohibition.cites))
                out.step("prohibited", prohibition.name)
        except CannotEvaluate as exc:
            out.violations.append(
                messages.cannot_evaluate(f"prohibition `{prohibition.name}`", str(exc)))

    for capability in sorted(capabilities):
        candidates = [
            p for p in law.powers
            if p.valid.contains(op.date) and capability in p.capabilities
            and threat is not None and p.threats & threat.ancestors
        ]
        if not candidates:
            violation, alternative = messages.no_legal_basis(
                law, op.threat or "", capability, op.date)
            out.violations.append(violation)
            out.alternatives.append(alternative)
            continue
        options = [_option(law, p, op, facts, have) for p in candidates]
        usable = [o for o in options if not o.problems]
        if not usable:
            report_failed_options(capability, options, out, op)
            continue
        best = min(usable, key=lambda o: (len(o.missing), o.rule))
        out.authorised.append(Authorised(capability, best.rule, best.cites))
        out.missing.extend(best.missing)
        out.step("granted", capability, best.rule, op.threat or "",
                 ", ".join(m.requirement for m in best.missing))

    for index, sharing in enumerate(op.sharing):
        rules = [r for r in law.share_rules
                 if r.valid.contains(op.date) and sharing.recipient in r.recipients]
        if not rules:
            out.violations.append(messages.sharing_not_allowed(index, sharing.recipient))
            continue
        share_facts = facts.shares[index]
        forbidden: list[Violation] = []
        options = []
        for rule in sorted(rules, key=lambda r: r.name):
            required: dict[str, str | None] = {r: None for r in rule.requires | rule.guarantees}
            # Each clause on its own: what one cannot evaluate must not hide what another says.
            evaluable = True
            for text_cond, text in rule.forbidden:
                try:
                    if evaluate(text_cond, facts, share_facts):
                        forbidden.append(
                            messages.sharing_forbidden(index, rule.name, text, rule.cites))
                except CannotEvaluate as exc:
                    forbidden.append(messages.cannot_evaluate(f"share rule `{rule.name}`",
                                                              str(exc)))
                    evaluable = False
            for clause in rule.conditionals:
                try:
                    if evaluate(clause.condition, facts, share_facts):
                        because_of(required, clause.requires, clause.text)
                except CannotEvaluate as exc:
                    forbidden.append(messages.cannot_evaluate(f"share rule `{rule.name}`",
                                                              str(exc)))
                    evaluable = False
            if not evaluable:
                continue
            available = have | frozenset(sharing.with_)
            missing = tuple(requirement_missing(law, name, because, rule.name, rule.cites, op)
                            for name, because in sorted(required.items())
                            if name not in available)
            options.append(Option(rule.name, rule.cites, (), missing))
        if forbidden:
            out.violations.extend(forbidden)
            continue
        best = min(options, key=lambda o: (len(o.missing), o.rule))
        out.missing.extend(best.missing)
        out.step("shared", str(index + 1), sharing.recipient, best.rule)
    return finish(law, op, out)


def _option(law: Law, power: PowerDef, op: Operation, facts: Facts,
            have: frozenset[str]) -> Option:
    """What using `power` would take: its limit problems and its missing requirements."""
    problems = list(limit_problems(power, op))
    required: dict[str, str | None] = {name: None for name in power.requires}
    for clause in power.conditionals:
        try:
            if evaluate(clause.condition, facts):
                because_of(required, clause.requires, clause.text)
        except CannotEvaluate as exc:
            problems.append(("cannot-evaluate", messages.cannot_evaluate(
                f"`when {clause.text}` of power `{power.name}`", str(exc))))
    missing = tuple(requirement_missing(law, name, because, power.name, power.cites, op)
                    for name, because in sorted(required.items()) if name not in have)
    return Option(power.name, power.cites, tuple(problems), missing, power)
