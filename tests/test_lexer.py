"""The Pygments lexer for .auth files and the REPL's input lexer."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Literal,
    Name,
    Number,
    Operator,
    String,
    _TokenType,
)
from rich.console import Console
from rich.syntax import Syntax

from authority_dsl.lexer import AuthorityLexer, AuthorityReplLexer

ROOT = Path(__file__).parent.parent
SOURCES = sorted([*ROOT.glob("specs/**/*.auth"), *ROOT.glob("tests/fixtures/repl/*.auth")])

SAMPLE = '''# a comment
import "techniques.auth"
law "A \\"quoted\\" law" {
    in_force: 2028-01-01 ..
}
threat terrorism under national_security {
    severity: 5
}
power p {
    threats: terrorism
    max_duration: 3 months
    when protected contains journalist and not urgent requires court_approval
    when any share (country in sanctioned) requires weighing_note
}
forbid f {
    when scope == bulk and severity < 4
}
technique cable_tap -> collect_communication_content
'''


def tokens(text: str, lexer: AuthorityLexer | None = None) -> list[tuple[_TokenType, str]]:
    return [(t, v) for t, v in (lexer or AuthorityLexer()).get_tokens(text) if v.strip()]


def test_registered_as_a_pygments_plugin() -> None:
    assert isinstance(get_lexer_by_name("authority"), AuthorityLexer)
    assert isinstance(get_lexer_by_name("auth"), AuthorityLexer)
    assert isinstance(get_lexer_for_filename("specs/wiv2017.auth"), AuthorityLexer)


def test_rich_highlights_auth_files_by_name() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="truecolor", width=100)
    console.print(Syntax(SAMPLE, "authority"))
    assert "\x1b[" in buffer.getvalue()
    plain = Syntax(SAMPLE, "authority").highlight(SAMPLE)
    assert len(plain.spans) > 20


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_spec_lexes_without_errors(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    toks = list(AuthorityLexer().get_tokens(text))
    assert [v for t, v in toks if t in Error] == []
    assert "".join(v for _, v in toks) == text if text.endswith("\n") else text + "\n"


def test_token_kinds() -> None:
    toks = tokens(SAMPLE)
    assert toks[0] == (Comment.Single, "# a comment")
    assert (Keyword.Namespace, "import") in toks
    assert (String.Escape, '\\"') in toks
    assert (Keyword.Declaration, "law") in toks
    assert (Literal.Date, "2028-01-01") in toks
    assert (Operator, "..") in toks
    assert (Keyword.Declaration, "threat") in toks and (Name.Class, "terrorism") in toks
    assert (Keyword, "under") in toks and (Name, "national_security") in toks
    assert (Name.Attribute, "severity") in toks and (Number.Integer, "5") in toks
    assert (Number.Integer, "3") in toks and (Keyword.Type, "months") in toks
    assert (Keyword, "when") in toks and (Name.Builtin, "protected") in toks
    assert (Operator.Word, "contains") in toks and (Operator.Word, "not") in toks
    assert (Keyword, "requires") in toks and (Keyword, "any") in toks
    assert (Name.Builtin, "country") in toks and (Name, "sanctioned") in toks
    assert (Name.Constant, "bulk") in toks and (Operator, "<") in toks
    assert (Keyword, "forbid") not in toks and (Keyword.Declaration, "forbid") in toks
    assert (Operator, "->") in toks and (Name.Class, "cable_tap") in toks


def test_a_keyword_after_a_declaration_word_is_not_a_name() -> None:
    toks = tokens("share s {\n    forbid when data == unevaluated\n}\n")
    assert (Keyword, "forbid") in toks and (Keyword, "when") in toks
    assert (Name.Constant, "unevaluated") in toks


def test_an_unterminated_string_is_marked() -> None:
    toks = list(AuthorityLexer().get_tokens('law "open\nthreat t\n'))
    assert any(t in Error for t, _ in toks)
    assert (Keyword.Declaration, "threat") in toks


def test_only_ascii_digits_are_numbers() -> None:
    """As in the grammar: a full-width digit looks like a number but is an error."""
    toks = tokens("capability c {\n    intrusion: \uff15\n    max_duration: \uff13 months\n}\n")
    assert (Error, "\uff15") in toks and (Error, "\uff13") in toks
    assert not any(t in Number for t, _ in toks)
    assert (Literal.Date, "2027-01-01") in tokens("in_force: 2027-01-01 ..")
    assert (Error, "\uff12") in tokens("in_force: \uff12027-01-01 ..")


def test_repl_lexer_marks_commands() -> None:
    repl = AuthorityReplLexer()
    toks = tokens("set threat terrorism", repl)
    assert toks == [(Keyword.Reserved, "set"), (Keyword.Declaration, "threat"),
                    (Name.Class, "terrorism")]
    toks = tokens("whatif add subject target journalist", repl)
    assert toks[:2] == [(Keyword.Reserved, "whatif"), (Keyword.Reserved, "add")]
    toks = tokens("add share foreign_service country BE data unevaluated with weighing_note",
                  repl)
    assert (Keyword, "country") in toks and (Keyword, "with") in toks
    toks = tokens("add approval minister_approval on 2027-08-28", repl)
    assert (Keyword, "on") in toks and (Literal.Date, "2027-08-28") in toks
    assert tokens("decide", repl) == [(Keyword.Reserved, "decide")]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_the_lexer_never_loses_text(text: str) -> None:
    for lexer in (AuthorityLexer(), AuthorityReplLexer()):
        out = "".join(v for _, v in lexer.get_tokens(text))
        # Pygments' own preprocessing: drop a byte order mark, unify line ends
        normalised = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        assert out.strip("\n") == normalised.strip("\n")
