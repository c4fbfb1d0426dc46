"""Source text -> frozen AST. The only module that touches lark.

The parser is built once per process, or loaded from the user's cache directory (`_lark`).
Declarations use generic `name: value` fields in the grammar; this module checks each field
against the declaration's schema (so a misspelt field gets a located message with a suggestion)
and builds the typed AST.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
import stat
import sys
import unicodedata
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import lark
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import ast
from .diagnostics import Diagnostic, DiagnosticError, Span, did_you_mean, error
from .durations import MAX_AMOUNT, Duration, Unit, Validity, parse_unit

MAX_NAME_LENGTH = 200
MAX_TREE_DEPTH = 200
MAX_PAREN_DEPTH = 100

_comments: list[Token] = []


class _Parens:
    """Tracks the nesting of parentheses while lexing, to refuse absurd nesting with a location."""

    depth = 0
    deepest: Token | None = None

    @classmethod
    def reset(cls) -> None:
        cls.depth, cls.deepest = 0, None

    @classmethod
    def open(cls, token: Token) -> Token:
        cls.depth += 1
        if cls.depth > MAX_PAREN_DEPTH and cls.deepest is None:
            cls.deepest = token
        return token

    @classmethod
    def close(cls, token: Token) -> Token:
        cls.depth -= 1
        return token


_OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    # Spans come from the tokens at the edges of each subtree (see `_span`): cheaper than
    # propagating positions into every tree node, which doubled the parse time.
    "propagate_positions": False,
    "strict": True,
    "maybe_placeholders": False,
}


@functools.cache
def _lark() -> Lark:
    """The parser of the grammar. Building it takes about a quarter of a second, most of a
    command's start-up: lark keeps it in the user's cache directory (`_cache_file`), checked
    against the grammar and options, and later commands load it from there. A cache file that
    cannot be read is built again; one that cannot be written is passed over."""
    text = grammar_text()
    path = _cache_file(text)
    return Lark(
        text,
        **_OPTIONS,
        cache=False if path is None else str(path),
        lexer_callbacks={"COMMENT": _comments.append, "LPAR": _Parens.open,
                         "RPAR": _Parens.close},
    )


def _cache_file(grammar: str) -> Path | None:
    """Where the parser built from `grammar` is kept: a file named by the grammar, the parser's
    options and the versions of lark and Python, in `authority-dsl` under `$XDG_CACHE_HOME`
    (default `~/.cache`). None, and no cache, where that directory is not this user's alone
    (a parser is loaded with pickle, which can run code) or the system has no user ids."""
    if not hasattr(os, "getuid"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    folder = Path(base) / "authority-dsl"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        return None
    key = "\n".join([grammar, repr(sorted(_OPTIONS.items())), lark.__version__,
                     sys.version]).encode("utf-8")
    return folder / f"parser-{hashlib.sha256(key).hexdigest()[:32]}.lark"


def grammar_text() -> str:
    return resources.files("authority_dsl").joinpath("grammar/authority.lark").read_text("utf-8")


def parse(text: str, file: str = "<string>") -> ast.Module:
    """Parse a whole source file; raises DiagnosticError with every problem found."""
    if _LONE_CR.search(text) is not None:
        lone = next((m for m in _CR_SCAN.finditer(text) if m.group() == "\r"), None)
        if lone is not None:
            raise DiagnosticError([_lone_cr(text, lone.start(), file)])
    _comments.clear()
    _Parens.reset()
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        raise DiagnosticError([_syntax_error(exc, text, file)]) from None
    if _Parens.deepest is not None:
        raise DiagnosticError([error(
            "too-deep", f"parentheses are nested more than {MAX_PAREN_DEPTH} deep",
            _span(_Parens.deepest, file), "simplify the condition")])
    comments = tuple(_comment(tok, text) for tok in _comments)
    _comments.clear()
    deep = _too_deep(tree)
    if deep is not None:
        raise DiagnosticError(
            [
                error(
                    "too-deep",
                    f"nesting is deeper than {MAX_TREE_DEPTH} levels",
                    _span(deep, file),
                    "split the condition into named parts or simplify it",
                )
            ]
        )
    builder = _Builder(file)
    items = tuple(builder.item(child) for child in tree.children if isinstance(child, Tree))
    if builder.diagnostics:
        raise DiagnosticError(builder.diagnostics)
    return ast.Module(items, file=file, comments=comments)


_LONE_CR = re.compile(r"\r(?!\n)")
# Strings (which may hold a carriage return of their own), comments up to a carriage return, and
# lone carriage returns, found in that order from the left.
_CR_SCAN = re.compile(r'"(?:[^"\\\n]|\\["\\nt])*"|#[^\r\n]*|\r(?!\n)')


def _lone_cr(text: str, pos: int, file: str) -> Diagnostic:
    """A carriage return without a line feed (old Mac line endings). The lexer takes it for a
    space, not a line break, so a comment before it would silently swallow the declarations
    after it: refuse the file, at the first one."""
    start = text.rfind("\n", 0, pos) + 1
    line, column = text.count("\n", 0, pos) + 1, pos - start + 1
    return error("bad-source", "a carriage return (CR) without a line feed",
                 Span(file, line, column, line, column + 1),
                 "save the file with LF or CRLF line endings")


def parse_condition(text: str, file: str = "<string>") -> ast.Expr:
    """Parse a single condition, for tools that take one on the command line."""
    module = parse(f"forbid _ {{ when {text} }}", file)
    prohibition = module.items[0]
    assert isinstance(prohibition, ast.Prohibition) and prohibition.condition is not None
    return prohibition.condition


@functools.cache
def reserved_words() -> frozenset[str]:
    """The words with a meaning of their own, which nothing may be named: the grammar's keywords
    (its quoted words, `true` and `false` among them) and the units of a duration."""
    keywords = set(re.findall(r'"([a-z]+)"', grammar_text()))
    return frozenset(keywords.union(_UNIT_WORDS))


# ---- errors -----------------------------------------------------------------------------------

_TOKEN_NAMES = {
    "NAME": "a name",
    "STRING": "a string",
    "INT": "a number",
    "DATE": "a date",
    "UNIT": "a unit (hours, days, weeks, months, years)",
    "COMPARATOR": "a comparison",
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "TRUE": "`true`",
    "FALSE": "`false`",
    "RANGE": "`..`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "COLON": "`:`",
    "COMMA": "`,`",
    "EQUAL": "`=`",
    "DOT": "`.`",
    # `requires:` read as a field: where it is expected, so is any other field (a name).
    "FIELD_KEYWORD": "a field",
    "__ANON_0": "`->`",
    "__ANON_1": "`..`",
}
_UNIT_WORDS = (*(u.value for u in Unit), *(u.value[:-1] for u in Unit))  # plural, singular
_UNITS_HELP = "use hours, days, weeks, months or years"


def _describe_expected(names: set[str]) -> str:
    """The tokens a parser state accepts, in words. Terminal names are the grammar's own and
    mean nothing to a drafter: one that is neither known here nor a keyword is left out."""
    words = []
    for name in names:
        if name in _TOKEN_NAMES:
            words.append(_TOKEN_NAMES[name])
        elif name.isupper() and name.isalpha():
            words.append(f"`{name.lower()}`")
    words = sorted(set(words))
    if len(words) > 8:
        words = [*words[:8], "..."]
    return ", ".join(words)


def _leaves(stack: list[Any]) -> list[Token]:
    """The tokens the parser has taken so far, in order: the parser's value stack holds tokens
    and the subtrees already reduced."""
    out: list[Token] = []
    for item in stack:
        if isinstance(item, Token):
            out.append(item)
        elif isinstance(item, Tree):
            out.extend(t for t in item.scan_values(lambda v: isinstance(v, Token)))
    return out


def _stack(exc: UnexpectedInput) -> list[Any]:
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is None:
        return []
    return list(interactive.parser_state.value_stack)


def _unit_help(word: str) -> str:
    """What to write instead of an unknown unit: the nearest unit, if one is close."""
    lowered = word.lower()
    if lowered.startswith(("min", "sec")):
        return "the smallest unit is hours: write minutes or seconds as hours"
    if word != lowered and parse_unit(lowered) is not None:
        return f"units are written in lower case: `{lowered}`"
    return did_you_mean(lowered, _UNIT_WORDS) or \
        "a duration is a whole number and a unit, like `3 months`"


def _unknown_unit(exc: UnexpectedInput, file: str) -> Diagnostic | None:
    """`max_duration: 3 mnths`: the parser takes `3` for a number and `mnths` for the name of
    the next field, and stumbles only after it. A name that follows a number on the same line
    where that goes wrong is a misspelt unit: say so at the word itself."""
    stack = _leaves(_stack(exc))
    token = getattr(exc, "token", None)
    if len(stack) >= 2 and stack[-1].type == "NAME" and stack[-2].type == "INT":
        word, before = stack[-1], stack[-2]
    elif isinstance(token, Token) and token.type == "NAME" and stack:
        word, before = token, stack[-1]
    else:
        return None
    if before.type != "INT" or before.line != word.line:
        return None
    return error("syntax-error", f"unknown unit `{word}`; {_UNITS_HELP}", _span(word, file),
                 _unit_help(str(word)))


_NUMBER_JOINED = re.compile(r"[0-9]+(?:(_[0-9_]*)|([^\W\d_]\w*))?")


def _bad_number(text: str, pos: int, span: Span) -> Diagnostic | None:
    """A number the lexer cannot read: `1_000 days`, or `3months` with the unit run on."""
    m = _NUMBER_JOINED.match(text, pos)
    if m is None:
        return None
    word = m.group(0)
    end = Span(span.file, span.line, span.column, span.line, span.column + len(word))
    if m.group(1) is not None:
        digits = word.replace("_", "")
        return error("syntax-error", f"`{word}` is not a number: write digits only", end,
                     f"write `{digits}`")
    if m.group(2) is not None:
        number, unit = word[: m.start(2) - pos], m.group(2)
        if parse_unit(unit.lower()) is not None:
            return error("syntax-error",
                         f"write a number and a unit apart: `{number} {unit.lower()}`", end)
        return error("syntax-error", f"unknown unit `{unit}`; {_UNITS_HELP}", end,
                     f"write the unit apart from the number; {_unit_help(unit)}")
    return None


_DIGITS = re.compile(r"[\d-]+")


def _other_digits(text: str, pos: int, span: Span) -> Diagnostic | None:
    """`intrusion: ５`: numbers and dates are written in ASCII digits; a full-width or other
    script's digit looks the same on screen but is not one of them."""
    m = _DIGITS.match(text, pos)
    if m is None:
        return None
    run = m.group(0)
    other = next((i for i, c in enumerate(run) if c.isdigit() and not c.isascii()), None)
    if other is None:
        return None
    ch = run[other]
    column = span.column + other
    ascii_run = "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in run)
    name = unicodedata.name(ch, "").lower()
    return error("syntax-error", f"`{ch}` (U+{ord(ch):04X}{', ' + name if name else ''}) is not an "
                 "ASCII digit", Span(span.file, span.line, column, span.line, column + 1),
                 f"write numbers and dates with the digits 0-9: `{ascii_run}`")


