"""`authority fmt [--check] PATH...`: canonical formatting that keeps comments."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "format specs canonically (keeps comments; --check only reports)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", help=".auth files or folders")
    p.add_argument("--check", action="store_true",
                   help="change nothing; exit 1 if any file is not formatted")


def _files(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(sorted(p.rglob("*.auth")))
        else:
            out.append(p)
    return out


def run(args: argparse.Namespace) -> int:
    import os
    import tempfile

    from ..diagnostics import DiagnosticError
    from ..formatter import format_source
    from ..render import print_diagnostics, stderr_console
    from ..source import read_source

    console = stderr_console()
    bad = changed = 0
    files = _files(args.paths)
    for path in files:
        try:
            text = read_source(path)
            formatted = format_source(text, str(path))
        except DiagnosticError as exc:
            print_diagnostics(console, exc.diagnostics)
            bad += 1
            continue
        if formatted == text:
            continue
        changed += 1
        if args.check:
            console.print(f"{path}: not formatted", highlight=False)
            continue
        # Write to a temporary file beside the original, then replace it: never half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(formatted)
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
        console.print(f"{path}: formatted", highlight=False)
    verb = "would be reformatted" if args.check else "reformatted"
    console.print(f"{len(files)} file{'s' * (len(files) != 1)}: {changed} {verb}, {bad} with "
                  f"errors", highlight=False)
    if bad or (args.check and changed):
        return 1
    return 0
