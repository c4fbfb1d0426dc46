"""The same authorisation question answered by authority-dsl and by Cedar (cedarpy), compared.

    python benchmarks/vs_cedar.py                       # specs/wiv_threat_draft.auth, 50,000 ops
    python benchmarks/vs_cedar.py -n 200000 --seed 3

The question: is this operation `permitted`? (`requires` and `denied` are both "no".) The script
compiles the checked law into Cedar policies, generates operations with benchmarks/gen_ops.py,
answers the question with both engines, checks that they agree on every operation, and prints the
throughput of each and the ratio, all measured in the same run.

The encoding. Each capability of an operation is one request (`Action::"use"` on
`Capability::"c"`), each sharing one request (`Action::"share"` on `Recipient::"r"`); an operation
is permitted when every one of its requests is allowed.
- a power is a `permit` on `use` for its capabilities, when the threat is `in` one of its threats
  (threats are entities whose parents are their parent threats, so Cedar's `in` follows the
  hierarchy), the date is in its window, the duration and retention are within its limits, and
  the operation has its requirements and those of each `when` clause that holds;
- a prohibition is a `forbid`; so are the law's validity window, the threats' windows and the
  `forbid when` clauses of share rules (scoped to their recipients); a share rule is a `permit` on
  `share` for its recipients;
- a condition that needs a fact the operation does not state fails closed in authority-dsl; in a
  `forbid` the encoding adds "or a fact it reads is missing", in a `permit` Cedar's own error
  handling (a policy that errors does not apply) gives the same answer;
- calendar arithmetic, which Cedar does not have, is done when the request is built: each duration
  of the operation and each duration literal of the law becomes the hour, counted from a fixed
  epoch, at which it ends when started on the operation's date; so do the facts that are name
  resolution in Cedar's terms (the capabilities a technique maps to, which approvals were in time,
  unknown names, which make the answer "no" before any policy is read).
Cedar is timed on `is_authorized_batch` alone, with the policies and entities parsed once and the
requests built beforehand; authority-dsl is timed end to end (`authority audit` on the JSON Lines,
explanations included) and as its evaluator alone on parsed operations.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import io
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("authority_dsl") is None:  # not installed: the checkout's source
    sys.path.insert(0, str(ROOT))

import authority_dsl  # noqa: E402
from authority_dsl import audit  # noqa: E402
from authority_dsl.checker import load_law  # noqa: E402
from authority_dsl.conditions import AllOf, AnyOf, Cond, Const, Fact, Negate, Op, SomeShare  # noqa: E402
from authority_dsl.durations import Duration, Validity  # noqa: E402
from authority_dsl.engine import compile_law  # noqa: E402
from authority_dsl.model import Law  # noqa: E402
from authority_dsl.operation import Operation, OperationError, from_json  # noqa: E402

EPOCH = dt.datetime(1, 1, 1)
# Facts that may be missing: a condition that reads one of them cannot be evaluated.
OPTIONAL = {"duration": "duration_end", "service": "service", "country": "country"}
CONTEXT = {
    "threat": "threat", "severity": "severity", "capabilities": "capabilities",
    "intrusion": "intrusion", "scope": "scope", "protected": "protected",
    "duration": "duration_end", "retention": "retention_end", "urgent": "urgent", "date": "date",
    "service": "service", "recipients": "recipients", "recipient": "recipient",
    "country": "country", "data": "data", "foreign": "foreign",
}


class NotExpressible(Exception):
    """A condition Cedar cannot state (it has no quantifier for `any share`)."""


def hours(end: int) -> int:
    """A moment of `Duration.end_hours` counted from EPOCH."""
    return end - EPOCH.toordinal() * 24


def literal_key(d: Duration) -> str:
    return f"end_{d.amount}_{d.unit.value}"


# ---- compiling the law into Cedar policies ----------------------------------------------------


def _q(text: str) -> str:
    return json.dumps(text)


def _const(value: object, type_: str) -> str:
    if isinstance(value, frozenset):
        elem = type_[4:-1] if type_.startswith("set[") else "any"
        return "[" + ", ".join(_const(v, elem) for v in sorted(value, key=str)) + "]"
    if type_ == "threat":
        return f"Threat::{_q(str(value))}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Duration):
        return f"context.{literal_key(value)}"
    if isinstance(value, dt.date):
        return str(value.toordinal())
    return _q(str(value))


def _is_duration(cond: Cond) -> bool:
    return (isinstance(cond, Fact) and cond.type == "duration") or \
        (isinstance(cond, Const) and isinstance(cond.value, Duration))


def value(cond: Cond) -> str:
    """A Cedar expression with the value of `cond`; it errors where a fact is missing."""
    if isinstance(cond, Const):
        return _const(cond.value, cond.type)
    if isinstance(cond, Fact):
        return f"context.{CONTEXT[cond.name]}"
    if isinstance(cond, AllOf):
        return "(" + " && ".join(value(i) for i in cond.items) + ")"
    if isinstance(cond, AnyOf):
        return "(" + " || ".join(value(i) for i in cond.items) + ")"
    if isinstance(cond, Negate):
        return f"!({value(cond.item)})"
    if isinstance(cond, SomeShare):
        raise NotExpressible("`any share (...)`")
    left, right = cond.left, cond.right
    if cond.op in ("==", "!=") and _is_duration(left):
        # Durations are equal when amount and unit are; compare their canonical texts.
        lt, rt = (_duration_text(c) for c in (left, right))
        return f"({lt} {cond.op} {rt})"
    lv, rv = value(left), value(right)
    if cond.op in ("==", "!=", "<", "<=", ">", ">="):
        return f"({lv} {cond.op} {rv})"
    if cond.op == "in":
        return f"{rv}.contains({lv})"
    if cond.op == "notin":
        return f"!({rv}.contains({lv}))"
    if cond.op == "contains":
        return f"{lv}.contains({rv})"
    if cond.op == "under":
        return f"({lv} in {rv})"
    raise NotExpressible(cond.op)


def _duration_text(cond: Cond) -> str:
    if isinstance(cond, Fact):
        return f"context.{CONTEXT[cond.name]}_text"
    if isinstance(cond, Const):
        return _q(str(cond.value))
    raise NotExpressible("a computed duration")


def missing(cond: Cond) -> str:
    """A Cedar expression that is true when evaluating `cond` (left to right, with the same
    short-circuits) would need a fact the operation does not state."""
    if isinstance(cond, Const):
        return "false"
    if isinstance(cond, Fact):
        key = OPTIONAL.get(cond.name)
        return f"!(context has {key})" if key else "false"
    if isinstance(cond, Op):
        return _or([missing(cond.left), missing(cond.right)])
    if isinstance(cond, Negate):
        return missing(cond.item)
    if isinstance(cond, (AllOf, AnyOf)):
        parts: list[str] = []
        before: list[str] = []
        for item in cond.items:
            guard = [*before, missing(item)]
            parts.append(_and(guard))
            before.append(value(item) if isinstance(cond, AllOf) else f"!({value(item)})")
        return _or(parts)
    raise NotExpressible("`any share (...)`")


def _or(parts: Iterable[str]) -> str:
    parts = [p for p in parts if p != "false"]
    return "(" + " || ".join(parts) + ")" if parts else "false"


def _and(parts: Sequence[str]) -> str:
    if "false" in parts:
        return "false"
    return "(" + " && ".join(parts) + ")" if len(parts) > 1 else parts[0]


def holds_or_missing(cond: Cond) -> str:
    """For a `forbid`: the condition holds, or it cannot be evaluated (fail closed)."""
    return _or([missing(cond), value(cond)])


def window(valid: Validity) -> list[str]:
    out = []
    if valid.start is not None:
        out.append(f"context.date >= {valid.start.toordinal()}")
    if valid.end is not None:
        out.append(f"context.date <= {valid.end.toordinal()}")
    return out


def _names(names: Iterable[str]) -> str:
    return "[" + ", ".join(_q(n) for n in sorted(names)) + "]"


def policies(law: Law) -> str:
    """The law as Cedar policies."""
    out: list[str] = []
    outside = [f"context.date < {law.in_force.start.toordinal()}"] if law.in_force.start else []
    if law.in_force.end:
        outside.append(f"context.date > {law.in_force.end.toordinal()}")
    if outside:
        out.append(f"// the law's window\nforbid(principal, action, resource) when "
                   f"{{ {' || '.join(outside)} }};")
    for threat in law.threats.values():
        if threat.valid.start or threat.valid.end:
            inside = " && ".join(window(threat.valid))
            out.append(f"// threat {threat.name} in force\nforbid(principal, action, resource) "
                       f"when {{ context.threat == Threat::{_q(threat.name)} && !({inside}) }};")
    for power in law.powers:
        parts = ["resource in [" + ", ".join(f"Capability::{_q(c)}"
                                              for c in sorted(power.capabilities)) + "]",
                 "context.threat in [" + ", ".join(f"Threat::{_q(t)}"
                                                   for t in sorted(power.threats)) + "]"]
        parts += window(power.valid)
        if power.max_duration is not None:
            parts.append(f"context has duration_end && context.duration_end <= "
                         f"context.{literal_key(power.max_duration)}")
        if power.retention is not None:
            parts.append(f"context.retention_end <= context.{literal_key(power.retention)}")
        parts.append(f"context.have.containsAll({_names(power.requires)})")
        for clause in power.conditionals:
            parts.append(f"(!({value(clause.condition)}) || "
                         f"context.have.containsAll({_names(clause.requires)}))")
        body = " &&\n    ".join(parts)
        out.append(f"// power {power.name}\npermit(principal, action == Action::\"use\", "
                   f"resource)\nwhen {{\n    {body}\n}};")
    for prohibition in law.prohibitions:
        cond = " && ".join([*window(prohibition.valid), holds_or_missing(prohibition.condition)])
        out.append(f"// prohibition {prohibition.name}\nforbid(principal, action, resource) "
                   f"when {{ {cond} }};")
    for rule in law.share_rules:
        resources = "[" + ", ".join(f"Recipient::{_q(r)}" for r in sorted(rule.recipients)) + "]"
        parts = [f"resource in {resources}", *window(rule.valid),
                 f"context.have.containsAll({_names(rule.requires | rule.guarantees)})"]
        for clause in rule.conditionals:
            parts.append(f"(!({value(clause.condition)}) || "
                         f"context.have.containsAll({_names(clause.requires)}))")
        body = " &&\n    ".join(parts)
        out.append(f"// share rule {rule.name}\npermit(principal, action == Action::\"share\", "
                   f"resource)\nwhen {{\n    {body}\n}};")
        for i, (forbidden, _text) in enumerate(rule.forbidden):
            guard = " && ".join([f"resource in {resources}", *window(rule.valid),
                                 holds_or_missing(forbidden)])
            out.append(f"// share rule {rule.name}, forbid #{i + 1}\nforbid(principal, "
                       f"action == Action::\"share\", resource) when {{ {guard} }};")
    return "\n\n".join(out) + "\n"


def entities(law: Law) -> list[dict[str, Any]]:
    return [{"uid": {"type": "Threat", "id": t.name}, "attrs": {},
             "parents": [{"type": "Threat", "id": t.parent}] if t.parent else []}
            for t in law.threats.values()]


def duration_literals(law: Law) -> set[Duration]:
    found: set[Duration] = set()

    def walk(cond: Cond) -> None:
        if isinstance(cond, Const) and isinstance(cond.value, Duration):
            found.add(cond.value)
        elif isinstance(cond, Op):
            walk(cond.left)
            walk(cond.right)
        elif isinstance(cond, (AllOf, AnyOf)):
            for item in cond.items:
                walk(item)
        elif isinstance(cond, (Negate, SomeShare)):
            walk(cond.item)

    for power in law.powers:
        found |= {d for d in (power.max_duration, power.retention) if d is not None}
        for clause in power.conditionals:
            walk(clause.condition)
    for prohibition in law.prohibitions:
        walk(prohibition.condition)
    for rule in law.share_rules:
        for clause in rule.conditionals:
            walk(clause.condition)
        for cond, _ in rule.forbidden:
            walk(cond)
    return found


# ---- building requests ------------------------------------------------------------------------


def requests(law: Law, literals: set[Duration], op: Operation) -> list[dict[str, Any]] | None:
    """The Cedar requests for one operation; None when name resolution already says no."""
    if op.threat is not None and op.threat not in law.threats:
        return None
    caps: set[str] = set()
    if op.technique is not None:
        if op.technique not in law.techniques:
            return None
        caps |= law.techniques[op.technique]
    for name in op.capabilities:
        if name not in law.capabilities:
            return None
        caps.add(name)
    protected = {p for s in op.subjects for p in s.protected}
    if not protected <= set(law.protected) or not set(op.assessments) <= set(law.assessments):
        return None
    if any(a.safeguard not in law.safeguards for a in op.approvals):
        return None
    requirement_names = set(law.safeguards) | set(law.assessments)
    for s in op.sharing:
        if s.recipient not in law.recipients or not set(s.with_) <= requirement_names:
            return None
    if (caps and op.threat is None) or (not caps and not op.sharing):
        return None
    start = op.date.toordinal() * 24
    have = set(op.assessments)
    for a in op.approvals:
        window_ = law.safeguards[a.safeguard].urgent_within
        if a.date is None or a.date <= op.date or (
                op.urgent and window_ is not None
                and a.date.toordinal() * 24 <= window_.end_hours(op.date)):
            have.add(a.safeguard)
    threat = law.threats.get(op.threat or "")
    context: dict[str, Any] = {
        "threat": {"__entity": {"type": "Threat", "id": op.threat or ""}},
        "severity": threat.severity if threat else 0,
        "capabilities": sorted(caps),
        "intrusion": max((law.capabilities[c].intrusion for c in caps), default=0),
        "scope": "bulk" if any(law.capabilities[c].scope == "bulk" for c in caps) else "targeted",
        "protected": sorted(protected),
        "retention_end": hours(op.retention.end_hours(op.date)) if op.retention else hours(start),
        "urgent": op.urgent,
        "date": op.date.toordinal(),
        "recipients": sorted({s.recipient for s in op.sharing}),
        "have": sorted(have),
        "retention_text": str(op.retention) if op.retention else "0 days",
    }
    if op.duration is not None:
        context["duration_end"] = hours(op.duration.end_hours(op.date))
        context["duration_text"] = str(op.duration)
    if op.service is not None:
        context["service"] = op.service
    for d in literals:
        context[literal_key(d)] = hours(d.end_hours(op.date))
    out = [{"principal": 'Service::"service"', "action": 'Action::"use"',
            "resource": {"type": "Capability", "id": c}, "context": context}
           for c in sorted(caps)]
    for s in op.sharing:
        share = dict(context, recipient=s.recipient, data=s.data,
                     foreign=law.recipients[s.recipient], have=sorted(have | set(s.with_)))
        if s.country is not None:
            share["country"] = s.country
        out.append({"principal": 'Service::"service"', "action": 'Action::"share"',
                    "resource": {"type": "Recipient", "id": s.recipient}, "context": share})
    return out


# ---- the run ----------------------------------------------------------------------------------


def gen_ops() -> Any:
    spec = importlib.util.spec_from_file_location("gen_ops", ROOT / "benchmarks" / "gen_ops.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--spec", type=Path, default=ROOT / "specs" / "wiv_threat_draft.auth")
    p.add_argument("-n", "--count", type=int, default=50_000, help="operations to generate")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--show-policies", action="store_true", help="print the Cedar policies")
    args = p.parse_args(argv)
    try:
        import cedarpy
    except ImportError:
        print("cedarpy is not installed: pip install 'authority-dsl[bench]'", file=sys.stderr)
        return 1
    law, _ = load_law(args.spec)
    if law is None:
        print(f"{args.spec}: the law has errors", file=sys.stderr)
        return 1
    try:
        text = policies(law)
    except NotExpressible as exc:
        print(f"{args.spec}: cannot be encoded in Cedar: {exc}", file=sys.stderr)
        return 1
    if args.show_policies:
        print(text)
    literals = duration_literals(law)
    policy_set = cedarpy.PolicySet.from_str(text)
    entity_set = cedarpy.Entities.from_json_str(json.dumps(entities(law)))

    data = b"".join(gen_ops().generate([args.spec], args.count, seed=args.seed, malformed=0.0))
    ops: list[Operation] = []
    for line in data.splitlines():
        try:
            ops.append(from_json(json.loads(line)))
        except (OperationError, ValueError):
            continue
    print(f"{args.spec.name}: {len(ops):,} generated operations; {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    print(f"authority-dsl: {authority_dsl.build()} ({Path(authority_dsl.__file__).parent})",
          flush=True)

    # authority-dsl, end to end: JSON Lines in, decisions with explanations out.
    started = time.perf_counter()
    sink = os.open(os.devnull, os.O_WRONLY)
    try:
        audit.run([law], io.BytesIO(data), sink, memo=False)
    finally:
        os.close(sink)
    audit_seconds = time.perf_counter() - started
    # authority-dsl, the evaluator alone, on parsed operations.
    engine = compile_law(law)
    started = time.perf_counter()
    verdicts = [engine.decide(op).verdict for op in ops]
    engine_seconds = time.perf_counter() - started

    # Cedar: requests built beforehand, then one is_authorized_batch call.
    started = time.perf_counter()
    built = [requests(law, literals, op) for op in ops]
    build_seconds = time.perf_counter() - started
    flat = [r for rs in built if rs for r in rs]
    started = time.perf_counter()
    results = cedarpy.is_authorized_batch(flat, policy_set, entity_set)
    cedar_seconds = time.perf_counter() - started

    errors = [r for r in results if getattr(r.diagnostics, "errors", None)]
    answers, i = [], 0
    for rs in built:
        if rs is None:
            answers.append(False)
            continue
        answers.append(all(results[i + k].allowed for k in range(len(rs))))
        i += len(rs)
    disagree = [(op, v, a) for op, v, a in zip(ops, verdicts, answers, strict=True)
                if (v == "permitted") != a]
    permitted = sum(v == "permitted" for v in verdicts)
    print(f"answers: {permitted:,} permitted, {len(ops) - permitted:,} not; "
          f"{len(flat):,} Cedar requests ({len(errors):,} with policy errors, which Cedar skips)")
    if disagree:
        print(f"DISAGREE on {len(disagree):,} operations; the first:", file=sys.stderr)
        for op, v, a in disagree[:5]:
            print(f"  authority-dsl {v}, Cedar {'allow' if a else 'deny'}: "
                  f"{json.dumps(op.to_json())}", file=sys.stderr)
        return 1
    print(f"the engines agree on all {len(ops):,} operations")
    n = len(ops)
    rows = [
        ("authority-dsl audit, end to end (JSON in, decisions out)", audit_seconds),
        ("authority-dsl evaluator on parsed operations", engine_seconds),
        ("cedarpy is_authorized_batch (requests built beforehand)", cedar_seconds),
        ("  building the Cedar requests (not timed above)", build_seconds),
    ]
    for label, seconds in rows:
        print(f"{label:<60} {seconds:>7.2f} s  {n / seconds:>10,.0f} ops/s")
    print(f"ratio, authority-dsl audit / cedarpy batch:     {cedar_seconds / audit_seconds:.2f}x")
    print(f"ratio, authority-dsl evaluator / cedarpy batch: {cedar_seconds / engine_seconds:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
