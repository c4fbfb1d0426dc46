"""`authority diff`: the structural and the semantic difference between two laws."""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from pathlib import Path

import attrs
import pytest

from authority_dsl.analysis.diff import Group, Outcome, changes, diff, semantic_diff
from authority_dsl.analysis.space import Space
from authority_dsl.analysis.structure import structural_diff
from authority_dsl.checker import load_law
from authority_dsl.cli import main
from authority_dsl.engine.reference import decide as reference_decide
from authority_dsl.model import Law
from authority_dsl.operation import Operation, Subject
from tests.test_decide import FAR
from tests.test_verify import (
    DURATION_LIMITS,
    FIXTURES,
    REQUIREMENTS,
    SPECS,
    GenLaw,
    generate,
    load_generated,
    one_fact_less,
    universe,
)


def _load(path: Path) -> Law:
    law, diags = load_law(path)
    assert law is not None, diags
    return law


@pytest.fixture(scope="module")
def pair() -> tuple[Law, Law]:
    return _load(FIXTURES / "small.auth"), _load(FIXTURES / "small_v2.auth")


# The denials that make a change of verdict a `limit changed` (docs/analysis.md): a maximum
# duration, a retention limit, or a duration such a limit needs and the operation does not state.
LIMIT_DENIALS = frozenset({"duration-exceeded", "retention-exceeded", "duration-missing"})


def reference_changes(old: Law, new: Law, op: Operation) -> list[tuple[str, str]]:
    """How the decision of `op` changes from `old` to `new`, classified here from the reference
    interpreter's two decisions as docs/analysis.md defines the kinds, apart from the code under
    test: (kind, the requirement) for a requirement added or dropped; (kind, which law denies and
    its violation codes) for a change of verdict."""
    before, after = reference_decide(old, op), reference_decide(new, op)
    denied = (before.verdict == "denied", after.verdict == "denied")
    if all(denied):
        return []
    if any(denied):
        side, denial = ("old", before) if denied[0] else ("new", after)
        codes = {v.code for v in denial.violations}
        if codes <= LIMIT_DENIALS:
            kind = "limit changed"
        else:
            kind = "newly permitted" if side == "old" else "newly denied"
        return [(kind, f"{side}: {', '.join(sorted(codes))}")]
    was = {m.requirement for m in before.missing}
    now = {m.requirement for m in after.missing}
    return ([("requirement added", r) for r in sorted(now - was)]
            + [("requirement dropped", r) for r in sorted(was - now)])


def test_the_oracle_agrees_with_the_analysis_on_the_fixture_pair(pair: tuple[Law, Law]) -> None:
    """The oracle above and the analysis's own classification (`changes`) agree, on the
    examples of every group found either way."""
    old, new = pair
    for a, b in ((old, new), (new, old)):
        for group in _groups(a, b):
            assert group.example is not None
            ours = reference_changes(a, b, group.example)
            theirs = changes(Outcome.of(reference_decide(a, group.example)),
                             Outcome.of(reference_decide(b, group.example)))
            assert [k for k, _ in ours] == [k for k, _ in theirs]
            assert [r for k, r in ours if k.startswith("requirement")] == [
                r for k, r in theirs if k.startswith("requirement")]


# ---- structure --------------------------------------------------------------------------------


def test_structural_diff(pair: tuple[Law, Law]) -> None:
    found = {(c.change, c.kind, c.name): c for c in structural_diff(*pair)}
    assert set(found) == {
        ("changed", "law", "small"), ("changed", "power", "bulk"),
        ("changed", "power", "intrusive"), ("removed", "prohibition", "no_bulk_when_urgent"),
        ("changed", "share rule", "to_partner")}
    assert found["changed", "power", "intrusive"].fields == (
        ("max_duration", "3 months", "6 months"),)
    assert ("version", "1", "2") in found["changed", "law", "small"].fields


def test_identical_laws_have_no_difference(pair: tuple[Law, Law]) -> None:
    report = diff(pair[0], pair[0])
    assert report.structural == () and report.semantic.groups == ()
    assert report.semantic.exhaustive


# ---- semantics --------------------------------------------------------------------------------


def _groups(old: Law, new: Law) -> tuple[Group, ...]:
    return semantic_diff(old, new).groups


def test_every_kind_of_change_is_reported(pair: tuple[Law, Law]) -> None:
    summary = {(g.kind, g.reason, g.threats[0] if g.threats else "",
                tuple(m[0] for m in g.capabilities)) for g in _groups(*pair)}
    assert ("limit changed", "old: maximum duration", "security", ("system_access",)) in summary
    assert ("newly permitted", "old: no legal basis", "security", ("bulk_collection",)) in summary
    assert ("newly permitted", "old: prohibition `no_bulk_when_urgent`", "terrorism",
            ("bulk_collection",)) in summary
    assert ("requirement added", "court_approval", "terrorism", ("bulk_collection",)) in summary
    assert any(g.kind == "requirement added" and g.reason == "minister_approval"
               and g.sharings == ("partner:BE:unevaluated",) for g in _groups(*pair))


