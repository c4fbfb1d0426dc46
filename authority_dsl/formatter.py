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
# Comments, strings, field keys (`name:`, a comment may stand before the `:`, which stands
# nowhere else), braces and line feeds. A comment in the look-ahead runs to the end of its line.
_SCAN = re.compile(r'(?P<comment>#[^\n]*)|"(?:[^"\\\n]|\\.)*"?'
                   r"|(?<!\w)(?P<key>[^\W\d]\w*)(?=(?:\s|#[^\n]*(?![^\n]))*:)|[{}\n]")
_WORD = re.compile(r"\w*")
# A comment that is an allow directive (see checker.allowed).
_DIRECTIVE = re.compile(r"#[ \t]*allow:")
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


# The column of a line whose place on its source line is not known: first on it, or for a `}`, last.
_LAST = 1 << 30
_Pos = tuple[int | None, int]  # a source line (None: not known) and column


class _Line:
    """One output line: its depth, text and where its code starts in the source: the line (None:
    not known) and the column, which orders the lines that come from one source line, and for
    code written over several lines, where it ends."""

    __slots__ = ("at", "before", "col", "collapsed", "depth", "end", "first", "last", "pair",
                 "tag", "text", "trailing")

    def __init__(self, depth: int, text: str, tag: int | None, col: int = 0, end: int = 0) -> None:
        self.depth, self.text, self.tag, self.col = depth, text, tag, col
        # The last source line of code written over several lines (a field, a `when` clause, a
        # header); own-line comments among those lines go above this line. 0: one line.
        self.end = end
        self.at = self.last = 0  # the resolved source line; the last one, for a folded pair
        self.before: list[ast.Comment] = []  # own-line comments printed above this line
        self.trailing: str | None = None
        # For the `{` of an empty body: the text without the body, and the matching `}` line.
        self.collapsed: str | None = None
        self.pair: _Line | None = None
        # For a `}`: the first line of its block, which takes a comment after a block on one line.
        self.first: _Line | None = None

    @property
    def closing(self) -> bool:
        return self.text == "}"


def _line(span: Span) -> int | None:
    """The first line of a span, unless the span is empty: the parser gives nodes built without
    tokens (`true`, `{}`, `not false`) an empty span at 1:1, and hand-built nodes have NO_SPAN."""
    empty = span.end_line == span.line and span.end_column <= span.column
    return None if empty else span.line


def _pos(value: object) -> _Pos:
    """Where a value (the first item of a list) starts in the source, when it carries a span."""
    if isinstance(value, tuple) and value:
        value = value[0]
    span = getattr(value, "span", None)
    if not isinstance(span, Span) or _line(span) is None:
        return None, 0
    return span.line, span.column


def _starts(items: Sequence[object]) -> list[tuple[int, int]] | None:
    """Where each item starts in the source; None unless all of them are known."""
    starts = [(line, col) for line, col in map(_pos, items) if line is not None]
    return starts if len(starts) == len(items) else None


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


def _skip(pattern: re.Pattern[str], text: str, at: int) -> int:
    """The offset past what `pattern` matches at `at`."""
    match = pattern.match(text, at)
    return match.end() if match else at


def _end(value: object) -> int:
    """The last line of a value (the last item of a list) in the source; 0 if not known."""
    if isinstance(value, tuple) and value:
        value = value[-1]
    span = getattr(value, "span", None)
    return span.end_line if isinstance(span, Span) and _line(span) is not None else 0


class _Spanned(Protocol):
    @property
    def span(self) -> Span: ...