_MARKS = re.compile(r"[\w\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]*")


def _combining(text: str, pos: int, span: Span) -> Diagnostic | None:
    """`é` typed as `e` and a combining accent (decomposed, NFD): the accent alone cannot be
    part of a name, and printed bare it would sit on the quote around it. Name it by its code
    point, and give the composed (NFC) word, which is a name."""
    ch = text[pos] if pos < len(text) else ""
    if not ch or not unicodedata.category(ch).startswith("M"):
        return None
    name = unicodedata.name(ch, "").lower()
    message = f"unexpected character U+{ord(ch):04X}" + (f" ({name})" if name else "")
    start = pos
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"
                         or unicodedata.category(text[start - 1]).startswith("M")):
        start -= 1
    end = _MARKS.match(text, pos)
    word = text[start : end.end() if end is not None else pos + 1]
    composed = unicodedata.normalize("NFC", word)
    help_text = None
    if composed != word and re.fullmatch(r"\w+", composed):
        help_text = (f"`{composed}` is written here as letters and separate accents "
                     "(decomposed, NFD): write it with composed characters (NFC)")
    return error("syntax-error", message, span, help_text)


_DECIMAL = re.compile(rf"([0-9]+\.[0-9]+)([ \t]+(?:{'|'.join(_UNIT_WORDS)})\b)?")


