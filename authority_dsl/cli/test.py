"""`authority test SPEC CASES...`: run conformance cases, report results and coverage."""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, NamedTuple

from ..diagnostics import os_reason
from .common import file_name, input_file

if TYPE_CHECKING:
    from fractions import Fraction

    from rich.console import Console

    from ..cases import Coverage, Result
    from ..model import Law

HELP = "run conformance cases (expected verdicts) against a law and report coverage"
# --fail-under's decimals: more than any threshold needs, few enough for the exact comparison
# and the decimals printed to take no time (with 1e-999999999, they would take hours).
_MAX_DECIMALS = 1000
# A number as written in ASCII digits (`80`, `80.5`, `.5`, `8e1`): not `5_0`, `٥٠` or `５０`, which
# Decimal would read as 50, nor `nan`, `inf` or spaces around it.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class Threshold(NamedTuple):
    """--fail-under: the percentage as written, to print, and its exact value, to compare."""

    text: str
    value: Fraction


def _percent(text: str) -> Threshold:
    """Read exactly as the decimal number written (a float would make 80.0000000005 equal 80)."""
    from decimal import Decimal, InvalidOperation
    from fractions import Fraction

    if not _NUMBER.fullmatch(text):
        raise argparse.ArgumentTypeError(f"`{text}` is not a number (write it with the digits "
                                         "0-9, as 80 or 80.5)")
    try:
        value = Decimal(text)
    except InvalidOperation:  # an exponent beyond what Decimal holds (`1e99999999999999999999`)
        raise argparse.ArgumentTypeError("a percentage is between 0 and 100, with at most "
                                         f"{_MAX_DECIMALS} decimals") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError("a percentage is between 0 and 100")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -_MAX_DECIMALS:
        raise argparse.ArgumentTypeError(f"`{text}` has more than {_MAX_DECIMALS} decimals")
    return Threshold(text, Fraction(value))


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.epilog = ("exit codes: 0 every case passed, 1 errors in the law or the cases, 2 usage "
                "error, 3 a case failed or coverage is below --fail-under")
    p.add_argument("spec", metavar="SPEC", type=input_file("test"), help="the law (.auth)")
    p.add_argument("cases", nargs="+", metavar="CASES", type=input_file("test"),
                   help="case files (.auth) or folders holding them")
    p.add_argument("--json", action="store_true",
                   help="print the results and the coverage as one JSON object")
    p.add_argument("--junit", metavar="FILE", type=file_name,
                   help="also write JUnit XML to FILE (not the law, a file it imports or a case "
                   "file); - writes it to stdout, and the results table to stderr (not with "
                   "--json)")
    p.add_argument("--fail-under", type=_percent, metavar="PERCENT",
                   help="fail (exit 3) when coverage of the law's provisions is below PERCENT, "
                   "compared exactly; the summary prints the coverage with as many decimals as "
                   "it takes to show which side of PERCENT it is on")
    p.add_argument("--reference", action="store_true",
                   help="use the reference interpreter instead of the compiled evaluator")
    p.add_argument("--no-trace", action="store_true",
                   help="leave the reasoning steps out of the explanation of failing cases")


