"""`authority repl [SPEC]`: the students' REPL (see authority_dsl/repl)."""

from __future__ import annotations

import argparse

from .common import input_file

HELP = "the students' REPL: build an operation step by step and see why it is or is not lawful"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", nargs="?", metavar="SPEC", type=input_file("repl"),
                   help="a law (.auth) to load at the start")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="with piped input, print only what the commands show, not the commands "
                   "(a failing command is named, with its line number)")
    p.epilog = ("On a terminal: completion, highlighting, a toolbar with the verdict and a "
                "history kept in $AUTHORITY_HISTORY (default ~/.local/state/authority/history; "
                "empty: none). With piped input: one command per line, echoed with its output; "
                "exit 1 if any command failed, else 0.")


def run(args: argparse.Namespace) -> int:
    import shlex
    import sys

    from rich.console import Console

    from ..repl.app import BANNER, history_file, run_interactive, run_piped, show
    from ..repl.session import Session

    session = Session()
    console = Console(highlight=False)
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if interactive:
        console.print(BANNER, style="dim", highlight=False)
    failed = False
    if args.spec:
        loaded = session.execute("load " + shlex.quote(args.spec))
        show(console, loaded)
        failed = loaded.error
    if interactive:
        return run_interactive(session, console, history=history_file())
    code = run_piped(session, sys.stdin, console, echo=not args.quiet)
    return 1 if failed else code