def _decimal(exc: UnexpectedToken, text: str, file: str) -> Diagnostic | None:
    """`1.5 months`: a number is whole."""
    stack = _leaves(_stack(exc))
    if exc.token.type != "DOT" or not stack or stack[-1].type != "INT":
        return None
    start = stack[-1].start_pos
    m = _DECIMAL.match(text, start or 0)
    if start is None or m is None:
        return None
    span = Span(file, stack[-1].line or 1, stack[-1].column or 1, stack[-1].line or 1,
                (stack[-1].column or 1) + len(m.group(1)))
    help_text = "write a whole number of a smaller unit, e.g. `6 weeks` rather than " \
        "`1.5 months`" if m.group(2) else "write a whole number"
    return error("syntax-error", f"`{m.group(1)}` is not a whole number", span, help_text)


_RELATIONS = frozenset({"COMPARATOR", "IN", "CONTAINS", "UNDER"})


def _chained(exc: UnexpectedToken, file: str) -> Diagnostic | None:
    """`a < b < c`: a comparison takes one operator (the language reference says so), which
    the list of tokens the parser would have taken instead does not tell."""
    token = exc.token
    if token.type not in _RELATIONS | {"NOT"}:
        return None
    stack = _stack(exc)
    if len(stack) < 3 or not isinstance(stack[-2], Token) or stack[-2].type not in _RELATIONS:
        return None
    return error("syntax-error", f"`{token}` cannot follow a comparison: compare two values at "
                 "a time, joined by `and`", _span(token, file),
                 "write `a < b and b < c`, not `a < b < c`")


_STRING_PART = re.compile(r'"(?:[^"\\\n]|\\["\\nt])*')