class _Source:
    """Where things the AST does not locate are in the source text: the `}` of each body (the
    parser's spans of blocks end at it, but nothing records its line), the keys of fields (their
    values may carry no span) and the keywords before a condition (its `when`)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.opens: list[int] = []  # offsets of every `{` outside strings and comments
        self.depths: dict[int, int] = {}  # offset of a `{` -> how many bodies enclose it
        self.closing: dict[int, int] = {}  # offset of a `{` -> offset of its `}`
        self.comments: list[tuple[int, int]] = []  # start and end offsets of every comment
        self.keys: list[tuple[int, int, str]] = []  # offset, depth and key of every field
        stack: list[int] = []
        for match in _SCAN.finditer(text):
            token = match.group()
            if match.group("comment") is not None:
                self.comments.append(match.span())
            elif match.group("key") is not None:
                self.keys.append((match.start(), len(stack), match.group("key")))
            elif token == "{":
                self.opens.append(match.start())
                self.depths[match.start()] = len(stack)
                stack.append(match.start())
            elif token == "}" and stack:
                self.closing[stack.pop()] = match.start()

    def offset(self, line: int, column: int) -> int:
        return self.line_starts[min(line, len(self.line_starts)) - 1] + column - 1

    def position(self, offset: int) -> tuple[int, int]:
        line = max(bisect.bisect_right(self.line_starts, offset), 1)
        return line, offset - self.line_starts[line - 1] + 1

    def body(self, span: Span) -> int | None:
        """The offset of the `{` of the node at `span`; None if it has no body."""
        start = self.offset(span.line, span.column)
        end = self.offset(span.end_line, span.end_column)
        k = bisect.bisect_left(self.opens, start)
        if k == len(self.opens):
            return None
        brace = self.opens[k]
        if brace >= end and not _BLANK.fullmatch(self.text, end, brace):
            return None  # that `{` belongs to a later declaration
        return brace

    def closing_pos(self, span: Span) -> tuple[int, int]:
        """Where the `}` of the node at `span` is; its end if it has no body."""
        brace = self.body(span)
        if brace is None or brace not in self.closing:
            return span.end_line, span.end_column
        return self.position(self.closing[brace])

    def field_pos(self, span: Span) -> dict[str, tuple[int, int]]:
        """Where each field key in the body of the node at `span` is (not in nested bodies)."""
        brace = self.body(span)
        if brace is None or brace not in self.closing:
            return {}
        depth, close = self.depths[brace] + 1, self.closing[brace]
        lo = bisect.bisect_left(self.keys, (brace,))
        hi = bisect.bisect_left(self.keys, (close,))
        return {key: self.position(at) for at, d, key in self.keys[lo:hi] if d == depth}

    def value_line(self, line: int, column: int) -> int:
        """The line where the value of the field whose key is at `line`:`column` starts, past the
        `:` and any comments before and after it."""
        colon = _skip(_BLANK, self.text, _skip(_WORD, self.text, self.offset(line, column)))
        return self.position(_skip(_BLANK, self.text, colon + 1))[0]

    def header_end(self, span: Span) -> int:
        """The last line of the header of the node at `span`: that of its `{`, or its end."""
        brace = self.body(span)
        return span.end_line if brace is None else self.position(brace)[0]

    def keyword_pos(self, span: Span, keywords: int) -> tuple[int, int]:
        """Where the keyword `keywords` back from `span` is, past spaces, comments and the
        parentheses a condition may open with: its `when` (1) or `forbid` (2)."""
        at = self.offset(span.line, span.column)
        for _ in range(keywords):
            at -= 1
            while at >= 0:
                k = bisect.bisect_right(self.comments, (at, len(self.text))) - 1
                if k >= 0 and at < self.comments[k][1]:
                    at = self.comments[k][0] - 1
                elif self.text[at].isspace() or self.text[at] == "(":
                    at -= 1
                else:
                    break
            while at > 0 and self.text[at - 1].isalpha():
                at -= 1  # to the start of the keyword
        return self.position(max(at, 0))


class _Builder:
    """Builds the tagged lines of declarations; empty bodies get a `{`/`}` pair to collapse later
    (comments may land inside them). A list written over several lines with comments among its
    items keeps one item a line, so that each comment stays next to its item."""

    def __init__(self, source: _Source | None = None,
                 comments: Iterable[ast.Comment] = ()) -> None:
        self.source = source
        comments = list(comments)
        self.comments = sorted((c.line, c.column) for c in comments)
        # Directives after code: they go to the first line made from their source line (see
        # _place), so they need no list spread to stay next to their item.
        self.directives = {(c.line, c.column) for c in comments
                           if not c.own_line and _DIRECTIVE.match(c.text)}

    def decl(self, decl: ast.Decl) -> list[_Line]:
        span = decl.span
        if isinstance(decl, ast.Import):
            return [_Line(0, f"import {quote(decl.path)}", *self.head_pos(span), span.end_line)]
        if isinstance(decl, ast.NamedSet):
            return self.named_set(decl)
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
            head = f"technique {decl.name} ->"
            texts = [str(c) for c in decl.capabilities]
            spread = self.spread(head, decl.capabilities, texts, 0, self.head_pos(span))
            return self.block(spread or f"{head} {', '.join(texts)}", decl, 0, braces=False)
        assert isinstance(decl, (ast.Capability, ast.Protected, ast.Safeguard, ast.Assessment,
                                 ast.Recipient, ast.Power, ast.Prohibition, ast.ShareRule,
                                 ast.Principle))
        keyword, braces = _HEADERS[type(decl)]
        return self.block(f"{keyword} {decl.name}", decl, 0, braces=braces)

    def named_set(self, decl: ast.NamedSet) -> list[_Line]:
        """`set NAME = {...}` on one line, or one item a line when comments stand among the
        items or after them before the `}`."""
        span, texts = decl.span, [_expr(item, _ATOM) for item in decl.items]
        opening = _Line(0, f"set {decl.name} = {{", *self.head_pos(span))
        starts = _starts(decl.items)
        if starts is not None and _line(span) is not None and \
                self.commented(starts[0] if starts else (span.line, span.column),
                               (span.end_line, 0), span.line):
            closing = _Line(0, "}", span.end_line, span.end_column - 1)
            closing.first = opening
            return [opening, *_items(texts, starts, 1), closing]
        opening.text += ", ".join(texts) + "}"
        opening.end = span.end_line
        return [opening]

    def commented(self, after: tuple[int, int], before: tuple[int, int], head: int | None) -> bool:
        """Whether a comment starts between two places in the source, other than a directive
        after code on the line `head`, which goes to the line of the list's head anyway."""
        k = bisect.bisect_right(self.comments, after)
        while k < len(self.comments) and self.comments[k] < before:
            if self.comments[k][0] != head or self.comments[k] not in self.directives:
                return True
            k += 1
        return False

    def head_pos(self, span: Span) -> _Pos:
        """Where the keyword before the name at `span` is (a comment may part them): the line of
        a declaration's header, where a directive after it applies."""
        if self.source is None or _line(span) is None:
            return _line(span), span.column
        return self.source.keyword_pos(span, 1)

    def spread(self, head: str, items: Sequence[object], texts: Sequence[str], depth: int,
               pos: _Pos) -> list[_Line] | None:
        """`head` and then one item a line, when comments stand among the items (a comment
        after the last one stays after the list on one line); None if they go on one line."""
        starts = _starts(items)
        if not starts or not self.commented(starts[0], starts[-1], pos[0]):
            return None
        return [_Line(depth, head, *pos), *_items(texts, starts, depth + 1)]

    def operation(self, op: ast.OperationSpec, depth: int) -> list[_Line]:
        return self.block(f"operation {_operation_id(op.id)}", op, depth, braces=True)

    def block(self, header: str | list[_Line], node: _Spanned, depth: int, *,
              braces: bool) -> list[_Line]:
        """`header {` members `}`; an empty body keeps a pair that collapses to `header {}` (or
        `header` when `braces` is false) unless a comment ends up inside it. The header is one
        line, or the lines of a spread list."""
        span = node.span
        end = self.source.header_end(span) if self.source and _line(span) is not None else 0
        head = [_Line(depth, header, *self.head_pos(span), end)] \
            if isinstance(header, str) else header
        opening = head[-1]
        text = opening.text
        opening.text += " {"
        members = self.fields(node, depth + 1) + self.members(node, depth + 1)
        # Without the source text, the `}` line is guessed from the layout (see _resolve_tags).
        pos: _Pos = self.source.closing_pos(span) if self.source else (None, _LAST)
        closing = _Line(depth, "}", *pos)
        closing.first = head[0]
        if not members:
            opening.collapsed = text + " {}" if braces else text
            opening.pair = closing
        return [*head, *members, closing]

    def fields(self, node: _Spanned, depth: int) -> list[_Line]:
        keys = self.source.field_pos(node.span) if self.source else {}
        lines: list[_Line] = []
        for key, kind in SCHEMAS[type(node)].items():
            value = getattr(node, _ATTR.get(key, key))
            if value is None or value == ():
                continue
            pos: _Pos = keys.get(key) or _pos(value)
            if kind in ("names", "dated"):
                texts = [_dated(item) for item in value]
                spread = self.spread(f"{key}:", value, texts, depth, keys.get(key, (None, 0)))
                if spread:
                    lines += spread
                    continue
            end = _end(value)
            if self.source is not None and key in keys:
                end = max(end, self.source.value_line(*keys[key]))
            lines.append(_Line(depth, f"{key}: {_value(value, kind)}", *pos, end))
        return lines

    def members(self, node: object, depth: int) -> list[_Line]:
        lines: list[_Line] = []
        for cond in getattr(node, "conditionals", ()):
            text, pos = f"when {format_expr(cond.condition)}", self.when_pos(cond.condition)
            texts = [str(r) for r in cond.requires]
            end = max(_end(cond.condition), _end(cond.requires))
            if not texts:
                lines.append(_Line(depth, text, *pos, end))
                continue
            spread = self.spread(f"{text} requires", cond.requires, texts, depth, pos)
            lines += spread or [_Line(depth, f"{text} requires {', '.join(texts)}", *pos, end)]
        condition = getattr(node, "condition", None)
        if condition is not None:
            lines.append(_Line(depth, f"when {format_expr(condition)}",
                               *self.when_pos(condition), _end(condition)))
        for expr in getattr(node, "forbidden", ()):
            lines.append(_Line(depth, f"forbid when {format_expr(expr)}",
                               *self.when_pos(expr, 2), _end(expr)))
        for subject in getattr(node, "subjects", ()):
            lines += self.block(f"subject {subject.role}", subject, depth, braces=False)
        for sharing in getattr(node, "sharing", ()):
            lines += self.block(f"share {sharing.recipient}", sharing, depth, braces=False)
        operation = getattr(node, "operation", None)
        if operation is not None:
            lines += self.operation(operation, depth)
        return lines

    def when_pos(self, condition: ast.Expr, keywords: int = 1) -> _Pos:
        """Where the `when` (or `forbid when`) before a condition is, which may stand on a line
        of its own."""
        pos = _pos(condition)
        if self.source is None or pos[0] is None:
            return pos
        return self.source.keyword_pos(condition.span, keywords)


