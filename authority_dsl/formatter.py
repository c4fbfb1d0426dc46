"""AST -> canonical source text, keeping comments.

Every output line is tagged with the source line of the node it came from; comments are merged
back in by those tags. `format_source` re-parses its own output and refuses to return text whose
tree differs from the input's (the check Cedar's formatter makes).
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Protocol

from . import ast
from .diagnostics import DiagnosticError, Span, error
from .durations import Duration, Validity
from .parser import MAX_NAME_LENGTH, SCHEMAS, parse

__all__ = ["format_expr", "format_module", "format_operation", "format_source"]

INDENT = "    "
# Words the lexer may read as keywords rather than names (units lex as UNIT after a number).
KEYWORDS = frozenset({
    "law", "register", "import", "set", "threat", "under", "capability", "technique",
    "protected", "safeguard", "assessment", "recipient", "power", "forbid", "share", "principle",
    "operation", "case", "when", "requires", "subject", "true", "false", "on", "in", "not",
    "contains", "and", "or", "any", "hours", "hour", "days", "day", "weeks", "week", "months",
    "month", "years", "year",
})
_BARE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BLANK = re.compile(r"(?:\s|#[^\n]*)*")
_SCAN = re.compile(r'#[^\n]*|"(?:[^"\\\n]|\\.)*"?|[{}\n]')  # comments, strings, braces
_ATTR = {"with": "with_"}
# Kinds whose one-line declarations stay on consecutive lines instead of being spaced apart.
_GROUPED = (ast.Import, ast.NamedSet, ast.Technique, ast.Protected, ast.Safeguard,
            ast.Assessment, ast.Recipient)

# ---- conditions -------------------------------------------------------------------------------

_OR, _AND, _NOT, _ATOM = 1, 2, 3, 4


def format_expr(expr: ast.Expr) -> str:
    """A condition as it would be written, with the fewest parentheses that keep its tree."""
    return _expr(expr, _OR)


def _expr(expr: ast.Expr, level: int) -> str:
    if isinstance(expr, ast.Or):
        text, prec = " or ".join(_expr(i, _AND) for i in expr.items), _OR
    elif isinstance(expr, ast.And):
        text, prec = " and ".join(_expr(i, _NOT) for i in expr.items), _AND
    elif isinstance(expr, ast.Not):
        text, prec = "not " + _expr(expr.item, _NOT), _NOT
    elif isinstance(expr, ast.AnyShare):
        text, prec = f"any share ({_expr(expr.item, _OR)})", _ATOM
    elif isinstance(expr, ast.Compare):
        # Operands cannot be parenthesised conditions; the round-trip check catches such trees.
        text, prec = f"{_expr(expr.left, _ATOM)} {expr.op} {_expr(expr.right, _ATOM)}", _ATOM
    elif isinstance(expr, ast.Path):
        text, prec = ".".join(expr.parts), _ATOM
    elif isinstance(expr, ast.SetLiteral):
        text, prec = "{" + ", ".join(_expr(i, _ATOM) for i in expr.items) + "}", _ATOM
    else:
        text, prec = _literal(expr.value), _ATOM
    return f"({text})" if prec < level else text


def _literal(value: str | int | bool | dt.date | Duration) -> str:
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, (int, Duration)):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return quote(value)


def quote(text: str) -> str:
    """A string literal; only `"`, `\\`, newline and tab need escapes in the grammar."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t") + '"'


def _operation_id(op_id: str) -> str:
    bare = _BARE_ID.fullmatch(op_id) and len(op_id) <= MAX_NAME_LENGTH and op_id not in KEYWORDS
    return op_id if bare else quote(op_id)


# ---- lines ------------------------------------------------------------------------------------


class _Line:
    """One output line: its depth, text and the source line it came from (None: not known)."""

    __slots__ = ("at", "before", "collapsed", "depth", "last", "pair", "tag", "text", "trailing")

    def __init__(self, depth: int, text: str, tag: int | None) -> None:
        self.depth, self.text, self.tag = depth, text, tag
        self.at = self.last = 0  # the resolved source line; the last one, for a folded pair
        self.before: list[ast.Comment] = []  # own-line comments printed above this line
        self.trailing: str | None = None
        # For the `{` of an empty body: the text without the body, and the matching `}` line.
        self.collapsed: str | None = None
        self.pair: _Line | None = None

    @property
    def closing(self) -> bool:
        return self.text == "}"


