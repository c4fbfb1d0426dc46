"""Front ends over a Session: prompt_toolkit on a terminal, a plain line loop when piped.

Only `run_interactive` imports prompt_toolkit, so scripted use starts quickly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

from ..diagnostics import os_reason
from ..render import Safe, terminal_text
from .session import Output, Session, unwrapped

if TYPE_CHECKING:
    from prompt_toolkit.formatted_text import FormattedText

BANNER = ("authority repl: build an operation and ask whether it is lawful. `help` lists the "
          "commands, Tab completes, Ctrl-C cancels a line, Ctrl-D leaves.")

STYLE = {
    "prompt": "ansicyan bold",
    "bottom-toolbar": "noreverse bg:#262626 #d0d0d0",
    "toolbar.label": "bg:#262626 #8a8a8a",
    "toolbar.value": "bg:#262626 #ffffff bold",
    "toolbar.permitted": "bg:ansigreen #000000 bold",
    "toolbar.requires": "bg:ansiyellow #000000 bold",
    "toolbar.denied": "bg:ansired #ffffff bold",
    "toolbar.hint": "bg:#262626 ansiyellow",
}


def history_file() -> Path | None:
    """$AUTHORITY_HISTORY (empty: no file), else $XDG_STATE_HOME or ~/.local/state/authority."""
    env = os.environ.get("AUTHORITY_HISTORY")
    if env is not None:
        return Path(env).expanduser() if env else None
    base = os.environ.get("XDG_STATE_HOME") or os.path.join("~", ".local", "state")
    return Path(base).expanduser() / "authority" / "history"


def history_problem(path: Path) -> str | None:
    """Why the history cannot be kept in `path`, or None if it can.

    prompt_toolkit reads the file when the prompt starts and appends to it after each line, in
    its event loop, where an error ends in a traceback. So the file is opened here, both ways, as
    it will be: a directory, or a file that refuses appending (as in /proc), is found at
    start-up, not at the first command."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            return "it is a directory"
        with open(path, "ab"):
            pass
        with open(path, "rb"):
            pass
    except OSError as exc:
        return os_reason(exc)
    return None


def show(console: Console, output: Output) -> None:
    """Print an output: styled on a terminal, plain text without trailing blanks otherwise;
    either way with no control character of the data (an operation read from a file) and in
    the console's encoding (`render.Safe`)."""
    if not output.parts:
        return
    if not console.is_terminal and console.color_system is None:
        console.file.write(terminal_text(output.text(console.width), console.encoding))
        console.file.flush()
        return
    for part in output.parts:
        console.print(Safe(part), highlight=False, soft_wrap=unwrapped(part))


def run_piped(session: Session, lines: Iterable[str], console: Console, *,
              echo: bool = True) -> int:
    """Read commands line by line (a script or a pipe); 1 if any command failed, else 0."""
    failed = False
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if echo and (line.strip() or session.pending):
            # Never wrapped, however narrow: the transcript shows each command as typed.
            console.print(Safe(Text(session.prompt + line, style="bold")), highlight=False,
                          soft_wrap=True)
        output = session.execute(line)
        if output.error and not echo:
            # Without the echo, the failing command and its line in the script say where.
            console.print(Safe(Text(f"line {number}: {line.strip()}", style="bold")),
                          highlight=False, soft_wrap=True)
        show(console, output)
        failed |= output.error
        if output.quit:
            return 1 if failed else 0
    if session.pending:
        session.cancel()
        show(console, Output((Text("error: the input ended inside an operation block",
                                   style="red"),), error=True))
        failed = True
    return 1 if failed else 0


def toolbar(session: Session, width: int | None = None) -> FormattedText:
    """The bottom toolbar, in `width` columns (by default the terminal's)."""
    from prompt_toolkit.formatted_text import FormattedText

    from .views import fit, toolbar_text

    if width is None:
        from prompt_toolkit.application import get_app

        width = get_app().output.get_size().columns
    if session.pending:
        return FormattedText(fit([(
            "class:toolbar.hint", " pasting an operation block: end it with `}`; Ctrl-C drops it ",
        )], width))
    return FormattedText(toolbar_text(session.law, session.operation, session.decision(), width))


def run_interactive(session: Session, console: Console, *, history: Path | None = None,
                    **io: Any) -> int:
    """The prompt_toolkit REPL: history, completion, highlighting and a toolbar with the verdict.

    `io` may hold prompt_toolkit's `input` and `output` (tests use a pipe input)."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
    from prompt_toolkit.history import FileHistory, History, InMemoryHistory
    from prompt_toolkit.lexers import PygmentsLexer
    from prompt_toolkit.styles import Style

    from ..lexer import AuthorityReplLexer
    from .completer import ReplCompleter

    store: History = InMemoryHistory()
    if history is not None:
        problem = history_problem(history)
        if problem is None:
            store = FileHistory(str(history))
        else:
            console.print(Safe(Text(f"warning: cannot write the history file {history} "
                               f"({problem}); history is kept for this session only")),
                          style="yellow", highlight=False, soft_wrap=True)
    prompt: PromptSession[str] = PromptSession(
        history=store,
        completer=ReplCompleter(session),
        complete_while_typing=True,
        lexer=PygmentsLexer(AuthorityReplLexer),
        bottom_toolbar=lambda: toolbar(session),
        style=Style.from_dict(STYLE),
        auto_suggest=AutoSuggestFromHistory(),
        **io,
    )
    while True:
        try:
            line = prompt.prompt([("class:prompt", session.prompt)])
        except KeyboardInterrupt:
            session.cancel()
            continue
        except EOFError:
            if not session.pending:
                break
            # Inside a pasted block, Ctrl-D gives it up (said), and a second one leaves.
            session.cancel()
            console.print("the operation block was cancelled: it never closed", style="yellow",
                          highlight=False, markup=False, soft_wrap=True)
            continue
        try:
            output = session.execute(line)
        except KeyboardInterrupt:
            console.print("interrupted", style="dim")
            continue
        show(console, output)
        if output.quit:
            break
    return 0
