"""Drafting lints: technology words, ungranted capabilities, powers that never apply or are
shadowed, the safeguard ladder; reported by `authority lint` and `authority check`, also as
SARIF, and acknowledged with `# allow: CODE` like the checker's warnings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import attrs
import jsonschema  # type: ignore[import-untyped]
import pytest
from hypothesis import given
from hypothesis import strategies as st
from msgspec.structs import replace

from authority_dsl.analysis.lints import (
    Lexicon,
    default_lexicon,
    dominates,
    lint_law,
    load_lexicon,
    powers_never_applying,
    shadowed_powers,
)
from authority_dsl.checker import load_law
from authority_dsl.cli import main
from authority_dsl.decision import PERMITTED
from authority_dsl.diagnostics import NO_SPAN, Diagnostic, DiagnosticError, warning
from authority_dsl.durations import Validity, parse_duration
from authority_dsl.engine.reference import decide
from authority_dsl.model import Law
from authority_dsl.operation import Approval, Operation
from tests.lawgen import (
    GenLaw,
    GenPower,
    build,
    conditions,
    durations,
    laws,
    operations,
    plausible_operations,
    scratch_dir,
)
from tests.test_verify import FIXTURES, SPECS

LINTS = FIXTURES / "lints.auth"


@pytest.fixture(scope="module")
def law() -> Law:
    loaded, diags = load_law(LINTS)
    assert loaded is not None, diags
    return loaded


def _found(law: Law, lexicon: Lexicon | None = None) -> set[tuple[str, int, int]]:
    return {(d.code, d.span.line, d.span.column) for d in lint_law(law, lexicon)}


def test_every_lint_fires(law: Law) -> None:
    assert _found(law) == {
        ("capability-not-granted", 27, 12),
        ("technology-word", 27, 12),  # `cable` and `tapping` in the name
        ("technology-word", 28, 42),  # `fibre` in the description
        ("technology-word", 33, 37),  # `smartphone`
        ("technology-word", 56, 7),  # power `hacking`
        ("safeguard-ladder", 32, 12),
        ("power-shadowed", 63, 7),
        ("power-never-applies", 71, 7),
        ("missing-cites", 77, 8),  # the powers acknowledge theirs (`# allow:`)
    }


def test_messages(law: Law) -> None:
    messages = {d.code: d.message for d in lint_law(law)}
    assert messages["power-shadowed"] == "power `observation` is shadowed by power `general`"
    assert messages["power-never-applies"] == (
        "power `crime_powers` can never apply: prohibition `no_crime` always blocks it")
    assert messages["safeguard-ladder"].startswith(
        "capability `system_access` (intrusion 5) needs fewer safeguards than")
    words = sorted(d.message for d in lint_law(law) if d.code == "technology-word")
    assert "capability `cable_tapping` is named after a technology: `cable`" in words
    assert "capability `cable_tapping` is named after a technology: `tapping`" in words
    assert all(d.help for d in lint_law(law))


def test_custom_lexicon(law: Law) -> None:
    lexicon = load_lexicon(FIXTURES / "lexicon.txt")
    words = {d.message for d in lint_law(law, lexicon) if d.code == "technology-word"}
    assert words == {
        "threat `ransomware_gangs` is named after a technology: `gangs`",
        "the description of capability `system_access` names a technology: `automated system`",
    }


@pytest.mark.parametrize(("term", "text", "hits"), [
    ("kabel*", "kabelgebonden interceptie", ["kabelgebonden"]),
    ("drone*", "two drones overhead", ["drones"]),
    ("wi-fi", "wifi, Wi-Fi and wi fi networks", ["wifi", "Wi-Fi", "wi fi"]),
    ("radio", "radioactive material and a radio", ["radio"]),
    ("tap", "a captain taps the line", ["taps"]),
    ("imsi catcher", "an imsi_catcher", ["imsi_catcher"]),
    ("5g", "5G networks and 15G", ["5G"]),
])
def test_lexicon_matching(term: str, text: str, hits: list[str]) -> None:
    assert [w for _, w in sorted(Lexicon.parse(term).find(text))] == hits


def test_default_lexicon_is_bilingual() -> None:
    terms = set(default_lexicon().terms)
    assert {"cable*", "kabel*", "satellite*", "satelliet*", "imsi", "malware", "drone*",
            "wi-fi", "5g", "smartphone*"} <= terms


def test_technology_neutral_draft_has_no_technology_words() -> None:
    draft, wiv = (load_law(spec)[0] for spec in reversed(SPECS))
    assert draft is not None and wiv is not None, "the example specs must check"
    assert not [d for d in lint_law(draft) if d.code == "technology-word"]
    assert [d for d in lint_law(wiv) if d.code == "technology-word"]


def test_dominance_needs_generous_limits(law: Law) -> None:
    general = next(p for p in law.powers if p.name == "general")
    observation = next(p for p in law.powers if p.name == "observation")
    assert dominates(general, observation, law)
    assert not dominates(observation, general, law)  # a duration limit is less generous
    limited = attrs.evolve(general, max_duration=parse_duration("90 days"))
    assert not dominates(limited, observation, law)  # days against months: not on every date
    longer = attrs.evolve(general, max_duration=parse_duration("1 year"))
    assert dominates(longer, observation, law)
    stricter = attrs.evolve(general, requires=general.requires | {"review"} | {"extra"})
    assert not dominates(stricter, observation, law)


@pytest.mark.parametrize(("stronger", "weaker", "expected"), [
    ("3 months", "12 weeks", True),  # 3 months last at least 89 days, from 31 January
    ("3 months", "89 days", True),
    ("3 months", "90 days", False),
    ("92 days", "3 months", True),  # and at most 92, from 1 July
    ("13 weeks", "3 months", False),
    ("1 year", "365 days", True),
    ("366 days", "1 year", True),
    ("365 days", "1 year", False),
    ("2 years", "24 months", True),
    ("23 months", "2 years", False),
    ("12 weeks", "84 days", True),
    ("83 days", "12 weeks", False),
    ("4 days", "96 hours", True),
])
def test_dominance_compares_limits_on_every_start_date(law: Law, stronger: str, weaker: str,
                                                       expected: bool) -> None:
    """Mixed units are compared exactly: as the evaluators compare them from each start date."""
    general = next(p for p in law.powers if p.name == "general")
    observation = next(p for p in law.powers if p.name == "observation")
    long, short = parse_duration(stronger), parse_duration(weaker)
    starts = [dt.date(first, 1, 1) + dt.timedelta(days=n)
              for first in (1996, 2096) for n in range(9 * 366)]
    assert all(short.end_hours(s) <= long.end_hours(s) for s in starts) is expected
    for limit in ("max_duration", "retention"):
        q = attrs.evolve(general, **{limit: long})
        p = attrs.evolve(observation, **{limit: short})
        assert dominates(q, p, law) is expected


def test_never_applies_reasons(law: Law) -> None:
    general = next(p for p in law.powers if p.name == "general")
    early = attrs.evolve(general, valid=Validity(dt.date(2020, 1, 1), dt.date(2021, 1, 1)))
    changed = attrs.evolve(law, powers=(early,))
    (diag,) = powers_never_applying(changed)
    assert "valid 2020-01-01 .. 2021-01-01, while the law is in force 2027-01-01 .." in (
        diag.message)


# ---- the commands -----------------------------------------------------------------------------


def test_lint_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", str(LINTS)]) == 0
    assert main(["lint", str(LINTS), "--strict"]) == 1
    assert main(["lint", str(LINTS), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["warnings"] == 10 and data["errors"] == 0
    assert main(["lint", str(LINTS), "--lexicon", str(FIXTURES / "nope.txt")]) == 1


def test_check_reports_lints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(LINTS), "--format", "json"]) == 0
    codes = {d["code"] for d in json.loads(capsys.readouterr().out)["diagnostics"]}
    assert {"power-shadowed", "safeguard-ladder", "technology-word", "unused"} <= codes
    assert main(["check", str(LINTS), "--format", "json", "--no-lint"]) == 0
    codes = {d["code"] for d in json.loads(capsys.readouterr().out)["diagnostics"]}
    assert codes == {"unused"}
    assert main(["check", str(LINTS), "--format", "json", "--lexicon",
                 str(FIXTURES / "lexicon.txt")]) == 0
    words = [d for d in json.loads(capsys.readouterr().out)["diagnostics"]
             if d["code"] == "technology-word"]
    assert len(words) == 2


def test_check_lints_only_clean_laws(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.auth"
    bad.write_text('law "x" {}\ncapability cable_tap { intrusion: 9 }\n'
                   "power p { threats: nowhere capabilities: cable_tap }\n", "utf-8")
    assert main(["check", str(bad), "--format", "json"]) == 1
    codes = {d["code"] for d in json.loads(capsys.readouterr().out)["diagnostics"]}
    assert "technology-word" not in codes and "unknown-name" in codes
    assert main(["lint", str(bad)]) == 1


SARIF_SCHEMA = {
    "type": "object",
    "required": ["version", "runs", "$schema"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["tool", "results"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {
                    "driver": {"type": "object", "required": ["name", "rules"], "properties": {
                        "rules": {"type": "array", "items": {
                            "type": "object", "required": ["id", "shortDescription"]}}}}}},
                "results": {"type": "array", "items": {
                    "type": "object",
                    "required": ["ruleId", "level", "message", "locations"],
                    "properties": {
                        "level": {"enum": ["error", "warning", "note"]},
                        "message": {"type": "object", "required": ["text"]},
                        "locations": {"type": "array", "minItems": 1, "items": {
                            "type": "object", "required": ["physicalLocation"],
                            "properties": {"physicalLocation": {
                                "type": "object",
                                "required": ["artifactLocation", "region"],
                                "properties": {"region": {
                                    "type": "object",
                                    "required": ["startLine", "startColumn"]}}}}}}}}}}}},
    },
}


def test_sarif(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(LINTS), "--format", "sarif"]) == 0
    log = json.loads(capsys.readouterr().out)
    jsonschema.validate(log, SARIF_SCHEMA)
    run = log["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rules == sorted(rules) and "power-shadowed" in rules
    shadowed = next(r for r in run["results"] if r["ruleId"] == "power-shadowed")
    assert shadowed["level"] == "warning"
    assert shadowed["ruleIndex"] == rules.index("power-shadowed")
    location = shadowed["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("tests/fixtures/analysis/lints.auth")
    assert location["region"]["startLine"] == 63
    assert main(["lint", str(LINTS), "--format", "sarif"]) == 0
    assert json.loads(capsys.readouterr().out)["runs"][0]["results"]


# ---- allowing a lint warning ------------------------------------------------------------------

HACK = """law "x" {}
threat t
# allow: technology-word
capability hack {
    description: "Hack into a smartphone"
    intrusion: 2
}
safeguard judge
power p { threats: t capabilities: hack requires: judge cites: "art. 1" }
power q { # allow: power-shadowed
    threats: t capabilities: hack requires: judge cites: "art. 2"
}
"""


@pytest.mark.parametrize("verb", ["check", "lint"])
def test_allow_silences_lint_warnings(verb: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "hack.auth"
    spec.write_text(HACK, "utf-8")
    assert main([verb, str(spec), "--strict", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["diagnostics"] == []
    # Without the directives the same law fails: the name, the description and the shadow.
    spec.write_text(HACK.replace("# allow:", "# noted:"), "utf-8")
    assert main([verb, str(spec), "--strict", "--format", "json"]) == 1
    found = [(d["code"], d["line"]) for d in json.loads(capsys.readouterr().out)["diagnostics"]]
    assert found == [("technology-word", 4), ("technology-word", 5), ("power-shadowed", 10)]


def test_allow_one_code_leaves_the_others(tmp_path: Path) -> None:
    spec = tmp_path / "hack.auth"
    spec.write_text(HACK.replace("# allow: technology-word", "# allow: unused"), "utf-8")
    law, _ = load_law(spec)
    assert law is not None
    assert [d.code for d in lint_law(law)] == ["technology-word", "technology-word"]


# ---- files without a law ----------------------------------------------------------------------


def test_lint_refuses_an_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.auth"
    empty.write_text("# nothing yet\n", "utf-8")
    assert main(["lint", str(empty)]) == 1  # as `check` does
    err = capsys.readouterr().err
    assert f"{empty}:1:1: error[file-kind]: file is empty" in err


@pytest.mark.parametrize("text", ["threat t\n", 'register "r" {}\ntechnique k -> c\n'])
def test_lint_notes_a_file_without_a_law(text: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain.auth"
    plain.write_text(text, "utf-8")
    assert main(["lint", str(plain), "--strict"]) == 0  # `check` accepts the file too
    err = capsys.readouterr().err
    assert f"{plain}: note: no law to lint" in err and "0 laws linted" in err
    assert main(["lint", str(plain), str(LINTS), "--format", "json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["warnings"] == 10 and "note: no law to lint" in out.err


# ---- lexicon files ----------------------------------------------------------------------------


@pytest.mark.parametrize("term", ["*", "**", "-*", "_", "."])
def test_lexicon_term_without_letters_is_refused(term: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(DiagnosticError) as caught:
        Lexicon.parse(f"cable\n\n  {term}\n", "words.txt")
    (diag,) = caught.value.diagnostics
    assert (diag.span.file, diag.span.line, diag.span.column) == ("words.txt", 3, 3)
    assert f"term `{term}` has no letter or digit" in diag.message
    lexicon = tmp_path / "words.txt"
    lexicon.write_text(f"cable\n{term}\n", "utf-8")
    for verb in ("check", "lint"):
        assert main([verb, str(LINTS), "--lexicon", str(lexicon)]) == 1
        err = capsys.readouterr().err
        assert f"error: {lexicon}:2:1: lexicon: term `{term}`" in err


def test_lexicon_of_invalid_utf8_is_located(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    lexicon = tmp_path / "words.txt"
    lexicon.write_bytes(b"cable\nka\xffbel\n")
    for verb in ("check", "lint"):
        assert main([verb, str(LINTS), "--lexicon", str(lexicon)]) == 1
        err = capsys.readouterr().err
        assert f"error: {lexicon}:2:3: lexicon: invalid UTF-8 byte 0xff" in err
        assert "codec" not in err and "Traceback" not in err


# ---- shadowed powers, grouped by their terms --------------------------------------------------


def _shadowed_pairwise(law: Law) -> list[Diagnostic]:
    """`shadowed_powers` as first written, comparing every pair of powers: what the grouped
    search must agree with."""
    out = []
    for p in law.powers:
        for q in law.powers:
            if q is p or not dominates(q, p, law):
                continue
            if dominates(p, q, law) and p.name < q.name:
                continue
            out.append(warning("power-shadowed", f"power `{p.name}` is shadowed by power "
                               f"`{q.name}`", law.spans.get(p.name, NO_SPAN)))
            break
    return out


def _messages(diags: list[Diagnostic]) -> list[tuple[str, int]]:
    return [(d.message, d.span.line) for d in diags]


@pytest.mark.parametrize("spec", [*SPECS, LINTS])
def test_shadowed_powers_of_the_examples_are_unchanged(spec: Path) -> None:
    law, _ = load_law(spec)
    assert law is not None
    assert _messages(list(shadowed_powers(law))) == _messages(_shadowed_pairwise(law))


TMP = scratch_dir("authority-lints-")


@given(laws(min_powers=1, max_powers=4, prohibitions=False), st.data())
def test_shadowed_powers_agree_with_the_pairwise_search(gen: GenLaw, data: st.DataObject) -> None:
    """Copies of the powers under other names, in any order: equivalent powers in numbers,
    where the names' order and the law's order disagree."""
    law = build(gen, TMP)
    copies = data.draw(st.lists(st.tuples(st.sampled_from(law.powers), st.integers(0, 99)),
                                max_size=12))
    powers = [*law.powers, *(attrs.evolve(p, name=f"{p.name}_{n}") for p, n in copies)]
    unique = list({p.name: p for p in powers}.values())
    order = data.draw(st.permutations(unique))
    changed = attrs.evolve(law, powers=tuple(order))
    assert _messages(list(shadowed_powers(changed))) == _messages(_shadowed_pairwise(changed))


# ---- the lints against the evaluator ----------------------------------------------------------
#
# A power reported as shadowed or as never applying must be one whose removal changes no verdict:
# the warning tells the drafter to delete it.


def _load(tmp_path: Path, text: str) -> Law:
    spec = tmp_path / "law.auth"
    spec.write_text(text, "utf-8")
    law, diags = load_law(spec)
    assert law is not None, diags
    return law


def _without(law: Law, name: str) -> Law:
    return attrs.evolve(law, powers=tuple(p for p in law.powers if p.name != name))


SHADOW = """law "T" {
    version: "1"
}
threat national_security
capability system_access {
    intrusion: 5
}
safeguard minister_approval {
    by: minister
}
assessment necessity
power short_access {
    threats: national_security
    capabilities: system_access
    requires: minister_approval, necessity%s
}
power access {
    threats: national_security
    capabilities: system_access
    requires: necessity
    when duration > 3 months requires minister_approval
}
"""
APPROVED = Operation("o1", dt.date(2027, 1, 1), threat="national_security",
                     capabilities=("system_access",),
                     approvals=(Approval("minister_approval"),), assessments=("necessity",))
VARIED = [APPROVED, replace(APPROVED, service="AIVD"),
          replace(APPROVED, duration=parse_duration("2 months")),
          replace(APPROVED, duration=parse_duration("4 months"))]


@pytest.mark.parametrize(("extra", "shadowed"), [
    ("", False),  # `access` cannot decide on an operation that states no duration
    ("\n    max_duration: 6 months", True),  # nor can `short_access`
    ("\n    when duration > 3 months requires minister_approval", True),  # it fails alike
    ('\n    when service == "AIVD" requires minister_approval', False),  # on its own service
])
def test_shadowing_allows_for_conditions_that_cannot_be_evaluated(
        tmp_path: Path, extra: str, shadowed: bool) -> None:
    law = _load(tmp_path, SHADOW % extra)
    found = [d.message for d in shadowed_powers(law)]
    assert found == (["power `short_access` is shadowed by power `access`"] if shadowed else [])
    alone = _without(law, "short_access")
    changed = [op.service or op.duration for op in VARIED
               if decide(law, op).verdict != decide(alone, op).verdict]
    assert bool(changed) is not shadowed


NEVER = """law "T" {
    version: "1"
}
threat national_security
capability consult_open_sources {
    intrusion: 1
}
capability system_access {
    intrusion: 5
}
safeguard minister_approval {
    by: minister
}
power open_sources {
    threats: national_security
    capabilities: consult_open_sources
    requires: minister_approval
}
power access {
    threats: national_security
    capabilities: system_access
    requires: minister_approval
}
forbid light_means_alone {
    when %s
}
"""
BOTH = Operation("o2", dt.date(2027, 1, 1), threat="national_security",
                 capabilities=("consult_open_sources", "system_access"),
                 approvals=(Approval("minister_approval"),))


@pytest.mark.parametrize(("condition", "never"), [
    ("intrusion < 3", False),  # with `system_access` as well, the operation is permitted
    ("capabilities contains consult_open_sources and not (capabilities contains system_access)",
     False),
    ("intrusion < 9", True),
    ("capabilities contains consult_open_sources", True),
    ("not (capabilities contains system_access) or intrusion < 5", False),
])
def test_a_prohibition_other_capabilities_lift_does_not_block_a_power(
        tmp_path: Path, condition: str, never: bool) -> None:
    law = _load(tmp_path, NEVER % condition)
    found = [d.message for d in powers_never_applying(law)
             if "open_sources" in d.message]
    assert found == (["power `open_sources` can never apply: prohibition "
                      "`light_means_alone` always blocks it"] if never else [])
    decision = decide(law, BOTH)
    assert (decision.verdict == PERMITTED) is not never
    assert decision.verdict != PERMITTED or "open_sources" in {a.power for a in decision.authorised}


# ---- where a word of a description is written -------------------------------------------------

DESCRIBED = """law "T" {
    version: "1"
}
threat national_security
capability intercept_content {
    intrusion: 4
%s
}
safeguard minister_approval
power collect {
    threats: national_security
    capabilities: intercept_content
    requires: minister_approval
    cites: "art. 1"
}
"""
REWRITTEN = """    # the first description named a cable; rewritten after review
    # allow: technology-word
    description: "Collect the content of communication, on whatever cable it travels\""""


