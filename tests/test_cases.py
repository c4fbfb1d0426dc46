"""Conformance cases: loading and checking case files, running them, JUnit XML and coverage."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authority_dsl.cases import (
    Case,
    compare,
    coverage,
    exercised,
    load_cases,
    provisions,
    run_cases,
)
from authority_dsl.checker import check_file, load_law
from authority_dsl.cli import main
from authority_dsl.engine import compile_law
from authority_dsl.engine.reference import decide as reference_decide
from authority_dsl.formatter import format_source
from authority_dsl.junit import junit_xml
from authority_dsl.model import Law

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "cases"
LAW = FIXTURES / "law.auth"
SUITE = FIXTURES / "suite"
SPECS = ROOT / "specs"


@pytest.fixture(scope="module")
def law() -> Law:
    loaded, diags = load_law(LAW)
    assert loaded is not None, diags
    return loaded


@pytest.fixture(scope="module")
def suite(law: Law) -> list[Case]:
    cases, diags = load_cases([SUITE], law)
    assert not diags
    return cases


def write(tmp_path: Path, text: str, name: str = "cases.auth") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---- the fixture suite ------------------------------------------------------------------------


def test_fixture_suite_passes_and_covers_everything(law: Law, suite: list[Case]) -> None:
    results = run_cases(compile_law(law).decide, suite)
    assert [r.case.name for r in results if not r.passed] == []
    cover = coverage(law, results)
    assert cover.percent == 100.0
    assert cover.counts() == (len(provisions(law)), len(provisions(law)))


def test_both_evaluators_exercise_the_same_provisions(law: Law, suite: list[Case]) -> None:
    compiled = run_cases(compile_law(law).decide, suite)
    reference = run_cases(lambda op: reference_decide(law, op), suite)
    for a, b in zip(compiled, reference, strict=True):
        assert a.decision == b.decision
        assert exercised(law, a.case.operation, a.decision) == \
            exercised(law, b.case.operation, b.decision)


def test_exercised_names_each_kind_of_provision(law: Law, suite: list[Case]) -> None:
    by_name = {c.name: c for c in suite}
    decide = compile_law(law).decide

    def keys(name: str) -> set[str]:
        case = by_name[name]
        return exercised(law, case.operation, decide(case.operation))

    assert keys("open sources with the chief's approval") == {"power:look"}
    assert keys("hacking a journalist's phone needs the court") == \
        {"power:intrude", "when:intrude:0"}
    assert keys("hacking for longer than three months") == set()
    assert keys("bulk collection kept 18 months needs the chief") == \
        {"power:collect", "when:collect:0"}
    assert keys("nothing for crime") >= {"prohibition:no_crime"}
    assert keys("unevaluated data to a partner") == \
        {"power:look", "share:to_partner", "when:to_partner:0"}
    assert keys("no data to a banned country") >= {"share:to_partner", "forbid:to_partner:0"}
    assert keys("unknown names fail closed") == set()


def test_removing_a_case_makes_coverage_fall(law: Law, suite: list[Case],
                                             tmp_path: Path) -> None:
    decide = compile_law(law).decide
    full = coverage(law, run_cases(decide, suite))
    without = [c for c in suite if c.name != "nothing for crime"]
    partial = coverage(law, run_cases(decide, without))
    assert partial.percent < full.percent
    missed = {p.key for p in partial.provisions if not partial.exercised(p)}
    assert missed == {"prohibition:no_crime"}
    # The same through the command line, on a copy of the suite without that case.
    folder = tmp_path / "suite"
    shutil.copytree(SUITE, folder)
    basic = folder / "basic.auth"
    text = basic.read_text(encoding="utf-8")
    start = text.index('case "nothing for crime"')
    end = text.index('case "unevaluated data to a partner"')
    basic.write_text(text[:start] + text[end:], encoding="utf-8")
    report = tmp_path / "report.json"
    assert main(["test", str(LAW), str(SUITE), "--json", "--junit", str(report)]) == 0
    assert main(["test", str(LAW), str(folder), "--fail-under", "100"]) == 3
    assert main(["test", str(LAW), str(folder), "--fail-under", "90"]) == 0


def test_a_forbid_clause_of_a_share_rule_is_at_its_own_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Not at the share rule's: as its `when` clauses, each `forbid when` is listed at the line
    it starts on, also where the rule's text says `forbid` in a string or a comment."""
    rule = """share to_partner {
    recipients: partner
    requires: note
    description: "we forbid { nothing here"
    cites: "art. 5"
    # forbid when country == "XX" was struck out
    when data == unevaluated requires minister
    forbid when country in banned
    forbid
        when country == "CN"
}"""
    text = LAW.read_text(encoding="utf-8")
    start = text.index("share to_partner {")
    spec = write(tmp_path, text[:start] + rule + text[text.index("}", start) + 1:], "law.auth")
    lines = spec.read_text(encoding="utf-8").splitlines()
    expected = {"when:to_partner:0": lines.index("    when data == unevaluated requires minister")
                + 1,
                "forbid:to_partner:0": lines.index("    forbid when country in banned") + 1,
                "forbid:to_partner:1": lines.index("    forbid") + 1}
    law, diags = load_law(spec)
    assert law is not None, diags
    assert {p.key: p.span and p.span.line for p in provisions(law)
            if p.key in expected} == expected
    # The same through the command line, which has the law's text at hand, with no case
    # exercising the rule.
    text = (SUITE / "basic.auth").read_text(encoding="utf-8")
    one_case = write(tmp_path, text[:text.index("\ncase ", text.index("case "))])
    assert main(["test", str(spec), str(one_case), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {f"{p['kind']}:{p['name']}": p["line"] for p in report["coverage"]["provisions"]
            if p["name"].startswith("to_partner:")} == {
        "condition:to_partner:0": expected["when:to_partner:0"],
        "prohibition:to_partner:0": expected["forbid:to_partner:0"],
        "prohibition:to_partner:1": expected["forbid:to_partner:1"]}
    monkeypatch.setenv("COLUMNS", "300")  # the long temporary path on one line
    assert main(["test", str(spec), str(one_case)]) == 0
    out = capsys.readouterr().out
    assert f"`forbid when country in banned` of share rule `to_partner`  ({spec}:" \
        f"{expected['forbid:to_partner:0']})" in out
    assert f"`forbid when country == \"CN\"` of share rule `to_partner`  ({spec}:" \
        f"{expected['forbid:to_partner:1']})" in out


@pytest.mark.parametrize("name", ["wiv2017", "wiv_threat_draft"])
def test_the_example_laws_list_each_clause_at_its_line(name: str) -> None:
    law, diags = load_law(SPECS / f"{name}.auth")
    assert law is not None, diags
    lines = (SPECS / f"{name}.auth").read_text(encoding="utf-8").splitlines()
    clauses = [p for p in provisions(law) if p.key.startswith(("when:", "forbid:"))]
    assert clauses
    for p in clauses:
        assert p.span is not None
        written = lines[p.span.line - 1].strip()
        assert p.label.startswith(f"`{written.split(' requires ')[0]}` "), (p.label, written)


@given(st.data())
def test_coverage_grows_with_the_suite(law: Law, suite: list[Case], data: st.DataObject) -> None:
    """As many examples as the Hypothesis profile asks (the law and its cases are loaded once:
    an example costs a few milliseconds)."""
    cases = suite
    decide = compile_law(law).decide
    small = data.draw(st.sets(st.sampled_from(range(len(cases)))))
    large = small | data.draw(st.sets(st.sampled_from(range(len(cases)))))
    a = coverage(law, run_cases(decide, [cases[i] for i in sorted(small)]))
    b = coverage(law, run_cases(decide, [cases[i] for i in sorted(large)]))
    assert {k for k, v in a.by.items() if v} <= {k for k, v in b.by.items() if v}
    assert a.percent <= b.percent


# ---- comparing expected and actual ------------------------------------------------------------


def test_compare_reports_each_field(law: Law, tmp_path: Path) -> None:
    path = write(tmp_path, """
case "all wrong" {
    expect: permitted
    powers: look
    violation: "prohibited"
    operation x {
        date: 2024-03-01
        threat: security
        technique: implant
        duration: 3 months
    }
}
""".replace('    violation: "prohibited"\n', ""))
    cases, diags = load_cases([path], law)
    assert not diags
    decision = compile_law(law).decide(cases[0].operation)
    mismatches = compare(cases[0], decision)
    assert [(m.field, m.expected, m.actual) for m in mismatches] == [
        ("verdict", "permitted", "requires"), ("powers", "look", "intrude")]


def test_missing_is_an_exact_set(law: Law, tmp_path: Path) -> None:
    path = write(tmp_path, """
case "too few" {
    expect: requires
    missing: board
    operation x {
        date: 2024-03-01
        threat: security
        technique: implant
        duration: 3 months
    }
}
""")
    cases, _ = load_cases([path], law)
    result = run_cases(compile_law(law).decide, cases)[0]
    assert not result.passed
    assert result.mismatches[0].field == "missing"
    assert result.mismatches[0].actual == "board, minister, necessity"


# ---- loading: every problem is a located error ------------------------------------------------


@pytest.mark.parametrize(("body", "code", "fragment"), [
    ('expect: permited', "bad-value", "`permited` is not a verdict"),
    ('expect: permitted\n powers: hak', "unknown-name", "unknown power `hak`"),
    ('expect: requires\n missing: cort', "unknown-name", "safeguard or assessment `cort`"),
    ('expect: denied\n violation: "prohibitd"', "bad-value", "not a violation code"),
    ('expect: permitted\n missing: court', "bad-field", "lists missing requirements"),
    ('expect: requires\n violation: "prohibited"', "bad-field", "names a violation"),
    ('powers: look', "bad-field", "states no `expect`"),
])
def test_case_errors(law: Law, tmp_path: Path, body: str, code: str, fragment: str) -> None:
    text = f'case "c" {{\n {body}\n operation x {{ date: 2024-01-01 threat: security }}\n}}\n'
    _, diags = load_cases([write(tmp_path, text)], law)
    assert any(d.code == code and fragment in d.message for d in diags), diags
    assert all(d.span.file.endswith("cases.auth") and d.span.line >= 1 for d in diags)


def test_file_level_errors(law: Law, tmp_path: Path) -> None:
    text = """
case "twice" { expect: denied operation x { date: 2024-01-01 } }
case "twice" { expect: denied operation y { date: 2024-01-01 } }
case "no operation" { expect: denied }
case "no date" { expect: denied operation z { threat: security } }
operation loose { date: 2024-01-01 }
"""
    cases, diags = load_cases([write(tmp_path, text)], law)
    assert [c.name for c in cases] == ["twice"]
    messages = [(d.span.line, d.code, d.message) for d in diags]
    assert (3, "duplicate-definition", "case `twice` is defined twice") in messages
    assert any(line == 4 and "holds no operation" in m for line, _, m in messages)
    assert any(line == 5 and "needs a `date`" in m for line, _, m in messages)
    assert any(line == 6 and code == "file-kind" for line, code, _ in messages)


def test_missing_and_empty_inputs(law: Law, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    _, diags = load_cases([tmp_path / "nope.auth", empty, write(tmp_path, "# nothing\n")], law)
    assert sorted(d.code for d in diags) == ["bad-source", "no-cases", "no-cases"]


def test_an_unknown_violation_code_is_located_at_its_value(law: Law, tmp_path: Path) -> None:
    text = ('case "c" {\n expect: denied\n operation x { date: 2024-01-01 threat: security }\n'
            '  # violation: "in-a-comment"\n violation:  "retention-exceded"\n'
            ' source: "violation: retention"\n}\n')
    _, diags = load_cases([write(tmp_path, text)], law)
    [d] = [d for d in diags if "not a violation code" in d.message]
    span = d.span
    assert (span.line, span.column, span.end_line, span.end_column) == (5, 14, 5, 33)
    assert "did you mean `retention-exceeded`?" in (d.help or "")


def test_a_file_named_twice_is_read_once(law: Law, tmp_path: Path) -> None:
    folder = tmp_path / "suite"
    shutil.copytree(SUITE, folder)
    basic = folder / "basic.auth"
    once, _ = load_cases([folder], law)
    again, diags = load_cases([basic, folder, basic, folder / ".." / "suite" / "basic.auth"],
                              law)
    assert not diags
    assert len(again) == len(once) and len({(c.file, c.name) for c in again}) == len(again)
    assert again[0].file == str(basic)  # first-seen order


def test_syntax_errors_are_located(law: Law, tmp_path: Path) -> None:
    _, diags = load_cases([write(tmp_path, 'case "x" { expect: }\n')], law)
    assert diags and diags[0].code == "syntax-error" and diags[0].span.line == 1


# ---- JUnit XML --------------------------------------------------------------------------------


def test_junit_has_one_testcase_per_case(law: Law, suite: list[Case], tmp_path: Path) -> None:
    bad = write(tmp_path, 'case "fails <&> \x01" {\n expect: permitted\n operation x '
                '{ date: 2024-03-01 threat: security technique: implant duration: 1 week }\n}\n')
    extra, diags = load_cases([bad], law)
    assert not [d for d in diags if d.is_error]
    results = run_cases(compile_law(law).decide, [*suite, *extra])
    root = ET.fromstring(junit_xml(results, law.title, [0.001] * len(results)))
    assert root.tag == "testsuites"
    testcases = root.findall("./testsuite/testcase")
    assert len(testcases) == len(results)
    assert root.get("tests") == str(len(results)) and root.get("failures") == "1"
    failures = root.findall("./testsuite/testcase/failure")
    assert len(failures) == 1
    assert "verdict: expected permitted, got requires" in (failures[0].text or "")
    assert "why:" in (failures[0].text or "")
    names = {tc.get("name") for tc in testcases}
    assert "fails <&> \ufffd" in names
    for suite_el in root.findall("testsuite"):
        assert int(suite_el.get("tests") or 0) == len(suite_el.findall("testcase"))


def test_cli_writes_junit_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit = tmp_path / "out.xml"
    assert main(["test", str(LAW), str(SUITE), "--json", "--junit", str(junit)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["failed"] == 0 and report["passed"] == len(report["cases"]) == 9
    assert report["coverage"]["percent"] == 100.0
    assert all(p["cases"] for p in report["coverage"]["provisions"])
    root = ET.parse(junit).getroot()
    assert len(root.findall("./testsuite/testcase")) == 9


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    failing = write(tmp_path, 'case "f" {\n expect: denied\n operation x '
                    '{ date: 2024-03-01 threat: security capabilities: open_sources }\n}\n')
    assert main(["test", str(LAW), str(failing)]) == 3
    out = capsys.readouterr().out
    assert "FAILED" in out and "expected" in out and "why:" in out
    assert main(["test", str(LAW), str(failing), "--reference"]) == 3
    broken = write(tmp_path, 'case "b" { expect: maybe }\n', "broken.auth")
    assert main(["test", str(LAW), str(broken)]) == 1
    assert "`maybe` is not a verdict" in capsys.readouterr().err
    assert main(["test", str(tmp_path / "missing.auth"), str(SUITE)]) == 1
    assert main(["test", str(LAW), str(SUITE), "--junit", str(tmp_path / "no" / "x.xml")]) == 1
    with pytest.raises(SystemExit) as exc:
        main(["test", str(LAW), str(SUITE), "--fail-under", "120"])
    assert exc.value.code == 2


def test_cli_runs_a_case_file_named_twice_once(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    junit = tmp_path / "out.xml"
    assert main(["test", str(LAW), str(SUITE), str(SUITE / "basic.auth"), str(SUITE), "--json",
                 "--junit", str(junit)]) == 0
    assert len(json.loads(capsys.readouterr().out)["cases"]) == 9
    names = [tc.get("name") for tc in ET.parse(junit).getroot().iter("testcase")]
    assert len(names) == len(set(names)) == 9


def _inputs(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the example law wiv2017 (which imports techniques.auth) and its cases."""
    shutil.copytree(SPECS, tmp_path / "specs", ignore=shutil.ignore_patterns("operations"))
    return tmp_path / "specs" / "wiv2017.auth", tmp_path / "specs" / "cases" / "wiv2017"


@pytest.mark.parametrize(("target", "what"), [
    ("wiv2017.auth", "the law"),
    ("techniques.auth", "a file the law imports"),
    ("cases/wiv2017/powers.auth", "a case file"),
])
@pytest.mark.parametrize("link", ["same", "symlink", "hardlink"])
def test_cli_will_not_write_junit_over_an_input(tmp_path: Path, target: str, what: str,
                                                link: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    spec, cases = _inputs(tmp_path)
    victim = spec.parent / target
    before = victim.read_bytes()
    junit = victim
    if link == "symlink":
        junit = tmp_path / "report.xml"
        junit.symlink_to(victim)
    elif link == "hardlink":
        junit = tmp_path / "report.xml"
        junit.hardlink_to(victim)
    assert main(["test", str(spec), str(cases), "--junit", str(junit)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: --junit {junit} is one of the inputs ({what}, `")
    assert "write the report elsewhere" in captured.err
    assert victim.read_bytes() == before


def test_cli_fail_under_prints_the_coverage_on_the_right_side(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # One case exercises 2 of the 17 provisions: 11.7647...%, 11.8% to one decimal.
    text = (SUITE / "basic.auth").read_text(encoding="utf-8")
    one_case = write(tmp_path, text[:text.index("\ncase ", text.index("case "))])
    assert main(["test", str(LAW), str(one_case), "--fail-under", "11.8"]) == 3
    out = " ".join(capsys.readouterr().out.split())
    assert "coverage 11.76% (2 of 17 provisions), below --fail-under 11.8%" in out
    assert main(["test", str(LAW), str(one_case), "--fail-under", "11.76"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "coverage 11.8% (2 of 17 provisions)" in out and "below" not in out
    assert main(["test", str(LAW), str(one_case)]) == 0
    assert "coverage 11.8% (2 of 17 provisions)" in capsys.readouterr().out
    # The JSON says what the comparison found, as the exit status does.
    for threshold, below in (("11.8", True), ("11.76", False)):
        code = main(["test", str(LAW), str(one_case), "--fail-under", threshold, "--json"])
        report = json.loads(capsys.readouterr().out)
        assert (code == 3, report["below_fail_under"]) == (below, below)
        assert report["coverage"]["percent"] == 11.76


def _one_case(tmp_path: Path, name: str) -> Path:
    """A case file holding the case of that name from the fixture suite's basic.auth."""
    text = (SUITE / "basic.auth").read_text(encoding="utf-8")
    start = text.index(f'case "{name}"')
    end = text.find("\ncase ", start)
    return write(tmp_path, text[start:] if end < 0 else text[start:end])


@pytest.mark.parametrize(("spec", "cases", "threshold", "below"), [
    # 6 of 17 provisions: 35.294117647058823...%
    (LAW, "hacking", "35.2941176471", True),
    (LAW, "hacking", "35.294118", True),
    (LAW, "hacking", "35.2941176470", False),
    (LAW, "hacking", "35.294117647058823529411764705883", True),
    (LAW, "hacking", "35.294117647058823529411764705882", False),
    # 40 of 50 provisions: exactly 80%
    (SPECS / "wiv2017.auth", SPECS / "cases" / "wiv2017", "80.0000000005", True),
    (SPECS / "wiv2017.auth", SPECS / "cases" / "wiv2017", "80", False),
    (SPECS / "wiv2017.auth", SPECS / "cases" / "wiv2017", "80.000", False),
    (SPECS / "wiv2017.auth", SPECS / "cases" / "wiv2017", "79.9999999999", False),
])
def test_cli_fail_under_compares_exactly(spec: Path, cases: Path | str, threshold: str,
                                         below: bool, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The share of the provisions exercised against the threshold as written, with no
    tolerance: a threshold a hair above the coverage fails, one equal to it passes."""
    if cases == "hacking":
        cases = _one_case(tmp_path, "hacking a journalist's phone needs the court")
    code = main(["test", str(spec), str(cases), "--fail-under", threshold, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert (code, report["below_fail_under"]) == (3 if below else 0, below)
    assert main(["test", str(spec), str(cases), "--fail-under", threshold]) == code
    assert ("below --fail-under" in " ".join(capsys.readouterr().out.split())) == below


def test_cli_fail_under_is_printed_as_given(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The threshold as written, and the coverage with the decimals it takes to be on the same
    side of it as the comparison: never `35.29%, below 35.2941%`."""
    hacking = _one_case(tmp_path, "hacking a journalist's phone needs the court")
    for threshold in ("35.294118", "35.2941176471", "35.29411764706"):
        assert main(["test", str(LAW), str(hacking), "--fail-under", threshold]) == 3
        out = " ".join(capsys.readouterr().out.split())
        assert f"coverage 35.29% (6 of 17 provisions), below --fail-under {threshold}%" in out
    # 1 of 3 provisions: 33.333...%, which takes as many decimals as the threshold has to be
    # shown on or above it.
    spec = write(tmp_path, """law "Three provisions" {
    in_force: 2020-01-01 ..
}
threat security { severity: 3 }
threat crime { severity: 2 }
capability open_sources { intrusion: 1 }
safeguard chief { by: head_of_service }
power look { threats: security capabilities: open_sources requires: chief }
forbid no_crime { when threat under crime }
""", "three.auth")
    crime = write(tmp_path, 'case "crime" {\n expect: denied\n operation x { date: 2024-03-01 '
                  'threat: crime capabilities: open_sources }\n}\n', "crime.auth")
    for threshold, shown, code in (("33.3333333333333", "33.3333333333333", 0),
                                   ("33.33333333333334", "33.3", 3),
                                   ("33.33", "33.33", 0)):
        assert main(["test", str(spec), str(crime), "--fail-under", threshold]) == code
        out = " ".join(capsys.readouterr().out.split())
        assert f"coverage {shown}% (1 of 3 provisions)" in out
        assert (f"below --fail-under {threshold}%" in out) == bool(code)


@pytest.mark.parametrize(("threshold", "message"), [
    ("nan", "`nan` is not a number"),
    ("inf", "`inf` is not a number"),
    ("1/3", "`1/3` is not a number"),
    ("100.0000000001", "a percentage is between 0 and 100"),
    ("-0.5", "a percentage is between 0 and 100"),
    ("1e-999999999", "has more than 1000 decimals"),
])
def test_cli_fail_under_refuses_what_is_not_a_percentage(
        threshold: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["test", str(LAW), str(SUITE), "--fail-under", threshold])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


# ---- the example specs ------------------------------------------------------------------------


def _example_suites() -> list[str]:
    folder = SPECS / "cases"
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


@pytest.mark.parametrize("name", _example_suites())
def test_example_suite_passes(name: str, capsys: pytest.CaptureFixture[str],
                              tmp_path: Path) -> None:
    spec = SPECS / f"{name}.auth"
    law, diags = load_law(spec)
    assert law is not None, diags
    cases, problems = load_cases([SPECS / "cases" / name], law)
    assert not [d for d in problems if d.is_error], problems
    assert len(cases) >= 15
    results = run_cases(compile_law(law).decide, cases)
    failed = [(r.case.name, [(m.field, m.expected, m.actual) for m in r.mismatches])
              for r in results if not r.passed]
    assert failed == []
    reference = run_cases(lambda op: reference_decide(law, op), cases)
    assert [r.passed for r in reference] == [True] * len(cases)
    assert {r.decision.verdict for r in results} == {"permitted", "requires", "denied"}
    assert all(c.source for c in cases)
    junit = tmp_path / "junit.xml"
    assert main(["test", str(spec), str(SPECS / "cases" / name), "--junit", str(junit)]) == 0
    capsys.readouterr()
    assert len(ET.parse(junit).getroot().findall("./testsuite/testcase")) == len(cases)
    for path in sorted((SPECS / "cases" / name).glob("*.auth")):
        assert check_file(path) == [], path
        text = path.read_text(encoding="utf-8")
        assert format_source(text, str(path)) == text, f"{path} is not formatted"


def test_example_suites_exist() -> None:
    assert {"wiv2017", "wiv_threat_draft"} <= set(_example_suites())