def run(args: argparse.Namespace) -> int:
    import sys
    import time

    from ..cases import Decide, coverage, load_cases, run_case
    from ..checker import load_law_texts
    from ..decision import dumps
    from ..engine import compile_law
    from ..render import print_diagnostics, stderr_console, stdout_console, write_json

    console = stderr_console()
    junit_out = args.junit == "-"  # the JUnit XML on stdout; the results table then on stderr
    if junit_out and args.json:
        console.print("usage error: --junit - and --json would both write to stdout; give "
                      "--junit a file", highlight=False, markup=False, soft_wrap=True)
        return 2
    law, diags, texts = load_law_texts(args.spec)
    if law is None:
        print_diagnostics(console, [d for d in diags if d.is_error])
        console.print(f"{args.spec}: the law has errors; run `authority check` for details",
                      highlight=False, markup=False, soft_wrap=True)
        return 1
    if args.junit and not junit_out:
        clash = _input_named(args.junit, law, args.cases)
        if clash is not None:
            console.print(f"error: --junit {args.junit} is one of the inputs ({clash}); write "
                          "the report elsewhere", highlight=False, markup=False, soft_wrap=True)
            return 1
    cases, problems = load_cases(args.cases, law)
    errors = [d for d in problems if d.is_error]
    if errors or not cases:
        print_diagnostics(console, errors)
        console.print(f"{len(errors)} error{'s' * (len(errors) != 1)} in the cases; no case was "
                      "run" if errors else "no cases found", highlight=False, soft_wrap=True)
        return 1
    print_diagnostics(console, problems)
    if args.reference:
        import functools

        from ..engine.reference import decide as reference_decide

        decide: Decide = functools.partial(reference_decide, law)
    else:
        decide = compile_law(law).decide
    results, times = [], []
    for case in cases:
        started = time.perf_counter()
        results.append(run_case(decide, case))
        times.append(time.perf_counter() - started)
    cover = coverage(law, results, texts)
    failed = sum(not r.passed for r in results)
    below = _below(cover, args.fail_under)
    if junit_out:
        from ..junit import junit_xml

        sys.stdout.flush()
        sys.stdout.buffer.write(junit_xml(results, law.title, times))
    elif args.junit:
        from ..junit import junit_xml

        try:
            with open(args.junit, "wb") as handle:
                handle.write(junit_xml(results, law.title, times))
        except OSError as exc:
            console.print(f"error: cannot write `{args.junit}`: {os_reason(exc)}",
                          highlight=False, markup=False, soft_wrap=True)
            return 1
    if args.json:
        write_json(dumps(_json(law, results, cover, args.fail_under)))
    else:
        out = console if junit_out else stdout_console()
        _print_results(out, results, trace=not args.no_trace)
        _print_coverage(out, cover)
        _print_summary(out, results, cover, args.fail_under)
    return 3 if failed or below else 0


def _input_named(report: str, law: Law, cases: list[str]) -> str | None:
    """Which input `report` is (the law, a file it imports or a case file), or None: writing
    the report would destroy it. Compared by device and inode (`same_file`), so that another
    name for the same file (a symbolic or hard link, `./x`) is caught too."""
    from ..cases import case_files
    from .common import input_files, same_file

    named: list[tuple[str | int, str]] = [
        (str(path), f"{'the law' if i == 0 else 'a file the law imports'}, `{path}`")
        for i, path in enumerate(input_files([law]))]
    named += [(str(path), f"a case file, `{path}`") for path in case_files(cases)[0]]
    return same_file(report, named)


def _below(cover: Coverage, fail_under: Threshold | None) -> bool:
    """Whether coverage falls short of --fail-under, compared exactly: the share of the
    provisions exercised against the threshold as written."""
    return fail_under is not None and cover.exact_percent < fail_under.value


def _percent_text(percent: Fraction, fail_under: Threshold | None) -> str:
    """The coverage with one decimal, or as many more as it takes to agree with --fail-under:
    83.78% below 83.8 prints as 83.78%, not as 83.8%. Rounded exactly, so it always ends: a
    coverage equal to the threshold shows as it once the threshold's decimals are reached."""
    from fractions import Fraction

    decimals = 1
    while True:
        scaled = str(round(percent * 10**decimals)).rjust(decimals + 1, "0")
        text = f"{scaled[:-decimals]}.{scaled[-decimals:]}"
        if fail_under is None or \
                (Fraction(text) < fail_under.value) == (percent < fail_under.value):
            return text
        decimals += 1


def _json(law: Law, results: list[Result], cover: Coverage,
          fail_under: Threshold | None) -> dict[str, object]:
    failed = sum(not r.passed for r in results)
    return {
        "law": law.info,
        "cases": [
            {"name": r.case.name, "file": r.case.file, "line": r.case.span.line,
             "source": r.case.source, "passed": r.passed,
             "expected": _expected(r), "actual": r.decision.verdict,
             "mismatches": [{"field": m.field, "expected": m.expected, "actual": m.actual}
                            for m in r.mismatches],
             "decision": r.decision.to_json()}
            for r in results
        ],
        "passed": len(results) - failed,
        "failed": failed,
        "coverage": cover.to_json(),
        "fail_under": None if fail_under is None else float(fail_under.value),
        # The comparison itself: `coverage.percent` is rounded, and 83.78 shows as 83.78 where
        # the threshold is 83.8, but a reader should not have to redo it.
        "below_fail_under": _below(cover, fail_under),
    }


