"""`authority audit`: one output line per input line, nothing lost, the same bytes however run."""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authority_dsl import audit
from authority_dsl.audit import Auditor, Summary, VersionError, Versions, read_chunks
from authority_dsl.checker import load_law
from authority_dsl.cli import main
from authority_dsl.engine import compile_law
from authority_dsl.model import Law
from authority_dsl.operation import OperationError, from_json, loads

from .genops import benchmark, gen_ops

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "audit"
V1 = FIXTURES / "law_v1.auth"
V2 = FIXTURES / "law_v2.auth"
BAD = FIXTURES / "bad.jsonl"

GOOD = {"id": "op-1", "date": "2024-03-01", "threat": "security",
        "capabilities": ["open_sources"], "approvals": ["chief"]}


def bad_lines() -> list[tuple[bytes, str | None]]:
    """The lines of bad.jsonl, each with the error code it must give (None: a decision)."""
    def op(**changes: object) -> bytes:
        return json.dumps({**GOOD, **changes}, ensure_ascii=False).encode("utf-8")

    return [
        (op(), None),
        (op()[:40], "invalid-json"),  # truncated
        (op(id="op-3", duration=90), "invalid-operation"),  # wrong type
        (op(id="op-4", threat="terorism"), None),  # unknown name: denied, not an error
        (op(id="op-5", duration="100000000000000000000 years"), "invalid-operation"),
        (op(id="op-6", date="99999-01-01"), "invalid-operation"),
        (b'{"id": "op-7", "date": "2024-03-01", "thr\x00eat": "security"}', "nul-byte"),
        (b'{"id": "op-8", "date": "2024-03-01", "threat": "s\xffecurity"}', "invalid-utf8"),
        (b"", "empty-line"),
        (b"   \t", "empty-line"),
        (b"[1, 2]", "invalid-operation"),  # not an object
        (op(id="op-12", colour="red"), "invalid-operation"),  # unknown field
        (op(id="op-13", date="2019-01-01"), None),  # before the law: denied
        (b'{"id": "op-14", "date": "2024-03-01", "n": 1' + b"9" * 5000 + b"}", "invalid-json"),
        (b"[" * 100_000, "invalid-json"),  # nested too deeply
        (op(id="op-16"), None),  # the same as line 1 but for its id: a memo hit
        (op(id="op-\u00e9\u2028x"), None),  # a memo hit with a non-ASCII id
        (op(id="op-18") + b"\r", None),  # CRLF line ending
        (op(id="op-19", approvals=[{"safeguard": "chief", "date": "2024-02-30"}]),
         "invalid-operation"),  # no such day
        (b'{"id": "op-20", "date": "2024-03-01", "id": "op-20b", "threat": "security"}',
         "duplicate-key"),  # which id is meant is a guess: refused, without an id
        (b'{"id": "\\u006fp-21", "date": "2024-03-01", "threat": "security", '
         b'"capabilities": ["open_sources"], "approvals": ["chief"]}', None),  # escaped id
        (b'{"id": "op-22", "date": "2024-03-01", "threat": "security", "capabilities": '
         b'["open_sources"], "approvals": ["chief"], "subjects": [{"role": "target", '
         b'"protected": ["journalist"], "prot\\u0065cted": []}]}',
         "duplicate-key"),  # a journalist or not: the second spelling escapes a letter
        (op(id="op-23", subjects=[{"role": "target", "protected": []},
                                  {"role": "contact", "protected": []}]),
         None),  # the same keys in two objects are no duplicate
    ]


def test_fixture_file_is_current() -> None:
    """The committed fixture holds exactly the lines above. A missing or stale file fails; to
    write it afresh, run this test alone with REGENERATE_FIXTURES=1 (which then skips, never
    passes: the file it wrote is reviewed and committed, and checked by the next run)."""
    expected = b"\n".join(line for line, _ in bad_lines()) + b"\n"
    if os.environ.get("REGENERATE_FIXTURES") == "1":
        BAD.write_bytes(expected)
        pytest.skip(f"wrote {BAD.relative_to(ROOT)}: review it, and run again without "
                    "REGENERATE_FIXTURES")
    assert BAD.is_file(), f"{BAD} is missing: write it with REGENERATE_FIXTURES=1"
    assert BAD.read_bytes() == expected, f"{BAD} is stale: REGENERATE_FIXTURES=1 writes it"


@pytest.fixture(scope="module")
def v1() -> Law:
    law, diags = load_law(V1)
    assert law is not None, diags
    return law


@pytest.fixture(scope="module")
def v2() -> Law:
    law, diags = load_law(V2)
    assert law is not None, diags
    return law


def records(path: Path) -> list[dict[str, object]]:
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n")
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def audit_file(tmp_path: Path, *args: str, name: str = "out.jsonl") -> tuple[int, Path]:
    out = tmp_path / name
    code = main(["audit", "--no-progress", *args, "-o", str(out)])
    return code, out


