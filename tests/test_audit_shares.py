"""Several jobs on a file: it is cut into shares, decided by forked workers and written in order.
The output is the bytes one job writes, however the file is cut; a stopped run ends with whole
lines; a worker that fails stops the run with its error; no temporary file is left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from authority_dsl import audit
from authority_dsl.checker import load_law
from authority_dsl.model import Law

from .genops import gen_ops
from .test_audit import GOOD, V1, V2, bad_lines

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    audit._start_method().get_start_method() != "fork",
    reason="shares are decided by forked workers (Linux)")


@pytest.fixture(scope="module")
def laws() -> list[Law]:
    out = []
    for path in (V1, V2):
        law, diags = load_law(str(path))
        assert law is not None, diags
        out.append(law)
    return out


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated operations, with every kind of bad line among them, a BOM on the first line,
    CRLF endings, empty lines and no newline at the end."""
    lines = list(gen_ops().generate([V1, V2], 1200, seed=11, malformed=0.04))
    bad = [line + b"\n" for line, _ in bad_lines()]
    for k, line in enumerate(bad):
        lines.insert(37 * k + 5, line)
    lines[0] = b"\xef\xbb\xbf" + lines[0]
    lines[100:100] = [b"\n", b"\n", b"\r\n"]
    lines[-1] = lines[-1].rstrip(b"\n")
    path = tmp_path_factory.mktemp("shares") / "ops.jsonl"
    path.write_bytes(b"".join(lines))
    return path


def audit_file(laws: list[Law], source: Path, jobs: int,
               progress: audit.Progress | None = None,
               stop: Callable[[], bool] = lambda: False) -> tuple[bytes, audit.Summary, bool]:
    out = source.with_name(f"out-{jobs}.jsonl")
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        with source.open("rb") as stream:
            summary, stopped = audit.run(laws, stream, fd, jobs=jobs, progress=progress,
                                         stop=stop)
    finally:
        os.close(fd)
    return out.read_bytes(), summary, stopped