def _bad_escape(text: str, pos: int, span: Span) -> Diagnostic | None:
    """`"C:\\docs"`: a backslash before anything but `"`, `\\`, `n` or `t` is no escape, and
    the lexer can only say that the string does not end; say which backslash it is."""
    m = _STRING_PART.match(text, pos)
    if m is None or text[m.end() : m.end() + 1] != "\\":
        return None
    after = text[m.end() + 1 : m.end() + 2]
    if after in ("", "\n", "\r"):
        return None
    column = span.column + m.end() - pos
    shown = after if after.isprintable() else f"U+{ord(after):04X}"
    return error("syntax-error", f"invalid escape `\\{shown}` in a string",
                 Span(span.file, span.line, column, span.line, column + 2),
                 "write `\\\\` for a backslash; the escapes are `\\\"`, `\\\\`, `\\n` and "
                 "`\\t`")


def _unclosed(exc: UnexpectedInput, file: str) -> Diagnostic | None:
    """The file ends where a body could be closed: name the `{` left open, and point at it
    rather than at the end, where nothing is wrong but what is missing."""
    if "RBRACE" not in getattr(exc, "expected", ()):
        return None
    stack = _stack(exc)
    opened = [i for i, item in enumerate(stack)
              if isinstance(item, Token) and item.type == "LBRACE"]
    if not opened:
        return None
    brace = stack[opened[-1]]
    keyword = next((item for item in reversed(stack[: opened[-1]])
                    if isinstance(item, Token) and item.type.isalpha()
                    and item.type.isupper() and item.type.lower() == str(item)), None)
    what = f"the `{{` of `{keyword}`" if keyword is not None else "a `{`"
    return error("syntax-error", f"{what} is never closed", _span(brace, file),
                 "close it with `}`")


def _syntax_error(exc: UnexpectedInput, text: str, file: str) -> Diagnostic:
    line = getattr(exc, "line", None) or 1
    column = getattr(exc, "column", None) or 1
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        ch = text[pos] if pos < len(text) else ""
        here = Span(file, line, column, line, column + 1)
        if ch == '"':
            escape = _bad_escape(text, pos, here)
            if escape is not None:
                return escape
            message = "unterminated string"
            help_text = "close the string with `\"` on the same line"
        else:
            specific = (_other_digits(text, pos, here) or _bad_number(text, pos, here)
                        or _combining(text, pos, here))
            if specific is not None:
                return specific
            message = f"unexpected character `{ch}`" if ch.isprintable() else (
                f"unexpected character U+{ord(ch):04X}"
            )
            help_text = None
        return error("syntax-error", message, here, help_text)
    unit = _unknown_unit(exc, file)
    if unit is not None:
        return unit
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        decimal = _decimal(exc, text, file) or _chained(exc, file)
        if decimal is not None:
            return decimal
    if isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        unclosed = _unclosed(exc, file)
        if unclosed is not None:
            return unclosed
        expected = _describe_expected(set(exc.expected))
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
        return error(
            "syntax-error",
            "unexpected end of file",
            Span(file, line, column, line, column),
            f"expected {expected}" if expected else None,
        )
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    shown = str(tok)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    expected = _describe_expected(set(exc.expected))
    end_column = column + max(1, len(str(tok).split("\n")[0]))
    return error(
        "syntax-error",
        f"unexpected `{shown}`",
        Span(file, line, column, line, end_column),
        f"expected {expected}" if expected else None,
    )


def _comment(tok: Token, text: str) -> ast.Comment:
    line, column = tok.line or 1, tok.column or 1
    start = text.rfind("\n", 0, tok.start_pos or 0) + 1
    own_line = text[start : tok.start_pos].strip() == ""
    return ast.Comment(line, column, str(tok).rstrip(), own_line)


