"""Rendering with rich: diagnostics with a caret under the source, and decisions.

The only module (with the REPL) that imports rich; everything below it returns plain data.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .decision import Decision
from .diagnostics import Diagnostic

_STYLE = {"error": "bold red", "warning": "bold yellow"}
VERDICT_STYLE = {"permitted": "bold green", "requires": "bold yellow", "denied": "bold red"}


def _read_source(file: str) -> str | None:
    try:
        p = Path(file)
        if not p.is_file() or p.stat().st_size > 8 * 1024 * 1024:
            return None
        return p.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None


@functools.lru_cache(maxsize=16)
def _lines(text: str) -> list[str]:
    """The lines of a source as the parser counts them (at each line feed; `str.splitlines`
    would also split at U+2028 and other characters), split once for all the diagnostics shown
    in it (a string keeps its hash: looking the same text up again is quick)."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def _source_line(file: str, line: int, sources: Mapping[str, str]) -> str | None:
    text = sources.get(file)
    if text is None:
        text = _read_source(file)
        if text is None:
            return None
    lines = _lines(text)
    return lines[line - 1] if 0 < line <= len(lines) else None


def _visible(line: str) -> str:
    """A source line as a terminal may show it: control and format characters (a NUL, an
    escape sequence, a bidirectional override that would reorder what is shown, a zero-width
    space) each become U+FFFD, one character for one, so the caret stays under its column."""
    if line.isprintable():
        return line
    import unicodedata

    return "".join(c if c == "\t" or unicodedata.category(c) not in _HIDDEN else "\ufffd"
                   for c in line)


_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _layout(line: str) -> tuple[str, list[int]]:
    """The line as shown, its tabs expanded to stops every 4 cells, and the cell each of its
    characters starts at (and one for its end): a tab takes up to 4 cells, a wide character (CJK)
    2, a combining accent none, as the terminal shows them."""
    shown: list[str] = []
    cells = [0]
    for char in line:
        width = 4 - cells[-1] % 4 if char == "\t" else cell_len(char)
        shown.append(" " * width if char == "\t" else char)
        cells.append(cells[-1] + width)
    return "".join(shown), cells


def diagnostic_text(d: Diagnostic, sources: Mapping[str, str] | None = None) -> Text:
    """`file:line:col: error[code]: message`, the source line, a caret underline, help."""
    sev = d.severity.value
    out = Text()
    out.append(f"{d.span.file}:{d.span.line}:{d.span.column}: ", style="bold")
    out.append(f"{sev}[{d.code}]", style=_STYLE[sev])
    out.append(f": {d.message}\n")
    src = _source_line(d.span.file, d.span.line, sources or {})
    if src is not None:
        shown, cells = _layout(_visible(src if len(src) <= 200 else src[:200] + "…"))
        gutter = f"{d.span.line} | "
        out.append(gutter, style="blue")
        out.append(shown + "\n")
        # Columns count characters; the caret goes by the cells they take on the terminal.
        start = min(max(d.span.column - 1, 0), len(cells) - 1, 200)
        # A span over several lines is underlined to the end of its first.
        end = d.span.end_column - 1 if d.span.end_line == d.span.line else len(src)
        end = min(max(end, start + 1), len(cells))  # one past the end of the line at most
        width = max(1, cells[min(end, len(cells) - 1)] - cells[start] + (end == len(cells)))
        out.append(" " * (len(gutter) - 2) + "| ", style="blue")
        out.append(" " * cells[start] + "^" * width, style=_STYLE[sev])
        out.append("\n")
    if d.help:
        out.append("  = help: ", style="bold cyan")
        out.append(d.help + "\n")
    return out


def print_diagnostics(console: Console, diags: Iterable[Diagnostic],
                      sources: Mapping[str, str] | None = None) -> None:
    known = dict(sources or {})  # each file read once, however many diagnostics it has
    for d in diags:
        file = d.span.file
        if file not in known:
            text = _read_source(file)
            if text is not None:
                known[file] = text
        console.print(diagnostic_text(d, known), end="", highlight=False, soft_wrap=True)


def decision_renderables(decision: Decision, *, trace: bool = True) -> list[object]:
    """The verdict, a per-capability table, missing requirements, violations and the trace."""
    parts: list[object] = []
    head = Text()
    head.append(f"{decision.verdict.upper()}", style=VERDICT_STYLE[decision.verdict])
    head.append(f"  operation {decision.operation} under {decision.law.get('title')} "
                f"({decision.law.get('version')})")
    parts.append(head)
    if decision.authorised:
        table = Table("capability", "authorised by", "cites", title=None, show_edge=False)
        for a in decision.authorised:
            table.add_row(a.capability, a.power, a.cites or "")
        parts.append(table)
    if decision.missing:
        table = Table("missing", "kind", "imposed by", "because", "cites", show_edge=False)
        for m in decision.missing:
            because = (m.because and f"when {m.because}") or ""
            if m.note:
                because = f"{because}; {m.note}" if because else m.note
            table.add_row(m.requirement, m.kind, m.power, because, m.cites or "")
        parts.append(table)
    for v in decision.violations:
        line = Text("  ✗ ", style="red")
        line.append(f"[{v.code}] ", style="bold")
        line.append(v.message)
        if v.cites:
            line.append(f"  ({v.cites})", style="dim")
        if v.help:
            line.append(f"  {v.help}", style="cyan")
        parts.append(line)
    for alt in decision.alternatives:
        parts.append(Text.assemble(("  → ", "cyan"), alt))
    if trace and decision.trace:
        parts.append(Text("why:", style="bold"))
        for step in decision.trace:
            parts.append(Text(f"  · {step}"))
    return parts


def print_decision(console: Console, decision: Decision, *, trace: bool = True) -> None:
    for part in decision_renderables(decision, trace=trace):
        console.print(part, highlight=False)


def stderr_console() -> Console:
    """Messages to stderr; to a file or a pipe, each on one line however long (a script reads
    `file: $.path: message` a line at a time), to a terminal wrapped to its width."""
    console = Console(stderr=True, highlight=False)
    if not console.is_terminal:
        console.soft_wrap = True
    return console


class _StdoutConsole(Console):
    def on_broken_pipe(self) -> None:
        """A reader that stops early (`| head`) ends the output, not the command (rich would exit
        with status 1): the rest goes nowhere, and the command ends with its own status (a
        verdict, a failed case)."""
        from .cli import discard_stdout

        self.quiet = True
        discard_stdout()


def stdout_console(*, soft_wrap: bool = False) -> Console:
    """A console for a command's report on standard output."""
    return _StdoutConsole(highlight=False, soft_wrap=soft_wrap)


__all__ = ["diagnostic_text", "escape", "print_decision", "print_diagnostics", "stderr_console",
           "stdout_console"]