def test_a_requirement_dropped_is_reported(pair: tuple[Law, Law], tmp_path: Path) -> None:
    """From the fixture's second version back to the first: the court approval for lawyers and
    the minister's approval for unevaluated data shared abroad are dropped. And a power that
    no longer requires a court approval at all."""
    first, second = pair
    dropped = {(g.reason, g.threats, g.sharings) for g in _groups(second, first)
               if g.kind == "requirement dropped"}
    assert dropped == {("court_approval", ("cyber",), ()), ("court_approval", ("terrorism",), ()),
                       ("minister_approval", (), ("partner:BE:unevaluated",))}
    law = ('law "D" {{\n    version: "{0}"\n    in_force: 2027-01-01 ..\n}}\n\nthreat t\n\n'
           'capability c {{\n    intrusion: 3\n}}\n\nsafeguard minister {{\n    by: minister\n'
           '}}\n\nsafeguard court {{\n    by: court\n}}\n\npower p {{\n    threats: t\n'
           '    capabilities: c\n    requires: {1}\n}}\n')
    before, after = tmp_path / "before.auth", tmp_path / "after.auth"
    before.write_text(law.format("1", "minister, court"))
    after.write_text(law.format("2", "minister"))
    (group,) = _groups(_load(before), _load(after))
    assert (group.kind, group.reason, group.threats, group.capabilities) == (
        "requirement dropped", "court", ("t",), (("c",),))
    assert group.example is not None
    assert reference_changes(_load(before), _load(after), group.example) == [
        ("requirement dropped", "court")]
    (group,) = _groups(_load(after), _load(before))
    assert (group.kind, group.reason) == ("requirement added", "court")


def test_examples_are_genuine_and_minimal(pair: tuple[Law, Law]) -> None:
    """Each group's example changes in the group's way (reference interpreter), and removing any
    fact from it no longer does."""
    old, new = pair
    for group in _groups(old, new):
        assert group.example is not None
        found = reference_changes(old, new, group.example)
        assert any(kind == group.kind for kind, _ in found), group
        if group.kind.startswith("requirement"):
            assert (group.kind, group.reason) in found
        for fewer in one_fact_less(group.example):
            if group.threats != ("*",) and fewer.threat != group.example.threat:
                continue  # another threat is another group
            kinds = [(k, r) for k, r in reference_changes(old, new, fewer)]
            assert not any(k == group.kind and (not k.startswith("requirement")
                                                or r == group.reason)
                           and set(fewer.capabilities) == set(group.example.capabilities)
                           and fewer.sharing == group.example.sharing
                           for k, r in kinds), (group, fewer)


def test_date_outside_one_law() -> None:
    """Dates on which only one law is in force give one group for all of them."""
    old = _load(FIXTURES / "small.auth")
    new = attrs.evolve(old, in_force=attrs.evolve(old.in_force, start=dt.date(2028, 1, 1)))
    groups = _groups(old, new)
    star = [g for g in groups if g.threats == ("*",)]
    assert len(star) == 1 and star[0].kind == "newly denied"
    assert star[0].note is not None and "2027-01-01 to 2027-12-31" in star[0].note


def test_only_these_dates(pair: tuple[Law, Law]) -> None:
    report = semantic_diff(*pair, dates=[dt.date(2028, 7, 1)])
    assert all(g.example is None or g.example.date == dt.date(2028, 7, 1)
               for g in report.groups)
    assert not any("cyber" in g.threats for g in report.groups)  # not in force that day


# ---- agreement with brute force ---------------------------------------------------------------


def mutate(gen: GenLaw, seed: int) -> GenLaw:
    """A nearby version of a generated law: one provision changed."""
    rng = random.Random(seed)
    out = copy.deepcopy(gen)
    power = rng.choice(out.powers)
    choice = rng.choice(["requires", "clause", "threats", "limit", "prohibition", "share"])
    if choice == "requires":
        extra = [r for r in REQUIREMENTS if r not in power.requires]
        if len(power.requires) > 1 and rng.random() < 0.5:
            power.requires.pop(rng.randrange(len(power.requires)))
        elif extra:
            power.requires.append(rng.choice(extra))
    elif choice == "clause" and power.clauses:
        power.clauses.pop()
    elif choice == "clause":
        power.clauses.append(("protected contains p0", ["s2"]))
    elif choice == "threats":
        power.threats = sorted({*power.threats, rng.choice(["t0", "t1", "t2"])})
    elif choice == "limit" and out.family == "limits":
        power.max_duration = rng.choice([d for d in (*DURATION_LIMITS, None)
                                         if d != power.max_duration])
    elif choice == "prohibition":
        out.prohibitions = [] if out.prohibitions else ["capabilities contains c0"]
    elif out.shares:
        share = rng.choice(out.shares)
        share.forbids = [] if share.forbids else ["data == unevaluated"]
    else:
        power.capabilities = sorted({*power.capabilities, "c0"})
    return out


