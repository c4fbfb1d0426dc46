"""`authority diff OLD NEW`: what changes from one version of a law to the next."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .common import add_search_arguments, input_file

if TYPE_CHECKING:
    from rich.console import Console

    from ..analysis.diff import DiffReport, Group
    from ..decision import Decision

HELP = "the semantic and structural difference between two versions of a law"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("old", metavar="OLD", type=input_file("diff"),
                   help="the law as it is (.auth)")
    p.add_argument("new", metavar="NEW", type=input_file("diff"),
                   help="the law as proposed (.auth)")
    p.add_argument("--json", action="store_true", help="print the difference as JSON")
    p.add_argument("--date", action="append", metavar="YYYY-MM-DD",
                   help="compare only operations starting on this date (repeatable)")
    p.add_argument("--brief", action="store_true", help="leave the example operations out")
    p.add_argument("--exit-code", action="store_true",
                   help="exit 3 if some operation's verdict or requirements change")
    add_search_arguments(p)


def run(args: argparse.Namespace) -> int:
    from ..analysis.diff import DEFAULT_EXAMPLES, diff
    from ..decision import dumps
    from ..durations import parse_date
    from ..render import stderr_console, write_json
    from .common import load_law_or_report

    console = stderr_console()
    try:
        dates = [parse_date(d) for d in args.date] if args.date else None
    except ValueError as exc:
        console.print(f"error: --date: {exc}", highlight=False, markup=False)
        return 2
    laws = []
    for spec in (args.old, args.new):
        law = load_law_or_report(spec, console)
        if law is None:
            return 1
        laws.append(law)
    report = diff(laws[0], laws[1], dates=dates, examples=args.examples or DEFAULT_EXAMPLES,
                  seed=args.seed)
    if args.json:
        write_json(dumps(report.to_json()))
    else:
        from ..render import stdout_console

        print_report(stdout_console(soft_wrap=True), report, args.old, args.new,
                     examples=not args.brief)
    changed = bool(report.semantic.groups)
    return 3 if args.exit_code and changed else 0


def describe(group: Group) -> str:
    """Which operations a group holds, in one line."""
    if group.threats == ("*",):
        where = "every operation"
    elif not group.threats:
        where = "operations naming no threat, or any threat"
    else:
        names = ", ".join(f"`{t}`" for t in group.threats)
        where = f"threat{'s' * (len(group.threats) > 1)} {names}"
    for members in group.capabilities:
        where += " + " + " / ".join(f"`{m}`" for m in members)
    for sharing in group.sharings:
        recipient, country, data = sharing.split(":")
        where += f" + sharing {data} data with `{recipient}`" + (
            f" ({country})" if country else " (no country stated)")
    return where


def print_report(console: Console, report: DiffReport, old: str, new: str, *,
                 examples: bool = True) -> None:
    from rich.text import Text

    from ..analysis.diff import KINDS
    from ..formatter import format_operation
    from ..operation import to_spec

    console.print(Text(f"{old} -> {new}", style="bold"))
    console.print(Text(f"structural: {len(report.structural)} declaration"
                       f"{'s' * (len(report.structural) != 1)} changed", style="bold"))
    for change in report.structural:
        style = {"added": "green", "removed": "red", "changed": "yellow"}[change.change]
        console.print(Text(f"  {change}", style=style))
    s = report.semantic
    how = "exhaustive" if s.exhaustive else f"not exhaustive; {s.examples:,} examples searched"
    console.print(Text(f"semantic: {len(s.groups)} group{'s' * (len(s.groups) != 1)} of "
                       f"changes over {s.classes:,} classes of operations ({how})",
                       style="bold"))
    for note in s.limits:
        console.print(Text(f"  not exhaustive: {note}", style="yellow"))
    for kind in KINDS:
        groups = [g for g in s.groups if g.kind == kind]
        if not groups:
            continue
        console.print(Text(f"{kind} ({len(groups)})", style="bold cyan"))
        for g in groups:
            count = g.note or f"{g.count:,} class{'es' * (g.count != 1)}"
            line = Text(f"  · {describe(g)}: ")
            line.append(f"`{g.reason}`" if kind.startswith("requirement") else g.reason,
                        style="bold")
            line.append(f"  [{count}]", style="dim")
            console.print(line)
            if examples and g.example is not None and g.old is not None and g.new is not None:
                for text in format_operation(to_spec(g.example)).splitlines():
                    console.print(Text("      " + text, style="dim"))
                console.print(Text(f"      old: {_verdict(g.old)}; new: {_verdict(g.new)}",
                                   style="dim"))


def _verdict(decision: Decision) -> str:
    if decision.missing:
        return f"{decision.verdict} " + ", ".join(m.requirement for m in decision.missing)
    if decision.violations:
        return f"{decision.verdict} ({decision.violations[0].code})"
    return decision.verdict
