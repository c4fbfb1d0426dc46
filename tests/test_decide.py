"""`authority decide` on the example operations: verdicts, schemas, determinism, start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from msgspec.structs import replace

from authority_dsl.checker import load_law
from authority_dsl.cli import main
from authority_dsl.decision import Decision
from authority_dsl.engine import compile_law
from authority_dsl.engine.reference import decide as reference
from authority_dsl.model import Law
from authority_dsl.operation import Operation, OperationError, from_json, loads

ROOT = Path(__file__).parent.parent
OPERATIONS = sorted((ROOT / "specs" / "operations").glob("*/*.json"))


def schema(name: str) -> dict[str, object]:
    text = resources.files("authority_dsl").joinpath(f"schemas/{name}.schema.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "authority_dsl", *args], capture_output=True,
                          text=True, input=stdin, timeout=60)


def spec_for(op_path: Path) -> Path:
    return ROOT / "specs" / f"{op_path.parent.name}.auth"


def test_every_example_law_has_operations_of_every_verdict() -> None:
    for spec in ("wiv2017", "wiv_threat_draft"):
        names = [p.stem for p in OPERATIONS if p.parent.name == spec]
        assert len(names) >= 8
        assert {n.split("-")[0] for n in names} == {"permitted", "requires", "denied"}


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_example_operation(path: Path) -> None:
    raw = json.loads(path.read_text())
    jsonschema.validate(raw, schema("operation"))
    law, diags = load_law(spec_for(path))
    assert law is not None, diags
    op = from_json(raw)
    decision = compile_law(law).decide(op)
    assert decision == reference(law, op)
    assert decision.verdict == path.stem.split("-")[0]
    jsonschema.validate(decision.to_json(), schema("decision"))


@pytest.mark.parametrize("path", OPERATIONS[:6], ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_cli_json_is_valid_and_identical_on_two_runs(path: Path) -> None:
    first = run("decide", str(spec_for(path)), str(path), "--json")
    second = run("decide", str(spec_for(path)), str(path), "--json")
    assert first.stdout == second.stdout
    assert first.returncode == (0 if path.stem.startswith("permitted") else 3)
    jsonschema.validate(json.loads(first.stdout), schema("decision"))


def test_stdin_and_dsl_operation(tmp_path: Path) -> None:
    spec = ROOT / "specs" / "wiv_threat_draft.auth"
    path = ROOT / "specs/operations/wiv_threat_draft/permitted-hack-terrorism.json"
    from_stdin = run("decide", str(spec), "-", "--json", stdin=path.read_text())
    assert json.loads(from_stdin.stdout)["verdict"] == "permitted"
    dsl = tmp_path / "op.auth"
    dsl.write_text('operation "draft-001" {\n    date: 2028-09-01\n    threat: terrorism\n'
                   '    technique: phone_implant\n    duration: 3 months\n'
                   '    approvals: minister_approval on 2028-08-25, review_board on 2028-08-29\n'
                   '    assessments: necessity, proportionality, subsidiarity, '
                   'as_targeted_as_possible\n    subject target\n}\n')
    from_dsl = run("decide", str(spec), str(dsl), "--json")
    assert from_dsl.returncode == 0, from_dsl.stderr
    a, b = json.loads(from_stdin.stdout), json.loads(from_dsl.stdout)
    assert (a["verdict"], a["authorised"], a["missing"]) == (b["verdict"], b["authorised"],
                                                             b["missing"])


@pytest.mark.parametrize(("text", "where"), [
    ('{"id": "x", "date": "2028-01-01", "approvals": [{"safeguard": "a", "date": 5}]}',
     "$.approvals[0].date"),
    ('{"id": "x", "date": "99999-01-01"}', "$.date"),
    ('{"id": "x", "date": "2028-01-01", "duration": "100000000000000000000 years"}',
     "$.duration"),
    ('{"id": "x", "date": "2028-01-01", "subjects": {}}', "$.subjects"),
    ('{"id": "x", "date": "2028-01-01", "threats": "terrorism"}', "$.threats"),
    # A misspelt field inside an object must not pass for an absent one: fail closed.
    ('{"id": "x", "date": "2028-01-01", "subjects": [{"role": "target", "protectd": '
     '["journalist"]}]}', "$.subjects[0].protectd"),
    ('{"id": "x", "date": "2028-01-01", "approvals": [{"safeguard": "a", "dtae": '
     '"2029-01-01"}]}', "$.approvals[0].dtae"),
    ('{"id": "x", "date": "2028-01-01", "sharing": [{"recipient": "a", "whith": ["b"]}]}',
     "$.sharing[0].whith"),
    ('{"id": "x"}', "$.date"),
    # An unknown key that is not a name is written in brackets, not as a path of members.
    ('{"id": "x", "date": "2028-01-01", "subjects.0": 1}', '$["subjects.0"]: unknown field'),
    ('{"id": "x", "date": "2028-01-01", "subjects": [{"a b": 1}]}',
     '$.subjects[0]["a b"]: unknown field'),
    ("[1, 2]", "$"),
    ('{"id": "x", "date": "2028-01-0', "line 1 column"),
])
def test_malformed_operation_gives_its_json_path(text: str, where: str) -> None:
    with pytest.raises(OperationError) as info:
        loads(text)
    assert str(info.value).startswith(where)
    result = run("decide", str(ROOT / "specs" / "wiv_threat_draft.auth"), "-", stdin=text)
    assert result.returncode == 1
    assert where in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_name_is_denied_with_a_suggestion() -> None:
    path = ROOT / "specs/operations/wiv_threat_draft/denied-unknown-technique.json"
    result = run("decide", str(spec_for(path)), str(path), "--json")
    decision = json.loads(result.stdout)
    assert result.returncode == 3
    (violation,) = decision["violations"]
    assert violation["code"] == "unknown-name"
    assert violation["help"] == "did you mean `phone_implant`?"


def test_decide_does_not_import_test_modules() -> None:
    path = ROOT / "specs/operations/wiv_threat_draft/permitted-hack-terrorism.json"
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "authority_dsl", "decide",
         str(spec_for(path)), str(path), "--json"], capture_output=True, text=True, timeout=60)
    imported = {line.split("|")[-1].strip().split(".")[0]
                for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "authority_dsl" in imported
    assert not imported & {"hypothesis", "pytest", "jsonschema", "prompt_toolkit", "cedarpy"}


def test_caches_stay_bounded_and_decisions_stay_equal() -> None:
    """Thousands of operations of different kinds (durations in days against limits in months,
    so the start date joins the keys): the compiled law's caches stay within their bounds and its
    decisions stay those of the reference interpreter."""
    import datetime as dt

    from authority_dsl.durations import Duration, Unit
    from authority_dsl.engine.compiled import PLANS_SIZE, TEMPLATES_SIZE

    law, _ = load_law(ROOT / "specs" / "wiv_threat_draft.auth")
    assert law is not None
    base = from_json(json.loads(
        (ROOT / "specs/operations/wiv_threat_draft/requires-hack-journalist-court.json")
        .read_text()))
    fast = compile_law(law)
    ops = [replace(base, id=f"op-{i}", duration=Duration(1 + i % 200, Unit.DAYS),
                   date=base.date + dt.timedelta(days=i // 200))
           for i in range(TEMPLATES_SIZE + 10)]
    decisions = [fast.decide(op) for op in ops]
    assert 0 < len(fast.fast_templates) <= TEMPLATES_SIZE
    assert 0 < len(fast.plans) <= PLANS_SIZE
    for op, decision in list(zip(ops, decisions, strict=True))[::97]:
        assert decision.to_json() == reference(law, op).to_json()
    assert fast.decide(ops[0]).to_json() == reference(law, ops[0]).to_json()


def test_days_against_a_limit_in_months_depend_on_the_start_date() -> None:
    """91 days fit within 3 months from 1 January 2028 (to 1 April) but not from 1 February
    (to 1 May, 90 days): the compiled evaluator must not reuse one decision for the other."""
    import datetime as dt

    from authority_dsl.durations import parse_duration
    from authority_dsl.operation import Approval

    law, _ = load_law(ROOT / "specs" / "wiv_threat_draft.auth")
    assert law is not None
    fast = compile_law(law)
    verdicts = []
    for i, start in enumerate((dt.date(2028, 1, 1), dt.date(2028, 2, 1), dt.date(2028, 1, 1))):
        op = replace(
            from_json({"id": "x", "date": "2028-01-01", "threat": "espionage",
                       "capabilities": ["observe_and_follow"], "duration": "91 days",
                       "assessments": ["necessity", "proportionality", "subsidiarity"]}),
            id=f"op-{i}", date=start,
            approvals=(Approval("head_of_service_approval", start - dt.timedelta(days=1)),))
        assert op.duration == parse_duration("91 days")
        decision = fast.decide(op)
        assert decision.to_json() == reference(law, op).to_json()
        verdicts.append(decision.verdict)
    assert verdicts == ["permitted", "denied", "permitted"]


def test_lone_surrogate_in_an_operation_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "op.json"
    path.write_text('{"id":"a\\ud800","date":"2028-03-01","threat":"terrorism",'
                    '"capabilities":["consult_open_sources"]}', encoding="ascii")
    result = run("decide", str(ROOT / "specs" / "wiv_threat_draft.auth"), str(path), "--json")
    assert result.returncode == 1
    assert "lone surrogate" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("extra", [[], ["--json"]])
@pytest.mark.parametrize(("name", "code"), [("permitted-hack-terrorism", 0),
                                            ("denied-unknown-technique", 3)])
def test_a_reader_that_stops_early_leaves_the_verdicts_status(extra: list[str], name: str,
                                                              code: int) -> None:
    """`authority decide ... | head -1`: the pipe closes before the decision is written; the
    command exits quietly with the verdict's status (0 only for permitted: rich alone would
    exit 1, and 0 for any verdict would read as permitted)."""
    path = ROOT / f"specs/operations/wiv_threat_draft/{name}.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "authority_dsl", "decide", str(spec_for(path)), str(path), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"})
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the law is even loaded
    with proc.stderr:
        stderr = proc.stderr.read()
    assert proc.wait(timeout=60) == code
    assert stderr == b""


@pytest.mark.parametrize("field", ["subjects", "approvals", "sharing"])
def test_the_schema_refuses_unknown_fields_inside_an_operation_too(field: str) -> None:
    """The published schema says what `decide` reads: no field it would refuse."""
    inner = {"subjects": {"role": "target", "protectd": []},
             "approvals": {"safeguard": "a", "dtae": "2029-01-01"},
             "sharing": {"recipient": "a", "whith": []}}[field]
    value = {"id": "x", "date": "2028-01-01", field: [inner]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(value, schema("operation"))
    with pytest.raises(OperationError):
        from_json(value)


FAR = """law "Far" {
    id: "far"
    in_force: 2020-01-01 ..
}
threat terrorism {
    severity: 5
}
capability covert_access {
    intrusion: 5
}
safeguard minister_approval {
    by: minister
    urgent_within: 2 days
}
assessment necessity
power p1 {
    threats: terrorism
    capabilities: covert_access
    requires: minister_approval, necessity
    max_duration: 3 months
    retention: 99999 years
}
"""


@pytest.mark.parametrize(("date", "extra", "verdict"), [
    # Ends past the year 9999 compare exactly: 5 years is longer than 3 months there too.
    ("9999-10-01", {"duration": "5 years"}, "denied"),
    ("9999-12-31", {"duration": "40 days"}, "permitted"),  # to 9 February 10000, within 3 months
    ("9999-12-31", {"duration": "92 days"}, "denied"),  # 3 months from 31 December: 91 days
    ("2027-01-01", {"duration": "1 month", "retention": "99999 years"}, "permitted"),
    ("2027-01-01", {"duration": "1 month", "retention": "100000 years"}, "denied"),
    # An urgent approval within its window, the window ending past the year 9999.
    ("9999-12-30", {"duration": "1 month", "urgent": True,
                    "approvals": [{"safeguard": "minister_approval", "date": "9999-12-31"}]},
     "permitted"),
])
def test_limits_that_end_past_the_year_9999_are_decided_exactly(
        tmp_path: Path, date: str, extra: dict[str, object], verdict: str) -> None:
    spec = tmp_path / "far.auth"
    spec.write_text(FAR)
    value: dict[str, object] = {"id": "o", "date": date, "threat": "terrorism",
                                "capabilities": ["covert_access"],
                                "approvals": ["minister_approval"], "assessments": ["necessity"],
                                **extra}
    law, _ = load_law(spec)
    assert law is not None
    op = from_json(value)
    assert compile_law(law).decide(op).verdict == verdict
    assert reference(law, op).verdict == verdict
    result = run("decide", str(spec), "-", "--json", stdin=json.dumps(value))
    assert "Traceback" not in result.stderr
    assert json.loads(result.stdout)["verdict"] == verdict


def test_a_wrong_type_names_its_path_once_and_a_second_block_is_located(
        tmp_path: Path) -> None:
    spec = str(ROOT / "specs" / "wiv_threat_draft.auth")
    for field in ("duration", "retention", "date"):
        result = run("decide", spec, "-", stdin=json.dumps(
            {"id": "x", "date": "2028-01-01", field: 3}))
        assert result.returncode == 1
        assert result.stderr.count(f"$.{field}") == 1, result.stderr
    two = tmp_path / "two.auth"
    two.write_text("operation a {\n    date: 2028-01-01\n}\noperation b {\n"
                   "    date: 2028-01-01\n}\n")
    result = run("decide", spec, str(two))
    assert result.returncode == 1
    said = " ".join(result.stderr.split())  # as wrapped to the terminal's width
    assert f"{two}:4:" in said and "a second `operation` block" in said


@pytest.mark.parametrize("text", ['"x"', "5", "true", "null"])
def test_a_json_value_that_is_not_an_object_is_said_to_be_so(text: str) -> None:
    result = run("decide", str(ROOT / "specs" / "wiv_threat_draft.auth"), "-", stdin=text)
    assert result.returncode == 1
    assert "$: expected an object, got" in " ".join(result.stderr.split())


@pytest.mark.parametrize("country", ["ru", "Ru", " RU", "XX", ""])
def test_a_sanctioned_state_misspelt_is_denied_not_permitted(tmp_path: Path, country: str) -> None:
    """The draft forbids sharing with `sanctioned_states` ({"RU", ...}); `"ru"` used to slip
    past that rule and be permitted. A country that is not a code is an unknown name: denied,
    with the code suggested where there is one; and so in the audit, on its fast path."""
    spec = ROOT / "specs" / "wiv_threat_draft.auth"
    op = {"id": "s", "date": "2028-03-01", "threat": "state_cyber_programme",
          "sharing": [{"recipient": "foreign_service", "country": country, "data": "evaluated",
                       "with": ["weighing_note"]}]}
    result = run("decide", str(spec), "-", "--json", stdin=json.dumps(op))
    assert result.returncode == 3, result.stderr
    decision = json.loads(result.stdout)
    assert decision["verdict"] == "denied"
    [violation] = decision["violations"]
    assert violation["code"] == "unknown-name"
    assert violation["message"] == f"unknown country `{country}`"
    if country.strip().upper() == "RU":
        assert violation["help"] == "did you mean `RU`?"
    log = tmp_path / "ops.jsonl"
    log.write_text(json.dumps(op) + "\n" + json.dumps({**op, "id": "t"}) + "\n")
    lines = run("audit", str(spec), str(log), "-q").stdout.splitlines()
    assert [json.loads(line)["verdict"] for line in lines] == ["denied", "denied"]
    valid = {**op, "sharing": [{**op["sharing"][0], "country": "RU"}]}  # type: ignore[dict-item]
    assert json.loads(run("decide", str(spec), "-", "--json", stdin=json.dumps(valid)).stdout)[
        "violations"][0]["code"] == "sharing-forbidden"


@pytest.mark.parametrize(("condition", "bad"), [
    ('forbid when country == "ru"', "ru"), ('forbid when country != "NLD"', "NLD"),
    ("forbid when country in watched", "XX")])
def test_a_law_comparing_country_with_no_code_is_refused(tmp_path: Path, condition: str,
                                                         bad: str) -> None:
    """A rule comparing `country` with something no sharing can state would never fire."""
    spec = tmp_path / "law.auth"
    spec.write_text('law "T" {\n    version: "1"\n}\n\nthreat crime\n\n'
                    'recipient foreign_service {\n    foreign: true\n}\n\n'
                    'set watched = {"RU", "XX"}\n\n'
                    f"share abroad {{\n    recipients: foreign_service\n    {condition}\n}}\n")
    result = run("check", str(spec))
    assert result.returncode == 1
    assert f"`{bad}` is not a country code" in result.stderr
    assert "law.auth:15:" in result.stderr
    if bad == "ru":
        assert "did you mean `RU`?" in result.stderr


def test_a_length_written_in_another_unit_meets_the_same_rules(tmp_path: Path) -> None:
    """`retention == 12 months` requires `extra` of a retention of `1 year` too, and `forbid
    when duration == 4 weeks` forbids `28 days`: in `decide`, `--reference` and `audit`."""
    spec = tmp_path / "law.auth"
    spec.write_text('law "T" {\n    version: "1"\n}\n\nthreat t\n\ncapability c {\n'
                    '    intrusion: 1\n}\n\nsafeguard s {\n    by: minister\n}\n\n'
                    'safeguard extra {\n    by: court\n}\n\npower p {\n    threats: t\n'
                    '    capabilities: c\n    requires: s\n'
                    '    when retention == 12 months requires extra\n}\n\n'
                    'forbid exactly_four_weeks {\n    when duration == 4 weeks\n}\n')
    base = {"date": "2027-03-01", "threat": "t", "capabilities": ["c"], "approvals": ["s"]}
    ops = [{"id": "a", "duration": "1 week", "retention": "1 year", **base},
           {"id": "b", "duration": "28 days", **base},
           {"id": "c", "duration": "29 days", **base}]
    expected = [("requires", ["extra"]), ("denied", []), ("permitted", [])]
    for op, (verdict, missing) in zip(ops, expected, strict=True):
        for how in ((), ("--reference",)):
            got = json.loads(run("decide", str(spec), "-", "--json", *how,
                                 stdin=json.dumps(op)).stdout)
            assert (got["verdict"], [m["requirement"] for m in got["missing"]]) == \
                (verdict, missing), (op, how)
    log = tmp_path / "ops.jsonl"
    log.write_text("".join(json.dumps(op) + "\n" for op in ops * 3))
    lines = run("audit", str(spec), str(log), "-q").stdout.splitlines()
    assert [json.loads(line)["verdict"] for line in lines] == [v for v, _ in expected] * 3


def test_a_name_given_as_the_wrong_kind_is_named_as_such() -> None:
    """A technique under `capabilities`, a safeguard under `assessments` and an assessment
    under `approvals` are each named for what they are (they were only "unknown")."""
    spec = ROOT / "specs" / "wiv_threat_draft.auth"
    op = {"id": "x", "date": "2028-09-01", "threat": "terrorism",
          "capabilities": ["server_intrusion"], "assessments": ["minister_approval"],
          "approvals": ["necessity"]}
    for how in ((), ("--reference",)):
        decision = json.loads(run("decide", str(spec), "-", "--json", *how,
                                  stdin=json.dumps(op)).stdout)
        assert decision["verdict"] == "denied"
        assert {(v["message"], v["help"]) for v in decision["violations"]} == {
            ("`server_intrusion` is a technique, not a capability",
             "give it as the operation's `technique`"),
            ("`minister_approval` is a safeguard, not an assessment", "list it under `approvals`"),
            ("`necessity` is an assessment, not a safeguard", "list it under `assessments`")}


def test_the_order_of_prohibitions_never_changes_the_record(tmp_path: Path) -> None:
    """Two prohibitions that both apply are traced in the same order however they are declared."""
    head = ('law "Order" {\n    version: "1"\n}\n\nthreat t\n\ncapability c {\n    intrusion: 1\n'
            '}\n\nsafeguard s {\n    by: minister\n}\n\npower p {\n    threats: t\n'
            '    capabilities: c\n    requires: s\n}\n\n')
    zeta, alpha = "forbid zeta {\n    when intrusion >= 1\n}\n\n", "forbid alpha {\n" \
        "    when threat == t\n}\n"
    op = json.dumps({"id": "o", "date": "2028-01-01", "threat": "t", "capabilities": ["c"],
                     "approvals": ["s"]})
    traces = []
    for body in (zeta + alpha, alpha + "\n" + zeta):
        spec = tmp_path / "law.auth"
        spec.write_text(head + body)
        for how in ((), ("--reference",)):
            traces.append(json.loads(run("decide", str(spec), "-", "--json", *how,
                                         stdin=op).stdout)["trace"])
    assert all(trace == traces[0] for trace in traces)
    assert [s for s in traces[0] if s.startswith("prohibition")] == [
        "prohibition `alpha` applies", "prohibition `zeta` applies"]


@pytest.mark.parametrize(("service", "verdict", "message"), [
    ("MIVD", "denied", 'prohibition `not_the_military_service` applies: service == "MIVD"'),
    ("mivd", "denied", "unknown service `mivd`"), (" MIVD", "denied", "unknown service ` MIVD`"),
    ("mıvd", "denied", "unknown service `mıvd`"), ("MİVD", "denied", "unknown service `MİVD`"),
    ("M IVD", "denied", "unknown service `M IVD`"),
    ("MIVD\u200b", "denied", "unknown service `MIVD\u200b`"), ("AIVD", "permitted", None)])
def test_a_service_the_law_names_written_otherwise_is_denied(
        tmp_path: Path, service: str, verdict: str, message: str | None) -> None:
    """`forbid when service == "MIVD"` did not apply to `"mivd"`, which was permitted: a service
    that differs from one the law names only in case or spacing is an unknown name. One the law
    does not name at all (`AIVD` here) is as before. In `decide`, `--reference` and `audit`."""
    spec = tmp_path / "law.auth"
    spec.write_text('law "S" {\n    version: "1"\n}\n\nthreat t\n\ncapability c {\n'
                    '    intrusion: 1\n}\n\nsafeguard s {\n    by: minister\n}\n\npower p {\n'
                    '    threats: t\n    capabilities: c\n    requires: s\n}\n\n'
                    'forbid not_the_military_service {\n    when service == "MIVD"\n}\n')
    op = {"id": "o", "date": "2028-01-01", "service": service, "threat": "t",
          "capabilities": ["c"], "approvals": ["s"]}
    for how in ((), ("--reference",)):
        decision = json.loads(run("decide", str(spec), "-", "--json", *how,
                                  stdin=json.dumps(op)).stdout)
        assert decision["verdict"] == verdict
        assert [v["message"] for v in decision["violations"]] == ([message] if message else [])
    log = tmp_path / "ops.jsonl"
    log.write_text((json.dumps(op) + "\n") * 3)
    assert [json.loads(line)["verdict"] for line in
            run("audit", str(spec), str(log), "-q").stdout.splitlines()] == [verdict] * 3


@pytest.mark.parametrize("text", ["3 months", "3 MONTHS", "3 Month", "3months", " 1 year ",
                                  "2 Weeks", "3 mnths", "3 monthss", "1.5 months", "month",
                                  "100000 days", "100001 days", "999999 days", "0100000 hours",
                                  "0" * 25 + "99999 days", "0" * 26 + "99999 days"])
def test_the_schema_takes_the_durations_the_tool_takes(text: str) -> None:
    """Units in any case are read by the tool; the shipped schema said only lower case, and
    took amounts up to 999,999 where the tool takes 100,000."""
    from authority_dsl.durations import parse_duration

    op = {"id": "o", "date": "2028-01-01", "duration": text}
    try:
        parse_duration(text)
        taken = True
    except ValueError:
        taken = False
    valid = jsonschema.validators.validator_for(schema("operation"))(schema("operation"))
    assert valid.is_valid(op) == taken


def test_a_sub_threat_does_not_outlive_its_parent(tmp_path: Path) -> None:
    """After `temp_act` lapses, `sub` under it lapses too (it was permitted by the power for
    `temp_act`); within the window both are permitted."""
    spec = tmp_path / "law.auth"
    spec.write_text('law "Sub" {\n    version: "1"\n}\n\nthreat temp_act {\n'
                    '    valid: 2020-01-01 .. 2020-12-31\n}\n\nthreat sub under temp_act\n\n'
                    'capability c {\n    intrusion: 1\n}\n\nsafeguard s {\n    by: minister\n}\n\n'
                    'power p {\n    threats: temp_act\n    capabilities: c\n    requires: s\n}\n')
    for day, verdict in (("2020-06-01", "permitted"), ("2021-06-01", "denied"),
                         ("2019-12-31", "denied")):
        for threat in ("temp_act", "sub"):
            op = {"id": "o", "date": day, "threat": threat, "capabilities": ["c"],
                  "approvals": ["s"]}
            for how in ((), ("--reference",)):
                decision = json.loads(run("decide", str(spec), "-", "--json", *how,
                                          stdin=json.dumps(op)).stdout)
                assert decision["verdict"] == verdict, (day, threat, how)
                if verdict == "denied":
                    assert [v["code"] for v in decision["violations"]] == ["threat-not-in-force"]


def test_the_order_of_clauses_never_changes_the_record(tmp_path: Path) -> None:
    """A share rule's `forbid when` clause that cannot be evaluated hid the clauses after it, and
    a requirement two `when` clauses ask for gave the first one's condition as its reason: each
    depended on the order the clauses were written in. Every record is now the same either way."""
    head = ('law "M" {\n    version: "1"\n}\n\nthreat top\n\ncapability cap {\n    intrusion: 3\n'
            '}\n\nsafeguard minister {\n    by: minister\n}\n\nsafeguard court {\n    by: court\n'
            '}\n\nprotected journalist\n\nrecipient foreign_service {\n    foreign: true\n}\n\n')
    power = ("power p1 {{\n    threats: top\n    capabilities: cap\n    requires: minister\n"
             "    {0}\n    {1}\n}}\n\n")
    rule = ("share fs {{\n    recipients: foreign_service\n    requires: minister\n    {0}\n"
            "    {1}\n}}\n")
    clauses = ("when intrusion >= 3 requires court", "when protected contains journalist "
               "requires court")
    forbids = ('forbid when country == "NL"', "forbid when duration > 2 weeks")
    op = json.dumps({"id": "x", "date": "2025-01-01", "threat": "top", "capabilities": ["cap"],
                     "approvals": ["minister"], "subjects": [{"protected": ["journalist"]}],
                     "sharing": [{"recipient": "foreign_service", "country": "NL"}]})
    no_sharing = json.dumps({**json.loads(op), "sharing": []})
    records = []
    for flip in (False, True):
        order = (lambda pair: pair[::-1]) if flip else (lambda pair: pair)
        spec = tmp_path / "law.auth"
        spec.write_text(head + power.format(*order(clauses)) + rule.format(*order(forbids)))
        for how in ((), ("--reference",)):
            for one in (op, no_sharing):
                record = json.loads(run("decide", str(spec), "-", "--json", *how,
                                        stdin=one).stdout)
                del record["law"]
                records.append(record)
    assert all(record == records[i % 2] for i, record in enumerate(records))
    assert [v["code"] for v in records[0]["violations"]] == ["cannot-evaluate",
                                                            "sharing-forbidden"]
    assert [(m["requirement"], m["because"]) for m in records[1]["missing"]] == [
        ("court", "intrusion >= 3")]


def test_the_schema_limits_roles_and_countries_as_the_tool_does() -> None:
    valid = jsonschema.validators.validator_for(schema("operation"))(schema("operation"))
    base = {"id": "o", "date": "2028-01-01"}
    for field, value in (("subjects", [{"role": "r" * 1001}]),
                         ("sharing", [{"recipient": "x", "country": "C" * 1001}])):
        op = {**base, field: value}
        assert not valid.is_valid(op)
        with pytest.raises(OperationError):
            from_json(op)


def test_an_error_to_a_file_is_one_line_however_long(tmp_path: Path) -> None:
    """stderr to a file or a pipe is not wrapped at 80 columns: one message, one line."""
    result = run("decide", str(ROOT / "specs" / "wiv_threat_draft.auth"), "-", "--json",
                 stdin=json.dumps({"id": "a", "date": "2028-09-01",
                                   "duration": "1200000 months"}))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: <stdin>: $.duration: duration `1200000 months` is too long (at most 100000 months)"]


# ---- failing closed, validity windows, facts a prohibition needs, the exit status ------------


def both(law: Law, op: Operation) -> Decision:
    """The decision of the compiled evaluator, insisting that the reference one agrees."""
    decision = compile_law(law).decide(op)
    assert decision == reference(law, op)
    return decision


def example(name: str) -> tuple[Law, dict[str, Any]]:
    """An example operation of the threat-oriented draft, as JSON, and the draft."""
    path = ROOT / "specs" / "operations" / "wiv_threat_draft" / f"{name}.json"
    law, diags = load_law(spec_for(path))
    assert law is not None, diags
    return law, json.loads(path.read_text())


def _misspell_protected(op: dict[str, Any]) -> str:
    op["subjects"][0]["protected"] = ["journalst"]
    return "journalst"


def _misspell_with(op: dict[str, Any]) -> str:
    op["sharing"][0]["with"].append("no_onward_transfer_guarante")
    return "no_onward_transfer_guarante"


def _only_misspelt_with(op: dict[str, Any]) -> str:
    op["sharing"][0]["with"] = ["no_onward_transfer"]
    return "no_onward_transfer"


def _misspell_approval(op: dict[str, Any]) -> str:
    op["approvals"].append({"safeguard": "court_aproval", "date": "2028-08-30"})
    return "court_aproval"


def _misspell_assessment(op: dict[str, Any]) -> str:
    op["assessments"].append("necesity")
    return "necesity"


@pytest.mark.parametrize(("name", "edit"), [
    # Permitted as written: a misspelt category would escape its court approval.
    ("requires-hack-journalist-court", _misspell_protected),
    ("permitted-share-private-party", _misspell_with),
    ("requires-share-private-party-guarantee", _only_misspelt_with),
    ("requires-hack-journalist-court", _misspell_approval),
    ("permitted-hack-terrorism", _misspell_assessment),
], ids=["protected", "with", "with-alone", "approval", "assessment"])
def test_a_misspelt_name_in_an_example_operation_is_denied(
        name: str, edit: Callable[[dict[str, Any]], str]) -> None:
    """Every name an operation gives must be the law's (fail closed): a protected category
    (`journalst`), a name in a sharing's `with` list, an approval or an assessment the law does
    not declare denies the operation as unknown, whatever it would otherwise be."""
    law, raw = example(name)
    bogus = edit(raw)
    decision = both(law, from_json(raw))
    assert decision.verdict == "denied"
    assert [(v.code, f"`{bogus}`" in v.message) for v in decision.violations] == [
        ("unknown-name", True)]


LAST_DAYS = '''law "Windows" {
    version: "1"
    in_force: 2027-01-01 .. 2028-12-31
}

threat t

threat w {
    valid: 2027-01-01 .. 2028-06-30
}

capability c {
    intrusion: 2
}

capability d {
    intrusion: 2
}

safeguard minister {
    by: minister
}

power p {
    threats: t, w
    capabilities: c
    requires: minister
    valid: 2027-01-01 .. 2028-03-31
}

power q {
    threats: t, w
    capabilities: d
    requires: minister
}

forbid f {
    when capabilities contains d
    valid: 2027-01-01 .. 2027-12-31
}
'''


@pytest.mark.parametrize(("threat", "capability", "date", "verdict", "code"), [
    ("t", "c", "2028-03-31", "permitted", None),  # the power's last day
    ("t", "c", "2028-04-01", "denied", "no-legal-basis"),  # the day after
    ("w", "d", "2028-06-30", "permitted", None),  # the threat's last day
    ("w", "d", "2028-07-01", "denied", "threat-not-in-force"),
    ("t", "d", "2027-12-31", "denied", "prohibited"),  # the prohibition's last day
    ("t", "d", "2028-01-01", "permitted", None),
    ("t", "d", "2028-12-31", "permitted", None),  # the law's last day
    ("t", "d", "2029-01-01", "denied", "law-not-in-force"),
    ("t", "d", "2027-01-01", "denied", "prohibited"),  # the first days count too
    ("t", "c", "2027-01-01", "permitted", None),
    ("t", "d", "2026-12-31", "denied", "law-not-in-force"),
])
def test_a_window_includes_its_last_day_and_not_the_next(
        tmp_path: Path, threat: str, capability: str, date: str, verdict: str,
        code: str | None) -> None:
    """A law, a power, a threat and a prohibition apply on the last day of their `valid` (or
    `in_force`) window, and not on the day after (docs/language.md: both ends included)."""
    spec = tmp_path / "windows.auth"
    spec.write_text(LAST_DAYS)
    law, diags = load_law(spec)
    assert law is not None, diags
    op = from_json({"id": "o", "date": date, "threat": threat, "capabilities": [capability],
                    "approvals": ["minister"]})
    decision = both(law, op)
    assert decision.verdict == verdict
    assert [v.code for v in decision.violations] == ([code] if code else [])


NEEDS_A_DURATION = '''law "Durations" {
    version: "1"
    in_force: 2027-01-01 ..
}

threat t

capability c {
    intrusion: 2
}

safeguard minister {
    by: minister
}

recipient partner {
    foreign: false
}

power p {
    threats: t
    capabilities: c
    requires: minister
}

share s {
    recipients: partner
    requires: minister
}

forbid long_operations {
    when duration > 3 months
}
'''


@pytest.mark.parametrize(("extra", "verdict", "codes"), [
    ({"capabilities": ["c"]}, "denied", ["cannot-evaluate"]),
    # Only a sharing: the compiled evaluator's general path.
    ({"sharing": [{"recipient": "partner"}]}, "denied", ["cannot-evaluate"]),
    ({"capabilities": ["c"], "duration": "1 month"}, "permitted", []),
    ({"capabilities": ["c"], "duration": "4 months"}, "denied", ["prohibited"]),
    ({"sharing": [{"recipient": "partner"}], "duration": "4 months"}, "denied", ["prohibited"]),
])
def test_a_prohibition_that_needs_a_fact_not_given_denies(
        tmp_path: Path, extra: dict[str, object], verdict: str, codes: list[str]) -> None:
    """`forbid x { when duration > 3 months }` cannot tell whether an operation that states no
    duration is forbidden: it is denied (fail closed), saying which prohibition could not be
    evaluated, by both evaluators and on both paths of the compiled one."""
    spec = tmp_path / "durations.auth"
    spec.write_text(NEEDS_A_DURATION)
    law, diags = load_law(spec)
    assert law is not None, diags
    op = from_json({"id": "o", "date": "2028-01-01", "threat": "t", "approvals": ["minister"],
                    **extra})
    compiled = compile_law(law)
    for _ in range(2):  # the second time from what the compiled evaluator remembered
        decision = compiled.decide(op)
        assert decision == reference(law, op)
        assert decision.verdict == verdict
        assert [v.code for v in decision.violations] == codes
    if codes == ["cannot-evaluate"]:
        assert "prohibition `long_operations`" in decision.violations[0].message


REQUIRES = [p for p in OPERATIONS if p.stem.startswith("requires-")]


@pytest.mark.parametrize("path", REQUIRES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_decide_exits_3_for_a_requires_verdict(path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Exit status 3 for any decision other than permitted (README): `requires` too, which is
    not permission; 0 would let a script take it for one."""
    assert main(["decide", str(spec_for(path)), str(path), "--json"]) == 3
    assert json.loads(capsys.readouterr().out)["verdict"] == "requires"
    assert main(["decide", str(spec_for(path)), str(path), "--reference", "--no-trace"]) == 3
