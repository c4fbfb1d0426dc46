"""`authority verify SPEC`: check the principles of a law over every class of operations."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from .common import add_search_arguments, input_file

if TYPE_CHECKING:
    from rich.console import Console

    from ..analysis.verify import PrincipleResult, VerifyReport

HELP = "verify a law's principles over every class of operations (exit 3 if one is violated)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", metavar="SPEC", type=input_file("verify"), help="the law (.auth)")
    p.add_argument("--principle", action="append", metavar="NAME",
                   help="check only this principle (repeatable)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    add_search_arguments(p)


def run(args: argparse.Namespace) -> int:
    from ..analysis.verify import DEFAULT_EXAMPLES, verify
    from ..decision import dumps
    from ..render import stderr_console, write_json
    from .common import load_law_or_report

    console = stderr_console()
    law = load_law_or_report(args.spec, console)
    if law is None:
        return 1
    unknown = sorted(set(args.principle or ()) - {p.name for p in law.principles})
    if unknown:
        console.print(f"error: no principle `{unknown[0]}` in {args.spec}", highlight=False,
                      markup=False)
        return 2
    report = verify(law, args.principle, examples=args.examples or DEFAULT_EXAMPLES,
                    seed=args.seed)
    if args.json:
        write_json(dumps(report_json(report)))
    else:
        from ..render import stdout_console

        print_report(stdout_console(soft_wrap=True), report, args.spec)
    return 0 if report.holds else 3


def report_json(report: VerifyReport) -> dict[str, Any]:
    return {"law": report.law.info, "holds": report.holds,
            "principles": [result_json(r) for r in report.results]}


def result_json(r: PrincipleResult) -> dict[str, Any]:
    p = r.principle
    return {
        "principle": p.name, "cites": p.cites, "description": p.description,
        "when": p.text, "requires": sorted(p.requires), "deny": p.deny,
        "holds": r.holds, "exhaustive": r.exhaustive, "classes": r.classes,
        "examples": r.examples, "method": r.method, "limits": list(r.limits),
        "counterexample": r.counterexample.to_json() if r.counterexample else None,
        "lacking": list(r.lacking),
        "decision": r.decision.to_json() if r.decision else None,
    }


def print_report(console: Console, report: VerifyReport, spec: str) -> None:
    from rich.text import Text

    from ..formatter import format_operation
    from ..operation import to_spec

    law = report.law
    console.print(Text(f"{spec}: {law.title} ({law.version})", style="bold"))
    if not report.results:
        console.print("  the law states no principles")
        return
    for r in report.results:
        head = Text("  ")
        head.append("✓ " if r.holds else "✗ ", style="bold green" if r.holds else "bold red")
        head.append(r.principle.name, style="bold")
        head.append(" holds: " if r.holds else " is VIOLATED: ",
                    style="green" if r.holds else "bold red")
        head.append(r.method)
        if r.principle.cites:
            head.append(f"  ({r.principle.cites})", style="dim")
        console.print(head)
        for note in r.limits:
            console.print(Text(f"      not exhaustive: {note}", style="yellow"))
        if r.counterexample is None or r.decision is None:
            continue
        what = ("permitted although the principle denies it" if r.principle.deny else
                "permitted without " + ", ".join(f"`{n}`" for n in r.lacking))
        console.print(Text(f"      counterexample, {what}:", style="red"))
        for line in format_operation(to_spec(r.counterexample)).splitlines():
            console.print(Text("        " + line))
        powers = ", ".join(sorted({f"`{a.power}`" for a in r.decision.authorised}))
        console.print(Text(f"      decision: {r.decision.verdict}"
                           + (f", authorised by {powers}" if powers else "")))
    held = sum(r.holds for r in report.results)
    total = len(report.results)
    console.print(Text(f"{total} principle{'s' * (total != 1)}: {held} hold, "
                       f"{total - held} violated", style="bold green" if held == total
                       else "bold red"))