def _line(span: Span) -> int | None:
    """The first line of a span, unless the span is empty: the parser gives nodes built without
    tokens (`true`, `{}`, `not false`) an empty span at 1:1, and hand-built nodes have NO_SPAN."""
    empty = span.end_line == span.line and span.end_column <= span.column
    return None if empty else span.line


def _tag(value: object) -> int | None:
    """The source line of a field's value, when the value carries a span."""
    if isinstance(value, tuple) and value:
        value = value[0]
    span = getattr(value, "span", None)
    return _line(span) if isinstance(span, Span) else None


def _value(value: object, kind: str) -> str:
    if kind == "string":
        assert isinstance(value, str)
        return quote(value)
    if kind == "validity":
        assert isinstance(value, Validity)
        return str(value)  # `2027-01-01 .. 2031-12-31` or `2027-01-01 ..`
    if kind in ("name", "names", "dated"):
        items = value if isinstance(value, tuple) else (value,)
        return ", ".join(_dated(i) for i in items)
    assert isinstance(value, (str, int, bool, dt.date, Duration))
    return _literal(value)


def _dated(item: object) -> str:
    if isinstance(item, ast.DatedName):
        return item.name if item.on is None else f"{item.name} on {item.on.isoformat()}"
    return str(item)


class _Spanned(Protocol):
    @property
    def span(self) -> Span: ...


