"""`authority decide SPEC OPERATION`: one verdict with its explanation."""

from __future__ import annotations

import argparse

from .common import file_name, input_file

HELP = "decide one operation (JSON file, - for stdin, or a DSL operation file) under a law"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", metavar="SPEC", type=input_file("decide"), help="the law (.auth)")
    p.add_argument("operation", metavar="OPERATION", type=file_name,
                   help="an operation: a .json file, - for JSON on stdin, or an .auth file "
                   "holding one `operation { ... }` block")
    p.add_argument("--json", action="store_true", help="print the decision record as JSON")
    p.add_argument("--no-trace", action="store_true", help="leave the reasoning steps out")
    p.add_argument("--reference", action="store_true",
                   help="use the reference interpreter instead of the compiled evaluator")


def run(args: argparse.Namespace) -> int:
    from ..engine import compile_law
    from ..engine.reference import decide as reference_decide
    from ..render import print_decision, shown, stderr_console, write_json
    from .common import OperationInputError, load_law_or_report, read_operation

    console = stderr_console()
    law = load_law_or_report(args.spec, console)
    if law is None:
        return 1
    try:
        op = read_operation(args.operation)
    except OperationInputError as exc:
        console.print(f"error: {shown(str(exc))}", highlight=False, markup=False)
        return 1
    decision = reference_decide(law, op) if args.reference else compile_law(law).decide(op)
    if args.json:
        write_json(decision.dumps())
    else:
        from ..render import stdout_console

        print_decision(stdout_console(), decision, trace=not args.no_trace)
    return 0 if decision.verdict == "permitted" else 3
