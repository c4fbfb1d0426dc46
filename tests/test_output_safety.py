"""Output that data cannot spoil: text that no operation, name or file drives the terminal with,
text that any locale's encoding can carry, JSON, SARIF and JUnit that are UTF-8 whatever the
locale and whatever the file names, and names shown whole when the output is not a terminal."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from authority_dsl.cli import main
from authority_dsl.repl.app import history_problem, run_piped, show
from authority_dsl.repl.session import Session

LAW = """\
law "Safety test law" {
    id: "safety"
    version: "1"
    in_force: 2027-01-01 ..
}

threat terrorism {
    severity: 5
    cites: "art. 1"
}

capability targeted_interception_of_communications_content {
    intrusion: 4
    cites: "art. 2"
}

safeguard prior_approval_by_the_district_court_of_the_hague {
    by: court
    cites: "art. 3"
}

power targeted_interception_of_telecommunications_power {
    threats: terrorism
    capabilities: targeted_interception_of_communications_content
    requires: prior_approval_by_the_district_court_of_the_hague
    cites: "art. 4"
}

principle interception_needs_the_court {
    requires: prior_approval_by_the_district_court_of_the_hague
    when intrusion >= 4
}
"""
CAPABILITY = "targeted_interception_of_communications_content"
POWER = "targeted_interception_of_telecommunications_power"
SAFEGUARD = "prior_approval_by_the_district_court_of_the_hague"

# An id that would set the window title, hide text, reorder it, and forge a verdict line.
EVIL_ID = "a\x1b]0;pwned\x07b\u202e\x85\x7f\u2028\nPERMITTED"
EVIL_ID_SHOWN = "a\\x1b]0;pwned\\x07b\\u202e\\x85\\x7f\\u2028\\nPERMITTED"
EVIL_THREAT = "terror\x1b[8mism"
EVIL_THREAT_SHOWN = "terror\\x1b[8mism"

_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_SGR = re.compile(r"\x1b\[[0-9;]*m")  # the styles rich itself writes on a terminal


def hazards(text: str) -> list[str]:
    """The characters of `text` that could drive a terminal (a line feed ends a line: allowed)."""
    return [c for c in text if c != "\n" and unicodedata.category(c) in _HIDDEN]


@pytest.fixture
def law(tmp_path: Path) -> Path:
    path = tmp_path / "law.auth"
    path.write_text(LAW, encoding="utf-8")
    return path


def operation(tmp_path: Path, id: str = "op-1", threat: str = "terrorism",
              name: str = "op.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"id": id, "date": "2027-03-01", "threat": threat,
                                "capabilities": [CAPABILITY]}), encoding="utf-8")
    return path


def cases(tmp_path: Path, name: str = "cases.auth", case: str = "needs the court",
          expect: str = "requires") -> Path:
    path = tmp_path / name
    path.write_text(f'case "{case}" {{\n    expect: {expect}\n    operation c1 {{\n'
                    f"        date: 2027-03-01\n        threat: terrorism\n"
                    f"        capabilities: {CAPABILITY}\n    }}\n}}\n", encoding="utf-8")
    return path


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None,
        ) -> subprocess.CompletedProcess[bytes]:
    base = {k: v for k, v in os.environ.items()
            if k not in ("PYTHONIOENCODING", "PYTHONUTF8", "LC_ALL", "COLUMNS")}
    return subprocess.run([sys.executable, "-m", "authority_dsl", *args], capture_output=True,
                          env={**base, **(env or {})}, timeout=120, check=False,
                          input=None if input is None else input.encode())


# ---- 1. data never drives the terminal ---------------------------------------------------------


def test_decide_shows_control_characters_of_the_operation_escaped(
        tmp_path: Path, law: Path, capsys: pytest.CaptureFixture[str]) -> None:
    op = operation(tmp_path, EVIL_ID, EVIL_THREAT)
    assert main(["decide", str(law), str(op)]) == 3
    out = capsys.readouterr().out
    assert not hazards(out), out
    assert EVIL_ID_SHOWN in out
    assert f"unknown threat `{EVIL_THREAT_SHOWN}`" in out
    assert not any(line.startswith("PERMITTED") for line in out.splitlines())


def test_decide_on_a_terminal_writes_no_escape_sequence_of_the_data(
        tmp_path: Path, law: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich styles as on a terminal
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    op = operation(tmp_path, EVIL_ID, EVIL_THREAT)
    assert main(["decide", str(law), str(op), "--no-trace"]) == 3
    out = capsys.readouterr().out
    assert "\x1b[" in out  # styled
    assert not hazards(_SGR.sub("", out)), out


def test_file_names_in_diagnostics_are_escaped(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "e\x1b[31mX\nY.auth"
    path.write_text('law "t" {', encoding="utf-8")
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert not hazards(err), err
    assert f"{tmp_path}/e\\x1b[31mX\\nY.auth:1:9: error[syntax-error]: " in err


def test_decide_names_an_operation_file_escaped_in_its_error(
        tmp_path: Path, law: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "b\x1b[2J\nad.json"
    path.write_text('{"id": "x"}', encoding="utf-8")
    assert main(["decide", str(law), str(path)]) == 1
    err = capsys.readouterr().err
    assert not hazards(err), err
    assert err == f"error: {tmp_path}/b\\x1b[2J\\nad.json: $.date: missing: every operation " \
        "needs a start `date`\n"


@pytest.mark.parametrize("verb", ["test", "verify", "diff"])
def test_test_verify_and_diff_write_no_control_character_of_the_data(
        tmp_path: Path, verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    law = tmp_path / "law\x1b]0;x\x07\u202e.auth"
    law.write_text(LAW, encoding="utf-8")
    suite = cases(tmp_path, "cases\x1b[2J.auth", case="case\x1b]0;x name", expect="permitted")
    args = {"test": [str(law), str(suite)], "verify": [str(law)],
            "diff": [str(law), str(law)]}[verb]
    main([verb, *args])
    captured = capsys.readouterr()
    assert not hazards(captured.out + captured.err), captured.out


def test_the_repl_writes_no_control_character_of_the_data(tmp_path: Path, law: Path) -> None:
    op = operation(tmp_path, EVIL_ID, EVIL_THREAT)
    session = Session()
    session.load(str(law))
    buffer = io.StringIO()
    console = Console(file=buffer, width=300, color_system=None)
    run_piped(session, [f"open {op}\n", "decide\n", "why\n", "show\n", "history\n"], console)
    assert not hazards(buffer.getvalue()), buffer.getvalue()
    assert f"operation `{EVIL_ID_SHOWN}` read from" in buffer.getvalue()
    assert f"DENIED  operation {EVIL_ID_SHOWN} on 2027-03-01" in buffer.getvalue()
    assert EVIL_THREAT_SHOWN in buffer.getvalue()
    # On a terminal, with styles.
    terminal = io.StringIO()
    console = Console(file=terminal, width=100, force_terminal=True, color_system="standard")
    for command in ("decide", "why", "show"):
        show(console, session.execute(command))
    assert "\x1b[" in terminal.getvalue()
    assert not hazards(_SGR.sub("", terminal.getvalue())), terminal.getvalue()


# ---- 2. any encoding ----------------------------------------------------------------------------

ENCODINGS = [{"PYTHONIOENCODING": "ascii"}, {"PYTHONIOENCODING": "latin-1"},
             {"PYTHONUTF8": "0", "LC_ALL": "C"}]


@pytest.mark.parametrize("env", ENCODINGS, ids=["ascii", "latin-1", "C"])
def test_decide_text_in_any_encoding(tmp_path: Path, law: Path, env: dict[str, str]) -> None:
    # The trace's `·`, an elided cell's `…` and a name that is not ASCII.
    op = operation(tmp_path, "opé—1")
    result = run("decide", str(law), str(op), env={**env, "COLUMNS": "40"})
    assert result.returncode == 3, result.stderr
    assert b"Traceback" not in result.stderr
    assert b"REQUIRES" in result.stdout


@pytest.mark.parametrize("verb", ["test", "verify", "diff", "repl"])
def test_text_output_in_ascii(tmp_path: Path, law: Path, verb: str) -> None:
    suite = cases(tmp_path, expect="permitted")  # failed: `✗`, and `✓` for the coverage
    op = operation(tmp_path, "opé—1")
    changed = tmp_path / "changed.auth"  # a change for `diff` to show, with its `·`
    changed.write_text(LAW.split("principle")[0].replace(f"    requires: {SAFEGUARD}\n", ""),
                       encoding="utf-8")
    args = {"test": [str(law), str(suite)], "verify": [str(law)],
            "diff": [str(law), str(changed)], "repl": [str(law)]}[verb]
    result = run(verb, *args, env={"PYTHONIOENCODING": "ascii"},
                 input=f"open {op}\ndecide\nwhy\n" if verb == "repl" else None)
    assert b"Traceback" not in result.stderr, result.stderr.decode(errors="replace")
    assert result.returncode in (0, 3), result.stderr
    result.stdout.decode("ascii")


@pytest.mark.parametrize("env", ENCODINGS, ids=["ascii", "latin-1", "C"])
def test_json_is_utf8_whatever_the_locale(tmp_path: Path, law: Path,
                                          env: dict[str, str]) -> None:
    op = operation(tmp_path, "opé—1")
    result = run("decide", "--json", str(law), str(op), env=env)
    assert result.returncode == 3, result.stderr
    assert json.loads(result.stdout.decode("utf-8"))["operation"] == "opé—1"
    result = run("test", "--json", str(law), str(cases(tmp_path, case="caseé—")), env=env)
    assert json.loads(result.stdout.decode("utf-8"))["cases"][0]["name"] == "caseé—"


def test_check_json_and_sarif_are_utf8_in_ascii(tmp_path: Path) -> None:
    path = tmp_path / "lawé—.auth"
    path.write_text('law "t" {', encoding="utf-8")
    for fmt in ("json", "sarif"):
        result = run("check", "--format", fmt, str(path), env={"PYTHONIOENCODING": "ascii"})
        assert result.returncode == 1, result.stderr
        assert "lawé—.auth" in result.stdout.decode("utf-8") or \
            "law%C3%A9%E2%80%94.auth" in result.stdout.decode("utf-8")


# ---- 3. file names that are not UTF-8 ------------------------------------------------------------

BAD = os.fsdecode(b"x\xff.auth")


def _json_out(capsysbinary: pytest.CaptureFixture[bytes]) -> object:
    return json.loads(capsysbinary.readouterr().out.decode("utf-8"))


@pytest.mark.parametrize("verb", ["check", "lint"])
def test_sarif_percent_encodes_the_bytes_of_a_file_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, verb: str,
        capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    monkeypatch.chdir(tmp_path)
    Path(BAD).write_text('law "t" {', encoding="utf-8")
    assert main([verb, "--format", "sarif", BAD]) == 1
    log = _json_out(capsysbinary)
    assert isinstance(log, dict)
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "x%FF.auth"
    assert main([verb, "--format", "sarif", str(tmp_path / BAD)]) == 1
    log = _json_out(capsysbinary)
    assert isinstance(log, dict)
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("/x%FF.auth")


def test_check_json_names_a_file_that_is_not_utf8_with_a_backslash_escape(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    monkeypatch.chdir(tmp_path)
    Path(BAD).write_text('law "t" {', encoding="utf-8")
    assert main(["check", "--format", "json", BAD]) == 1
    report = _json_out(capsysbinary)
    assert isinstance(report, dict)
    assert report["diagnostics"][0]["file"] == "x\\udcff.auth"


def test_test_json_and_junit_name_a_case_file_that_is_not_utf8(
        tmp_path: Path, law: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    suite = cases(tmp_path, os.fsdecode(b"c\xff.auth"))
    junit = tmp_path / "junit.xml"
    assert main(["test", "--json", "--junit", str(junit), str(law), str(suite)]) == 0
    report = _json_out(capsysbinary)
    assert isinstance(report, dict)
    assert report["cases"][0]["file"] == f"{tmp_path}/c\\udcff.auth"
    suite_element = ET.parse(junit).getroot().find("testsuite")
    assert suite_element is not None
    assert suite_element.get("file") == f"{tmp_path}/c\\udcff.auth"


# ---- 5. names whole when the output is not a terminal --------------------------------------------


def test_decide_and_test_never_elide_names_in_a_pipe(
        tmp_path: Path, law: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    assert main(["decide", str(law), str(operation(tmp_path))]) == 3
    out = capsys.readouterr().out
    assert "…" not in out
    for name in (CAPABILITY, POWER, SAFEGUARD):
        assert re.search(rf"(^|\s|`){name}(\s|`|,|$)", out, re.MULTILINE), (name, out)
    assert "REQUIRES  operation op-1 under Safety test law (1)\n" in out
    assert main(["test", str(law), str(cases(tmp_path, expect="permitted"))]) == 3
    out = capsys.readouterr().out
    assert "…" not in out and SAFEGUARD in out and POWER in out


def test_repl_lists_never_elide_names(tmp_path: Path, law: Path) -> None:
    session = Session()
    session.load(str(law))
    text = session.execute("list powers").text(30)
    assert "…" not in text
    assert POWER in text.replace("\n", "").replace(" ", "")


# ---- 6. one wording for a file that cannot be used ----------------------------------------------


def test_the_repl_says_permission_denied_in_lowercase(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied", str(args[0]))

    monkeypatch.setattr("builtins.open", refuse)
    assert history_problem(tmp_path / "history") == "permission denied"