class _Braces:
    """Where each body's `}` is in the source text. The parser's spans stop at a block's last
    kept token and leave out its braces, so the closing lines come from a scan of the text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.opens: list[int] = []  # offsets of every `{` outside strings and comments
        self.closing: dict[int, int] = {}  # offset of a `{` -> line of its `}`
        stack: list[int] = []
        line = 1
        for match in _SCAN.finditer(text):
            token = match.group()
            if token == "\n":
                line += 1
            elif token == "{":
                self.opens.append(match.start())
                stack.append(match.start())
            elif token == "}" and stack:
                self.closing[stack.pop()] = line

    def offset(self, line: int, column: int) -> int:
        return self.line_starts[min(line, len(self.line_starts)) - 1] + column - 1

    def closing_line(self, span: Span) -> int:
        """The line of the `}` of the node at `span`; its first line if it has no body."""
        start = self.offset(span.line, span.column)
        end = self.offset(span.end_line, span.end_column)
        k = bisect.bisect_left(self.opens, start)
        if k == len(self.opens):
            return span.line
        brace = self.opens[k]
        if brace >= end and not _BLANK.fullmatch(self.text, end, brace):
            return span.line  # that `{` belongs to a later declaration
        return self.closing.get(brace, span.line)


class _Builder:
    """Builds the tagged lines of declarations; empty bodies get a `{`/`}` pair to collapse later
    (comments may land inside them)."""

    def __init__(self, braces: _Braces | None = None) -> None:
        self.braces = braces

    def decl(self, decl: ast.Decl) -> list[_Line]:
        span = decl.span
        if isinstance(decl, ast.Import):
            return [_Line(0, f"import {quote(decl.path)}", span.line)]
        if isinstance(decl, ast.NamedSet):
            items = _expr(ast.SetLiteral(decl.items), _ATOM)
            return [_Line(0, f"set {decl.name} = {items}", span.line)]
        if isinstance(decl, ast.Law):
            return self.block(f"law {quote(decl.title)}", decl, 0, braces=True)
        if isinstance(decl, ast.Register):
            return self.block(f"register {quote(decl.title)}", decl, 0, braces=True)
        if isinstance(decl, ast.OperationSpec):
            return self.operation(decl, 0)
        if isinstance(decl, ast.Case):
            return self.block(f"case {quote(decl.name)}", decl, 0, braces=True)
        if isinstance(decl, ast.Threat):
            parent = f" under {decl.parent}" if decl.parent is not None else ""
            return self.block(f"threat {decl.name}{parent}", decl, 0, braces=False)
        if isinstance(decl, ast.Technique):
            names = ", ".join(str(c) for c in decl.capabilities)
            return self.block(f"technique {decl.name} -> {names}", decl, 0, braces=False)
        assert isinstance(decl, (ast.Capability, ast.Protected, ast.Safeguard, ast.Assessment,
                                 ast.Recipient, ast.Power, ast.Prohibition, ast.ShareRule,
                                 ast.Principle))
        keyword, braces = _HEADERS[type(decl)]
        return self.block(f"{keyword} {decl.name}", decl, 0, braces=braces)

    def operation(self, op: ast.OperationSpec, depth: int) -> list[_Line]:
        return self.block(f"operation {_operation_id(op.id)}", op, depth, braces=True)

    def block(self, header: str, node: _Spanned, depth: int, *, braces: bool) -> list[_Line]:
        """`header {` members `}`; an empty body keeps a pair that collapses to `header {}` (or
        `header` when `braces` is false) unless a comment ends up inside it."""
        span = node.span
        members = self.fields(node, depth + 1) + self.members(node, depth + 1)
        opening = _Line(depth, header + " {", _line(span))
        # Without the source text, the `}` line is guessed from the layout (see _resolve_tags).
        closing = _Line(depth, "}", self.braces.closing_line(span) if self.braces else None)
        if not members:
            opening.collapsed = header + " {}" if braces else header
            opening.pair = closing
        return [opening, *members, closing]

    def fields(self, node: object, depth: int) -> list[_Line]:
        lines = []
        for key, kind in SCHEMAS[type(node)].items():
            value = getattr(node, _ATTR.get(key, key))
            if value is None or value == ():
                continue
            lines.append(_Line(depth, f"{key}: {_value(value, kind)}", _tag(value)))
        return lines

    def members(self, node: object, depth: int) -> list[_Line]:
        lines: list[_Line] = []
        for cond in getattr(node, "conditionals", ()):
            requires = ", ".join(str(r) for r in cond.requires)
            text = f"when {format_expr(cond.condition)}"
            lines.append(_Line(depth, f"{text} requires {requires}" if requires else text,
                               _line(cond.span)))
        condition = getattr(node, "condition", None)
        if condition is not None:
            lines.append(_Line(depth, f"when {format_expr(condition)}", _line(condition.span)))
        for expr in getattr(node, "forbidden", ()):
            lines.append(_Line(depth, f"forbid when {format_expr(expr)}", _line(expr.span)))
        for subject in getattr(node, "subjects", ()):
            lines += self.block(f"subject {subject.role}", subject, depth, braces=False)
        for sharing in getattr(node, "sharing", ()):
            lines += self.block(f"share {sharing.recipient}", sharing, depth, braces=False)
        operation = getattr(node, "operation", None)
        if operation is not None:
            lines += self.operation(operation, depth)
        return lines


_HEADERS: dict[type, tuple[str, bool]] = {
    ast.Capability: ("capability", False),
    ast.Protected: ("protected", False),
    ast.Safeguard: ("safeguard", False),
    ast.Assessment: ("assessment", False),
    ast.Recipient: ("recipient", False),
    ast.Power: ("power", True),
    ast.Prohibition: ("forbid", True),
    ast.ShareRule: ("share", True),
    ast.Principle: ("principle", True),
}


# ---- comments ---------------------------------------------------------------------------------


def _resolve_tags(lines: Sequence[_Line], comments: Iterable[ast.Comment]) -> list[int]:
    """Give lines without a known source line the line after the previous one, skipping lines
    that hold own-line comments (for a `}`, only comments indented deeper than it; the `}` of an
    empty body with none is taken to be on the line of its `{`): exact when the source is already
    in canonical layout."""
    own = {c.line: c.column for c in comments if c.own_line}
    tags: list[int] = []
    previous = 0
    for line in lines:
        tag = line.tag
        if tag is None:
            inner = len(INDENT) * line.depth + 1 if line.closing else 0
            tag = previous + 1
            while tag in own and own[tag] > inner:
                tag += 1
            if tag == previous + 1 and tags and lines[len(tags) - 1].pair is line:
                tag = previous
        tags.append(tag)
        previous = tag
    return tags


def _place(lines: Sequence[_Line], comments: Sequence[ast.Comment]) -> list[ast.Comment]:
    """Attach each comment to a line: own-line comments above the first line from a later source
    line, trailing ones after the last line from their source line (or on their own line below
    it if that one is taken). Returns the comments that go at the end of the file."""
    tags = _resolve_tags(lines, comments)
    for line, tag in zip(lines, tags, strict=True):
        line.at = line.last = tag
    rising = list(tags)  # running maximum: bisect finds the first tag above a source line
    for i in range(1, len(rising)):
        rising[i] = max(rising[i], rising[i - 1])
    falling = list(tags)  # running minimum from the end: the last tag at or below a line
    for i in range(len(falling) - 2, -1, -1):
        falling[i] = min(falling[i], falling[i + 1])
    end: list[ast.Comment] = []
    for comment in sorted(comments, key=lambda c: (c.line, c.column)):
        target = bisect.bisect_right(rising, comment.line)
        if not comment.own_line:
            last = bisect.bisect_right(falling, comment.line) - 1
            if last >= 0 and lines[last].trailing is None:
                lines[last].trailing = comment.text
                continue
            if last >= 0:
                target = last + 1
        if target < len(lines):
            lines[target].before.append(comment)
        else:
            end.append(comment)
    return end


def _collapse(lines: Sequence[_Line], end: list[ast.Comment]) -> set[int]:
    """Fold the `{`/`}` pair of each empty body into one line unless a comment sits inside; a
    trailing comment of the `}` moves to the folded line, or below it if that has one. Returns
    the ids of the dropped `}` lines."""
    dropped: set[int] = set()
    for i, line in enumerate(lines):
        closing = line.pair
        if closing is None or line.collapsed is None or closing.before:
            continue
        line.text, line.last = line.collapsed, closing.last
        dropped.add(id(closing))
        if line.trailing is None:
            line.trailing = closing.trailing
        elif closing.trailing is not None:
            moved = ast.Comment(closing.last, 0, closing.trailing, True)
            after = lines.index(closing, i) + 1
            below = lines[after].before if after < len(lines) else end
            below.append(moved)
            below.sort(key=lambda c: (c.line, c.column))
    return dropped


def _render(line: _Line) -> list[str]:
    depth = line.depth + (1 if line.closing else 0)
    out = [INDENT * depth + comment.text for comment in line.before]
    text = INDENT * line.depth + line.text
    out.append(f"{text}  {line.trailing}" if line.trailing is not None else text)
    return out


def _comment_run(comments: Sequence[ast.Comment], next_line: int | None) -> list[str]:
    """Top-level comments, keeping one blank line where the source had a gap."""
    out = []
    for i, comment in enumerate(comments):
        out.append(comment.text)
        following = comments[i + 1].line if i + 1 < len(comments) else next_line
        if following is not None and following > comment.line + 1:
            out.append("")
    return out


# ---- entry points -----------------------------------------------------------------------------


def format_module(module: ast.Module, source: str | None = None) -> str:
    """The canonical text of a module, comments included; ends with one newline ("" if empty).

    With `source`, the text the module was parsed from, comments next to a closing brace are
    placed exactly; without it, by their indentation."""
    builder = _Builder(_Braces(source) if source is not None else None)
    decls = [builder.decl(item) for item in module.items]
    flat = [line for lines in decls for line in lines]
    end = _place(flat, module.comments)
    dropped = _collapse(flat, end)
    out: list[str] = []
    previous: tuple[type, int] | None = None
    last = 0
    for item, lines in zip(module.items, decls, strict=True):
        lines = [line for line in lines if id(line) not in dropped]
        shape = (type(item), len(lines))
        grouped = shape == previous and isinstance(item, _GROUPED) and len(lines) == 1
        head = lines[0]
        notes, head.before = head.before, []
        if out and (not grouped or (notes and notes[0].line > last + 1)):
            out.append("")
        out += _comment_run(notes, head.at)
        for line in lines:
            out += _render(line)
        previous, last = shape, lines[-1].last
    if end:
        if out and end[0].line > last + 1:
            out.append("")
        out += _comment_run(end, None)
    return "\n".join(out) + "\n" if out else ""


def format_operation(op: ast.OperationSpec) -> str:
    """An operation as a DSL block (no trailing newline), for the REPL and analysis reports."""
    lines = _Builder().operation(op, 0)
    dropped = _collapse(lines, [])
    lines = [line for line in lines if id(line) not in dropped]
    return "\n".join(text for line in lines for text in _render(line))


def format_source(text: str, file: str = "<string>") -> str:
    """Parse and format; refuse (fmt-changed-ast) if the output does not parse back to the same
    tree and the same comments."""
    module = parse(text, file)
    out = format_module(module, text)
    try:
        again = parse(out, file)
    except DiagnosticError as exc:
        first = exc.diagnostics[0].message if exc.diagnostics else "a syntax error"
        raise _refusal(file, f"formatting produced text that does not parse ({first})") from None
    if again != module:
        raise _refusal(file, "formatting would change the meaning of the file")
    if sorted(c.text for c in again.comments) != sorted(c.text for c in module.comments):
        raise _refusal(file, "formatting would lose or alter comments")
    return out


def _refusal(file: str, message: str) -> DiagnosticError:
    help_text = "this is a bug in the formatter; the input is left as it was"
    return DiagnosticError([error("fmt-changed-ast", message, Span(file, 1, 1, 1, 1), help_text)])
