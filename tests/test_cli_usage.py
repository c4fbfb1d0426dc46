"""The command line itself: `--`, arguments left over, `-` and empty file names, output that
cannot be written, the same pipe in and out, --fail-under's numbers, the help."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from authority_dsl.cli import main

ROOT = Path(__file__).resolve().parent.parent
LAW = ROOT / "tests" / "fixtures" / "cases" / "law.auth"
SUITE = ROOT / "tests" / "fixtures" / "cases" / "suite"
V1 = ROOT / "tests" / "fixtures" / "audit" / "law_v1.auth"
V2 = ROOT / "tests" / "fixtures" / "audit" / "law_v2.auth"
DRAFT = ROOT / "specs" / "wiv_threat_draft.auth"
DRAFT_OP = ROOT / "specs" / "operations" / "wiv_threat_draft" / "permitted-hack-terrorism.json"
GOOD = {"id": "op-1", "date": "2024-03-01", "threat": "security",
        "capabilities": ["open_sources"], "approvals": ["chief"]}


def _run(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    """`authority ARGS...` in a process of its own; output captured unless given elsewhere."""
    if "stdout" not in kwargs:
        kwargs["capture_output"] = True
    return subprocess.run([sys.executable, "-m", "authority_dsl", *args], timeout=60,
                          check=False, **kwargs)


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Standard error of a usage error (exit 2, nothing on standard output)."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


# ---- `--`: everything after it is positional -------------------------------------------------


@pytest.fixture
def dashed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder, made the current one, holding files whose names begin with `-`."""
    shutil.copy(V1, tmp_path / "-law.auth")
    (tmp_path / "-op.json").write_text(json.dumps(GOOD), encoding="utf-8")
    (tmp_path / "-ops.jsonl").write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("argv", [
    ["check", "--", "-law.auth"],
    ["check", "--strict", "--", "-law.auth"],
    ["lint", "--", "-law.auth"],
    ["fmt", "--check", "--", "-law.auth"],
    ["verify", "--", "-law.auth"],
    ["diff", "--brief", "--", "-law.auth", "-law.auth"],
    ["diff", str(V1), "--brief", "--", "-law.auth"],
])
def test_dashes_end_the_options(dashed: Path, argv: list[str],
                                capsys: pytest.CaptureFixture[str]) -> None:
    """`-law.auth` after `--` is a file, wherever the `--` is (the first argument included)."""
    assert main(argv) in (0, 1)  # 1: fmt --check finds the file not formatted
    assert "not found" not in capsys.readouterr().err


def test_dashes_with_decide_and_audit(dashed: Path, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["decide", "--json", "--", "-law.auth", "-op.json"]) == 0
    assert json.loads(capfd.readouterr().out)["verdict"] == "permitted"
    assert main(["decide", str(V1), "--json", "--", "-op.json"]) == 0
    assert json.loads(capfd.readouterr().out)["verdict"] == "permitted"
    assert main(["audit", "-q", "--", "-law.auth", "-ops.jsonl"]) == 0
    assert json.loads(capfd.readouterr().out)["verdict"] == "permitted"
    # Options still come between the paths, before the `--`.
    assert main(["audit", str(V1), "-q", "--jobs", "1", "--", "-ops.jsonl"]) == 0
    assert json.loads(capfd.readouterr().out)["verdict"] == "permitted"
    assert main(["audit", str(V1), "-q", str(V2), "--", "-ops.jsonl"]) == 0
    assert json.loads(capfd.readouterr().out)["verdict"] == "permitted"


def test_an_option_after_the_dashes_is_a_file(dashed: Path, capfd: pytest.CaptureFixture[str]
                                              ) -> None:
    assert main(["audit", str(V1), "--", "-q"]) == 1
    assert "cannot read `-q`" in capfd.readouterr().err


# ---- arguments left over: the verb's usage, not authority's ----------------------------------


