"""Bad input never shows a traceback: every case exits 1 with a located message."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from authority_dsl.cli import main

LOCATED = re.compile(r"[^\s:]+:\d+:\d+: error\[[a-z-]+\]: ")

CASES: dict[str, bytes] = {
    "empty": b"",
    "binary_garbage": bytes(range(256)) * 40,
    "invalid_utf8": b'law "x" {\n    version: "\xff\xfe"\n}\n',
    "unterminated_string": b'law "x {\n',
    "nested_parens": b'law "x" { version: "1" }\nforbid f { when ' + b"(" * 10_000 + b"urgent"
    + b")" * 10_000 + b" }\n",
    "long_identifier": b'law "x" { version: "1" }\nthreat ' + b"t" * 100_000 + b"\n",
    "twenty_megabytes": b'law "x" { version: "1" }\n' + (b"# padding " + b"x" * 90 + b"\n")
    * 200_000,
    "lone_brace": b"}",
    "control_characters": b"\x1b[31m\x07\x08",
}


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "authority_dsl", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120, env={**os.environ, "COLUMNS": "100"})


# An empty file is validly formatted (to nothing); `check` is what reports it.
PAIRS = [(verb, name) for verb in ("check", "fmt") for name in sorted(CASES)
         if (verb, name) != ("fmt", "empty")]


@pytest.mark.parametrize(("verb", "name"), PAIRS)
def test_bad_file(tmp_path: Path, name: str, verb: str) -> None:
    path = tmp_path / f"{name}.auth"
    path.write_bytes(CASES[name])
    before = path.read_bytes()
    result = run(verb, str(path))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert LOCATED.search(result.stderr), result.stderr[:2000]
    assert str(path) in result.stderr
    assert path.read_bytes() == before  # nothing written over bad input


def test_missing_file(tmp_path: Path) -> None:
    result = run("check", str(tmp_path / "nowhere.auth"))
    assert result.returncode == 1
    assert "nowhere.auth:1:1: error[bad-source]: file" in result.stderr
    assert "not found" in result.stderr


def test_directory(tmp_path: Path) -> None:
    result = run("check", str(tmp_path))
    assert result.returncode == 1
    assert "is a directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "secret.auth"
    path.write_text('law "x" { version: "1" }\n')

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    # Root reads any file, so refuse at the point where the file is read.
    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "secret.auth:1:1: error[bad-source]: file" in err
    assert "permission denied" in err


def test_usage_error_exits_2() -> None:
    result = run("check")
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_caret_under_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "typo.auth"
    path.write_text('law "x" { version: "1" }\nthreat terrorism {\n    severty: 3\n}\n')
    result = run("check", str(path))
    lines = result.stderr.splitlines()
    assert lines[0].endswith("typo.auth:3:5: error[bad-field]: unknown field `severty` in a threat")
    assert lines[1] == "3 |     severty: 3"
    assert lines[2] == "  |     ^^^^^^^"
    assert "did you mean `severity`?" in lines[3]


def test_json_format(tmp_path: Path) -> None:
    import json

    path = tmp_path / "typo.auth"
    path.write_text('law "x" { version: "1" }\nthreat terrorism {\n    severty: 3\n}\n')
    result = run("check", "--format", "json", str(path))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["errors"] == 1
    (d,) = report["diagnostics"]
    assert (d["code"], d["line"], d["column"]) == ("bad-field", 3, 5)
    assert d["help"] == "did you mean `severity`?"


def test_warnings_fail_only_with_strict(tmp_path: Path) -> None:
    path = tmp_path / "warn.auth"
    path.write_text('law "x" { version: "1" }\nthreat t\ncapability c { intrusion: 1 }\n'
                    'assessment necessity\npower p {\n    threats: t\n    capabilities: c\n'
                    '    requires: necessity\n}\n')
    assert run("check", str(path)).returncode == 0
    strict = run("check", "--strict", str(path))
    assert strict.returncode == 1
    assert "warning[no-safeguard]" in strict.stderr


def test_ctrl_c_while_the_commands_load(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C before a command starts (its modules still loading) ends with status 130 and one
    line, not a traceback."""
    import authority_dsl.cli as cli

    def interrupted() -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert main(["check", "specs/wiv2017.auth"]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_a_closed_standard_output_is_no_traceback(tmp_path: Path) -> None:
    """Started with standard output closed (`>&-`): what would go there is dropped, the exit
    status is the verb's, and a file written with `-o` is whole (it did not take descriptor 1
    to be then treated as standard output)."""
    root = Path(__file__).parent.parent
    spec = root / "specs" / "wiv_threat_draft.auth"
    op = root / "specs" / "operations" / "wiv_threat_draft" / "permitted-hack-terrorism.json"
    log = tmp_path / "ops.jsonl"
    log.write_bytes(op.read_bytes().replace(b"\n", b" ").strip() + b"\n")
    out = tmp_path / "out.jsonl"

    def closed(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "authority_dsl", *args], stdout=None,
                              stderr=subprocess.PIPE, text=True, timeout=120,
                              preexec_fn=lambda: os.close(1))

    result = closed("decide", str(spec), str(op))
    assert (result.returncode, result.stderr) == (0, "")
    result = closed("audit", "-q", str(spec), str(log), "-o", str(out))
    assert (result.returncode, result.stderr) == (0, "")
    assert len(out.read_bytes().splitlines()) == 1
    result = closed("check", str(tmp_path / "missing.auth"))
    assert result.returncode == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize("target", ["sub", "."])
def test_an_import_of_a_folder_is_located_at_the_import(tmp_path: Path, target: str) -> None:
    (tmp_path / "sub").mkdir()
    spec = tmp_path / "law.auth"
    spec.write_text(f'import "{target}"\nlaw "x" {{\n    id: "x"\n}}\n')
    result = run("check", str(spec))
    assert result.returncode == 1
    assert f"{spec}:1:8: error[bad-source]: import `{target}` names a folder" in result.stderr