def covered(op: Operation, kind: str, reason: str, groups: tuple[Group, ...],
            space: Space) -> bool:
    configs = {str(space.config_of(s)) for s in op.sharing}
    for g in groups:
        if g.kind != kind or (kind.startswith("requirement") and g.reason != reason):
            continue
        if g.threats == ("*",):
            return True
        if g.threats and op.threat not in g.threats:
            continue
        if all(set(m) & set(op.capabilities) for m in g.capabilities) and \
                set(g.sharings) <= configs:
            return True
    return False


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("family", ["limits", "sharing"])
def test_diff_agrees_with_brute_force(seed: int, family: str, tmp_path: Path) -> None:
    """Exhaustiveness is real: every operation of a finite universe whose verdict or
    requirements change is covered by a reported group of the same kind (and requirement),
    and every reported kind of change occurs in the universe."""
    gen = generate(seed, family)
    changed = mutate(gen, seed)
    old = load_generated(gen, tmp_path, "old.auth")
    new = load_generated(changed, tmp_path, "new.auth")
    report = semantic_diff(old, new, examples=50)
    space = Space([old, new], mode="diff")
    seen: set[tuple[str, str]] = set()
    for op in universe(gen):
        found = reference_changes(old, new, op)
        for kind, reason in found:
            seen.add((kind, reason if kind.startswith("requirement") else ""))
            if report.exhaustive:
                assert covered(op, kind, reason, report.groups, space), (
                    op, kind, reason, gen.source(), changed.source())
    reported = {(g.kind, g.reason if g.kind.startswith("requirement") else "")
                for g in report.groups}
    assert reported == seen, (gen.source(), changed.source())
    for group in report.groups:
        assert group.example is not None
        assert any(k == group.kind for k, _ in reference_changes(old, new, group.example))


# ---- example specs ----------------------------------------------------------------------------


def test_example_specs() -> None:
    """The diff from the Wiv 2017 model to the draft is exhaustive and each group's example
    changes in the group's way. (How long it takes is measured by benchmarks/analysis.py.)"""
    old, new = (_load(spec) for spec in SPECS)
    report = diff(old, new)
    assert report.semantic.exhaustive and report.semantic.groups and report.structural
    for group in report.semantic.groups:
        assert group.example is not None
        assert any(k == group.kind for k, _ in reference_changes(old, new, group.example))


# ---- the command ------------------------------------------------------------------------------


