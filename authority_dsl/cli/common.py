"""Input helpers shared by the verbs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..operation import Operation

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from rich.console import Console

    from ..diagnostics import Diagnostic
    from ..model import Law


# What a command keeps for the rest of the process (`authority audit`: its auditor and caches),
# so that `entry` can end the process without freeing it; None where the process goes on after
# the command (`main` called from Python, tests).
KEPT_UNTIL_EXIT: list[object] | None = None


def count(least: int) -> Callable[[str], int]:
    """An argparse type: a whole number, at least `least` (a usage error otherwise)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"`{text}` is not a whole number") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"give a number from {least} up, not {value}")
        return value
    return parse


def file_name(text: str) -> str:
    """An argparse type for a file name: not empty, a usage error (an empty name would be taken
    for no file, or for the current folder)."""
    if not text:
        raise argparse.ArgumentTypeError("empty file name")
    return text


def input_file(verb: str) -> Callable[[str], str]:
    """An argparse type for a file `verb` reads: a file name, and not `-`, which it does not read
    as standard input (a usage error rather than a file `-` not found)."""
    def parse(text: str) -> str:
        if text == "-":
            raise argparse.ArgumentTypeError(f"`-` (standard input) is not read by `{verb}`: "
                                             "give a file")
        return file_name(text)
    return parse


def add_search_arguments(p: argparse.ArgumentParser) -> None:
    """The options of the search `verify` and `diff` fall back on when classes are too many."""
    p.add_argument("--examples", type=count(1), default=None, metavar="N",
                   help="operations the search tries where the classes cannot all be "
                   "enumerated (default 2000)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed for that search (default: derandomized, the same every run)")


def report_diagnostics(diags: list[Diagnostic], fmt: str, console: Console, what: str) -> int:
    """Print diagnostics as text (with a summary line: `what` says what was checked), JSON or
    SARIF; return the number of errors."""
    from ..decision import dumps
    from ..render import print_diagnostics, write_json

    errors = sum(d.is_error for d in diags)
    warnings = len(diags) - errors
    if fmt == "json":
        write_json(dumps({"diagnostics": [d.to_json() for d in diags],
                          "errors": errors, "warnings": warnings}))
    elif fmt == "sarif":
        from ..analysis.sarif import to_sarif

        write_json(dumps(to_sarif(diags)))
    else:
        print_diagnostics(console, diags)
        console.print(f"{what}: {errors} error{'s' * (errors != 1)}, {warnings} warning"
                      f"{'s' * (warnings != 1)}", highlight=False,
                      style="bold red" if errors else "bold yellow" if warnings
                      else "bold green")
    return errors


def load_law_or_report(spec: str, console: Console) -> Law | None:
    """The checked law, or None after printing its errors."""
    from ..checker import load_law
    from ..render import print_diagnostics

    law, diags = load_law(spec)
    if law is None:
        print_diagnostics(console, [d for d in diags if d.is_error])
        console.print(f"{spec}: the law has errors; run `authority check` for details",
                      highlight=False, soft_wrap=True)
    return law


def _json(text: str) -> bool:
    """Whether the text is a JSON value (a string, a number...: then refused as not an
    operation, rather than read as the language)."""
    import json

    try:
        json.loads(text)
    except ValueError:
        return False
    return True


class OperationInputError(Exception):
    """An operation that cannot be read; the message says where."""


def read_operation(source: str) -> Operation:
    """Read one operation from a JSON file, stdin (`-`), or a DSL file with one operation block."""
    from ..diagnostics import DiagnosticError
    from ..operation import OperationError, from_spec, loads, read_bytes
    from ..source import decode

    name = "<stdin>" if source == "-" else source
    try:
        data = read_bytes(source)
        text = decode(data, name)
    except DiagnosticError as exc:
        d = exc.diagnostics[0]
        raise OperationInputError(f"{d.span}: {d.message}") from None
    if source.endswith(".auth") or not (text.lstrip()[:1] in ("{", "[", "") or _json(text)):
        from ..ast import OperationSpec
        from ..parser import parse

        try:
            module = parse(text, name)
        except DiagnosticError as exc:
            d = exc.diagnostics[0]
            raise OperationInputError(f"{d.span}: {d.message}") from None
        ops = [i for i in module.items if isinstance(i, OperationSpec)]
        if not ops:
            raise OperationInputError(f"{name}: no `operation` block: the file describes no "
                                      "operation")
        if len(ops) > 1:
            raise OperationInputError(f"{ops[1].span}: a second `operation` block; give one "
                                      "operation per file")
        try:
            return from_spec(ops[0])
        except OperationError as exc:
            raise OperationInputError(f"{ops[0].span}: {exc.message}") from None
    try:
        return loads(text)
    except OperationError as exc:
        raise OperationInputError(f"{name}: {exc.path}: {exc.message}") from None


def same_file(output: str, inputs: Iterable[tuple[str | int, str]]) -> str | None:
    """What `output` is among `inputs` (each a path or an open descriptor, with what to call
    it): the first that is the same regular file, compared by device and inode, so that another
    name for it (a symbolic or hard link, `./x`, standard input) is caught too. None if none is,
    or if `output` is not there yet or is no regular file (/dev/null, a terminal, a pipe)."""
    import os
    import stat

    try:
        target = os.stat(output)
    except OSError:
        return None
    if not stat.S_ISREG(target.st_mode):
        return None
    for where, what in inputs:
        try:
            read = os.fstat(where) if isinstance(where, int) else os.stat(where)
        except OSError:
            continue
        if os.path.samestat(target, read):
            return what
    return None


def input_files(laws: Iterable[Law]) -> list[Path]:
    """Every source file the laws were read from, imports included, each once, in load order:
    the files a report must not be written over."""
    files: list[Path] = []
    for law in laws:
        for name in law.files:
            if Path(name) not in files:
                files.append(Path(name))
    return files
