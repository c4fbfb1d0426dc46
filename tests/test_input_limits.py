"""Inputs that are no plain regular file, inputs without end, and numbers of too many digits:
every verb reads a pipe, a FIFO or a device once and at most as far as its limit, and reports
what is wrong with a location, never with a traceback."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from authority_dsl.diagnostics import DiagnosticError

LAW = '''law "mini" {
    version: "1"
}

threat t {
    severity: 1
    cites: "art. 1"
}

capability c {
    intrusion: 1
    cites: "art. 2"
}

safeguard s

power p {
    threats: t
    capabilities: c
    requires: s
    max_duration: DURATION days
    cites: "art. 3"
}
'''
OPERATION = '{"id": "o", "date": "2028-01-01", "threat": "t", "approvals": ["s"]}\n'
CASES = '''case "c" {
    expect: permitted
    operation o {
        date: 2028-01-01
        threat: t
        duration: DURATION days
        approvals: s
    }
}
'''
DIGITS = "9" * 5000  # more than the 4,300 digits `int` converts
ZERO = "/dev/zero"
# The cli change given in the report (cli/common.py reads an operation with
# `operation.read_bytes`, cli/fmt.py calls `source.refuse_stream`): until it is made, the tests
# of it fail, as they are marked to; with it, remove the marks.


def _limit_memory() -> None:  # an input without end must fail fast, not take the machine
    resource.setrlimit(resource.RLIMIT_AS, (1500 * 1024 * 1024, 1500 * 1024 * 1024))


def run(*args: str, stdin: bytes | None = None, timeout: float = 60,
        pass_fds: tuple[int, ...] = ()) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "authority_dsl", *args], input=stdin,
                            capture_output=True, timeout=timeout, pass_fds=pass_fds,
                            env={**os.environ, "COLUMNS": "200"}, preexec_fn=_limit_memory)
    return subprocess.CompletedProcess(result.args, result.returncode,
                                       result.stdout.decode("utf-8", "replace"),
                                       result.stderr.decode("utf-8", "replace"))


def clean(result: subprocess.CompletedProcess[str]) -> str:
    """The output, after checking it shows no traceback."""
    out = result.stdout + result.stderr
    assert "Traceback" not in out and "internal error" not in out, out[-3000:]
    return out


@pytest.fixture
def law(tmp_path: Path) -> Path:
    path = tmp_path / "law.auth"
    path.write_text(LAW.replace("DURATION", "3"))
    return path


def _fifo(tmp_path: Path, data: bytes | None) -> Path:
    """A FIFO that gives `data` to the first reader (nothing is written when None)."""
    path = tmp_path / "fifo.auth"
    os.mkfifo(path)
    if data is not None:
        def write() -> None:
            with open(path, "wb") as handle:
                handle.write(data)
        threading.Thread(target=write, daemon=True).start()
    return path


# ---- 1. a law read from a pipe, a FIFO or process substitution ----------------------------------


@pytest.mark.parametrize("verb", ["check", "lint"])
def test_a_law_from_standard_input(verb: str) -> None:
    result = run(verb, "/dev/stdin", stdin=LAW.replace("DURATION", "3").encode())
    assert result.returncode == 0, clean(result)
    assert "file-kind" not in clean(result)


@pytest.mark.parametrize("verb", ["check", "lint"])
def test_a_law_from_a_fifo_is_read_once(tmp_path: Path, verb: str) -> None:
    fifo = _fifo(tmp_path, LAW.replace("DURATION", "3").encode())
    result = run(verb, str(fifo), timeout=20)  # a second reading would wait for ever
    assert result.returncode == 0, clean(result)


@pytest.mark.parametrize("verb", ["check", "lint"])
def test_a_law_from_process_substitution(verb: str) -> None:
    read, write = os.pipe()
    os.write(write, LAW.replace("DURATION", "3").encode())
    os.close(write)
    try:
        result = run(verb, f"/dev/fd/{read}", pass_fds=(read,))
    finally:
        os.close(read)
    assert result.returncode == 0, clean(result)


def test_a_register_from_a_pipe_keeps_its_text() -> None:
    """A file that is no law is checked on the text it was read with: the hidden character
    is found, which a second reading (of nothing) missed."""
    register = ('register "r" {\n    version: "1"\n}\n\ntechnique x -> c {\n'
                '    description: "a\u200bb"\n}\n')
    result = run("check", "/dev/stdin", stdin=register.encode())
    assert "hidden-character" in clean(result)


@pytest.mark.parametrize("verb", ["check", "lint"])
def test_each_spec_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                verb: str) -> None:
    """`check` and `lint` read each file they are given once, a law or not, whatever the text
    of a stream would be on a second reading."""
    from authority_dsl import checker
    from authority_dsl.cli import main

    law = tmp_path / "law.auth"
    law.write_text(LAW.replace("DURATION", "3"), encoding="utf-8")
    register = tmp_path / "register.auth"
    register.write_text('register "r" {\n    version: "1"\n}\n', encoding="utf-8")
    broken = tmp_path / "broken.auth"
    broken.write_text('law "b" {\n', encoding="utf-8")
    reads: list[str] = []
    real = checker.read_source

    def counted(path: str | Path) -> str:
        reads.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(checker, "read_source", counted)
    code = main([verb, str(law), str(register), str(broken)])
    assert code == 1  # the broken law
    assert sorted(reads) == ["broken.auth", "law.auth", "register.auth"]


def test_the_text_of_a_stream_is_read_once(tmp_path: Path) -> None:
    from authority_dsl.source import read_source

    text = LAW.replace("DURATION", "3")
    fifo = _fifo(tmp_path, text.encode())
    assert read_source(fifo) == text
    again: list[str] = []  # not read again: no writer is left, a reading would wait for ever
    reader = threading.Thread(target=lambda: again.append(read_source(fifo)), daemon=True)
    reader.start()
    reader.join(10)
    assert again == [text]


def test_refuse_stream(tmp_path: Path, law: Path) -> None:
    from authority_dsl.source import refuse_stream

    refuse_stream(law, "fmt-not-a-file", "why")
    refuse_stream(tmp_path / "nowhere.auth", "fmt-not-a-file", "why")  # left to the reading
    with pytest.raises(DiagnosticError) as exc:
        refuse_stream(_fifo(tmp_path, None), "fmt-not-a-file", "fmt rewrites files in place")
    d = exc.value.diagnostics[0]
    assert (d.code, d.span.line, d.span.column) == ("fmt-not-a-file", 1, 1)
    assert d.message.endswith("is a pipe, not a regular file: fmt rewrites files in place")
    with pytest.raises(DiagnosticError, match="is a device"):
        refuse_stream("/dev/null", "fmt-not-a-file", "why")


def test_fmt_refuses_to_rewrite_a_pipe() -> None:
    result = run("fmt", "/dev/stdin", stdin=b'law "mini"   {\n    version: "1"\n}\n')
    assert result.returncode == 1
    assert "/dev/stdin:1:1: error[fmt-not-a-file]: `/dev/stdin` is a pipe" in clean(result)


def test_fmt_refuses_a_fifo_without_waiting_for_it(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path, None)
    result = run("fmt", str(fifo), timeout=10)
    assert result.returncode == 1
    assert "fmt-not-a-file" in clean(result)


def test_fmt_check_reads_a_pipe_once() -> None:
    result = run("fmt", "--check", "/dev/stdin", stdin=b'law "mini"   {\n    version: "1"\n}\n')
    assert result.returncode == 1
    assert "/dev/stdin: not formatted" in clean(result)


# ---- 2. inputs larger than the limits, and inputs without end -----------------------------------


@pytest.mark.parametrize("args", [
    ("check", ZERO), ("fmt", "--check", ZERO), ("lint", ZERO), ("test", "LAW", ZERO),
    ("check", "--lexicon", ZERO, "LAW"), ("decide", ZERO, "OPERATION"),
], ids=lambda args: " ".join(args))
def test_a_spec_without_end(tmp_path: Path, law: Path, args: tuple[str, ...]) -> None:
    operation = tmp_path / "op.json"
    operation.write_text(OPERATION)
    given = {"LAW": str(law), "OPERATION": str(operation)}
    result = run(*(given.get(a, a) for a in args))
    assert result.returncode == 1
    assert "/dev/zero:1:1: " in clean(result)
    assert "input is larger than 4 MiB, the most a spec may be" in result.stderr


def test_a_spec_from_a_pipe_larger_than_the_limit() -> None:
    text = LAW.replace("DURATION", "3") + "# padding\n" * 500_000
    result = run("check", "/dev/stdin", stdin=text.encode())
    assert result.returncode == 1
    assert ("/dev/stdin:1:1: error[bad-source]: input is larger than 4 MiB, the most a spec may "
            "be") in clean(result)


def test_a_regular_file_larger_than_the_limit_says_its_size(tmp_path: Path) -> None:
    from authority_dsl.source import read_source

    path = tmp_path / "big.auth"
    path.write_bytes(b"#" * (5 * 1024 * 1024))
    with pytest.raises(DiagnosticError, match=r"file is 5\.2 MB; a spec may be at most 4 MiB"):
        read_source(path)


def test_an_operation_is_read_as_far_as_its_limit() -> None:
    from authority_dsl.operation import MAX_OPERATION_BYTES, read_bytes

    assert MAX_OPERATION_BYTES == 16 * 1024 * 1024
    with pytest.raises(DiagnosticError) as exc:
        read_bytes(ZERO)
    d = exc.value.diagnostics[0]
    assert (str(d.span), d.code) == ("/dev/zero:1:1", "bad-input")
    assert d.message == "input is larger than 16 MiB, the most an operation may be"


def test_decide_an_operation_without_end(law: Path) -> None:
    result = run("decide", str(law), ZERO)
    assert result.returncode == 1
    assert "/dev/zero:1:1: input is larger than 16 MiB" in clean(result)


def test_decide_standard_input_larger_than_the_limit(law: Path) -> None:
    result = run("decide", str(law), "-", stdin=b"y\n" * (9 * 1024 * 1024))
    assert result.returncode == 1
    assert "<stdin>:1:1: input is larger than 16 MiB" in clean(result)


# ---- 3. numbers of more digits than `int` converts ----------------------------------------------


def test_decide_a_json_number_of_too_many_digits(tmp_path: Path, law: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(OPERATION.replace('"approvals"', f'"urgent": {DIGITS}, "approvals"'))
    result = run("decide", str(law), str(path))
    assert result.returncode == 1
    assert f"{path}: $.urgent: invalid JSON: a number has too many digits" in clean(result)


def test_the_json_path_of_a_number_of_too_many_digits() -> None:
    from authority_dsl.operation import OperationError, loads

    text = OPERATION.replace('"approvals"', f'"subjects": [{{"role": "target", "protected": '
                             f'[1, -{DIGITS}]}}], "approvals"')
    with pytest.raises(OperationError) as exc:
        loads(text)
    assert exc.value.path == "$.subjects[0].protected[1]"


@pytest.mark.parametrize("args", [
    ("check", "BIG"), ("fmt", "--check", "BIG"), ("lint", "BIG"), ("verify", "BIG"),
    ("decide", "BIG", "OPERATION"), ("test", "BIG", "CASES"), ("diff", "BIG", "LAW"),
], ids=lambda args: " ".join(args))
def test_a_law_with_a_duration_of_too_many_digits(tmp_path: Path, law: Path,
                                                  args: tuple[str, ...]) -> None:
    big = tmp_path / "big.auth"
    big.write_text(LAW.replace("DURATION", DIGITS))
    operation, cases = tmp_path / "op.json", tmp_path / "cases.auth"
    operation.write_text(OPERATION)
    cases.write_text(CASES.replace("DURATION", "3"))
    given = {"BIG": str(big), "LAW": str(law), "OPERATION": str(operation), "CASES": str(cases)}
    result = run(*(given.get(a, a) for a in args))
    assert result.returncode == 1
    assert (f"{big}:21:19: error[bad-value]: duration of 99999999999999999999… days is "
            "absurdly long (at most 100000)") in clean(result)


def test_an_operation_with_a_duration_of_too_many_digits(tmp_path: Path, law: Path) -> None:
    path = tmp_path / "op.auth"
    path.write_text(f"operation o {{\n    date: 2028-01-01\n    duration: {DIGITS} days\n}}\n")
    result = run("decide", str(law), str(path))
    assert result.returncode == 1
    assert f"{path}:3:15: duration of 99999999999999999999… days is absurdly long" in \
        clean(result)


def test_a_case_with_a_duration_of_too_many_digits(tmp_path: Path, law: Path) -> None:
    path = tmp_path / "cases.auth"
    path.write_text(CASES.replace("DURATION", DIGITS))
    result = run("test", str(law), str(path))
    assert result.returncode == 1
    assert f"{path}:6:19: error[bad-value]: duration of 99999999999999999999… days" in \
        clean(result)


def test_a_duration_of_leading_zeros_is_read() -> None:
    from authority_dsl.parser import parse

    module = parse(LAW.replace("DURATION", "0" * 5000 + "7"), "law.auth")
    assert [str(i.max_duration) for i in module.items if hasattr(i, "max_duration")] == ["7 days"]


def test_the_repl_loads_a_law_with_a_duration_of_too_many_digits(tmp_path: Path) -> None:
    from authority_dsl.repl import Session, run_lines

    big = tmp_path / "big.auth"
    big.write_text(LAW.replace("DURATION", DIGITS))
    session = Session()
    text = "".join(out.text(200) for out in run_lines(session, [
        f"load {big}", "operation o {", "    date: 2028-01-01", f"    duration: {DIGITS} days",
        "}"]))
    assert "internal error" not in text
    assert text.count("absurdly long (at most 100000)") == 2


@pytest.mark.parametrize(("text", "message"), [
    (f"{DIGITS} days", "duration `9999999999999999999999999999999999999999…` is too long (at "
     "most 100000 days)"),
    ("0" * 26 + "99999 days", "duration `0000000000000000000000000099999 days` has more than 30 "
     "digits"),
    (f"{DIGITS}-01-01 days", "`9999999999999999999999999999999999999999…` is not a duration "
     "like `3 months`"),
])
def test_parse_duration_of_too_many_digits(text: str, message: str) -> None:
    from authority_dsl.durations import parse_duration

    with pytest.raises(ValueError) as exc:
        parse_duration(text)
    assert str(exc.value) == message