@pytest.mark.parametrize(("argv", "left"), [
    (["verify", str(LAW), str(LAW)], str(LAW)),
    (["diff", str(LAW), str(LAW), "EXTRA"], "EXTRA"),
    (["decide", str(LAW), "op.json", "more.json"], "more.json"),
    (["audit", "--bogus", "x"], "--bogus"),
    (["check", str(LAW), "--bogus"], "--bogus"),
])
def test_left_over_arguments_are_the_verbs_error(argv: list[str], left: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage_error(argv, capsys)
    verb = argv[0]
    assert err.startswith(f"usage: authority {verb} ")
    assert err.rstrip().endswith(f"authority {verb}: error: unrecognized arguments: {left}")
    assert "usage: authority [-h]" not in err


# ---- `-` and empty file names -----------------------------------------------------------------


def test_audit_output_dash_is_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capfd: pytest.CaptureFixture[str]) -> None:
    ops = tmp_path / "ops.jsonl"
    ops.write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["audit", "-q", str(V1), str(ops), "-o", "-"]) == 0
    assert json.loads(capfd.readouterr().out)["verdict"] == "permitted"
    assert not (tmp_path / "-").exists()


def test_junit_dash_is_stdout_and_the_table_goes_to_stderr(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import xml.etree.ElementTree as ET

    monkeypatch.chdir(tmp_path)
    assert main(["test", str(LAW), str(SUITE), "--junit", "-"]) == 0
    captured = capsys.readouterr()
    assert ET.fromstring(captured.out).tag == "testsuites"
    assert "passed, 0 failed; coverage" in " ".join(captured.err.split())
    assert not (tmp_path / "-").exists()
    assert main(["test", str(LAW), str(SUITE), "--junit", "-", "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--junit - and --json would both write to stdout" in " ".join(captured.err.split())


@pytest.mark.parametrize(("argv", "option"), [
    (["audit", str(V1), "ops.jsonl", "-o", ""], "-o/--output"),
    (["audit", str(V1), ""], "SPEC... OPERATIONS.jsonl"),
    (["test", str(LAW), str(SUITE), "--junit", ""], "--junit"),
    (["check", "--lexicon", "", str(LAW)], "--lexicon"),
    (["lint", "--lexicon=", str(LAW)], "--lexicon"),
    (["check", ""], "SPEC"),
    (["decide", str(LAW), ""], "OPERATION"),
    (["fmt", ""], "PATH"),
])
def test_an_empty_file_name_is_a_usage_error(argv: list[str], option: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage_error(argv, capsys)
    assert f"error: argument {option}: empty file name" in err


@pytest.mark.parametrize(("argv", "verb", "what"), [
    (["check", "-"], "check", "SPEC"),
    (["lint", str(LAW), "-"], "lint", "SPEC"),
    (["fmt", "--check", "-"], "fmt", "PATH"),
    (["verify", "-"], "verify", "SPEC"),
    (["diff", str(LAW), "-"], "diff", "NEW"),
    (["decide", "-", "-"], "decide", "SPEC"),
    (["test", str(LAW), "-"], "test", "CASES"),
])
def test_dash_is_not_a_spec(argv: list[str], verb: str, what: str,
                            capsys: pytest.CaptureFixture[str]) -> None:
    """`-` names no file these verbs read: a usage error that says so, not "file `-` not
    found"."""
    err = _usage_error(argv, capsys)
    assert (f"authority {verb}: error: argument {what}: `-` (standard input) is not read by "
            f"`{verb}`: give a file") in err


def test_dash_is_not_an_audit_spec(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "-", "ops.jsonl"]) == 2
    assert "`-` (standard input) is not read by `audit` as a SPEC" in capsys.readouterr().err


# ---- the output is the input -----------------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/stdin").exists(), reason="needs /dev/stdin")
def test_audit_refuses_to_write_into_its_own_input_pipe() -> None:
    """`cat ops | authority audit LAW - -o /dev/stdin` would read its own decisions back
    without end."""
    line = json.dumps(GOOD).encode() + b"\n"
    result = _run("audit", "-q", str(V1), "-", "-o", "/dev/stdin", input=line * 3)
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.decode() == (
        "error: `/dev/stdin` is the input itself (the same pipe): the audit would read its own "
        "decisions back; write elsewhere\n")


def test_audit_refuses_to_append_to_its_own_input(tmp_path: Path) -> None:
    """`authority audit LAW ops.jsonl >> ops.jsonl`: standard output is the input file."""
    ops = tmp_path / "ops.jsonl"
    before = (json.dumps(GOOD) + "\n").encode() * 3
    ops.write_bytes(before)
    with ops.open("ab") as out:
        result = _run("audit", "-q", str(V1), str(ops), stdout=out, stderr=subprocess.PIPE)
    assert result.returncode == 1
    assert "error: standard output is the input itself (the same file)" in result.stderr.decode()
    assert ops.read_bytes() == before


# ---- output that cannot be written -------------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("argv", [
    ["decide", "--json", str(DRAFT), str(DRAFT_OP)],
    ["decide", str(DRAFT), str(DRAFT_OP)],
    ["check", "--format", "json", str(LAW)],
    ["lint", "--format", "sarif", str(LAW)],
    ["test", str(LAW), str(SUITE)],
    ["test", "--json", str(LAW), str(SUITE)],
    ["test", "--junit", "-", str(LAW), str(SUITE)],
    ["verify", str(DRAFT)],
    ["diff", "--brief", str(V1), str(V2)],
])
def test_a_full_disk_is_one_line_and_status_1(argv: list[str]) -> None:
    with open("/dev/full", "wb") as full:
        result = _run(*argv, stdout=full, stderr=subprocess.PIPE)
    err = result.stderr.decode()
    assert (result.returncode, err) == (1, "error: cannot write the output: no space left on "
                                           "device\n")


# ---- --fail-under: ASCII decimal numbers only ----------------------------------------------


@pytest.mark.parametrize("threshold", ["5_0", "٥٠", "５０", " 50", "50 ", "0x32", "50%", ""])
def test_fail_under_takes_ascii_digits_only(threshold: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage_error(["test", str(LAW), str(SUITE), "--fail-under", threshold], capsys)
    assert f"argument --fail-under: `{threshold}` is not a number" in err


@pytest.mark.parametrize("threshold", ["0", ".5", "5.", "99.99", "100", "1e2", "+100.000"])
def test_fail_under_reads_decimal_numbers(threshold: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The suite covers every provision: 100% is not below any of these."""
    assert main(["test", str(LAW), str(SUITE), "--fail-under", threshold]) == 0
    assert "coverage 100.0% (17 of 17 provisions)" in capsys.readouterr().out


# ---- the help -----------------------------------------------------------------------------------


def test_audit_usage_wraps(monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as exc:
        main(["audit", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: authority audit [-h] [-o DECISIONS.jsonl]")
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "SPEC... OPERATIONS.jsonl\n" in out
    assert "[SPEC... OPERATIONS.jsonl" not in out
    # An error repeats the same usage.
    err = _usage_error(["audit", "--jobs", "0", str(V1), "x"], capsys)
    assert max(len(line) for line in err.splitlines()[:-1]) <= 80


def test_the_exit_codes_in_the_help(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    for said in ("1 bad spec or input or a failed write", "a violated principle (verify)",
                 "a changed verdict (diff --exit-code)", "130 interrupted",
                 "143 terminated", "129 hung up", "141 its reader stopped"):
        assert said in out


# ---- the audit's summary ---------------------------------------------------------------------


def test_the_summary_counts_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ops = tmp_path / "ops.jsonl"
    ops.write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    assert main(["audit", "--no-progress", str(V1), str(ops), "-o", str(tmp_path / "d")]) == 0
    err = capsys.readouterr().err
    assert err.startswith("1 line in ")
    ops.write_text((json.dumps(GOOD) + "\n") * 2, encoding="utf-8")
    assert main(["audit", "--no-progress", str(V1), str(ops), "-o", str(tmp_path / "d")]) == 0
    assert capsys.readouterr().err.startswith("2 lines in ")