def test_cli_json_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["diff", str(FIXTURES / "small.auth"), str(FIXTURES / "small_v2.auth"), "--json"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first
    data = json.loads(first)
    assert {"old", "new", "structural", "semantic"} <= set(data)
    assert data["semantic"]["exhaustive"] is True
    kinds = {g["kind"] for g in data["semantic"]["groups"]}
    assert {"newly permitted", "requirement added", "limit changed"} <= kinds
    example = data["semantic"]["groups"][0]["example"]
    assert example["date"] and "verdict" in data["semantic"]["groups"][0]["old"]


def test_cli_text_and_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    old, new = str(FIXTURES / "small.auth"), str(FIXTURES / "small_v2.auth")
    assert main(["diff", old, new, "--exit-code"]) == 3
    out = capsys.readouterr().out
    assert "limit changed" in out and "operation example {" in out
    assert main(["diff", old, old, "--exit-code"]) == 0
    assert main(["diff", old, new, "--brief", "--date", "2027-03-01"]) == 0
    assert "operation example {" not in capsys.readouterr().out
    assert main(["diff", old, new, "--date", "2027-13-01"]) == 2


def test_subjects_in_examples_stay_small(pair: tuple[Law, Law]) -> None:
    for group in _groups(*pair):
        assert group.example is not None
        for subject in group.example.subjects:
            assert subject == Subject("target", subject.protected) and subject.protected


FAR_END = FAR.replace("""    retention: 99999 years
}
""", """    when date >= 9999-12-31 and duration > 2 days requires review
    when date > 9999-12-31 requires review
}
safeguard review {
    by: review_board
}
""")


def test_the_last_day_of_the_calendar(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Conditions on 31 December 9999 and durations that end after it: every analysis runs,
    and a change of limit shows on that day too (the ends are counted past the year 9999)."""
    old = tmp_path / "old.auth"
    old.write_text(FAR_END)
    new = tmp_path / "new.auth"
    new.write_text(FAR_END.replace("max_duration: 3 months", "max_duration: 40 days"))
    # One warning (the power cites no article), which leaves the status 0; no principle to
    # violate.
    for verb, code in (("check", 0), ("lint", 0), ("verify", 0)):
        assert main([verb, str(old)]) == code, verb
    assert main(["diff", str(old), str(new), "--exit-code"]) == 3
    capsys.readouterr()
    assert main(["diff", str(old), str(new), "--date", "9999-12-31", "--json"]) == 0
    groups = json.loads(capsys.readouterr().out)["semantic"]["groups"]
    assert any(g["kind"] == "limit changed" and g["example"]["date"] == "9999-12-31"
               for g in groups), groups


def test_given_dates_are_the_only_ones_a_diff_speaks_of(
        capsys: pytest.CaptureFixture[str]) -> None:
    """`--date` compares those days alone, in any order (0001-01-01 too), and the summary of
    the days when only one law is in force names them, not a span between them."""
    old, new = str(SPECS[0]), str(SPECS[1])
    outs = []
    for dates in (["2020-01-01", "0001-01-01", "2029-01-01"],
                  ["2029-01-01", "2020-01-01", "0001-01-01"]):
        assert main(["diff", old, new, "--json", *(f"--date={d}" for d in dates)]) == 0
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1]
    notes = [g.get("note") or "" for g in json.loads(outs[0])["semantic"]["groups"]]
    (note,) = [n for n in notes if n.startswith("every operation starting")]
    assert "on 2020-01-01 " in note and "2028" not in note and "2029" not in note


def test_a_threat_window_is_compared_as_declared(tmp_path: Path) -> None:
    """Widening `a`'s window changes `a`, not `b` under it, which declares none (the window `b`
    is in force in follows `a`'s, and was shown as `b`'s own)."""
    law = ('law "T" {{\n    version: "1"\n    in_force: 2020-01-01 ..\n}}\n\nthreat a {{\n'
           '    valid: 2022-01-01 .. {0}\n}}\n\nthreat b under a\n\ncapability cap {{\n'
           '    intrusion: 3\n}}\n\nsafeguard minister {{\n    by: minister\n}}\n\npower pa {{\n'
           '    threats: a\n    capabilities: cap\n    requires: minister\n}}\n')
    old, new = tmp_path / "old.auth", tmp_path / "new.auth"
    old.write_text(law.format("2025-12-31"))
    new.write_text(law.format("2027-12-31"))
    assert [str(c) for c in structural_diff(_load(old), _load(new))] == [
        "~ threat `a`: valid: 2022-01-01 .. 2025-12-31 -> 2022-01-01 .. 2027-12-31"]
    assert _load(old).threats["b"].in_force == _load(old).threats["a"].valid


# A law of one power, with more of the power's body in place of `{0}`.
ONE_POWER = ('law "S" {\n    version: "1"\n}\n\nthreat sec\n\ncapability cap_a {\n'
             '    intrusion: 3\n}\n\nsafeguard minister {\n    by: minister\n}\n\n'
             'safeguard court {\n    by: court\n}\n\npower p1 {\n    threats: sec\n'
             '    capabilities: cap_a\n    requires: minister\n{0}}\n')


def test_an_empty_citation_differs_from_none(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """`cites: ""` and no `cites` read the same to the evaluator, but not to a drafter: the
    structural diff shows the change, in text and JSON."""
    old, new = tmp_path / "old.auth", tmp_path / "new.auth"
    old.write_text(ONE_POWER.replace("{0}", ""))
    new.write_text(ONE_POWER.replace("{0}", '    cites: ""\n'))
    assert [str(c) for c in structural_diff(_load(old), _load(new))] == [
        '~ power `p1`: cites: (none) -> ""']
    assert main(["diff", str(old), str(new), "--json"]) == 0
    (change,) = json.loads(capsys.readouterr().out)["structural"]
    assert change["fields"] == [{"field": "cites", "old": "", "new": '""'}]
    assert structural_diff(_load(new), _load(new)) == ()


def test_a_service_written_otherwise_is_compared_too(tmp_path: Path) -> None:
    """Dropping the only `service == "AIVD"` makes `"aivd"` (an unknown name while a condition
    names `AIVD`) an ordinary service: newly permitted, which the diff did not report."""
    old, new = tmp_path / "old.auth", tmp_path / "new.auth"
    old.write_text(ONE_POWER.replace("{0}", '    when service == "AIVD" requires court\n'))
    new.write_text(ONE_POWER.replace("{0}", ""))
    for a, b, kind in ((old, new, "newly permitted"), (new, old, "newly denied")):
        result = diff(_load(a), _load(b))
        groups = result.semantic.groups
        assert any(g.kind == kind and g.example is not None and g.example.service == "aivd"
                   for g in groups), [(g.kind, g.example and g.example.service) for g in groups]