def _items(texts: Sequence[str], starts: Sequence[tuple[int, int]], depth: int) -> list[_Line]:
    """The items of a list one a line, with the commas between them."""
    last = len(texts) - 1
    return [_Line(depth, text + ("," if i < last else ""), *start)
            for i, (text, start) in enumerate(zip(texts, starts, strict=True))]


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
    """Attach each comment to a line: an own-line comment above the line from the nearest later
    source line, or above the line whose code it stands inside; a trailing one after the line
    from its source line, or the nearest earlier one. The lines are looked up by source line,
    not in their order, so comments move with members the layout reorders. A block written on
    one line takes its trailing comment on its first line (`name {  # allow: ...`), and so does
    a directive after code any line made from its source line, where it still applies to the
    declaration. A line takes one trailing comment, a directive first; the others go above it
    (below a `}`). Returns the comments that go at the end of the file."""
    tags = _resolve_tags(lines, comments)
    for line, tag in zip(lines, tags, strict=True):
        line.at = line.last = tag
    order = sorted(range(len(lines)), key=lambda i: (tags[i], lines[i].col, i))
    ordered = [tags[i] for i in order]
    index = {id(line): i for i, line in enumerate(lines)}
    spans = [line for line in lines if line.end > line.at]
    end: list[ast.Comment] = []
    for comment in sorted(comments, key=lambda c: (c.line, c.column)):
        k = bisect.bisect_right(ordered, comment.line)
        target = order[k] if k < len(order) else len(lines)
        inside = [line for line in spans if line.at < comment.line <= line.end]
        if comment.own_line and inside:
            max(inside, key=lambda line: line.at).before.append(comment)
            continue
        if not comment.own_line and k > 0:
            host = order[k - 1]
            directive = _DIRECTIVE.match(comment.text) is not None
            if directive:
                host = order[bisect.bisect_left(ordered, tags[host])]
            first = lines[host].first
            if first is not None and first.at == lines[host].at:
                host = index[id(first)]
            line = lines[host]
            if line.trailing is None:
                line.trailing = comment.text
                continue
            if not line.closing:
                text = comment.text
                if directive and not _DIRECTIVE.match(line.trailing):
                    text, line.trailing = line.trailing, comment.text
                line.before.append(ast.Comment(comment.line, comment.column, text, True))
                continue
            target = host + 1
        if target < len(lines):
            lines[target].before.append(comment)
        else:
            end.append(comment)
    return end