def _expected(r: Result) -> dict[str, object]:
    case = r.case
    out: dict[str, object] = {"verdict": case.expect}
    if case.powers is not None:
        out["powers"] = sorted(case.powers)
    if case.missing is not None:
        out["missing"] = sorted(case.missing)
    if case.violation is not None:
        out["violation"] = case.violation
    return out


def _expectation_text(r: Result) -> str:
    parts = [r.case.expect]
    if r.case.powers is not None:
        parts.append("by " + ", ".join(sorted(r.case.powers)))
    if r.case.missing is not None:
        parts.append("missing " + ", ".join(sorted(r.case.missing)))
    if r.case.violation is not None:
        parts.append(f"[{r.case.violation}]")
    return "; ".join(parts)


def _print_results(out: Console, results: list[Result], *, trace: bool) -> None:
    from pathlib import Path

    from rich.table import Table
    from rich.text import Text

    from ..render import VERDICT_STYLE, decision_renderables

    table = Table("", "case", "expected", "actual", "where", show_edge=False, pad_edge=False)
    for r in results:
        mark = Text("✓", style="bold green") if r.passed else Text("✗", style="bold red")
        actual = Text(r.decision.verdict, style=VERDICT_STYLE[r.decision.verdict])
        table.add_row(mark, Text(r.case.name), Text(_expectation_text(r)), actual,
                      Text(f"{Path(r.case.file).name}:{r.case.span.line}", style="dim"))
    out.print(table)
    for r in results:
        if r.passed:
            continue
        out.print()
        head = Text("FAILED ", style="bold red")
        head.append(f"{r.case.name}", style="bold")
        head.append(f"  {r.case.file}:{r.case.span.line}")
        out.print(head)
        if r.case.source:
            out.print(Text(f"  source: {r.case.source}", style="dim"))
        mismatches = Table("", "expected", "actual", show_edge=False, pad_edge=False)
        for m in r.mismatches:
            mismatches.add_row(m.field, Text(m.expected), Text(m.actual, style="red"))
        out.print(mismatches)
        for part in decision_renderables(r.decision, trace=trace):
            out.print(part)


def _print_coverage(out: Console, cover: Coverage) -> None:
    from rich.table import Table
    from rich.text import Text

    from ..cases import KIND_TITLES, KINDS

    out.print()
    table = Table("provisions", "exercised", "", show_edge=False, pad_edge=False,
                  title="coverage of the law", title_justify="left")
    for kind in KINDS:
        done, total = cover.counts(kind)
        if total == 0:
            continue
        style = "green" if done == total else "yellow"
        table.add_row(Text(KIND_TITLES[kind]), Text(f"{done}/{total}", style=style),
                      f"{100 * done / total:.0f}%")
    out.print(table)
    missed = [p for p in cover.provisions if not cover.exercised(p)]
    if missed:
        out.print(Text("not exercised by any case:", style="bold"))
        for p in missed:
            where = f"  ({p.span.file}:{p.span.line})" if p.span else ""
            out.print(Text.assemble("  · ", p.label, (where, "dim")))


def _print_summary(out: Console, results: list[Result], cover: Coverage,
                   fail_under: Threshold | None) -> None:
    from rich.text import Text

    failed = sum(not r.passed for r in results)
    done, total = cover.counts()
    line = Text()
    line.append(f"{len(results)} case{'s' * (len(results) != 1)}: ")
    line.append(f"{len(results) - failed} passed", style="bold green")
    line.append(", ")
    line.append(f"{failed} failed", style="bold red" if failed else "")
    line.append(f"; coverage {_percent_text(cover.exact_percent, fail_under)}% ({done} of "
                f"{total} provisions)")
    if fail_under is not None and _below(cover, fail_under):
        line.append(f", below --fail-under {fail_under.text}%", style="bold red")
    out.print()
    out.print(line)
