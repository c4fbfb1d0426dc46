"""The decision semantics of DESIGN.md as properties over generated laws and operations."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from msgspec.structs import replace

from authority_dsl.decision import RANK, Decision
from authority_dsl.engine import CompiledLaw, compile_law
from authority_dsl.engine.reference import decide as reference
from authority_dsl.model import Law
from authority_dsl.operation import Approval, Operation

from .lawgen import (
    GenLaw,
    build,
    laws,
    operations,
    plausible_operations,
    scratch_dir,
    shuffled_order,
)

TMP = scratch_dir("authority-gen-")


def law_and_op(**kw: object) -> st.SearchStrategy[tuple[GenLaw, Operation]]:
    return laws(**kw).flatmap(  # type: ignore[arg-type]
        lambda g: st.tuples(st.just(g), st.one_of(operations(g), plausible_operations(g))))


_COMPILED: dict[int, CompiledLaw] = {}


def compiled(law: Law) -> CompiledLaw:
    """One compiled law per law, kept across examples so that its decision memo is exercised."""
    key = id(law)  # laws are cached by source text in lawgen.build, so ids are stable
    if key not in _COMPILED:
        _COMPILED[key] = compile_law(law)
    return _COMPILED[key]


def decide(law: Law, op: Operation) -> Decision:
    """Decide with both evaluators and insist they agree (the differential check everywhere)."""
    ref = reference(law, op)
    fast = compiled(law).decide(op)
    assert ref == fast, f"reference {ref}\ncompiled  {fast}"
    assert ref.trace == fast.trace
    return fast


def worse(a: Decision, b: Decision) -> bool:
    return RANK[a.verdict] > RANK[b.verdict]


@given(law_and_op())
def test_evaluators_agree(case: tuple[GenLaw, Operation]) -> None:
    gen, op = case
    law = build(gen, TMP)
    ref, fast = reference(law, op), compile_law(law).decide(op)
    assert ref.to_json() == fast.to_json()


@given(law_and_op(), st.integers(-400, 400))
def test_remembered_decisions_agree(case: tuple[GenLaw, Operation], shift: int) -> None:
    """The compiled evaluator's memo: a second operation that differs only in id and start
    date (approvals moving with it) is decided as the reference decides it."""
    gen, op = case
    law = build(gen, TMP)
    fast = compile_law(law)
    first = fast.decide(op)
    assert first.to_json() == reference(law, op).to_json()
    delta = dt.timedelta(days=shift)
    moved = replace(op, id="other", date=op.date + delta, approvals=tuple(
        replace(a, date=a.date + delta) if a.date else a for a in op.approvals))
    assert fast.decide(moved).to_json() == reference(law, moved).to_json()


@given(law_and_op(), st.sampled_from([
    "any share (country in watched)", "any share (country in watched) and scope == bulk",
    "any share (data == unevaluated) or severity >= 3", "recipients contains private_party"]),
    st.lists(st.tuples(st.sampled_from(["NL", "RU", "BE", "ru", "XX", ""]),
                       st.sampled_from(["evaluated", "unevaluated"])), min_size=1, max_size=4))
def test_operations_differing_in_sharings_agree(case: tuple[GenLaw, Operation], forbid: str,
                                                variants: list[tuple[str, str]]) -> None:
    """One compiled law, with a prohibition that reads sharings, decides operations that differ
    only in where and what their first sharing goes, or in their threat or capabilities: each as
    the reference decides it (nothing it remembers of one carries over)."""
    gen, op = case
    assume(op.sharing)
    law = build(attrs.evolve(gen, prohibitions=(forbid,)), TMP)
    fast = compile_law(law)
    first = op.sharing[0]
    kinds = [op] + [replace(op, threat=t[0]) for t in gen.threats] + [
        replace(op, technique=None, capabilities=(c[0],)) for c in gen.capabilities]
    for country, data in [(first.country, first.data), *variants]:
        for kind in kinds:  # and of other threats and capabilities, with the same sharings
            other = replace(kind, sharing=(replace(first, country=country, data=data),
                                           *op.sharing[1:]))
            assert fast.decide(other).to_json() == reference(law, other).to_json()


@given(law_and_op(), st.sampled_from(["ru", "Ru", " RU", "XX", "", "NLD", "UK"]))
def test_a_country_that_is_not_a_code_is_never_permitted(case: tuple[GenLaw, Operation],
                                                         country: str) -> None:
    """Fail closed: a sharing to a country no code names (a sanctioned state in lower case, say)
    is denied by both evaluators, whatever the law's rules on countries: as an unknown name
    wherever the law is in force."""
    gen, op = case
    assume(op.sharing)
    law = build(gen, TMP)
    other = replace(op, sharing=(replace(op.sharing[0], country=country), *op.sharing[1:]))
    decision = compile_law(law).decide(other)
    assert decision.to_json() == reference(law, other).to_json()
    assert decision.verdict == "denied"
    codes = {v.code for v in decision.violations}
    assert "law-not-in-force" in codes or any(
        v.code == "unknown-name" and f"country `{country}`" in v.message
        for v in decision.violations)


@given(law_and_op())
def test_permitted_means_every_capability_authorised(case: tuple[GenLaw, Operation]) -> None:
    """Default deny: permitted only with a power in force for the threat granting each one."""
    gen, op = case
    law = build(gen, TMP)
    decision = decide(law, op)
    if decision.verdict == "permitted":
        caps = set(op.capabilities) | set(law.techniques.get(op.technique or "", ()))
        assert {a.capability for a in decision.authorised} == caps
        for a in decision.authorised:
            power = next(p for p in law.powers if p.name == a.power)
            assert a.capability in power.capabilities
            assert power.threats & law.threats[op.threat or ""].ancestors
            assert power.valid.contains(op.date)


@given(laws(max_powers=0), st.data())
def test_no_power_means_denied(gen: GenLaw, data: st.DataObject) -> None:
    law = build(gen, TMP)
    op = data.draw(operations(gen))
    decision = decide(law, op)
    caps = set(op.capabilities) | set(law.techniques.get(op.technique or "", ()))
    assume(caps)
    assert decision.verdict == "denied"


@given(law_and_op())
def test_prohibition_beats_every_power(case: tuple[GenLaw, Operation]) -> None:
    gen, op = case
    forbidding = attrs.evolve(gen, prohibitions=(*gen.prohibitions, f"threat == {op.threat}"))
    decision = decide(build(forbidding, TMP), op)
    assert decision.verdict == "denied"
    # A threat not in force denies before any prohibition is read.
    assert any(v.code in ("prohibited", "law-not-in-force", "threat-not-in-force")
               for v in decision.violations)


@given(laws().flatmap(lambda g: st.tuples(st.just(g), st.one_of(
    operations(g, unknown=True), plausible_operations(g, unknown=True)))))
def test_unknown_names_are_never_permitted(case: tuple[GenLaw, Operation]) -> None:
    """Fail closed: one name the law does not declare (a threat, technique, capability,
    protected category, approval, assessment or name in a sharing's `with`), even in an
    operation aimed at a power, and the verdict is denied, for an unknown name."""
    gen, op = case
    decision = decide(build(gen, TMP), op)
    assert decision.verdict == "denied"
    # A date outside the law's validity denies before any name is read.
    assert {"unknown-name", "law-not-in-force"} & {v.code for v in decision.violations}


@given(law_and_op(), st.data())
def test_more_approvals_never_worse(case: tuple[GenLaw, Operation], data: st.DataObject) -> None:
    gen, op = case
    law = build(gen, TMP)
    before = decide(law, op)
    extra_safeguards = data.draw(st.lists(st.sampled_from([s for s, _ in gen.safeguards])))
    extra_assessments = data.draw(st.lists(st.sampled_from(gen.assessments)))
    more = replace(op, approvals=op.approvals + tuple(Approval(s) for s in extra_safeguards),
                   assessments=op.assessments + tuple(extra_assessments))
    after = decide(law, more)
    assert not worse(after, before), (before.verdict, after.verdict)
    # (The missing set itself may change, not only shrink: with more approvals another power
    # can become the one with the fewest missing requirements for a capability.)


@given(laws(min_powers=1).flatmap(lambda g: st.tuples(st.just(g), plausible_operations(g))))
def test_obtaining_exactly_the_missing_requirements_permits(
        case: tuple[GenLaw, Operation]) -> None:
    gen, op = case
    law = build(gen, TMP)
    decision = decide(law, op)
    assume(decision.verdict == "requires")
    safeguards = tuple(Approval(m.requirement) for m in decision.missing
                       if m.kind == "safeguard")
    assessments = tuple(m.requirement for m in decision.missing if m.kind == "assessment")
    fixed = replace(op, approvals=op.approvals + safeguards,
                    assessments=op.assessments + assessments)
    assert decide(law, fixed).verdict == "permitted"


@given(law_and_op())
def test_technique_matters_only_through_its_capabilities(
        case: tuple[GenLaw, Operation]) -> None:
    gen, op = case
    if op.technique is None:
        op = replace(op, technique=gen.techniques[0][0])
    law = build(gen, TMP)
    expanded = replace(op, technique=None, capabilities=tuple(sorted(
        set(op.capabilities) | law.techniques[op.technique or ""])))
    assert decide(law, op) == decide(law, expanded)


@given(law_and_op())
def test_declaration_order_never_changes_a_verdict(case: tuple[GenLaw, Operation]) -> None:
    gen, op = case
    a = decide(build(gen, TMP), op)
    b = decide(build(gen, TMP, shuffled_order(gen, 7)), op)
    assert a == b
    assert a.trace == b.trace  # the record too: its prohibition steps followed the order


@given(law_and_op())
def test_each_capability_needs_its_own_authorisation(case: tuple[GenLaw, Operation]) -> None:
    """If one capability alone has no legal basis, no operation including it is permitted."""
    gen, op = case
    law = build(gen, TMP)
    caps = sorted(set(op.capabilities) | set(law.techniques.get(op.technique or "", ())))
    combined = decide(law, op)
    for cap in caps:
        alone = decide(law, replace(op, technique=None, capabilities=(cap,), sharing=()))
        if any(v.code == "no-legal-basis" for v in alone.violations):
            assert combined.verdict == "denied"
        if alone.verdict != "permitted" and combined.verdict == "permitted":
            pytest.fail(f"{cap} alone is {alone.verdict} but the combination is permitted")


def _hierarchy_law(granted_for: str) -> GenLaw:
    from .lawgen import GenPower

    return GenLaw(
        threats=(("parent", None, 3), ("child", "parent", 3)),
        capabilities=(("c0", 2, "targeted"),),
        techniques=(("k0", ("c0",)),),
        safeguards=(("g0", None),),
        assessments=("necessity",),
        powers=(GenPower("p0", (granted_for,), ("c0",), ("g0",), (), None, None, None),),
        prohibitions=(),
        share_rules=(),
        in_force=dt.date(2027, 1, 1),
    )


@pytest.mark.parametrize(("granted_for", "threat", "verdict"), [
    ("parent", "child", "permitted"),
    ("parent", "parent", "permitted"),
    ("child", "child", "permitted"),
    ("child", "parent", "denied"),
])
def test_threat_hierarchy(granted_for: str, threat: str, verdict: str) -> None:
    law = build(_hierarchy_law(granted_for), TMP)
    op = Operation("op", dt.date(2027, 3, 1), threat=threat, capabilities=("c0",),
                   approvals=(Approval("g0"),))
    assert decide(law, op).verdict == verdict


@given(st.integers(0, 3), st.data())
def test_hierarchy_generated(depth: int, data: st.DataObject) -> None:
    """A power for any ancestor covers a descendant; a power for a descendant never its parent."""
    from .lawgen import GenPower

    names = [f"t{i}" for i in range(depth + 2)]
    threats = tuple((n, names[i - 1] if i else None, 2) for i, n in enumerate(names))
    granted = data.draw(st.integers(0, len(names) - 1))
    asked = data.draw(st.integers(0, len(names) - 1))
    gen = GenLaw(threats, (("c0", 2, "targeted"),), (("k0", ("c0",)),), (("g0", None),),
                 ("necessity",),
                 (GenPower("p0", (names[granted],), ("c0",), (), (), None, None, None),),
                 (), (), dt.date(2027, 1, 1))
    law = build(gen, TMP)
    op = Operation("op", dt.date(2027, 3, 1), threat=names[asked], capabilities=("c0",))
    expected = "permitted" if asked >= granted else "denied"
    assert decide(law, op).verdict == expected