def _collapse(lines: Sequence[_Line]) -> set[int]:
    """Fold the `{`/`}` pair of each empty body into one line unless a comment sits inside; a
    trailing comment of the `}` moves to the folded line, or above it if that has one (a
    directive stays after the code). Returns the ids of the dropped `}` lines."""
    dropped: set[int] = set()
    for line in lines:
        closing = line.pair
        if closing is None or line.collapsed is None or closing.before:
            continue
        line.text, line.last = line.collapsed, closing.last
        dropped.add(id(closing))
        if line.trailing is None:
            line.trailing = closing.trailing
        elif closing.trailing is not None:
            text = closing.trailing
            if _DIRECTIVE.match(text) and not _DIRECTIVE.match(line.trailing):
                text, line.trailing = line.trailing, text
            line.before.append(ast.Comment(closing.last, 0, text, True))
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

    With `source`, the text the module was parsed from, comments next to a closing brace, a
    field or a `when` on a line of its own are placed exactly; without it, by their layout."""
    builder = _Builder(_Source(source) if source is not None else None, module.comments)
    decls = [builder.decl(item) for item in module.items]
    flat = [line for lines in decls for line in lines]
    end = _place(flat, module.comments)
    dropped = _collapse(flat)
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
    dropped = _collapse(lines)
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