def small_shares(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    monkeypatch.setattr(audit, "SHARE_MIN", size)
    monkeypatch.setattr(audit, "SHARE_MAX", size)


@pytest.mark.parametrize("jobs", [2, 3])
def test_shares_write_what_one_job_writes(laws: list[Law], mixed: Path, jobs: int,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The same bytes and the same summary (down to the order of its counts) as one job, and
    progress that adds up to every line and byte, with the file cut into some 40 shares."""
    one, one_summary, _ = audit_file(laws, mixed, 1)
    small_shares(monkeypatch, 12_000)
    seen: list[tuple[int, int]] = []
    got, summary, stopped = audit_file(laws, mixed, jobs,
                                       progress=lambda n, size: seen.append((n, size)))
    assert not stopped
    assert got == one
    lines = one.splitlines()
    assert len(lines) == mixed.read_bytes().count(b"\n") + 1
    assert [json.loads(line)["line"] for line in lines] == list(range(1, len(lines) + 1))
    # A repeated line decided by another worker is no hit in its memo.
    assert attrs.evolve(summary, memo_hits=0) == attrs.evolve(one_summary, memo_hits=0)
    for name in audit.Summary._COUNTERS:
        assert list(getattr(summary, name).items()) == list(getattr(one_summary, name).items())
    assert sum(n for n, _ in seen) == len(lines)
    assert sum(size for _, size in seen) == mixed.stat().st_size


@pytest.mark.parametrize("size", [1, 2, 57, 400, 5_000])
def test_any_cut_gives_the_same_bytes(laws: list[Law], tmp_path: Path, size: int,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Shares of any size, down to a byte (then each line is a share of its own), from a file
    of short, empty and bad lines."""
    data = b"".join(line + b"\n" for line, _ in bad_lines()[:14]) + b"\n\n" + \
        json.dumps(GOOD).encode()
    source = tmp_path / "ops.jsonl"
    source.write_bytes(data)
    one, _, _ = audit_file(laws, source, 1)
    small_shares(monkeypatch, size)
    assert audit_file(laws, source, 2)[0] == one


def test_empty_and_one_line_files(laws: list[Law], tmp_path: Path) -> None:
    source = tmp_path / "ops.jsonl"
    for data, count in ((b"", 0), (b"\n", 1), (json.dumps(GOOD).encode(), 1)):
        source.write_bytes(data)
        got, summary, stopped = audit_file(laws, source, 2)
        assert (got.count(b"\n"), summary.lines, stopped) == (count, count, False)
        assert got == audit_file(laws, source, 1)[0]


def test_a_stopped_run_ends_with_whole_lines(laws: list[Law], mixed: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped while workers decide, the output is the start of one job's output, in whole
    lines, and the summary counts those lines."""
    one, _, _ = audit_file(laws, mixed, 1)
    small_shares(monkeypatch, 8_000)
    reported = [0]

    def progress(lines: int, size: int) -> None:
        reported[0] += lines

    got, summary, stopped = audit_file(laws, mixed, 2, progress=progress,
                                       stop=lambda: reported[0] >= 300)
    assert stopped
    assert got.endswith(b"\n") and one.startswith(got)
    assert 0 < got.count(b"\n") == summary.lines < one.count(b"\n")
    assert sum(summary.verdicts.values()) + sum(summary.errors.values()) == summary.lines


def test_this_process_decides_shares_beside_its_workers(
        laws: list[Law], mixed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With N jobs, N - 1 workers are forked: this process decides shares too, and the output is
    still one job's."""
    one, _, _ = audit_file(laws, mixed, 1)
    small_shares(monkeypatch, 8_000)
    log, run_one = tmp_path / "deciders", audit._run_one

    def logged(*args: object) -> object:
        with log.open("a") as f:
            f.write(f"{os.getpid()}\n")
        return run_one(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(audit, "_run_one", logged)
    got, _, stopped = audit_file(laws, mixed, 3)
    deciders = log.read_text().split()
    assert (got, stopped) == (one, False)
    assert str(os.getpid()) in deciders and len(set(deciders)) == 3
    assert len(deciders) > 3  # some job decided several shares


def test_a_failing_worker_stops_the_run_with_its_error(
        laws: list[Law], mixed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(*args: object) -> object:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(audit, "_run_one", failing)
    with pytest.raises(RuntimeError, match="the disk is on fire"):
        audit_file(laws, mixed, 2)

    parent, run_one = os.getpid(), audit._run_one

    def dying(*args: object) -> object:  # a worker dies; this process decides on
        if os.getpid() != parent:
            os._exit(3)
        return run_one(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(audit, "_run_one", dying)
    with pytest.raises(RuntimeError, match=r"worker process \d ended without a result "
                                           r"\(exit status 3\)"):
        audit_file(laws, mixed, 2)


def test_no_temporary_file_is_left(laws: list[Law], mixed: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    small_shares(monkeypatch, 12_000)
    out = tmp_path / "out.jsonl"
    before = set(tmp_path.iterdir())
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        with mixed.open("rb") as stream:
            audit.run(laws, stream, fd, jobs=2)
    finally:
        os.close(fd)
    assert set(tmp_path.iterdir()) == before | {out}


def test_temporary_files_are_emptied_before_they_are_closed(
        laws: list[Law], mixed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing a file that was truncated and written again makes ext4 write out what it holds;
    the shares' files are emptied first, so nothing of theirs is written to disk."""
    small_shares(monkeypatch, 12_000)
    made = audit._temporary_files
    sizes: list[int] = []

    def spied(fd: int, count: int) -> list[Any] | None:
        files = made(fd, count)
        assert files is not None
        for file in files:
            close = file.close

            def closing(file: Any = file, close: Any = close) -> None:
                sizes.append(os.fstat(file.fileno()).st_size)
                close()
            file.close = closing
        return files

    monkeypatch.setattr(audit, "_temporary_files", spied)
    data, _, _ = audit_file(laws, mixed, 2)
    assert data == audit_file(laws, mixed, 1)[0]
    assert len(sizes) == 5 and sizes == [0] * 5


def test_the_next_share_to_write_goes_straight_to_the_output(
        laws: list[Law], mixed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A share whose every predecessor is written whole goes straight to the output (`_Head`):
    the first share always does, from its start; the bytes are one job's."""
    small_shares(monkeypatch, 12_000)
    results: dict[int, tuple[Any, ...]] = {}
    finish = audit._Shares.finish

    def spied(self: Any, index: int, share: int, result: Any) -> None:
        results[share] = result
        finish(self, index, share, result)

    monkeypatch.setattr(audit._Shares, "finish", spied)
    data, summary, stopped = audit_file(laws, mixed, 2)
    assert data == audit_file(laws, mixed, 1)[0] and not stopped
    assert len(results) > 10 and results[0][2] is True
    assert sum(part.lines for part, _, _ in results.values()) == summary.lines


def test_an_output_opened_to_append(laws: list[Law], mixed: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """An output opened to append (`>>`), which the kernel's copy refuses, gets the same bytes."""
    one, _, _ = audit_file(laws, mixed, 1)
    small_shares(monkeypatch, 12_000)
    out = tmp_path / "appended.jsonl"
    out.write_bytes(b"before\n")
    fd = os.open(out, os.O_WRONLY | os.O_APPEND)
    try:
        with mixed.open("rb") as stream:
            audit.run(laws, stream, fd, jobs=2)
    finally:
        os.close(fd)
    assert out.read_bytes() == b"before\n" + one


# `authority` with the audit's handler of the stopping signals wrapped (a test of the second
# signal): when the handler has taken the first signal, the wrapper says so in the file named by
# AUTHORITY_TEST_NOTE, and the run waits right there, where the first signal landed, for the
# second. The second then meets a run that has taken the first but not yet reached the chunk's
# end at which it would stop; sent only after that, it is never taken together with the first.
_SECOND_SIGNAL = """
import os, signal, sys, time

install = signal.signal


def hooked(signum, handler):
    if signum != signal.SIGINT or not callable(handler) or \\
            handler is signal.default_int_handler:
        return install(signum, handler)
    taken = []

    def noted(signum, frame):
        taken.append(signum)
        handler(signum, frame)  # the audit's own: a second signal stops the run at once
        if len(taken) == 1:
            with open(os.environ["AUTHORITY_TEST_NOTE"], "w"):
                pass
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                time.sleep(0.01)

    return install(signum, noted)


signal.signal = hooked
sys.argv[0] = "authority"
from authority_dsl.cli import entry

entry()
"""


def _interrupted(tmp_path: Path, seed: int, signals: int, sig: int = signal.SIGINT,
                 workers: list[int] | None = None) -> tuple[int, str, list[int]]:
    """Audit 60,000 lines with two jobs and send `sig` (Ctrl-C) `signals` times once the output
    has begun, each after the one before was taken (`_SECOND_SIGNAL`): the exit status, what
    was said, and the line numbers of the records written, after checking that the output ends
    at a line's end. `workers` gets the worker processes' ids."""
    ops = tmp_path / "ops.jsonl"
    ops.write_bytes(b"".join(gen_ops().generate([V1, V2], 60_000, seed=seed, malformed=0.01)))
    out = tmp_path / "out.jsonl"
    note = tmp_path / "first-signal-taken"
    start = [sys.executable, "-m", "authority_dsl"] if signals == 1 else \
        [sys.executable, "-c", _SECOND_SIGNAL]
    proc = subprocess.Popen(
        [*start, "audit", "--no-progress", "--no-memo", "--jobs", "2", str(V1), str(V2),
         str(ops), "-o", str(out)],
        stderr=subprocess.PIPE, cwd=ROOT, env={**os.environ, "AUTHORITY_TEST_NOTE": str(note)})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out.exists() and out.stat().st_size):
        time.sleep(0.01)
    if workers is not None:
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        workers.extend(int(pid) for pid in children.read_text().split())
    for i in range(signals):
        if i:  # once the first is taken: two at once would be taken as one
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not note.exists() and proc.poll() is None:
                time.sleep(0.005)
            assert note.exists(), "the first signal was not taken"
        proc.send_signal(sig)
    try:  # a worker left behind would hold the pipe open
        err = proc.communicate(timeout=60)[1].decode()
    finally:
        proc.kill()
    data = out.read_bytes()
    if sig == signal.SIGKILL:  # no chance to end at a line's end: the last may be cut short
        data = data[:data.rfind(b"\n") + 1]
    assert data.endswith(b"\n")
    return proc.returncode, err, [json.loads(x)["line"] for x in data.splitlines()]


def _gone(pids: list[int]) -> bool:
    """Whether none of these processes is left (ended and reaped), waiting up to 5 s."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() for pid in pids):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
                    reason="needs /proc/PID/task/TID/children (Linux)")
@pytest.mark.parametrize(("sig", "code", "said"), [(signal.SIGTERM, 143, "terminated"),
                                                   (signal.SIGHUP, 129, "hung up"),
                                                   (signal.SIGKILL, -signal.SIGKILL, None)])
def test_a_run_ended_by_a_signal_leaves_whole_lines_and_no_worker(
        tmp_path: Path, sig: int, code: int, said: str | None) -> None:
    """`kill` or a closed terminal stops a run as Ctrl-C does (whole lines, status 128 + the
    signal); the workers end with the main process, even when it is killed outright (then
    nothing can promise a whole last line)."""
    workers: list[int] = []
    got_code, err, got = _interrupted(tmp_path, seed=6, signals=1, sig=sig, workers=workers)
    assert got_code == code, err
    assert workers
    assert _gone(workers)
    assert got == list(range(1, len(got) + 1))
    if said is not None:
        assert f"{said}: the output holds the first {len(got)} lines" in " ".join(err.split())


def test_ctrl_c_with_a_file_leaves_whole_lines(tmp_path: Path) -> None:
    """Interrupted while workers decide a file, the run ends with status 130 and whole lines,
    and says how many."""
    code, err, got = _interrupted(tmp_path, seed=4, signals=1)
    assert code == 130, err
    assert got == list(range(1, len(got) + 1))
    assert 0 < len(got) < 60_000
    assert f"the output holds the first {len(got)} lines" in " ".join(err.split())


def test_a_second_ctrl_c_stops_at_once_and_still_leaves_whole_lines(tmp_path: Path) -> None:
    """A second Ctrl-C stops the run at once (status 130), in the middle of a chunk: what is
    written still ends at a line's end (`_interrupted`), and the lines are the first ones, in
    order. The second is sent once the first is taken, and before the run could stop at a
    chunk's end for the first (`_SECOND_SIGNAL`): the outcome does not depend on timing."""
    code, err, got = _interrupted(tmp_path, seed=5, signals=2)
    assert code == 130, err
    assert "Traceback" not in err
    # Stopped by the second: not at a chunk boundary after the first, which would say this.
    assert "the output holds" not in " ".join(err.split())
    assert got == list(range(1, len(got) + 1))
    assert 0 < len(got) < 60_000


@pytest.mark.skipif(not Path("/proc/version").is_file(), reason="needs Linux's /proc")
def test_a_file_that_gives_its_size_as_zero_is_read_to_its_end(laws: list[Law],
                                                                tmp_path: Path) -> None:
    """/proc files give their size as 0 and still hold a line: it is read and answered."""
    out = tmp_path / "out.jsonl"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        with open("/proc/version", "rb") as stream:
            summary, stopped = audit.run(laws, stream, fd, jobs=2)
    finally:
        os.close(fd)
    got = out.read_bytes()
    assert (summary.lines, stopped, got.count(b"\n")) == (1, False, 1)
    assert json.loads(got)["code"] == "invalid-json"


def test_many_jobs_within_a_low_limit_on_open_files(tmp_path: Path) -> None:
    """More jobs than the open files allowed: the run takes fewer and writes the same bytes."""
    import resource

    ops = tmp_path / "ops.jsonl"
    ops.write_bytes(b"".join(gen_ops().generate([V1, V2], 3000, seed=6, malformed=0.02)))

    def audit_with(jobs: str) -> bytes:
        out = tmp_path / f"out-{jobs}.jsonl"
        result = subprocess.run(
            [sys.executable, "-m", "authority_dsl", "audit", "-q", "--no-progress", "--jobs",
             jobs, str(V1), str(V2), str(ops), "-o", str(out)],
            capture_output=True, cwd=ROOT, timeout=120,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (120, 120)))
        assert result.returncode == 1, result.stderr.decode()  # the malformed lines
        assert b"Traceback" not in result.stderr
        return out.read_bytes()

    assert audit_with("200") == audit_with("1")
