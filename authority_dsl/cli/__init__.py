"""The `authority` command: one module per verb, each a thin layer over the pipeline.

Exit codes: 0 ok / permitted, 1 user error (bad spec, bad input) or a failed write, 2 usage error,
3 a decision other than permitted (`decide`), a failed case (`test`), a violated principle
(`verify`) or a changed verdict (`diff --exit-code`); 130 interrupted (and `audit`'s 143
terminated, 129 hung up); a reader that stops early (`| head`) leaves the status of what was
done, or 141 if the command had to stop before it was done.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from .. import __version__
from ..diagnostics import os_reason

# verb -> module; each module has `help`, `add_arguments(parser)` and `run(args) -> int`, and
# imports what it needs inside `run` so that start-up stays quick.
VERBS = {
    "check": "check",
    "fmt": "fmt",
    "decide": "decide",
    "verify": "verify",
    "diff": "diff",
    "lint": "lint",
    "test": "test",
    "audit": "audit",
    "repl": "repl",
}

EXIT_OK, EXIT_USER, EXIT_USAGE, EXIT_DECISION = 0, 1, 2, 3


class _Version(argparse.Action):
    """`--version`: the version and how this install runs (`authority_dsl.build`), found only
    when asked."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        from .. import build

        print(f"authority-dsl {__version__} ({build()})")
        parser.exit()


class _VerbParser(argparse.ArgumentParser):
    """A verb's parser: options may come between the positional arguments
    (`audit SPEC --jobs 2 OPERATIONS.jsonl`), as they may before and after them, and every
    argument after `--` is positional (`check -- -draft.auth`). An argument left over is an
    error of the verb, shown with the verb's usage (not `authority`'s)."""

    _mixing = False
    # What follows the first `--`, while the intermixed parse runs its options pass.
    _after_dashes: list[str] | None = None

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        if self._mixing:  # a pass of the intermixed parse (Python < 3.12.8 and 3.13.0)
            tail, self._after_dashes = self._after_dashes, None
            if tail is None:
                return super().parse_known_args(args, namespace)
            # The options pass reads only what comes before `--`: given the `--`, it would drop
            # it when no positional argument comes before it, and the positionals pass would
            # then take `-x.auth` after it for an option.
            namespace, rest = super().parse_known_args(args[:len(args) - len(tail) - 1],
                                                       namespace)
            return namespace, [*rest, "--", *tail]
        args = list(sys.argv[1:] if args is None else args)
        self._mixing = True
        self._after_dashes = args[args.index("--") + 1:] if "--" in args else None
        try:
            namespace, extras = self.parse_known_intermixed_args(args, namespace)
        finally:
            self._mixing = False
            self._after_dashes = None
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, []


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="authority",
        description="Write laws that grant powers by threat, and check operations against them.",
        epilog="exit codes: 0 ok or permitted, 1 bad spec or input or a failed write, 2 usage "
        "error, 3 a decision other than permitted, a failed case, a violated principle (verify) "
        "or a changed verdict (diff --exit-code), 130 interrupted (Ctrl-C; audit: also 143 "
        "terminated, 129 hung up), 141 its reader stopped (| head) before it was done",
    )
    parser.add_argument("--version", action=_Version, help="show the version and the build "
                        "(which modules run compiled) and exit")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_VerbParser)
    sub.required = True
    for verb, module_name in VERBS.items():
        module = importlib.import_module(f"{__name__}.{module_name}")
        p = sub.add_parser(verb, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def _standard_streams() -> None:
    """A closed standard input, output or error (`<&-`, `>&-`) becomes /dev/null: input is
    empty and output dropped, as with `</dev/null` and `>/dev/null`, and no file opened later
    (`-o`) takes its place by chance."""
    for fd, name, mode, flags in ((0, "stdin", "r", os.O_RDONLY), (1, "stdout", "w", os.O_WRONLY),
                                  (2, "stderr", "w", os.O_WRONLY)):
        try:
            os.fstat(fd)
        except OSError:
            devnull = os.open(os.devnull, flags)
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
            setattr(sys, name, open(fd, mode, encoding="utf-8", closefd=False))  # noqa: SIM115


def discard_stdout() -> None:
    """The reader stopped early (`| head`): what is left of the output goes nowhere, also what
    the interpreter would flush on exit, which would otherwise fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


# The status of a command whose reader stopped before it was done (128 + SIGPIPE, as a shell
# reports a command that SIGPIPE ended): not 0, which would read as "permitted" or "all decided".
EXIT_READER_GONE = 141


def main(argv: Sequence[str] | None = None) -> int:
    _standard_streams()
    try:
        # Inside: a Ctrl-C while the commands' modules load is an interruption like any other.
        args = build_parser().parse_args(argv)
        code = int(args._module.run(args))
        try:
            sys.stdout.flush()  # a reader that stopped early, once the command is done
        except BrokenPipeError:
            discard_stdout()  # the result was reached: its status stands (a verdict, a failure)
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        discard_stdout()  # stopped before it was done
        return EXIT_READER_GONE
    except OSError as exc:  # a write that failed: a full disk, a quota, an I/O error
        return _failed(exc)


def _failed(exc: OSError) -> int:
    """One line for an error of the system (standard output that cannot be written: `>/dev/full`,
    a full disk), not a traceback; status 1."""
    try:
        sys.stdout.flush()
    except OSError:
        discard_stdout()  # what is left of the output could not be written either, nor at exit
    # Without a file name, the error is the output's: a write to an open file (standard output)
    what = "cannot write the output" if exc.filename is None else f"`{exc.filename}`"
    with contextlib.suppress(OSError):  # nor standard error, maybe: the status says it
        print(f"error: {what}: {os_reason(exc)}", file=sys.stderr)
    return EXIT_USER


def entry() -> None:
    """The `authority` command. After an audit, the process ends without tearing down the
    interpreter: freeing the caches of a long audit one object at a time took some 0.3 s at the
    end of every run, the whole of it with `--jobs 2` while the worker had already ended. Nothing
    is lost by it: the decisions are written with `os.write` and their file closed, and standard
    output and error are flushed here."""
    from . import common

    common.KEPT_UNTIL_EXIT = []
    code = main()
    if common.KEPT_UNTIL_EXIT:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    sys.exit(code)