@pytest.mark.parametrize("verb", ["check", "lint"])
def test_a_word_is_located_in_the_description_not_in_a_comment(
        verb: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "law.auth"
    spec.write_text(DESCRIBED % REWRITTEN, "utf-8")
    assert main([verb, str(spec), "--strict", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["diagnostics"] == []
    spec.write_text(DESCRIBED % REWRITTEN.replace("# allow:", "# noted:"), "utf-8")
    assert main([verb, str(spec), "--strict", "--format", "json"]) == 1
    found = [(d["code"], d["line"], d["column"])
             for d in json.loads(capsys.readouterr().out)["diagnostics"]]
    assert found == [("technology-word", 9, 69)]


@pytest.mark.parametrize(("body", "written"), [
    ('    description: "on whatever cable it travels"', "cable"),
    ('    # description: "no cable here {"\n    # }\n    description: "over a cable"', "cable"),
    ('    cites: "art. 3 { cable }"\n    description: "over a cable"', "cable"),
    ('    description: "a \\"cable\\" or two"', "cable"),
    ('    description: "\\t\\\\ a wi\\tfi network"', "wi\\tfi"),
    ('    description:\n        "then a cable"', "cable"),
])
def test_a_word_is_pointed_at_as_written(tmp_path: Path, body: str, written: str) -> None:
    text = DESCRIBED % body
    (diag,) = lint_law(_load(tmp_path, text))
    span = diag.span
    assert span.line == span.end_line
    assert text.splitlines()[span.line - 1][span.column - 1:span.end_column - 1] == written


# ---- citations ---------------------------------------------------------------------------------

UNCITED = """law "x" {}
threat t { cites: "art. 1" }
capability c { intrusion: 1 }
safeguard s
recipient partner { foreign: true }
power p { threats: t capabilities: c requires: s %s }
forbid f { when threat == t and intrusion > 3 %s }
share r { recipients: partner requires: s %s }
"""


def test_missing_cites_names_each_provision_that_cites_nothing(tmp_path: Path) -> None:
    law = _load(tmp_path, UNCITED % ("", 'cites: "  "', ""))
    found = [(d.code, d.span.line, d.message) for d in lint_law(law)]
    assert found == [
        ("missing-cites", 6, "power `p` cites no article: the decisions resting on it cite "
         "nothing"),
        ("missing-cites", 7, "prohibition `f` has an empty `cites`: the decisions resting on it "
         "cite nothing"),
        ("missing-cites", 8, "sharing rule `r` cites no article: the decisions resting on it "
         "cite nothing"),
    ]
    # Cited, each of them is quiet; threats, capabilities and the rest are not asked to cite.
    cited = _load(tmp_path, UNCITED % ('cites: "art. 2"', 'cites: "art. 3"', 'cites: "art. 4"'))
    assert lint_law(cited) == []


def test_the_shipped_laws_cite_every_provision() -> None:
    for spec in SPECS:
        law, _ = load_law(spec)
        assert law is not None
        assert [d for d in lint_law(law) if d.code == "missing-cites"] == []


# ---- approvals and assessments in conditions --------------------------------------------------

MENTIONS = """law "T" {
    version: "1"
}
threat national_security
capability system_access {
    intrusion: 5
}
safeguard minister_approval
assessment necessity
power access {
    threats: national_security
    capabilities: system_access
    requires: minister_approval, necessity
}
%s
"""


@pytest.mark.parametrize(("decl", "name", "kind"), [
    ("forbid unapproved_access {\n"
     "    when capabilities contains system_access and not minister_approval\n}",
     "minister_approval", "a safeguard"),
    ("forbid unassessed {\n    when threat == necessity\n}", "necessity", "an assessment"),
    ("set approvals = {minister_approval}\n"
     "forbid approved {\n    when threat in approvals\n}", "minister_approval", "a safeguard"),
])
def test_a_condition_naming_an_approval_is_told_why(tmp_path: Path, decl: str, name: str,
                                                    kind: str) -> None:
    spec = tmp_path / "law.auth"
    spec.write_text(MENTIONS % decl, "utf-8")
    law, diags = load_law(spec)
    assert law is None
    (diag,) = diags  # nothing more: not the set that uses it, nor an unused declaration
    assert (diag.code, diag.message) == (
        "wrong-kind", f"`{name}` is {kind}: conditions may not mention approvals or "
        "assessments (so that obtaining more approvals can never make an operation less "
        "lawful)")
    assert diag.help == (f"to demand it, write `requires: {name}` in the power or share rule, "
                         f"or `when ... requires {name}`")
    line = (MENTIONS % decl).splitlines()[diag.span.line - 1]
    assert line[diag.span.column - 1:diag.span.end_column - 1] == name


# ---- soundness on generated laws --------------------------------------------------------------


@st.composite
def _with_weaker_copy(draw: st.DrawFn, gen: GenLaw) -> GenLaw:
    """`gen` with one more power, made from one of its powers and weaker in most respects: fewer
    threats and capabilities, more requirements (each clause kept or made unconditional), other
    limits, a later start; the original often with a clause of its own, whose requirements the
    copy has unconditionally. A power often dominated, and one the lint would misjudge if it
    misread any of those respects."""
    q = draw(st.sampled_from(gen.powers))
    requires = {*q.requires, *draw(st.sets(st.sampled_from(gen.requirement_names), max_size=1))}
    clauses = []
    for clause in q.conditionals:
        if draw(st.booleans()):
            clauses.append(clause)
        else:
            requires |= set(clause[1])
    if draw(st.integers(0, 2)):  # two times in three
        condition = draw(conditions([t for t, _, _ in gen.threats],
                                    [c for c, _, _ in gen.capabilities])
                         | durations().map(lambda d: f"duration > {d}")
                         | st.just('service == "AIVD"'))
        names = tuple(sorted(draw(st.sets(st.sampled_from(gen.requirement_names), min_size=1,
                                          max_size=2))))
        stronger = attrs.evolve(q, conditionals=(*q.conditionals, (condition, names)))
        gen = attrs.evolve(gen, powers=tuple(stronger if g is q else g for g in gen.powers))
        q, requires = stronger, requires | set(names)
    p = GenPower(
        f"p{len(gen.powers)}",
        tuple(sorted(draw(st.sets(st.sampled_from(q.threats), min_size=1)))),
        tuple(sorted(draw(st.sets(st.sampled_from(q.capabilities), min_size=1)))),
        tuple(sorted(requires)),
        tuple(clauses),
        draw(st.none() | st.just(q.max_duration) | durations()),
        draw(st.none() | st.just(q.retention) | durations()),
        draw(st.sampled_from([q.valid_from, dt.date(2028, 1, 1)])),
    )
    return attrs.evolve(gen, powers=(*gen.powers, p))


@st.composite
def _aimed(draw: st.DrawFn, gen: GenLaw, name: str, others: int) -> Operation:
    """An operation power `name` could serve: one of its threats, some of its capabilities and
    up to `others` more; often a plain one, with everything obtained and no sharing, retention
    or subject that could stand in the way."""
    power = next(p for p in gen.powers if p.name == name)
    op = draw(operations(gen))
    capabilities = draw(st.sets(st.sampled_from(power.capabilities), min_size=1))
    capabilities |= draw(st.sets(st.sampled_from([c for c, _, _ in gen.capabilities]),
                                 max_size=others))
    if draw(st.integers(0, 2)):  # two times in three
        op = replace(op, approvals=tuple(Approval(s) for s, _ in gen.safeguards),
                     assessments=gen.assessments, sharing=(), retention=None, subjects=())
    threat = draw(st.sampled_from(power.threats))
    first, last = next(((a, b) for t, a, b in gen.threat_windows if t == threat),
                       (gen.in_force, dt.date(2028, 12, 31)))
    return replace(op, threat=threat, technique=None, capabilities=tuple(sorted(capabilities)),
                   duration=draw(st.sampled_from([None, parse_duration("1 day"), op.duration])),
                   service=draw(st.sampled_from([None, "AIVD"])),
                   date=draw(st.dates(max(first, gen.in_force), max(last, gen.in_force))))


def _same_verdicts(gen: GenLaw, law: Law, name: str, data: st.DataObject, others: int) -> None:
    """Without power `name`, the law decides generated operations as it did with it."""
    without = _without(law, name)
    ops = data.draw(st.lists(_aimed(gen, name, others), min_size=4, max_size=10))
    ops += data.draw(st.lists(operations(gen) | plausible_operations(gen), max_size=4))
    for op in ops:
        assert decide(law, op).verdict == decide(without, op).verdict, (name, op)


@given(laws(min_powers=1, max_powers=1, prohibitions=False).flatmap(_with_weaker_copy),
       st.data())
def test_a_dominated_power_changes_no_verdict(gen: GenLaw, data: st.DataObject) -> None:
    """A power and its weaker copy alone (a third power granting the same would hide the
    difference a wrong judgement makes), and operations aimed at the copy."""
    law = build(gen, TMP)
    for p in law.powers:
        if any(q is not p and dominates(q, p, law) for q in law.powers):
            _same_verdicts(gen, law, p.name, data, others=0)


@st.composite
def _with_prohibition(draw: st.DrawFn, gen: GenLaw) -> GenLaw:
    """`gen` with a prohibition, often one that is not increasing, which other capabilities may
    lift: a generated condition under `not`, or one that a capability every threat may use
    lifts (`not capabilities contains c`, an intrusion below that of `c`)."""
    threats, capabilities = [t for t, _, _ in gen.threats], [c for c, _, _ in gen.capabilities]
    if draw(st.booleans()):
        name, intrusion, _ = draw(st.sampled_from(gen.capabilities))
        condition = draw(st.sampled_from([f"not capabilities contains {name}",
                                          f"intrusion < {intrusion}"]))
        free = GenPower(f"p{len(gen.powers)}", tuple(threats), (name,), (), (), None, None, None)
        gen = attrs.evolve(gen, powers=(*gen.powers, free))
    else:
        condition = draw(conditions(threats, capabilities).map(lambda c: f"not ({c})")
                         | conditions(threats, capabilities))
    return attrs.evolve(gen, prohibitions=(*gen.prohibitions, condition))


@given(laws(min_powers=2, max_powers=4, prohibitions=False).flatmap(_with_prohibition),
       st.data())
def test_a_power_that_never_applies_changes_no_verdict(gen: GenLaw,
                                                       data: st.DataObject) -> None:
    law = build(gen, TMP)
    for diag in powers_never_applying(law):
        _same_verdicts(gen, law, diag.message.split("`")[1], data, others=2)
