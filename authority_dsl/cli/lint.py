"""`authority lint SPEC...`: the drafting lints alone (technology words, capabilities no power
grants, powers that never apply or are shadowed, the safeguard ladder)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .common import file_name, input_file

if TYPE_CHECKING:
    from ..analysis.lints import Lexicon
    from ..diagnostics import Diagnostic

HELP = "drafting lints for laws: technology words, unreachable or shadowed powers, safeguards"


class LexiconError(Exception):
    """A lexicon file that cannot be used; the message says where."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("specs", nargs="+", metavar="SPEC", type=input_file("lint"),
                   help="laws (.auth)")
    p.add_argument("--format", choices=("text", "json", "sarif"), default="text",
                   help="output format (sarif: SARIF 2.1.0 for code-review platforms)")
    p.add_argument("--strict", action="store_true", help="lint warnings fail too (exit 1)")
    p.add_argument("--lexicon", metavar="FILE", type=file_name,
                   help="technology words for the `technology-word` lint, one per line "
                   "(replaces the built-in list)")


def lexicon_from(path: str | None) -> Lexicon:
    """The built-in lexicon, or the one in `path`; raises LexiconError."""
    from ..analysis.lints import default_lexicon, load_lexicon
    from ..diagnostics import DiagnosticError

    if path is None:
        return default_lexicon()
    try:
        return load_lexicon(path)
    except DiagnosticError as exc:
        first = exc.diagnostics[0]
        raise LexiconError(f"{first.span}: lexicon: {first.message}") from None


def run(args: argparse.Namespace) -> int:
    from ..checker import check_any
    from ..render import stderr_console
    from .common import report_diagnostics

    console = stderr_console()
    try:
        lexicon = lexicon_from(args.lexicon)
    except LexiconError as exc:
        console.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
        return 1
    from ..analysis.lints import lint_law

    all_diags: list[Diagnostic] = []
    laws = 0
    for spec in args.specs:
        # Each file is read once (a pipe gives its text only once), as `check` reads it.
        checked = check_any(spec)
        if checked.law is not None:
            laws += 1
            all_diags.extend(lint_law(checked.law, lexicon, checked.texts))
            continue
        # A law with errors, a file that cannot be read or parsed (counted as a law, as it is
        # named to be linted), or another kind of file: only its errors. A sound register,
        # vocabulary or file of cases has no law to lint.
        found = [d for d in checked.diagnostics if d.is_error]
        all_diags.extend(found)
        if checked.is_law is not False:
            laws += 1
        elif not found:  # not an error, as `check` accepts the file, but not silent either
            console.print(f"{spec}: note: no law to lint: the file has no "
                          '`law "title" { ... }` header', highlight=False, markup=False,
                          soft_wrap=True)
    errors = report_diagnostics(all_diags, args.format, console,
                                f"{laws} law{'s' * (laws != 1)} linted")
    warnings = len(all_diags) - errors
    return 1 if errors or (args.strict and warnings) else 0