def _too_deep(tree: Tree[Token]) -> Tree[Token] | None:
    stack: list[tuple[Tree[Token], int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            return node
        stack.extend((c, depth + 1) for c in node.children if isinstance(c, Tree))
    return None


def _edge_token(node: Tree[Token] | Token, last: bool) -> Token | None:
    """The first (or last) token of a subtree, found by walking down one edge."""
    index = -1 if last else 0
    while isinstance(node, Tree):
        if not node.children:
            return _edge_token_any(node, last)
        node = node.children[index]
    return node


def _edge_token_any(node: Tree[Token] | Token, last: bool) -> Token | None:
    """The first (or last) token anywhere in a subtree whose edge child is empty."""
    stack: list[Tree[Token] | Token] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Token):
            return item
        # Visit children so that the edge child is popped first.
        stack.extend(item.children if last else reversed(item.children))
    return None


def _span(node: Tree[Token] | Token, file: str) -> Span:
    if isinstance(node, Token):
        line = node.line or 1
        return Span(file, line, node.column or 1, node.end_line or line,
                    node.end_column or node.column or 1)
    first = _edge_token(node, last=False)
    end = _edge_token(node, last=True)
    if first is None or end is None:
        return Span(file, 1, 1, 1, 1)
    line, column = first.line or 1, first.column or 1
    end_line = end.end_line or end.line or line
    end_column = end.end_column or column
    return Span(file, line, column, end_line, end_column)


# ---- building the AST -------------------------------------------------------------------------

# field kinds: string, int, bool, date, duration, validity, name, names, dated, set
_COMMON = {"description": "string", "cites": "string"}
SCHEMAS: dict[type, dict[str, str]] = {
    ast.Law: {"id": "string", "version": "string", "jurisdiction": "string",
              "in_force": "validity", **_COMMON},
    ast.Register: {"version": "string", "description": "string"},
    ast.Threat: {"description": "string", "severity": "int", "cites": "string",
                 "valid": "validity"},
    ast.Capability: {"description": "string", "intrusion": "int", "scope": "name",
                     "cites": "string"},
    ast.Technique: dict(_COMMON),
    ast.Protected: dict(_COMMON),
    ast.Safeguard: {"by": "name", "urgent_within": "duration", **_COMMON},
    ast.Assessment: dict(_COMMON),
    ast.Recipient: {"description": "string", "foreign": "bool", "cites": "string"},
    ast.Power: {"threats": "names", "capabilities": "names", "requires": "names",
                "max_duration": "duration", "renewable": "bool", "retention": "duration",
                **_COMMON, "valid": "validity"},
    ast.Prohibition: {**_COMMON, "valid": "validity"},
    ast.ShareRule: {"recipients": "names", "requires": "names", "guarantees": "names",
                    **_COMMON, "valid": "validity"},
    ast.Principle: {"requires": "names", "deny": "bool", **_COMMON},
    ast.OperationSpec: {"date": "date", "service": "string", "threat": "name",
                        "technique": "name", "capabilities": "names", "duration": "duration",
                        "urgent": "bool", "retention": "duration", "approvals": "dated",
                        "assessments": "names"},
    ast.SubjectSpec: {"protected": "names"},
    ast.SharingSpec: {"country": "string", "data": "name", "with": "names"},
    ast.Case: {"expect": "name", "powers": "names", "missing": "names", "violation": "string",
               "source": "string"},
}
# Member kinds each declaration accepts besides plain fields.
MEMBERS: dict[type, set[str]] = {
    ast.Power: {"when_requires"},
    ast.ShareRule: {"when_requires", "forbid_when"},
    ast.Prohibition: {"when"},
    ast.Principle: {"when"},
    ast.OperationSpec: {"subject", "share"},
    ast.Case: {"operation"},
}
_ATTR = {"with": "with_"}
_KIND_WORDS = {
    "string": "a string", "int": "a number", "bool": "`true` or `false`", "date": "a date",
    "duration": "a duration like `3 months`", "validity": "a date range like `2027-01-01 ..`",
    "name": "a name", "names": "a list of names", "dated": "a list of names",
    "set": "a set like `{a, b}`",
}
_MEMBER_WORDS = {
    "when_member": "`when` clause", "forbid_member": "`forbid when` clause",
    "subject_member": "`subject` block", "share_member": "`share` block",
    "operation": "`operation` block",
}


def _unescape(token: Token) -> str:
    body = str(token)[1:-1]
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class _Builder:
    """Turns lark trees into AST nodes, collecting diagnostics instead of stopping."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.diagnostics: list[Diagnostic] = []

    def span(self, node: Tree[Token] | Token) -> Span:
        return _span(node, self.file)

    def fail(self, code: str, message: str, node: Tree[Token] | Token,
             help_text: str | None = None) -> None:
        self.diagnostics.append(error(code, message, self.span(node), help_text))

    # -- values --

    def ident(self, tok: Token) -> ast.Ident:
        if len(tok) > MAX_NAME_LENGTH:
            self.fail("bad-value", f"name is {len(tok)} characters long; at most "
                      f"{MAX_NAME_LENGTH} are allowed", tok)
        return ast.Ident(str(tok), span=self.span(tok))

    def date(self, tok: Token) -> dt.date:
        try:
            return dt.date.fromisoformat(str(tok))
        except ValueError:
            self.fail("bad-value", f"`{tok}` is not a valid calendar date", tok)
            return dt.date(1970, 1, 1)

    def duration(self, tree: Tree[Token]) -> Duration:
        amount_tok, unit_tok = tree.children
        assert isinstance(amount_tok, Token) and isinstance(unit_tok, Token)
        # Its length is looked at first: `int` refuses more than 4,300 digits with a ValueError.
        digits = amount_tok.lstrip("0") or "0"
        if len(digits) > len(str(MAX_AMOUNT)) or int(digits) > MAX_AMOUNT:
            shown = digits if len(digits) <= 30 else f"{digits[:20]}…"
            self.fail("bad-value", f"duration of {shown} {unit_tok} is absurdly long "
                      f"(at most {MAX_AMOUNT})", tree)
            amount = MAX_AMOUNT
        else:
            amount = int(digits)
        unit = parse_unit(str(unit_tok))
        assert unit is not None
        return Duration(amount, unit)

    def integer(self, tok: Token) -> int:
        if len(tok) > 9:
            shown = tok if len(tok) <= 20 else f"{tok[:20]}…"
            self.fail("bad-value", f"number `{shown}` is too large", tok)
            return 0
        return int(tok)

    def value(self, node: Tree[Token], kind: str, key: str) -> Any:
        data = str(node.data)  # rule names are Tokens, whose == is slow
        if kind == "string" and data == "string":
            return _unescape(node.children[0])  # type: ignore[arg-type]
        if kind == "int" and data == "integer":
            return self.integer(node.children[0])  # type: ignore[arg-type]
        if kind == "bool" and data in ("true", "false"):
            return data == "true"
        if kind == "date" and data == "date":
            return self.date(node.children[0])  # type: ignore[arg-type]
        if kind == "duration" and data == "duration":
            return self.duration(node)
        if kind == "validity" and data == "validity":
            dates = [self.date(t) for t in node.children
                     if isinstance(t, Token) and t.type == "DATE"]
            window = Validity(dates[0], dates[1] if len(dates) > 1 else None)
            if window.end is not None and window.start is not None and window.end < window.start:
                self.fail("bad-value", f"`{key}` ends before it starts", node)
            return window
        if data == "dated_list" and kind in ("name", "names", "dated"):
            items = [self.dated_name(c) for c in node.children]  # type: ignore[arg-type]
            if kind == "dated":
                return tuple(items)
            for item, child in zip(items, node.children, strict=True):
                if item.on is not None:
                    self.fail("bad-field", f"`{key}` takes names without dates", child)
            idents = tuple(ast.Ident(i.name, span=i.span) for i in items)
            if kind == "name":
                if len(idents) != 1:
                    self.fail("bad-field", f"`{key}` takes a single name", node)
                return idents[0]
            return idents
        self.fail("bad-field", f"`{key}` must be {_KIND_WORDS[kind]}", node)
        return None

    def dated_name(self, node: Tree[Token]) -> ast.DatedName:
        name = self.ident(node.children[0])  # type: ignore[arg-type]
        on = self.date(node.children[1]) if len(node.children) > 1 else None  # type: ignore[arg-type]
        return ast.DatedName(name.name, on, span=self.span(node))

    def set_items(self, node: Tree[Token]) -> tuple[ast.Expr, ...]:
        out: list[ast.Expr] = []
        for child in node.children:
            if not isinstance(child, Tree):
                continue
            tok = child.children[0]
            assert isinstance(tok, Token)
            if child.data == "name_item":
                out.append(ast.Path((self.ident(tok).name,), span=self.span(tok)))
            else:
                out.append(ast.Literal(_unescape(tok), span=self.span(tok)))
        return tuple(out)

    # -- conditions --

    def expr(self, node: Tree[Token] | Token) -> ast.Expr:
        if isinstance(node, Token):  # pragma: no cover - the grammar wraps every token
            raise AssertionError(node)
        span = self.span(node)
        data, kids = str(node.data), node.children
        if data == "or_cond":
            return ast.Or(tuple(self.expr(k) for k in kids), span=span)
        if data == "and_cond":
            return ast.And(tuple(self.expr(k) for k in kids), span=span)
        if data == "negation":
            return ast.Not(self.expr(kids[0]), span=span)
        if data == "any_share":
            return ast.AnyShare(self.expr(kids[0]), span=span)
        if data == "comparison":
            if len(kids) == 1:
                return self.expr(kids[0])
            return ast.Compare(str(kids[1]), self.expr(kids[0]), self.expr(kids[2]), span=span)
        relation = {"member": "in", "not_member": "not in", "contains": "contains",
                    "under": "under"}.get(data)
        if relation:
            return ast.Compare(relation, self.expr(kids[0]), self.expr(kids[1]), span=span)
        if data == "path":
            parts = tuple(self.ident(k).name for k in kids)  # type: ignore[arg-type]
            return ast.Path(parts, span=span)
        if data == "set_literal":
            return ast.SetLiteral(self.set_items(node), span=span)
        return ast.Literal(self.literal(node), span=span)

    def literal(self, node: Tree[Token]) -> str | int | bool | dt.date | Duration:
        data = str(node.data)  # rule names are Tokens, whose == is slow
        if data == "string":
            return _unescape(node.children[0])  # type: ignore[arg-type]
        if data == "integer":
            return self.integer(node.children[0])  # type: ignore[arg-type]
        if data == "date":
            return self.date(node.children[0])  # type: ignore[arg-type]
        if data == "duration":
            return self.duration(node)
        if data in ("true", "false"):
            return data == "true"
        raise AssertionError(data)  # pragma: no cover

    # -- declarations --

    def item(self, node: Tree[Token]) -> ast.Decl:
        method: Callable[[Tree[Token]], ast.Decl] = getattr(self, "decl_" + node.data)
        return method(node)

    def body(self, cls: type, node: Tree[Token] | None) -> tuple[dict[str, Any], list[Tree[Token]]]:
        """Check a body's fields against the schema of `cls`; return fields and other members."""
        fields: dict[str, Any] = {}
        members: list[Tree[Token]] = []
        if node is None:
            return fields, members
        schema = SCHEMAS[cls]
        allowed = MEMBERS.get(cls, set())
        what = _what(cls)
        for member in node.children:
            if not isinstance(member, Tree):
                continue
            if str(member.data) != "field":
                kind = _member_kind(member)
                if kind == "when" and "when_requires" in allowed:
                    self.fail("bad-field", f"a `when` clause in {what} needs `requires NAME, ...`",
                              member, "write `when CONDITION requires NAME, ...` as one clause; "
                              "`requires: ...` with a colon is the field, which always applies")
                elif kind == "when_requires" and "when" in allowed:
                    self.fail("bad-field", f"a `when` clause in {what} takes no `requires`",
                              member, "a prohibition forbids when its condition holds"
                              if cls is ast.Prohibition else "the `when` says which operations "
                              "the principle is about; put what they need in `requires:`")
                elif kind not in allowed:
                    self.fail("bad-field", f"a {_MEMBER_WORDS[member.data]} is not allowed in "
                              f"{what}", member)
                else:
                    members.append(member)
                continue
            key_tok, value = member.children
            key = str(key_tok)
            if key not in schema:
                self.fail("bad-field", f"unknown field `{key}` in {what}", key_tok,
                          did_you_mean(key, schema) or
                          f"the fields of {what} are: {', '.join(schema)}")
                continue
            attr = _ATTR.get(key, key)
            if attr in fields:
                self.fail("bad-field", f"field `{key}` is given twice", key_tok)
                continue
            result = self.value(value, schema[key], key)  # type: ignore[arg-type]
            if result is not None:
                fields[attr] = result
        return fields, members

    def conditional(self, member: Tree[Token]) -> ast.Conditional:
        cond, names = member.children
        requires = tuple(self.ident(t) for t in names.children)  # type: ignore[union-attr,arg-type]
        return ast.Conditional(self.expr(cond), requires, span=self.span(member))

    def declared(self, tok: Token, cls: type) -> ast.Ident:
        """The name a declaration gives. The contextual lexer reads a keyword as a name where no
        keyword can stand (`threat true`), but a thing so named could never be referred to as
        itself in a condition: refuse it here, where it is declared."""
        if str(tok) in reserved_words():
            self.fail("syntax-error", f"`{tok}` is a reserved word and cannot name "
                      f"{_what(cls)}", tok, "choose another name")
        return self.ident(tok)

    def named(self, cls: type, node: Tree[Token], **extra: Any) -> Any:
        name_tok = node.children[0]
        body = node.children[-1] if isinstance(node.children[-1], Tree) and \
            node.children[-1].data == "body" else None
        fields, members = self.body(cls, body)
        return self._finish(cls, node, fields, members, name=self.declared(name_tok, cls), **extra)  # type: ignore[arg-type]

    def _finish(self, cls: type, node: Tree[Token], fields: dict[str, Any],
                members: list[Tree[Token]], **extra: Any) -> Any:
        conditionals, forbidden, subjects, shares = [], [], [], []
        conditions: list[ast.Expr] = []
        operations: list[ast.OperationSpec] = []
        for member in members:
            kind = _member_kind(member)
            if kind == "when_requires":
                conditionals.append(self.conditional(member))
            elif kind == "when":
                conditions.append(self.expr(member.children[0]))
            elif kind == "forbid_when":
                forbidden.append(self.expr(member.children[0]))
            elif kind == "subject":
                subjects.append(self.subject(member))
            elif kind == "share":
                shares.append(self.sharing(member))
            elif kind == "operation":
                operations.append(self.decl_operation(member))
        if conditionals:
            fields["conditionals"] = tuple(conditionals)
        if forbidden:
            fields["forbidden"] = tuple(forbidden)
        if subjects:
            fields["subjects"] = tuple(subjects)
        if shares:
            fields["sharing"] = tuple(shares)
        if conditions:
            if len(conditions) > 1:
                self.fail("bad-field", "only one `when` condition is allowed here; combine them "
                          "with `and` or `or`", members[1])
            fields["condition"] = conditions[0]
        if operations:
            if len(operations) > 1:
                self.fail("bad-field", "a case holds exactly one operation", members[1])
            fields["operation"] = operations[0]
        return cls(**extra, **fields, span=self.span(node))

    def subject(self, member: Tree[Token]) -> ast.SubjectSpec:
        role = member.children[0]
        body = member.children[1] if len(member.children) > 1 else None
        fields, _ = self.body(ast.SubjectSpec, body)  # type: ignore[arg-type]
        return ast.SubjectSpec(self.ident(role).name, **fields, span=self.span(member))  # type: ignore[arg-type]

    def sharing(self, member: Tree[Token]) -> ast.SharingSpec:
        recipient = member.children[0]
        body = member.children[1] if len(member.children) > 1 else None
        fields, _ = self.body(ast.SharingSpec, body)  # type: ignore[arg-type]
        return ast.SharingSpec(self.ident(recipient), **fields, span=self.span(member))  # type: ignore[arg-type]

    def decl_law(self, node: Tree[Token]) -> ast.Law:
        fields, _ = self.body(ast.Law, node.children[1])  # type: ignore[arg-type]
        return ast.Law(_unescape(node.children[0]), **fields, span=self.span(node))  # type: ignore[arg-type]

    def decl_register(self, node: Tree[Token]) -> ast.Register:
        fields, _ = self.body(ast.Register, node.children[1])  # type: ignore[arg-type]
        return ast.Register(_unescape(node.children[0]), **fields, span=self.span(node))  # type: ignore[arg-type]

    def decl_import_(self, node: Tree[Token]) -> ast.Import:
        return ast.Import(_unescape(node.children[0]), span=self.span(node))  # type: ignore[arg-type]

    def decl_named_set(self, node: Tree[Token]) -> ast.NamedSet:
        name, items = node.children
        return ast.NamedSet(self.declared(name, ast.NamedSet), self.set_items(items),  # type: ignore[arg-type]
                            span=self.span(node))

    def decl_threat(self, node: Tree[Token]) -> ast.Threat:
        parent = None
        for child in node.children[1:]:
            if isinstance(child, Tree) and child.data == "parent":
                parent = self.ident(child.children[0])  # type: ignore[arg-type]
        return self.named(ast.Threat, node, parent=parent)  # type: ignore[no-any-return]

    def decl_technique(self, node: Tree[Token]) -> ast.Technique:
        names = node.children[1]
        capabilities = tuple(self.ident(t) for t in names.children)  # type: ignore[union-attr,arg-type]
        return self.named(ast.Technique, node, capabilities=capabilities)  # type: ignore[no-any-return]

    def decl_operation(self, node: Tree[Token]) -> ast.OperationSpec:
        id_tok = node.children[0]
        assert isinstance(id_tok, Token)
        op_id = _unescape(id_tok) if id_tok.type == "STRING" else self.ident(id_tok).name
        fields, members = self.body(ast.OperationSpec, node.children[1])  # type: ignore[arg-type]
        return self._finish(ast.OperationSpec, node, fields, members, id=op_id)  # type: ignore[no-any-return]

    def decl_case(self, node: Tree[Token]) -> ast.Case:
        fields, members = self.body(ast.Case, node.children[1])  # type: ignore[arg-type]
        return self._finish(ast.Case, node, fields, members, name=_unescape(node.children[0]))  # type: ignore[arg-type,no-any-return]

    def _simple(cls: type) -> Callable[[_Builder, Tree[Token]], Any]:  # type: ignore[misc]
        def build(self: _Builder, node: Tree[Token]) -> Any:
            return self.named(cls, node)

        return build

    decl_capability = _simple(ast.Capability)
    decl_protected = _simple(ast.Protected)
    decl_safeguard = _simple(ast.Safeguard)
    decl_assessment = _simple(ast.Assessment)
    decl_recipient = _simple(ast.Recipient)
    decl_power = _simple(ast.Power)
    decl_prohibition = _simple(ast.Prohibition)
    decl_share_rule = _simple(ast.ShareRule)
    decl_principle = _simple(ast.Principle)


def _member_kind(member: Tree[Token]) -> str:
    if str(member.data) == "when_member":
        return "when_requires" if len(member.children) > 1 else "when"
    return {"forbid_member": "forbid_when", "subject_member": "subject",
            "share_member": "share", "operation": "operation"}[str(member.data)]


def _what(cls: type) -> str:
    words = {ast.Law: "the law header", ast.Register: "the register header",
             ast.OperationSpec: "an operation", ast.SubjectSpec: "a subject",
             ast.SharingSpec: "a sharing", ast.Case: "a case"}
    if cls in words:
        return words[cls]
    kind = ast.NAMED_KINDS[cls]
    return f"a {kind}" if kind[0] not in "aeiou" else f"an {kind}"


def iter_names(expr: ast.Expr) -> Iterator[ast.Path]:
    """Every path in a condition, depth first."""
    stack: list[ast.Expr] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Path):
            yield node
        elif isinstance(node, ast.Compare):
            stack.extend((node.right, node.left))
        elif isinstance(node, (ast.And, ast.Or)):
            stack.extend(reversed(node.items))
        elif isinstance(node, (ast.Not, ast.AnyShare)):
            stack.append(node.item)
        elif isinstance(node, ast.SetLiteral):
            stack.extend(reversed(node.items))
