"""`authority check SPEC...`: parse, resolve, type-check and lint."""

from __future__ import annotations

import argparse

HELP = "check specs: syntax, names, types and lints (exit 0 clean, 1 errors)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("specs", nargs="+", metavar="SPEC", help=".auth files (laws, registers, cases)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    p.add_argument("--strict", action="store_true", help="warnings fail the check too")


def run(args: argparse.Namespace) -> int:
    import sys

    from ..checker import check_file
    from ..decision import dumps
    from ..render import print_diagnostics, stderr_console

    all_diags = []
    for spec in args.specs:
        all_diags.extend(check_file(spec))
    errors = sum(d.is_error for d in all_diags)
    warnings = len(all_diags) - errors
    if args.format == "json":
        sys.stdout.write(dumps({"diagnostics": [d.to_json() for d in all_diags],
                                "errors": errors, "warnings": warnings}) + "\n")
    else:
        console = stderr_console()
        print_diagnostics(console, all_diags)
        files = len(args.specs)
        summary = f"{files} file{'s' * (files != 1)} checked: {errors} error" \
            f"{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
        console.print(summary, style="bold red" if errors else "bold green" if not warnings
                      else "bold yellow")
    failed = errors > 0 or (args.strict and warnings > 0)
    return 1 if failed else 0
