"""End-to-end throughput and peak memory of `authority audit` on a generated operation log.

    python benchmarks/audit.py                 # 1,000,000 operations, --jobs 1 and --jobs 2
    python benchmarks/audit.py -n 200000 --jobs 1,2,4 --ops /tmp/ops.jsonl

It generates the log with benchmarks/gen_ops.py (or reuses `--ops` if that file exists), runs
`authority audit` on it once per jobs value as a separate process, and reports wall-clock operations
per second (start-up, reading, deciding and writing included), the speed-up over the one-job run
just before it (alternate them, `--jobs 1,2,1,2`: the machine's speed drifts, and neighbours are
measured in the most alike conditions; at the end, the range and median of each jobs value and of
the speed-ups), the CPU time used (operations per CPU-second is the figure least disturbed by other
load on the machine), and the peak memory of the whole process tree, main process and workers added
up: `peak RSS` adds up the peak resident size of each process (`VmHWM`, which the kernel keeps),
which counts a page shared by several processes (the interpreter, libraries, what a worker shares
with the process it was forked from) once in each, and their peaks as if they came at the same
moment: never less than the true peak; `peak PSS` adds up their proportional set sizes (sampled
every 500 ms; a page shared by n processes counts 1/n in each), which counts every page once: the
memory the run takes from the machine. The CPU time is the kernel's count for the audit and every
process it waited for (`wait4`). The process tree is looked at every 100 ms, so that this script
takes little of the processors it measures. It also checks that every run wrote the same bytes.
The targets: at least 50,000 operations per second with one job, near-linear gain with two, peak
memory under 200 MB. Before each run it times a plain loop of 10 million steps (`loop s`): the
machine's speed at that moment, to read the figures against when it is shared or throttled.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPECS = (ROOT / "specs" / "wiv2017.auth", ROOT / "specs" / "wiv_threat_draft.auth")


# The installed authority-dsl (`pip install .`: its hot modules compiled), not the checkout's
# source that `python -m` would take first from the current folder (`-P`); the source only if the
# package is not installed.
AUTHORITY = [sys.executable, "-P", "-m", "authority_dsl"]
ENV = dict(os.environ)
if importlib.util.find_spec("authority_dsl") is None:
    ENV["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), ENV.get("PYTHONPATH")]))


def package() -> str:
    """Where the audited authority-dsl comes from and how it runs (`authority_dsl.build`)."""
    code = "import authority_dsl as a; print(a.__file__.rsplit('/', 2)[0], '--', a.build())"
    found = subprocess.run([sys.executable, "-P", "-c", code], cwd=ROOT, env=ENV, text=True,
                           capture_output=True, check=True).stdout.strip()
    where, _, how = found.partition(" -- ")
    return f"{how} ({where})"


def interpreter() -> str:
    """The Python that runs the audit, and how it was built: the figures depend on the build
    (docs/reviewers.md: the audit took 4–17% less time under Debian's profile-guided build with
    libpython built in than under pyenv's plain build with a shared libpython, side by side)."""
    base = getattr(sys, "_base_executable", sys.executable)
    config = sysconfig.get_config_var("CONFIG_ARGS") or ""
    try:
        with open("/proc/self/maps", encoding="ascii", errors="replace") as f:
            shared = "libpython" in f.read()
    except OSError:
        shared = bool(sysconfig.get_config_var("Py_ENABLE_SHARED"))
    linked = "libpython shared" if shared else "libpython built in"
    flags = [f for f in ("--enable-optimizations", "--with-lto") if f in config]
    return (f"{platform.python_implementation()} {platform.python_version()} ({base}; {linked}"
            f"{'; ' + ', '.join(flags) if flags else ''})")


def tree(pid: int, peaks: dict[int, int], pss: bool = False) -> int:
    """Walk a process and all its descendants (Linux /proc): record the peak resident size of
    each (`VmHWM`, kept by the kernel) in `peaks`; with `pss`, return their proportional set size
    added up (each page shared by n processes counted 1/n in each, so that the sum counts every
    page once), else 0."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status", encoding="ascii", errors="replace") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peaks[p] = max(peaks.get(p, 0), int(line.split()[1]) * 1024)
                        break
            if pss:
                with open(f"/proc/{p}/smaps_rollup", encoding="ascii", errors="replace") as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            total += int(line.split()[1]) * 1024
                            break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError, IndexError):
            continue
    return total


def run_audit(specs: Sequence[Path], ops: Path, out: Path, jobs: int,
              extra: Sequence[str]) -> tuple[float, float, int, int, int]:
    """(wall seconds, CPU seconds, peak tree RSS, peak tree PSS, exit code) of one `authority
    audit` run."""
    cmd = [*AUTHORITY, "audit", "-q", "--no-progress",
           "--jobs", str(jobs), *map(str, specs), str(ops), "-o", str(out), *extra]
    peaks: dict[int, int] = {}
    peak_pss = 0
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_pss
        ticks = 0
        while not done.is_set():
            # Reading PSS walks page tables: every 500 ms, not every 100.
            peak_pss = max(peak_pss, tree(proc.pid, peaks, pss=ticks % 5 == 0))
            ticks += 1
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    # The kernel's count of CPU time for the audit and every process it waited for (its
    # workers): exact, however the workers were started.
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    return seconds, usage.ru_utime + usage.ru_stime, sum(peaks.values()), peak_pss, \
        proc.returncode


def write_log(ops: Path, count: int, seed: int = 7, malformed: float = 0.01,
              repeat: float = 0.0, specs: Sequence[Path] = DEFAULT_SPECS) -> bool:
    """Write a generated operation log with benchmarks/gen_ops.py; False if it could not (it
    says why)."""
    made = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gen_ops.py"),
                           "-n", str(count), "--seed", str(seed), "--malformed", str(malformed),
                           "--repeat", str(repeat), *[a for s in specs for a in ("--spec", str(s))],
                           "-o", str(ops)], check=False)
    return made.returncode == 0


def calibrate() -> float:
    """Seconds for a plain `for i in range(10_000_000): pass` in this interpreter."""
    started = time.perf_counter()
    for _ in range(10_000_000):
        pass
    return time.perf_counter() - started


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("-n", "--count", type=int, default=1_000_000, help="operations to generate")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--malformed", type=float, default=0.01, help="share of malformed lines")
    p.add_argument("--repeat", type=float, default=0.0,
                   help="share of operations repeating the one before with a new id (default 0)")
    p.add_argument("--jobs", default="1,2", help="comma-separated jobs values (default 1,2)")
    p.add_argument("--spec", action="append", type=Path,
                   help="law versions to audit under (default: the two example laws)")
    p.add_argument("--ops", type=Path, help="operations file: reused if it exists, else written")
    p.add_argument("--no-memo", action="store_true", help="pass --no-memo to the audit")
    args = p.parse_args(argv)
    specs = args.spec or list(DEFAULT_SPECS)
    jobs_values = [int(j) for j in args.jobs.split(",")]
    with tempfile.TemporaryDirectory(prefix="authority-bench-") as tmp:
        ops = args.ops or Path(tmp) / "ops.jsonl"
        if not ops.exists():
            started = time.perf_counter()
            if not write_log(ops, args.count, args.seed, args.malformed, args.repeat, specs):
                return 1
            print(f"generated {args.count:,} operations in {time.perf_counter() - started:.1f} s "
                  f"-> {ops} ({ops.stat().st_size / 1e6:.0f} MB)", flush=True)
        with ops.open("rb") as f:
            lines = sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))
        print(f"specs: {', '.join(s.name for s in specs)}; {lines:,} lines; "
              f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.2f}", flush=True)
        print(f"interpreter: {interpreter()}", flush=True)
        print(f"authority-dsl: {package()}", flush=True)
        print(f"{'jobs':>4}  {'seconds':>8}  {'ops/s':>9}  {'speed-up':>8}  {'CPU s':>7}  "
              f"{'ops/CPU-s':>9}  {'peak RSS':>9}  {'peak PSS':>9}  {'loop s':>6}  "
              "output sha256", flush=True)
        runs: list[tuple[int, float]] = []  # (jobs, operations per second), in run order
        digests = set()
        for jobs in jobs_values:
            out = Path(tmp) / f"out-{jobs}.jsonl"
            loop = calibrate()
            seconds, cpu, peak, pss, code = run_audit(specs, ops, out, jobs,
                                                      ["--no-memo"] if args.no_memo else [])
            if code not in (0, 1):
                print(f"audit failed with exit code {code}", file=sys.stderr)
                return 1
            rate = lines / seconds
            runs.append((jobs, rate))
            base = one_job_rate(runs, len(runs) - 1)
            digest = sha256(out)
            digests.add(digest)
            out.unlink()
            speed_up = f"{rate / base:>7.2f}x" if base else f"{'-':>8}"
            print(f"{jobs:>4}  {seconds:>8.1f}  {rate:>9,.0f}  {speed_up}  "
                  f"{cpu:>7.1f}  {lines / cpu:>9,.0f}  {peak / 2**20:>6.0f} MiB  "
                  f"{pss / 2**20:>6.0f} MiB  {loop:>6.2f}  "
                  f"{digest[:16]}",
                  flush=True)
            print(f"      load average after the run: {os.getloadavg()[0]:.2f}", flush=True)
        if len(digests) > 1:
            print("error: the runs wrote different output", file=sys.stderr)
            return 1
        print("same output for every jobs value")
        for line in summary(runs):
            print(line)
    return 0


def one_job_rate(runs: Sequence[tuple[int, float]], index: int) -> float | None:
    """The rate of the one-job run a run is measured against: the one-job run just before it,
    else the next one (a one-job run is measured against itself)."""
    before = [rate for jobs, rate in runs[:index + 1] if jobs == 1]
    if before:
        return before[-1]
    after = [rate for jobs, rate in runs[index + 1:] if jobs == 1]
    return after[0] if after else None


def summary(runs: Sequence[tuple[int, float]]) -> list[str]:
    """For each jobs value run more than once, or beside one job: the range and median of its
    rates, and of its speed-ups, each run against the one-job run next to it (`one_job_rate`, as
    printed with each run: the machine's speed drifts between runs, and neighbours were measured
    in the most alike conditions)."""
    lines = []
    for jobs in sorted({j for j, _ in runs}):
        mine = [i for i, (j, _) in enumerate(runs) if j == jobs]
        rates = [runs[i][1] for i in mine]
        if len(rates) == 1:
            text = f"jobs {jobs}: 1 run, {rates[0]:,.0f} ops/s"
        else:
            text = (f"jobs {jobs}: {len(rates)} runs, {min(rates):,.0f}-{max(rates):,.0f} ops/s, "
                    f"median {statistics.median(rates):,.0f}")
        if jobs != 1:
            ratios = [runs[i][1] / base for i in mine
                      if (base := one_job_rate(runs, i)) is not None]
            if ratios:
                text += (f"; against the one-job run next to each: "
                         f"{', '.join(f'{r:.2f}x' for r in ratios)} "
                         f"(median {statistics.median(ratios):.2f}x)")
        if len(rates) > 1 or jobs != 1:
            lines.append(text)
    return lines


if __name__ == "__main__":
    sys.exit(main())
