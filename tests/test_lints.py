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
from authority_dsl.diagnostics import NO_SPAN, Diagnostic, DiagnosticError, warning
from authority_dsl.durations import Validity, parse_duration
from authority_dsl.model import Law
from tests.lawgen import GenLaw, build, laws, scratch_dir
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
    if draft is None or wiv is None:
        pytest.skip("the example specs do not check yet")
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
    assert data["warnings"] == 9 and data["errors"] == 0
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
power p { threats: t capabilities: hack requires: judge }
power q { # allow: power-shadowed
    threats: t capabilities: hack requires: judge
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
    assert json.loads(out.out)["warnings"] == 9 and "note: no law to lint" in out.err


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
