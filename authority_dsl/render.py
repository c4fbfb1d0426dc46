"""Rendering with rich: diagnostics with a caret under the source, and decisions.

The only module (with the REPL) that imports rich; everything below it returns plain data.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.markup import escape
from rich.measure import Measurement
from rich.segment import Segment
from rich.table import Table
from rich.text import Span, Text

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
    return "".join(c if c == "\t" or unicodedata.category(c) not in _HIDDEN else "\ufffd"
                   for c in line)


# The characters that data must not send to a terminal as they are: control characters (C0,
# DEL and C1: escape sequences, a carriage return or a backspace that overwrites what is shown),
# format characters (the bidirectional overrides and isolates U+202A-U+202E and U+2066-U+2069
# that reorder it, zero-width characters), the line and paragraph separators, lone surrogates
# (each byte of a file name that is not UTF-8), private-use and unassigned code points: what the
# checker's `hidden-character` warning reports in a spec, and the separators and surrogates.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_NAMED_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(char: str) -> str:
    """A character as Python escapes it: `\\n`, `\\x1b`, `\\u202e`, `\\udcff`, `\\U000e0001`."""
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 \
        else f"\\U{code:08x}"


def shown(text: str) -> str:
    """Text from data (an operation's field, a name, a file name, a message that quotes them)
    as text output shows it: each hidden character (`_HIDDEN`, line feeds and tabs too) as its
    Python escape, `\\x1b`, `\\u202e`, `\\n`, so that data neither drives the terminal nor
    breaks or forges a line; a byte of a file name that is not UTF-8 shows as `\\udcff`."""
    return text if text.isprintable() else _escape_hidden(text)


def _escape_hidden(text: str, keep: str = "") -> str:
    """`text` with each hidden character but those in `keep` as its Python escape."""
    return "".join(c if c in keep or unicodedata.category(c) not in _HIDDEN else _escape(c)
                   for c in text)


# ASCII stand-ins for the symbols of the text output, where the output's encoding lacks them
# (`PYTHONIOENCODING=ascii`, `LC_ALL=C`); any other character it lacks is written as its Python
# escape, as Python writes standard error.
_STAND_INS = {"✓": "+", "✗": "x", "·": "-", "•": "*", "→": "->", "←": "<-", "…": "...",
              "—": "--", "–": "-", "§": "S"}


@functools.lru_cache(maxsize=4096)
def _encodable(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
    except (UnicodeError, LookupError):
        return False
    return True


def terminal_text(text: str, encoding: str) -> str:
    """Text as a console writing `encoding` may write it: hidden characters escaped (`shown`),
    line feeds kept, as they lay the text out, and a character the encoding lacks replaced by
    its stand-in or its escape, never an error."""
    utf = encoding.lower().replace("-", "").replace("_", "").startswith("utf")
    if text.isprintable() and (utf or text.isascii()):
        return text
    out = []
    for char in text:
        if char == "\n":
            out.append(char)
        elif unicodedata.category(char) in _HIDDEN:
            out.append(_escape(char))
        elif utf or char.isascii() or _encodable(char, encoding):
            out.append(char)
        else:
            stand_in = _STAND_INS.get(char)
            out.append(_escape(char) if stand_in is None or not _encodable(stand_in, encoding)
                       else stand_in)
    return "".join(out)


def _shown_text(text: Text) -> Text:
    """A Text with its hidden characters escaped as `shown` does, line feeds kept (they may be
    its layout), its styles kept on the characters they were on."""
    plain = text.plain
    if plain.isprintable():
        return text
    pieces = [_escape_hidden(c, "\n") for c in plain]
    starts = [0]
    for piece in pieces:
        starts.append(starts[-1] + len(piece))
    last = len(plain)
    return Text("".join(pieces), style=text.style, justify=text.justify,
                overflow=text.overflow, no_wrap=text.no_wrap, end=text.end,
                tab_size=text.tab_size,
                spans=[Span(starts[min(s.start, last)], starts[min(s.end, last)], s.style)
                       for s in text.spans])


def _safe_segments(segments: Iterable[Segment], encoding: str) -> Iterable[Segment]:
    """The segments with their text through `terminal_text`; rich's own control codes (cursor
    moves) and the styles it writes around each text are left as they are."""
    for segment in segments:
        text, style, control = segment
        if control or (text.isprintable() and text.isascii()):
            yield segment
        else:
            yield Segment(terminal_text(text, encoding), style)


class SafeConsole(Console):
    """A console that data cannot drive: the text of whatever it renders goes through
    `terminal_text` (rich itself drops only BEL, BS, VT, FF and CR, and writes the rest, escape
    sequences included, as they are), so an escape sequence in an operation's id is shown, not
    obeyed, and a character that the output's encoding lacks is a stand-in or an escape, not a
    UnicodeEncodeError. A Text (and a string) is escaped before it is laid out, so that a table
    cell wraps the escapes rather than cutting them off; `shown`, where data enters the text,
    escapes line feeds too."""

    def render(self, renderable: RenderableType,
               options: ConsoleOptions | None = None) -> Iterable[Segment]:
        if isinstance(renderable, Text):
            renderable = _shown_text(renderable)
        return _safe_segments(super().render(renderable, options), self.encoding)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return _shown_text(super().render_str(text, **kwargs))


class Safe:
    """A renderable as a `SafeConsole` would render it, on any console (the REPL's)."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        part = self.renderable
        yield from _safe_segments(
            console.render(_shown_text(part) if isinstance(part, Text) else part, options),
            console.encoding)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.renderable)


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
    out.append(f"{shown(d.span.file)}:{d.span.line}:{d.span.column}: ", style="bold")
    out.append(f"{sev}[{d.code}]", style=_STYLE[sev])
    out.append(f": {shown(d.message)}\n")
    src = _source_line(d.span.file, d.span.line, sources or {})
    if src is not None:
        visible, cells = _layout(_visible(src if len(src) <= 200 else src[:200] + "…"))
        gutter = f"{d.span.line} | "
        out.append(gutter, style="blue")
        out.append(visible + "\n")
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
        out.append(shown(d.help) + "\n")
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
    law = decision.law
    head.append(f"  operation {shown(decision.operation)} under {shown(str(law.get('title')))} "
                f"({shown(str(law.get('version')))})")
    parts.append(head)
    if decision.authorised:
        table = Table("capability", "authorised by", "cites", title=None, show_edge=False)
        for a in decision.authorised:
            table.add_row(Text(shown(a.capability)), Text(shown(a.power)),
                          Text(shown(a.cites or "")))
        parts.append(table)
    if decision.missing:
        table = Table("missing", "kind", "imposed by", "because", "cites", show_edge=False)
        for m in decision.missing:
            because = (m.because and f"when {m.because}") or ""
            if m.note:
                because = f"{because}; {m.note}" if because else m.note
            table.add_row(*(Text(shown(x)) for x in (m.requirement, m.kind, m.power, because,
                                                     m.cites or "")))
        parts.append(table)
    for v in decision.violations:
        line = Text("  ✗ ", style="red")
        line.append(f"[{v.code}] ", style="bold")
        line.append(shown(v.message))
        if v.cites:
            line.append(f"  ({shown(v.cites)})", style="dim")
        if v.help:
            line.append(f"  {shown(v.help)}", style="cyan")
        parts.append(line)
    for alt in decision.alternatives:
        parts.append(Text.assemble(("  → ", "cyan"), shown(alt)))
    if trace and decision.trace:
        parts.append(Text("why:", style="bold"))
        for step in decision.trace:
            parts.append(Text(f"  · {shown(step)}"))
    return parts


