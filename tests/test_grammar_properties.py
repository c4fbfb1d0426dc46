"""Grammar fuzzing: text generated from the grammar itself either parses or is rejected with
diagnostics (never another exception), and whatever parses formats back to the same tree."""

from __future__ import annotations

from hypothesis import find, given
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark
from lark.lexer import PatternStr

from authority_dsl import ast
from authority_dsl.diagnostics import DiagnosticError
from authority_dsl.formatter import format_module, format_source
from authority_dsl.parser import _OPTIONS, SCHEMAS, grammar_text, parse
from tests import strategies as s

# The grammar as generators read it (`parse` may use a parser loaded from a cache, which has no
# unanalysed grammar).
_GRAMMAR = Lark(grammar_text(), **_OPTIONS)
_TOKENS: dict[str, st.SearchStrategy[str]] = {
    "NAME": s.identifiers,
    "STRING": s.string_tokens,
    "INT": s.int_tokens,
    "DATE": s.date_tokens,
    "UNIT": s.unit_tokens,
}

# Field names, so that bodies with fields parse now and then, and keywords, which the contextual
# lexer reads as names where no keyword can stand (`threat == a`, `expect: requires`).
_CONTEXTUAL_NAMES = sorted({key for schema in SCHEMAS.values() for key in schema} | s.KEYWORDS)


def _spaced(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from([" ", "\n", "\n  "]), strategy).map("".join)


def _keyword_tokens() -> dict[str, st.SearchStrategy[str]]:
    """Every literal terminal (`threat`, `{`, `->`...) with a space before it, so that tokens the
    generator puts side by side do not run together and most texts lex."""
    return {
        t.name: _spaced(st.just(t.pattern.value))
        for t in _GRAMMAR.terminals
        if isinstance(t.pattern, PatternStr)
    }


# Raw: tokens as the grammar says, whitespace only where the generator happens to put it.
raw_sources = from_lark(
    _GRAMMAR, start="start", explicit={**_TOKENS, "COMMENT": st.just("# c")}
)
# Spaced: every token separated, comments own-line or trailing; most of these parse.
spaced_sources = from_lark(
    _GRAMMAR,
    start="start",
    explicit={
        **{name: _spaced(strategy) for name, strategy in _TOKENS.items()},
        "NAME": _spaced(st.one_of(s.identifiers, st.sampled_from(_CONTEXTUAL_NAMES))),
        **_keyword_tokens(),
        "COMMENT": st.sampled_from(["  # c\n", "\n# c\n", "\n    # c\n"]),
    },
)


def _parse_or_none(text: str) -> ast.Module | None:
    try:
        return parse(text)
    except DiagnosticError as exc:
        assert exc.diagnostics, "a DiagnosticError must carry diagnostics"
        return None


def _check_round_trip(text: str) -> None:
    module = _parse_or_none(text)
    if module is None:
        return
    once = format_source(text)
    again = parse(once)
    assert again == module
    assert format_module(again) == once
    assert format_source(once) == once


@given(raw_sources)
def test_raw_grammar_text_parses_or_is_diagnosed(text: str) -> None:
    _check_round_trip(text)


@given(spaced_sources)
def test_spaced_grammar_text_round_trips(text: str) -> None:
    _check_round_trip(text)


def _has_items_and_comments(text: str) -> bool:
    module = _parse_or_none(text)
    return module is not None and bool(module.items) and bool(module.comments)


def test_spaced_generator_reaches_valid_text() -> None:
    """Guard against the fuzzer silently testing only syntax errors."""
    assert _has_items_and_comments(find(spaced_sources, _has_items_and_comments))


def test_keywords_as_fact_names_round_trip() -> None:
    text = (
        "forbid f {\n"
        "    when threat under national_security and protected contains journalist"
        " and any share (recipient == private_party)\n"
        "}\n"
    )
    assert format_source(text) == text
