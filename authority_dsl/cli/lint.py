"""`authority lint SPEC...`: the drafting lints alone (technology words, capabilities no power
grants, powers that never apply or are shadowed, the safeguard ladder)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..analysis.lints import Lexicon
    from ..diagnostics import Diagnostic

HELP = "drafting lints for laws: technology words, unreachable or shadowed powers, safeguards"


class LexiconError(Exception):
    """A lexicon file that cannot be read."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("specs", nargs="+", metavar="SPEC", help="laws (.auth)")
    p.add_argument("--format", choices=("text", "json", "sarif"), default="text",
                   help="output format (sarif: SARIF 2.1.0 for code-review platforms)")
    p.add_argument("--strict", action="store_true", help="lint warnings fail too (exit 1)")
    p.add_argument("--lexicon", metavar="FILE",
                   help="technology words for the `technology-word` lint, one per line "
                   "(replaces the built-in list)")


def lexicon_from(path: str | None) -> Lexicon:
    """The built-in lexicon, or the one in `path`; raises LexiconError."""
    from ..analysis.lints import default_lexicon, load_lexicon

    if path is None:
        return default_lexicon()
    try:
        return load_lexicon(path)
    except (OSError, UnicodeError) as exc:
        raise LexiconError(f"cannot read lexicon `{path}`: "
                           f"{getattr(exc, 'strerror', None) or exc}") from None


def lint_file(path: str, lexicon: Lexicon) -> list[Diagnostic]:
    """The lint warnings for a law file that checks without errors ([] for other files)."""
    from ..analysis.lints import lint_law
    from ..checker import load_law

    law, _ = load_law(path)
    return lint_law(law, lexicon) if law is not None else []


def _is_law(path: str) -> bool:
    """True unless the file parses and holds no law header (a register or cases)."""
    from ..ast import Law
    from ..checker import load_module
    from ..diagnostics import DiagnosticError

    try:
        module = load_module(path)
    except DiagnosticError:
        return True  # let the load report the problem
    return any(isinstance(item, Law) for item in module.items)


def run(args: argparse.Namespace) -> int:
    from ..checker import load_law
    from ..render import stderr_console
    from .common import report_diagnostics

    console = stderr_console()
    try:
        lexicon = lexicon_from(args.lexicon)
    except LexiconError as exc:
        console.print(f"error: {exc}", highlight=False, markup=False)
        return 1
    from ..analysis.lints import lint_law

    all_diags: list[Diagnostic] = []
    laws = 0
    for spec in args.specs:
        if not _is_law(spec):
            continue  # a technique register or a file of cases: nothing to lint
        laws += 1
        law, diags = load_law(spec)
        if law is None:
            all_diags.extend(d for d in diags if d.is_error)
            continue
        all_diags.extend(lint_law(law, lexicon))
    errors = report_diagnostics(all_diags, args.format, console,
                                f"{laws} law{'s' * (laws != 1)} linted")
    warnings = len(all_diags) - errors
    return 1 if errors or (args.strict and warnings) else 0