def print_decision(console: Console, decision: Decision, *, trace: bool = True) -> None:
    for part in decision_renderables(decision, trace=trace):
        console.print(part, highlight=False)


def stderr_console() -> Console:
    """Messages to stderr; to a file or a pipe, each on one line however long (a script reads
    `file: $.path: message` a line at a time), to a terminal wrapped to its width."""
    console = SafeConsole(stderr=True, highlight=False)
    if not console.is_terminal:
        console.soft_wrap = True
    return console


class _StdoutConsole(SafeConsole):
    def on_broken_pipe(self) -> None:
        """A reader that stops early (`| head`) ends the output, not the command (rich would exit
        with status 1): the rest goes nowhere, and the command ends with its own status (a
        verdict, a failed case)."""
        from .cli import discard_stdout

        self.quiet = True
        discard_stdout()


# The width of text output to a file or a pipe: more than any line needs, so that no name is cut.
_UNBOUNDED = 1_000_000


def stdout_console(*, soft_wrap: bool = False) -> Console:
    """A console for a command's report on standard output: to a terminal, fitted to its width;
    to a file or a pipe, every line whole however long (a script greps for names, which a table
    fitted to 80 columns would cut short with `…`)."""
    console = _StdoutConsole(highlight=False, soft_wrap=soft_wrap)
    if not console.is_terminal:
        console.soft_wrap = True
        console.width = _UNBOUNDED
    return console


# Lone surrogates: Python decodes each byte of a file name that is not UTF-8 to one.
_SURROGATE = re.compile("[\ud800-\udfff]")


def write_json(document: str) -> None:
    """One JSON document (`decision.dumps`) and a line feed on standard output, as UTF-8 whatever
    the locale's encoding, as `audit` writes its records. A lone surrogate, which only a file name
    that is not UTF-8 brings, is written as the six characters `\\udcff` (the JSON `"\\\\udcff"`),
    as text output shows the name: the output stays valid UTF-8."""
    text = _SURROGATE.sub(lambda m: f"\\\\u{ord(m[0]):04x}", document) + "\n"
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a stream of text only (a test's StringIO)
        sys.stdout.write(text)
        return
    sys.stdout.flush()  # what was written as text before, first
    buffer.write(text.encode("utf-8"))


__all__ = ["Safe", "SafeConsole", "diagnostic_text", "escape", "print_decision",
           "print_diagnostics", "shown", "stderr_console", "stdout_console", "terminal_text",
           "write_json"]
