"""`authority check SPEC...`: parse, resolve, type-check and lint."""

from __future__ import annotations

import argparse

from .common import file_name, input_file

HELP = "check specs: syntax, names, types and lints (exit 0 clean, 1 errors)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("specs", nargs="+", metavar="SPEC", type=input_file("check"),
                   help=".auth files (laws, registers, cases)")
    p.add_argument("--format", choices=("text", "json", "sarif"), default="text",
                   help="output format (sarif: SARIF 2.1.0 for code-review platforms)")
    p.add_argument("--strict", action="store_true", help="warnings fail the check too")
    p.add_argument("--no-lint", action="store_true",
                   help="leave out the drafting lints (see `authority lint`)")
    p.add_argument("--lexicon", metavar="FILE", type=file_name,
                   help="technology words for the `technology-word` lint, one per line "
                   "(replaces the built-in list)")


def run(args: argparse.Namespace) -> int:
    from ..checker import check_any
    from ..render import stderr_console
    from .common import report_diagnostics
    from .lint import LexiconError, lexicon_from

    try:
        lexicon = None if args.no_lint else lexicon_from(args.lexicon)
    except LexiconError as exc:
        stderr_console().print(f"error: {exc}", highlight=False, markup=False,
                               soft_wrap=True)
        return 1
    from ..analysis.lints import lint_law

    all_diags = []
    for spec in args.specs:
        checked = check_any(spec)
        all_diags.extend(checked.diagnostics)
        if lexicon is not None and checked.law is not None:  # a law without errors
            all_diags.extend(lint_law(checked.law, lexicon, checked.texts))
    files = len(args.specs)
    errors = report_diagnostics(all_diags, args.format, stderr_console(),
                                f"{files} file{'s' * (files != 1)} checked")
    warnings = len(all_diags) - errors
    failed = errors > 0 or (args.strict and warnings > 0)
    return 1 if failed else 0
