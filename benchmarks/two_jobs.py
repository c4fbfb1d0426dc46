"""Where `authority audit --jobs 2` loses against twice one job's speed, on a generated log.

    python benchmarks/two_jobs.py --ops /tmp/ops.jsonl            # reuses or writes the log
    python benchmarks/two_jobs.py --ops /tmp/ops.jsonl --rounds 3 --to-file

Each round runs, one after the other (the installed package, as `benchmarks/audit.py` does):
- `whole`: one job on the whole log;
- `halves, in turn`: one job on each half of the log (cut at a line), one after the other;
- `halves, at once`: the same two one-job audits at the same time, as two processes;
- `--jobs 2`: two jobs on the whole log.

The decisions go to /dev/null, so that only reading and deciding are timed (`--to-file` writes
them to a new file in a temporary folder, as an audit would, removed after each run). Wall-clock
seconds and CPU seconds (the processes and all their descendants) are printed for each. What the
rows tell apart:
- `halves, in turn` against `whole`: what splitting the log costs, each audit warming its own
  caches;
- `halves, at once` against `halves, in turn`: what two processes deciding at the same time cost
  each other on this machine;
- `whole` over `halves, at once`: the most two processes that share nothing can gain here;
- `--jobs 2` against `halves, at once`: what cutting the log into shares and writing them back in
  order costs on top.
At the end, for each row, the median over the rounds and its speed-up over the median `whole`.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit import AUTHORITY, DEFAULT_SPECS, ENV, ROOT, interpreter, package, write_log

ROWS = ("whole", "halves, in turn", "halves, at once", "--jobs 2")


def run(commands: Sequence[Sequence[str]]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of commands run at the same time; the CPU time of every
    process they start is counted (each waits for its own workers)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    procs = [subprocess.Popen(list(c), cwd=ROOT, env=ENV, stderr=subprocess.PIPE)
             for c in commands]
    said = [p.communicate()[1] for p in procs]
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Exit status 1 also means error records (the log's malformed lines); with -q, a run that
    # did its work says nothing.
    for proc, text in zip(procs, said, strict=True):
        if proc.returncode not in (0, 1) or text:
            raise SystemExit(f"an audit failed (exit status {proc.returncode}): "
                             f"{text.decode(errors='replace').strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def halve(ops: Path, folder: Path) -> tuple[Path, Path]:
    """The log cut in two at the line end nearest its middle."""
    data = ops.read_bytes()
    cut = data.find(b"\n", len(data) // 2) + 1 or len(data)
    first, second = folder / "first.jsonl", folder / "second.jsonl"
    first.write_bytes(data[:cut])
    second.write_bytes(data[cut:])
    return first, second


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--ops", type=Path, required=True,
                   help="operations file: reused if it exists, else written by gen_ops.py")
    p.add_argument("-n", "--count", type=int, default=1_000_000,
                   help="operations to generate when --ops does not exist")
    p.add_argument("--rounds", type=int, default=2, help="rounds of the four runs (default 2)")
    p.add_argument("--to-file", action="store_true",
                   help="write the decisions to files rather than to /dev/null")
    args = p.parse_args(argv)
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    specs = [str(s) for s in DEFAULT_SPECS]
    if not args.ops.exists() and not write_log(args.ops, args.count):
        raise SystemExit(f"error: could not write the log `{args.ops}`")
    print(f"interpreter: {interpreter()}", flush=True)
    print(f"authority-dsl: {package()}", flush=True)
    times: dict[str, list[float]] = {row: [] for row in ROWS}
    with tempfile.TemporaryDirectory(prefix="authority-two-jobs-") as tmp:
        folder = Path(tmp)
        first, second = halve(args.ops, folder)

        def audit(source: Path, name: str, *extra: str) -> list[str]:
            out = str(folder / f"{name}.jsonl") if args.to_file else os.devnull
            return [*AUTHORITY, "audit", "-q", "--no-progress", *extra, *specs, str(source),
                    "-o", out]

        print(f"{'round':>5}  {'run':<16}  {'seconds':>8}  {'CPU s':>7}", flush=True)
        for round_ in range(1, args.rounds + 1):
            runs = {
                "whole": [[audit(args.ops, "whole")]],
                "halves, in turn": [[audit(first, "first-out")], [audit(second, "second-out")]],
                "halves, at once": [[audit(first, "first-out"), audit(second, "second-out")]],
                "--jobs 2": [[audit(args.ops, "jobs2", "--jobs", "2")]],
            }
            for row in ROWS:
                seconds = cpu = 0.0
                for commands in runs[row]:
                    s, c = run(commands)
                    seconds, cpu = seconds + s, cpu + c
                    # Each run writes a new file: writing over one would add its truncation,
                    # and ext4's writing out on closing a file truncated and written again.
                    for command in commands:
                        if command[-1] != os.devnull:
                            Path(command[-1]).unlink(missing_ok=True)
                times[row].append(seconds)
                print(f"{round_:>5}  {row:<16}  {seconds:>8.2f}  {cpu:>7.2f}", flush=True)
    whole = statistics.median(times["whole"])
    print(f"median over {args.rounds} round{'s' * (args.rounds != 1)}, and the speed-up over one "
          "job on the whole log:")
    for row in ROWS:
        median = statistics.median(times[row])
        print(f"  {row:<16}  {median:>6.2f} s  {whole / median:>5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
