"""`authority audit SPEC... OPERATIONS.jsonl [-o DECISIONS.jsonl]`: streaming batch decisions."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ..diagnostics import os_reason
from . import common
from .common import count, file_name, input_files, same_file

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, BinaryIO

    from rich.console import Console

    from ..audit import Summary
    from ..model import Law

HELP = ("decide every operation of a JSON Lines file (one output line per input line); with "
        "several versions of a law, each operation under the version in force on its date")


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a number") from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError("--jobs takes a number from 1 to 256")
    return value


class _Formatter(argparse.HelpFormatter):
    """Shows the paths as `SPEC... OPERATIONS.jsonl` in the usage, which argparse then wraps as
    any other, rather than as `SPEC... OPERATIONS.jsonl [SPEC... OPERATIONS.jsonl ...]`."""

    def _format_args(self, action: argparse.Action, default_metavar: str) -> str:
        if action.dest == "paths":
            return str(action.metavar)
        return super()._format_args(action, default_metavar)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = _Formatter
    p.epilog = ("exit codes: 0 every line decided, 1 some lines were error records (all lines "
                "were still processed) or bad spec or file, 2 usage error, 130 interrupted "
                "(Ctrl-C), 143 terminated (SIGTERM), 129 hung up (SIGHUP): a stopped run's "
                "output ends with a whole line; 141 the reader of the output stopped early")
    p.add_argument("paths", nargs="+", metavar="SPEC... OPERATIONS.jsonl", type=file_name,
                   help="one or more versions of the law (SPEC, .auth), then the operations "
                   "(OPERATIONS.jsonl, JSON Lines; - for stdin)")
    p.add_argument("-o", "--output", metavar="DECISIONS.jsonl", type=file_name,
                   help="write the decisions to this file instead of stdout (- for stdout)")
    p.add_argument("-j", "--jobs", type=_jobs, default=1, metavar="N",
                   help="decide in N processes (same output as with 1)")
    p.add_argument("--top", type=count(0), default=10, metavar="N",
                   help="rows per table of the summary (default 10)")
    p.add_argument("-q", "--quiet", action="store_true", help="print no summary")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    p.add_argument("--no-memo", action="store_true",
                   help="decide every line afresh, without the memo of recent decisions (the "
                   "same output; for measuring)")


def run(args: argparse.Namespace) -> int:
    import os
    import sys
    import time

    from ..audit import VersionError, Versions, load_versions
    from ..render import print_diagnostics, stderr_console

    console = stderr_console()
    if len(args.paths) < 2:
        _say(console, "usage error: give at least one SPEC and then the OPERATIONS.jsonl file")
        return 2
    specs, source = args.paths[:-1], args.paths[-1]
    if "-" in specs:
        _say(console, "usage error: `-` (standard input) is not read by `audit` as a SPEC: give "
             "a file; only OPERATIONS.jsonl, the last, may be -")
        return 2
    output = None if args.output == "-" else args.output  # None: stdout
    for i, spec in enumerate(specs):
        earlier = same_file(spec, [(e, e) for e in specs[:i]])
        if earlier is not None:
            _say(console, f"error: `{spec}` is `{earlier}` again; give each version of the "
                 "law once")
            return 1
    laws, errors = load_versions(specs)
    if errors:
        print_diagnostics(console, errors)
        _say(console, "the law has errors; run `authority check` for details")
        return 1
    try:
        Versions(laws)
    except VersionError as exc:
        _say(console, f"error: {exc}")
        return 1
    if source != "-" and os.path.isdir(source):
        _say(console, f"error: `{source}` is a directory, not a JSON Lines file")
        return 1
    if output is not None:
        clobbered = _read_by_the_audit(output, laws, source)
        if clobbered is not None:
            _say(console, f"error: `{output}` is {clobbered}; write elsewhere")
            return 1
    try:
        stream = sys.stdin.buffer if source == "-" else open(source, "rb")  # noqa: SIM115
    except OSError as exc:
        _say(console, f"error: cannot read `{source}`: {os_reason(exc)}")
        return 1
    fd = 1
    try:
        if output is not None:
            try:
                fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            except OSError as exc:
                _say(console, f"error: cannot write `{output}`: {os_reason(exc)}")
                return 1
        else:
            sys.stdout.flush()
        loop = _loop(stream, fd)
        if loop is not None:
            where = "standard output" if output is None else f"`{output}`"
            _say(console, f"error: {where} is the input itself ({loop}): the audit would read "
                 "its own decisions back; write elsewhere")
            return 1
        started = time.perf_counter()
        try:
            summary, stopped = _audit(console, laws, stream, fd, args, source)
        except BrokenPipeError:
            raise
        except OSError as exc:
            _say(console, f"error: the audit stopped: {os_reason(exc)}")
            return 1
        except RuntimeError as exc:  # e.g. a worker process that died (BrokenProcessPool)
            _say(console, f"error: the audit stopped: {exc}")
            return 1
    finally:
        if fd != 1:
            os.close(fd)
        if stream is not sys.stdin.buffer:
            stream.close()
    elapsed = time.perf_counter() - started
    if not args.quiet:
        _print_summary(console, summary, elapsed, args.jobs, args.top)
    if stopped:
        import signal

        signum = getattr(args, "stopped_by", signal.SIGINT)
        what = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}.get(signum, "hung up")
        held = ("the first line, complete" if summary.lines == 1 else
                f"the first {summary.lines} lines, each complete")
        _say(console, f"{what}: the output holds {held}", "bold yellow")
        return 128 + signum
    errors_found = sum(summary.errors.values())
    return 1 if errors_found else 0


def _read_by_the_audit(output: str, laws: Sequence[Law], source: str) -> str | None:
    """What the audit reads that `output` is (the input, through a link or on standard input,
    or a file of a law: a spec or one it imports), which opening it for writing would empty
    before it is read; None if nothing."""
    inputs: list[tuple[str | int, str]] = [
        (0, "the input (standard input)") if source == "-" else (source, "the input")]
    inputs += [(str(name), f"a file of the law (`{name}`)") for name in input_files(laws)]
    return same_file(output, inputs)


def _loop(stream: BinaryIO, fd: int) -> str | None:
    """What the output `fd` shares with the input `stream` when they are the same open pipe or
    regular file (`-o /dev/stdin` on piped input, `>> OPERATIONS.jsonl`), which the audit would
    read back as it writes it, without end; None if they are not. Compared by device and inode
    as opened, so that any name for it is caught; a terminal or /dev/null may be both."""
    import os
    import stat

    try:
        read, written = os.fstat(stream.fileno()), os.fstat(fd)
    except (OSError, ValueError):  # no descriptor (a test's stand-in), or a closed one
        return None
    if not os.path.samestat(read, written):
        return None
    if stat.S_ISFIFO(read.st_mode):
        return "the same pipe"
    return "the same file" if stat.S_ISREG(read.st_mode) else None


def _audit(console: Console, laws: Sequence[Law], stream: BinaryIO, fd: int,
           args: argparse.Namespace, source: str) -> tuple[Summary, bool]:
    """Run the audit; the first Ctrl-C stops it at the next chunk boundary (a second at once)."""
    import os
    import signal
    import sys

    from ..audit import STOPPING, keep_chunk_buffers, room_for_jobs
    from ..audit import run as audit_run

    keep_chunk_buffers()
    args.jobs = room_for_jobs(args.jobs)  # fewer if the open files allowed are too few
    interrupted = swallowed = False

    def on_interrupt(signum: int, frame: object) -> None:
        nonlocal interrupted
        if interrupted:
            raise KeyboardInterrupt
        interrupted = True
        args.stopped_by = signum

    def stop() -> bool:
        return interrupted

    # A second signal can land in a finaliser (multiprocessing's, as the run ends), where the
    # exception cannot propagate and Python would print it as a traceback: it stops the run
    # once the run returns instead.
    unraisable = sys.unraisablehook

    def on_unraisable(info: Any) -> None:
        nonlocal swallowed
        if isinstance(info.exc_value, KeyboardInterrupt):
            swallowed = True
        else:
            unraisable(info)

    total = None
    if source != "-":
        try:
            total = os.fstat(stream.fileno()).st_size or None
        except OSError:
            total = None
    # Ctrl-C, and a request to end (`kill`, a closed terminal), stop the run at a chunk's end.
    previous = {signum: signal.signal(signum, on_interrupt) for signum in STOPPING}
    sys.unraisablehook = on_unraisable
    try:
        # A progress bar only on a terminal that is not also showing the decisions.
        if not args.no_progress and console.is_terminal and not (fd == 1 and os.isatty(1)):
            result = _with_progress(console, laws, stream, fd, args, total, stop)
        else:
            result = audit_run(laws, stream, fd, jobs=args.jobs, memo=not args.no_memo,
                               stop=stop, keep=common.KEPT_UNTIL_EXIT)
    finally:
        sys.unraisablehook = unraisable
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if swallowed:
        raise KeyboardInterrupt
    return result


def _say(console: Console, message: str, style: str | None = None) -> None:
    console.print(message, highlight=False, markup=False, soft_wrap=True, style=style)


def _with_progress(console: Console, laws: Sequence[Law], stream: BinaryIO, fd: int,
                   args: argparse.Namespace, total: int | None,
                   stop: Callable[[], bool]) -> tuple[Summary, bool]:
    import time

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from ..audit import run as audit_run

    columns = [TextColumn("auditing"), BarColumn(), TextColumn("{task.fields[lines]:,} lines"),
               TimeElapsedColumn()]
    if total:
        columns.insert(2, TimeRemainingColumn())
    else:
        columns.insert(2, MofNCompleteColumn())
    # Refreshed as the audit reports progress, not from a thread of its own: with a single
    # thread, the workers of several jobs can be forked (`audit._start_method`).
    with Progress(*columns, console=console, transient=True, auto_refresh=False) as progress:
        task = progress.add_task("audit", total=total, lines=0)
        done = 0
        shown = 0.0

        def advance(lines: int, size: int) -> None:
            nonlocal done, shown
            done += lines
            now = time.monotonic()
            due = now - shown >= 0.1
            if due:
                shown = now
            progress.update(task, advance=size, lines=done, refresh=due)

        return audit_run(laws, stream, fd, jobs=args.jobs, memo=not args.no_memo,
                         progress=advance, stop=stop, keep=common.KEPT_UNTIL_EXIT)


def _print_summary(console: Console, summary: Summary, elapsed: float, jobs: int,
                   top: int) -> None:
    from rich.table import Table
    from rich.text import Text

    from .. import build_kind
    from ..decision import VERDICTS
    from ..render import VERDICT_STYLE

    decided = summary.decided
    verdicts = summary.verdicts
    versions = summary.versions
    errors = sum(summary.errors.values())
    rate = summary.lines / elapsed if elapsed > 0 else 0.0
    head = Text()
    head.append(f"{summary.lines:,} line{'s' * (summary.lines != 1)}", style="bold")
    head.append(f" in {elapsed:.1f} s ({rate:,.0f} lines/s, {jobs} job{'s' * (jobs != 1)}, "
                f"{build_kind()}): ")
    head.append(f"{decided:,} decided, ")
    head.append(f"{errors:,} error record{'s' * (errors != 1)}",
                style="bold red" if errors else "")
    console.print(head, highlight=False, soft_wrap=True)
    if decided:
        line = Text("  ")
        for verdict in VERDICTS:
            count = verdicts[verdict]
            line.append(f"{verdict} {count:,} ({100 * count / decided:.1f}%)",
                        style=VERDICT_STYLE[verdict])
            line.append("   ")
        console.print(line, highlight=False, soft_wrap=True)
    if len(versions) > 1:
        console.print(Text("  versions: " + "; ".join(
            f"{name} {count:,}" for name, count in sorted(versions.items()))),
            highlight=False, soft_wrap=True)

    def by(title: str, counts: dict[tuple[str, str], int]) -> None:
        totals: dict[str, int] = {}
        for (name, _), count in counts.items():
            totals[name] = totals.get(name, 0) + count
        if not totals:
            return
        table = Table(title, *VERDICTS, "total", show_edge=False, pad_edge=False,
                      title=f"verdicts by {title}", title_justify="left")
        for name, total in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:top]:
            table.add_row(Text(name), *(f"{counts.get((name, v), 0):,}" for v in VERDICTS),
                          f"{total:,}")
        console.print(table)

    by("threat", summary.threats)
    by("capability", summary.capabilities)

    def ranked(title: str, head: str, counts: dict[str, int], unit: str = "operations") -> None:
        if not counts:
            return
        table = Table(head, unit, show_edge=False, pad_edge=False, title=title,
                      title_justify="left")
        for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]:
            table.add_row(Text(name), f"{count:,}")
        console.print(table)

    ranked("most often missing safeguards and assessments", "requirement", summary.missing)
    ranked("prohibitions hit", "prohibition", summary.prohibitions)
    ranked("error records", "code", summary.errors, "lines")