# ---- bad input, nothing lost ------------------------------------------------------------------


def test_bad_input_gives_one_line_per_line(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    expected = bad_lines()
    code, out = audit_file(tmp_path, str(V1), str(BAD))
    assert code == 1  # error records were written, and every line was processed
    got = records(out)
    assert [r["line"] for r in got] == list(range(1, len(expected) + 1))
    for record, (_, error_code) in zip(got, expected, strict=True):
        if error_code is None:
            assert "verdict" in record and "error" not in record, record
        else:
            assert record["code"] == error_code, record
            assert isinstance(record["error"], str) and record["error"]
    by_line = {r["line"]: r for r in got}
    assert by_line[2]["error"].startswith("invalid JSON at column ")
    assert by_line[3]["error"] == "$.duration: expected a string, got a number"
    assert by_line[3]["operation"] == "op-3"
    assert by_line[4]["verdict"] == "denied"
    assert "did you mean `terrorism`" in json.dumps(by_line[4]["violations"])
    assert "too long" in by_line[5]["error"]
    assert by_line[6]["error"].startswith("$.date: `99999-01-01`")
    assert by_line[7]["error"] == "NUL byte at byte 42"
    assert by_line[8]["error"] == "invalid UTF-8 byte 0xff at byte 50"
    assert by_line[12]["error"] == "$.colour: unknown field"
    assert by_line[13]["violations"][0]["code"] == "law-not-in-force"  # type: ignore[index]
    assert by_line[14]["error"] == "invalid JSON: a number has too many digits"
    assert by_line[15]["error"] == "invalid JSON: nested too deeply"
    assert by_line[17]["operation"] == "op-\u00e9\u2028x"
    assert by_line[19]["error"].startswith("$.approvals[0].date:")
    assert by_line[20]["error"].startswith('$: key "id" is given twice in one object')
    assert "operation" not in by_line[20]  # which of the two ids is meant is not known
    assert by_line[21]["operation"] == "op-21"
    assert by_line[22]["error"].startswith('$.subjects[0]: key "protected" is given twice')
    assert by_line[22]["operation"] == "op-22"
    assert by_line[23]["verdict"] in ("permitted", "requires", "denied")
    err = capsys.readouterr().err
    assert "error records" in err and "invalid-json" in err
    # The summary says how this install runs: a plain-Python install is slower.
    from authority_dsl import build_kind

    assert f"1 job, {build_kind()}): " in " ".join(err.split())


def test_decisions_are_those_of_decide(tmp_path: Path, v1: Law) -> None:
    _, out = audit_file(tmp_path, str(V1), str(BAD))
    engine = compile_law(v1)
    for (line, error_code), record in zip(bad_lines(), records(out), strict=True):
        if error_code is not None:
            continue
        text = line.decode("utf-8").rstrip("\r")
        expected = engine.decide(from_json(json.loads(text))).to_json()
        assert {k: v for k, v in record.items() if k != "line"} == expected


def test_same_bytes_with_memo_without_and_in_parallel(tmp_path: Path) -> None:
    gen = gen_ops()
    lines = list(gen.generate([V1, V2], 3000, seed=3, malformed=0.05))
    # Realistic repeats: the same request filed for several targets (new ids, same content).
    lines += [line.replace(b'"op-', b'"again-', 1) for line in lines[:1500]]
    ops = tmp_path / "ops.jsonl"
    ops.write_bytes(b"".join(lines))
    code, a = audit_file(tmp_path, str(V1), str(V2), str(ops), name="a.jsonl")
    _, b = audit_file(tmp_path, str(V1), str(V2), str(ops), "--no-memo", name="b.jsonl")
    _, c = audit_file(tmp_path, str(V1), str(V2), str(ops), "--jobs", "2", name="c.jsonl")
    assert code == 1  # the generated malformed lines
    assert a.read_bytes() == b.read_bytes() == c.read_bytes()
    assert len(records(a)) == 4500
    # Workers started from a fork server (as when a progress bar's thread runs) and forked
    # (as here, with a single thread) write the same bytes.
    methods = multiprocessing.get_all_start_methods()
    for method in ("fork", "forkserver"):
        if method not in methods:
            continue
        out = tmp_path / f"{method}.jsonl"
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        context = multiprocessing.get_context(method)
        try:
            with ops.open("rb") as stream, \
                    pytest.MonkeyPatch.context() as patch:
                patch.setattr(audit, "_start_method", lambda context=context: context)
                audit.run([load_law(str(V1))[0], load_law(str(V2))[0]], stream, fd, jobs=2)
        finally:
            os.close(fd)
        assert out.read_bytes() == a.read_bytes(), method


def test_memo_hits_are_counted_and_exact(v1: Law) -> None:
    line = json.dumps(GOOD).encode()
    lines: list[bytes | None] = [line, line.replace(b"op-1", b"op-2"),
                                 line.replace(b"op-1", b"op-3\\\\x")]
    memo = Auditor([v1]).chunk((1, lines))
    plain = Auditor([v1], memo=False).chunk((1, lines))
    assert memo[0] == plain[0]
    assert memo[1].memo_hits == 1  # the third id has an escape: decided the slow way
    out = [json.loads(x) for x in memo[0].decode().splitlines()]
    assert [r["operation"] for r in out] == ["op-1", "op-2", "op-3\\x"]


# ---- versions ---------------------------------------------------------------------------------


def test_each_operation_under_the_version_in_force(tmp_path: Path) -> None:
    ops = tmp_path / "ops.jsonl"
    dates = ["2019-06-01", "2022-06-01", "2026-06-01"]
    ops.write_text("".join(json.dumps({**GOOD, "id": f"op-{d}", "date": d}) + "\n"
                           for d in dates), encoding="utf-8")
    code, out = audit_file(tmp_path, str(V2), str(V1), str(ops))
    assert code == 0
    before, during_v1, during_v2 = records(out)
    assert before["verdict"] == "denied"
    violation = before["violations"][0]  # type: ignore[index]
    assert violation["code"] == "law-not-in-force"
    assert violation["message"].startswith("no version of the law is in force on 2019-06-01")
    assert during_v1["law"]["version"] == "1" and during_v1["verdict"] == "permitted"  # type: ignore[index]
    assert during_v2["law"]["version"] == "2" and during_v2["verdict"] == "requires"  # type: ignore[index]
    assert [m["requirement"] for m in during_v2["missing"]] == ["necessity"]  # type: ignore[union-attr]


def test_versions_need_distinct_start_dates(v1: Law, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(VersionError):
        Versions([v1, v1])
    # Two files with the same start: both named, and what they share.
    copy = tmp_path / "copy.auth"
    copy.write_bytes(V1.read_bytes())
    code, _ = audit_file(tmp_path, str(V1), str(copy), str(BAD))
    assert code == 1
    said = " ".join(capsys.readouterr().err.split())
    assert str(V1) in said and str(copy) in said and "both enter into force on" in said
    # One file given twice (by two names) is no second version.
    code, _ = audit_file(tmp_path, str(V1), str(V1.parent / ".." / V1.parent.name / V1.name),
                         str(BAD))
    assert code == 1
    assert "again; give each version of the law once" in " ".join(
        capsys.readouterr().err.split())


@pytest.mark.parametrize("args", [["--top", "-1"], ["--top", "many"], ["--jobs", "0"]])
def test_counts_out_of_range_are_usage_errors(args: list[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        audit_file(tmp_path, *args, str(V1), str(BAD))
    assert info.value.code == 2


# ---- streaming, summary, progress, memory -----------------------------------------------------


def test_read_chunks_bounds_line_length() -> None:
    data = b"short\n" + b"x" * 25 + b"\nok\n\nlast"
    chunks = list(read_chunks(io.BytesIO(data), chunk_lines=2, max_line=10))
    assert [c[0] for c, _ in chunks] == [1, 3, 5]
    assert [line for c, _ in chunks for line in c[1]] == [b"short", None, b"ok", b"", b"last"]
    assert sum(size for _, size in chunks) == len(data)
    assert list(read_chunks(io.BytesIO(b""))) == []


def test_overlong_line_is_an_error_record(v1: Law) -> None:
    out, summary = Auditor([v1]).chunk((7, [None]))
    record = json.loads(out)
    assert record["line"] == 7 and record["code"] == "line-too-long"
    assert summary.errors["line-too-long"] == 1


def test_summary_and_progress_agree_with_the_output(tmp_path: Path, v1: Law, v2: Law) -> None:
    gen = gen_ops()
    data = b"".join(gen.generate([V1, V2], 2500, seed=5, malformed=0.03))
    out = tmp_path / "out.jsonl"
    seen: list[tuple[int, int]] = []
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        summary, stopped = audit.run([v1, v2], io.BytesIO(data), fd,
                                     progress=lambda n, size: seen.append((n, size)))
    finally:
        os.close(fd)
    assert not stopped
    got = records(out)
    assert summary.lines == len(got) == 2500
    assert sum(n for n, _ in seen) == 2500 and sum(s for _, s in seen) == len(data)
    verdicts = summary.verdicts
    for verdict in ("permitted", "requires", "denied"):
        assert verdicts[verdict] == sum(r.get("verdict") == verdict for r in got)
    assert sum(summary.errors.values()) == sum("error" in r for r in got)
    missing = summary.missing
    assert sum(missing.values()) == sum(len(r.get("missing", [])) for r in got)  # type: ignore[arg-type]
    assert sum(summary.threats.values()) == summary.decided
    versions = summary.versions
    assert set(versions) <= {"fixture 1", "fixture 2", audit.NO_VERSION}


def test_summary_is_the_same_however_decisions_are_gathered(
        v1: Law, v2: Law, monkeypatch: pytest.MonkeyPatch) -> None:
    """One job counts decisions over many chunks before adding them to the summary; several
    jobs merge one summary per chunk. Added often, seldom or per chunk, the summary is the same,
    down to the order of its counts (which orders ties in its tables)."""
    gen = gen_ops()
    data = b"".join(gen.generate([V1, V2], 2500, seed=6, malformed=0.03))

    def summary_of(jobs: int) -> audit.Summary:
        sink = os.open(os.devnull, os.O_WRONLY)
        try:
            return audit.run([v1, v2], io.BytesIO(data), sink, jobs=jobs)[0]
        finally:
            os.close(sink)

    gathered = summary_of(1)
    monkeypatch.setattr(audit, "COUNTED", 3)
    often = summary_of(1)
    per_chunk = summary_of(2)
    for other in (often, per_chunk):
        assert other == gathered
        for name in audit.Summary._COUNTERS:
            assert list(getattr(other, name).items()) == list(getattr(gathered, name).items())
    assert gathered.decided > 2000


def test_memory_stays_flat(v1: Law, v2: Law) -> None:
    gen = gen_ops()
    unit = b"".join(gen.generate([V1, V2], 3000, seed=9, malformed=0.01))

    def peak(copies: int) -> int:
        sink = os.open(os.devnull, os.O_WRONLY)
        stream = io.BufferedReader(_Repeat(unit, copies))  # type: ignore[arg-type]
        tracemalloc.start()
        try:
            audit.run([v1, v2], stream, sink)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            os.close(sink)

    small, large = peak(2), peak(8)
    assert large < small * 1.3 + 2_000_000, (small, large)


class _Repeat(io.RawIOBase):
    """The same bytes `copies` times, read in pieces, never held whole."""

    def __init__(self, unit: bytes, copies: int) -> None:
        self.unit, self.left, self.pos = unit, copies, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        if self.left == 0:
            return 0
        piece = self.unit[self.pos:self.pos + len(buffer)]
        buffer[:len(piece)] = piece
        self.pos += len(piece)
        if self.pos >= len(self.unit):
            self.pos, self.left = 0, self.left - 1
        return len(piece)


_NAMES = st.sampled_from(["a", "b", "c", "d"])
_TALLY = st.tuples(st.sampled_from(["law 1", "law 2"]),
                   st.sampled_from(["permitted", "requires", "denied"]), _NAMES,
                   *[st.lists(_NAMES, max_size=3, unique=True).map(tuple)] * 3)


@given(st.lists(st.tuples(_TALLY, st.integers(1, 5)), max_size=30))
def test_summary_adds_each_kind_of_decision_as_often_as_it_was_made(
        kinds: list[tuple[audit.Tally, int]]) -> None:
    """`Summary.add` counts each part once over all kinds before counting it name by name: the
    counts are those of counting each kind in turn, in the same order (which orders ties in the
    summary's tables)."""
    tallies: Counter[audit.Tally] = Counter()
    for tally, n in kinds:
        tallies[tally] += n
    expected = Summary()
    for (version, verdict, threat, capabilities, missing, prohibitions), n in tallies.items():
        expected.verdicts[verdict] += n
        expected.versions[version] += n
        expected.threats[threat, verdict] += n
        for capability in capabilities:
            expected.capabilities[capability, verdict] += n
        for requirement in missing:
            expected.missing[requirement] += n
        for prohibition in prohibitions:
            expected.prohibitions[prohibition] += n
    summary = Summary()
    summary.add(tallies)
    for name in Summary._COUNTERS:
        assert list(getattr(summary, name).items()) == list(getattr(expected, name).items())
    assert summary.decided == sum(tallies.values())


def test_summary_merges() -> None:
    a, b = Summary(lines=2, memo_hits=1), Summary(lines=3)
    a.errors["x"] += 1
    b.errors["x"] += 2
    a.merge(b)
    assert (a.lines, a.memo_hits, a.errors["x"]) == (5, 1, 3)


# ---- the command line -------------------------------------------------------------------------


def test_empty_input_and_stdout(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert main(["audit", "-q", str(V1), str(empty)]) == 0
    assert capfd.readouterr().out == ""
    last = tmp_path / "last.jsonl"
    last.write_bytes(json.dumps(GOOD).encode())  # no final newline
    assert main(["audit", str(V1), str(last)]) == 0
    out, err = capfd.readouterr()
    assert out.endswith("\n") and json.loads(out)["verdict"] == "permitted"
    assert "1 lines" in err or "1 line" in err


def test_options_may_come_between_the_paths(tmp_path: Path) -> None:
    """`audit V1 V2 --jobs 2 OPS` reads as `audit --jobs 2 V1 V2 OPS`: an option between the
    laws and the operations is not left over as an unrecognised argument."""
    ops = tmp_path / "ops.jsonl"
    ops.write_bytes(json.dumps(GOOD).encode() + b"\n")
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    assert main(["audit", "-q", "--jobs", "2", str(V1), str(V2), str(ops), "-o", str(first)]) == 0
    assert main(["audit", str(V1), "-q", "--jobs", "2", str(V2), "-o", str(second), str(ops)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert json.loads(first.read_bytes())["verdict"] == "permitted"


def test_usage_and_input_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(V1)]) == 2
    assert main(["audit", str(V1), str(tmp_path / "missing.jsonl")]) == 1
    assert "cannot read" in capsys.readouterr().err
    assert main(["audit", str(V1), str(tmp_path)]) == 1
    broken = tmp_path / "broken.auth"
    broken.write_text("law \"x\" {\n", encoding="utf-8")
    assert main(["audit", str(broken), str(BAD)]) == 1
    assert "broken.auth:" in capsys.readouterr().err
    copy = tmp_path / "ops.jsonl"
    copy.write_bytes(BAD.read_bytes())
    assert main(["audit", str(V1), str(copy), "-o", str(copy)]) == 1
    assert copy.read_bytes() == BAD.read_bytes()
    assert main(["audit", str(V1), str(copy), "-o", str(tmp_path / "no" / "x")]) == 1
    with pytest.raises(SystemExit) as exc:
        main(["audit", str(V1), str(copy), "--jobs", "0"])
    assert exc.value.code == 2


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_leaves_no_half_line(tmp_path: Path, jobs: str) -> None:
    """Interrupted while waiting for more input, the run stops at a chunk boundary."""
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "authority_dsl", "audit", "--no-progress", "--jobs", jobs,
         str(V1), "-", "-o", str(out)],
        stdin=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stdin is not None
    line = json.dumps(GOOD).encode() + b"\n"
    proc.stdin.write(line * (audit.CHUNK_LINES * 2 + 100))
    proc.stdin.flush()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if out.exists() and out.stat().st_size and \
                out.read_bytes().count(b"\n") >= audit.CHUNK_LINES * 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.2)
    try:
        proc.stdin.write(line * audit.CHUNK_LINES)
        proc.stdin.close()
    except BrokenPipeError:
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()
    assert proc.stderr is not None
    err = proc.stderr.read()
    proc.stderr.close()
    proc.wait(timeout=60)
    assert proc.returncode == 130, err
    assert b"interrupted" in err
    data = out.read_bytes()
    assert data.endswith(b"\n")
    got = [json.loads(x) for x in data.splitlines()]
    assert [r["line"] for r in got] == list(range(1, len(got) + 1))
    assert len(got) >= audit.CHUNK_LINES * 2


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_reader_that_stops_early_ends_the_run_quietly(tmp_path: Path, jobs: str) -> None:
    """`authority audit ... | head -1`: the closed pipe ends the run, quietly, with status 141
    (not every line was decided; 0 would say they were)."""
    gen = gen_ops()
    ops = tmp_path / "ops.jsonl"
    ops.write_bytes(b"".join(gen.generate([V1, V2], 20_000, seed=2, malformed=0.01)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "authority_dsl", "audit", "--no-progress", "-q", "--jobs", jobs,
         str(V1), str(V2), str(ops)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    proc.wait(timeout=120)
    assert json.loads(first)["line"] == 1
    assert proc.returncode == 141, err
    assert err == b"", err.decode()


def test_generator_is_seeded_and_mixes_in_malformed_lines() -> None:
    gen = gen_ops()
    a = b"".join(gen.generate([V1, V2], 500, seed=1, malformed=0.1))
    b = b"".join(gen.generate([V1, V2], 500, seed=1, malformed=0.1))
    c = b"".join(gen.generate([V1, V2], 500, seed=2, malformed=0.1))
    assert a == b != c
    assert a.count(b"\n") == 500
    bad = 0
    for line in a.splitlines():
        try:
            from_json(json.loads(line))
        except Exception:  # any malformed kind
            bad += 1
    assert 20 <= bad <= 90


def test_cedar_encoding_agrees(capsys: pytest.CaptureFixture[str]) -> None:
    """benchmarks/vs_cedar.py: Cedar and authority-dsl give the same permit/deny answers."""
    pytest.importorskip("cedarpy")
    module = benchmark("vs_cedar")
    for law in (V1, ROOT / "specs" / "wiv_threat_draft.auth"):
        assert module.main(["--spec", str(law), "-n", "1500", "--seed", "4"]) == 0
        assert "the engines agree on all" in capsys.readouterr().out


def test_audit_encoder_is_decision_dumps(v1: Law) -> None:
    """The audit's prebuilt encoder writes exactly what `decision.dumps` writes."""
    from authority_dsl.decision import dumps

    engine = compile_law(v1)
    for line, error_code in bad_lines():
        if error_code is None:
            record = engine.decide(from_json(json.loads(line.rstrip(b"\r")))).to_json()
            record["line"] = 1
            assert audit._encode(record) == dumps(record)
    odd = {"a": "\u2028\x00\"\\é", "b": [1, {"z": None, "y": True}], "line": 3}
    assert audit._encode(odd) == dumps(odd)


def test_lone_surrogate_is_an_error_record_and_the_run_goes_on(tmp_path: Path) -> None:
    good = '{"id":"ok","date":"2028-03-01","threat":"x","capabilities":["y"]}'
    ops = tmp_path / "ops.jsonl"
    ops.write_text("\n".join([
        '{"id":"a\\ud800","date":"2028-03-01","threat":"x","capabilities":["y"]}',
        '{"id":"pair\\ud83d\\ude00","date":"2028-03-01","threat":"x","capabilities":["y"]}',
        good]) + "\n", encoding="ascii")
    code, out = audit_file(tmp_path, str(V1), str(ops))
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert code == 1
    assert [r["line"] for r in records] == [1, 2, 3]
    assert records[0]["code"] == "invalid-unicode" and "surrogate" in records[0]["error"]
    assert records[1]["operation"] == "pair\U0001f600" and "verdict" in records[1]
    assert "verdict" in records[2]


def test_audit_benchmark_pairs_each_run_with_the_one_job_run_next_to_it() -> None:
    """benchmarks/audit.py: with runs alternated (`--jobs 1,2,1,2`), each run of several jobs is
    measured against the one-job run beside it, and the medians are summed up."""
    module = benchmark("audit")
    runs = [(1, 100.0), (2, 170.0), (1, 110.0), (2, 190.0), (2, 180.0)]
    assert [module.one_job_rate(runs, i) for i in range(5)] == [100.0, 100.0, 110.0, 110.0, 110.0]
    assert module.summary(runs) == [
        "jobs 1: 2 runs, 100-110 ops/s, median 105",
        "jobs 2: 3 runs, 170-190 ops/s, median 180; against the one-job run next to each: "
        "1.70x, 1.73x, 1.64x (median 1.70x)"]
    # Two jobs first: measured against the one-job run after it.
    assert module.one_job_rate([(2, 150.0), (1, 100.0)], 0) == 100.0
    assert module.summary([(2, 150.0), (1, 100.0)]) == [
        "jobs 2: 1 run, 150 ops/s; against the one-job run next to each: 1.50x (median 1.50x)"]
    assert module.summary([(2, 150.0)]) == ["jobs 2: 1 run, 150 ops/s"]
    assert module.summary([(1, 100.0)]) == []


def test_audit_benchmark_measures_the_whole_tree(tmp_path: Path) -> None:
    """benchmarks/audit.py: a run with two jobs reports the kernel's CPU time for the audit and
    its worker, a peak memory of at least one interpreter, and its exit status."""
    module = benchmark("audit")
    log = tmp_path / "ops.jsonl"
    log.write_bytes(b"".join(gen_ops().generate([V1], 3000, seed=5, malformed=0.0)))
    out = tmp_path / "out.jsonl"
    seconds, cpu, peak, pss, code = module.run_audit([V1], log, out, 2, [])
    assert code == 0
    assert len(out.read_bytes().splitlines()) == 3000
    assert 0.05 < cpu < 60 and 0 < seconds < 60
    assert peak >= 10 * 2**20  # one interpreter with the package loaded, at least
    assert 0 < pss <= peak


def test_two_jobs_benchmark_runs_each_comparison(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """benchmarks/two_jobs.py: the log is cut in two at a line end, and one round of the four
    runs (the whole log, the halves in turn and at once, two jobs) ends with their medians."""
    module = benchmark("two_jobs")
    log = tmp_path / "ops.jsonl"
    log.write_bytes(b"".join(gen_ops().generate([V1], 300, seed=3, malformed=0.02)))
    first, second = module.halve(log, tmp_path)
    assert first.read_bytes() + second.read_bytes() == log.read_bytes()
    assert first.read_bytes().endswith(b"\n") and second.stat().st_size > 0
    assert module.main(["--ops", str(log), "--rounds", "1", "--to-file"]) == 0
    out = capsys.readouterr().out
    for row in module.ROWS:
        assert f"    1  {row}" in out and f"  {row}" in out.split("median over 1 round")[1]
    with pytest.raises(SystemExit) as stopped:
        module.main(["--ops", str(log), "--rounds", "0"])
    assert stopped.value.code == 2
    assert "--rounds must be at least 1" in capsys.readouterr().err


def test_the_output_is_never_a_file_the_audit_reads(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Opening the output empties it: it may not be the input (by any name, or on standard
    input) nor a spec or a file a spec imports. Refused before anything is written."""
    spec = tmp_path / "law.auth"
    spec.write_bytes(V1.read_bytes())
    log = tmp_path / "ops.jsonl"
    log.write_bytes(BAD.read_bytes())
    (tmp_path / "link.jsonl").symlink_to(log)
    os.link(log, tmp_path / "hard.jsonl")
    for output, what in ((spec, "a file of the law"), (tmp_path / "link.jsonl", "the input"),
                         (tmp_path / "hard.jsonl", "the input")):
        assert main(["audit", "-q", str(spec), str(log), "-o", str(output)]) == 1
        assert what in capsys.readouterr().err
    script = "import sys; from authority_dsl.cli import main; sys.exit(main(sys.argv[1:]))"
    with log.open("rb") as stdin:
        result = subprocess.run([sys.executable, "-c", script, "audit", "-q", str(spec), "-",
                                 "-o", str(log)], stdin=stdin, capture_output=True, text=True,
                                timeout=60)
    assert result.returncode == 1
    assert "the input (standard input)" in result.stderr
    assert spec.read_bytes() == V1.read_bytes()
    assert log.read_bytes() == BAD.read_bytes()
    # A device is no file to lose: /dev/null in and out is fine.
    with open(os.devnull, "rb") as stdin:
        result = subprocess.run([sys.executable, "-c", script, "audit", "-q", str(spec), "-",
                                 "-o", os.devnull], stdin=stdin, capture_output=True,
                                timeout=60)
    assert result.returncode == 0, result.stderr


def test_summary_counts_an_operation_once_per_prohibition_and_outside_versions_by_name(
        tmp_path: Path, v1: Law, v2: Law) -> None:
    """Two sharings forbidden by the same rule are one operation that rule denied (they counted
    twice); an operation dated before every version is counted under its threat and
    capabilities, as under a single version, not under `(unknown)` with none."""
    op = {"id": "d1", "date": "2025-06-01", "threat": "security", "capabilities": ["open_sources"],
          "approvals": ["chief"], "sharing": [
              {"recipient": "partner", "country": "RU", "data": "evaluated", "with": ["note"]},
              {"recipient": "partner", "country": "RU", "data": "evaluated", "with": ["note"]}]}
    early = {**GOOD, "id": "e1", "date": "2019-06-01"}
    log = tmp_path / "ops.jsonl"
    log.write_text(json.dumps(op) + "\n" + json.dumps(early) + "\n")
    auditor = Auditor([v1, v2])
    out, summary = auditor.chunk((1, log.read_bytes().splitlines()))
    assert [json.loads(line)["verdict"] for line in out.decode().splitlines()] == \
        ["denied", "denied"]
    assert sum(summary.prohibitions.values()) == 1
    assert summary.threats["security", "denied"] == 2
    assert summary.capabilities["open_sources", "denied"] == 2
    single = Auditor([v2]).chunk((1, [json.dumps(early).encode()]))[1]
    assert single.threats == Counter({("security", "denied"): 1})
    assert single.capabilities == Counter({("open_sources", "denied"): 1})


def test_a_lone_surrogate_is_located_and_the_operation_named(v1: Law) -> None:
    """The error record said neither where the lone surrogate was nor which operation had it,
    though the line is JSON with a readable id."""
    lines = [b'{"id":"ok","date":"2028-09-01","service":"\\ud800"}',
             b'{"id":"\\ud800","date":"2028-09-01"}',
             b'{"id":"x","subjects":[{"role":"a","protected":["\\udc00"]}]}']
    out, _ = Auditor([v1]).chunk((1, lines))
    records = [json.loads(line) for line in out.decode().splitlines()]
    assert [(r["code"], r["error"].split(":")[0], r.get("operation")) for r in records] == [
        ("invalid-unicode", "$.service", "ok"), ("invalid-unicode", "$.id", None),
        ("invalid-unicode", "$.subjects[0].protected[0]", "x")]
    with pytest.raises(OperationError) as raised:
        loads(lines[0].decode())
    assert raised.value.path == "$.service"


def test_a_key_given_twice_is_refused_by_every_reader(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A field given twice in one object (at any depth, however spelt) is refused rather than
    read with its last value, as it was: another reader of the same record may take the first
    (a journalist protected or not). `decide` says where; `audit` writes an error record."""
    text = ('{"id": "op-1", "date": "2024-03-01", "threat": "security", "capabilities": '
            '["open_sources"], "approvals": ["chief"], "subjects": [{"role": "target", '
            '"protected": ["journalist"], "protected": []}]}')
    with pytest.raises(OperationError) as raised:
        loads(text)
    assert raised.value.path == "$.subjects[0]"
    assert 'key "protected" is given twice in one object' in raised.value.message
    op = tmp_path / "op.json"
    op.write_text(text, encoding="utf-8")
    assert main(["decide", str(V1), str(op)]) == 1
    err = capsys.readouterr().err
    assert '$.subjects[0]: key "protected" is given twice' in " ".join(err.split())
    once = text.replace('"protected": ["journalist"], "protected": []', '"protected": []')
    assert loads(once).subjects[0].protected == ()


def test_deep_lines_are_refused_alike_by_every_job(tmp_path: Path) -> None:
    """A line nested deeper than any operation is refused the same way whichever process reads
    it: Python's own limit on recursion is nearer in a worker, whose stack is deeper, and a line
    at the edge was refused as unknown field by one job and nested too deeply by another."""
    def deep(levels: int, inner: str = '{"a": 1, "a": 2}') -> bytes:
        body = '{"k": ' * levels + inner + "}" * levels
        return (f'{{"id": "op-{levels}", "date": "2024-03-01", "threat": "security", '
                f'"junk": {body}}}').encode()

    lines = [deep(510), deep(511), deep(600), deep(975), deep(982), deep(1500),
             b'{"id": "x", "a": ' + b"[" * 5000 + b"]" * 5000 + b"}"]
    ops = tmp_path / "deep.jsonl"
    ops.write_bytes(b"\n".join(lines) + b"\n")
    outs = [audit_file(tmp_path, str(V1), str(ops), "--jobs", jobs, name=f"out{jobs}.jsonl")
            for jobs in ("1", "2")]
    assert outs[0][0] == outs[1][0] == 1
    assert outs[0][1].read_bytes() == outs[1][1].read_bytes()
    got = [(r["code"], r["error"][:20]) for r in records(outs[0][1])]
    too_deep = ("invalid-json", "invalid JSON: nested")
    assert got[0][0] == "duplicate-key" and got[0][1].startswith("$.junk.k.k")
    assert got[1:] == [too_deep] * 6  # 512 levels and more


def test_a_record_names_no_id_that_is_given_twice(tmp_path: Path) -> None:
    """Another key given twice may be reported first: the id given twice is still left out."""
    rest = '"date": "2024-03-01", "capabilities": ["open_sources"], "approvals": ["chief"]'
    lines = [f'{{"threat": "a", "threat": "b", "id": "first", "id": "second", {rest}}}',
             f'{{"id": "first", "threat": "a", "threat": "b", "id": "second", {rest}}}',
             f'{{"id": "one", "threat": "a", "threat": "b", {rest}}}']
    ops = tmp_path / "ids.jsonl"
    ops.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, out = audit_file(tmp_path, str(V1), str(ops))
    got = records(out)
    assert [r["code"] for r in got] == ["duplicate-key"] * 3
    assert [r["error"].split(":")[0] for r in got] == ["$"] * 3
    assert [r.get("operation") for r in got] == [None, None, "one"]


# ---- the end of the process -------------------------------------------------------------------


@pytest.mark.parametrize("jobs", [1, 2])
def test_run_keeps_its_auditor_when_asked(tmp_path: Path, v1: Law, jobs: int) -> None:
    """`keep` receives this process's auditor (the command ends the process without freeing
    it); without `keep`, nothing outlives the run."""
    ops = tmp_path / "ops.jsonl"
    ops.write_bytes(b"".join(gen_ops().generate([V1], 3000, seed=3, malformed=0.0)))
    kept: list[object] = []
    with ops.open("rb") as stream:
        summary, stopped = audit.run([v1], stream, os.open(os.devnull, os.O_WRONLY),
                                     jobs=jobs, keep=kept)
    assert summary.lines == 3000 and not stopped
    assert [type(k) for k in kept] == [Auditor]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_command_ends_with_everything_written(tmp_path: Path, jobs: str) -> None:
    """`authority audit` ends its process without tearing the interpreter down
    (`cli.entry`): the decisions on standard output and the summary on standard error are
    whole, and the status is the audit's."""
    ops = tmp_path / "ops.jsonl"
    lines = list(gen_ops().generate([V1], 5000, seed=4, malformed=0.02))
    ops.write_bytes(b"".join(lines))
    result = subprocess.run(
        [sys.executable, "-m", "authority_dsl", "audit", "--no-progress", "--jobs", jobs,
         str(V1), str(ops)], capture_output=True, timeout=300, check=False)
    assert result.returncode == 1  # the malformed lines
    out = result.stdout.decode().splitlines()
    assert [json.loads(line)["line"] for line in out] == list(range(1, len(lines) + 1))
    err = " ".join(result.stderr.decode().split())
    assert err.startswith(f"{len(lines):,} lines in ")
    assert "error records code" in err and "invalid-json" in err  # the last table
    assert "Traceback" not in err
