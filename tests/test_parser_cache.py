"""The parser is kept in the user's cache directory and loaded from there by later commands:
loaded, it parses exactly as a parser built from the grammar does (comments and the nesting
check included); a damaged cache file is built again; a directory others may write to is not
used."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from authority_dsl import parser
from authority_dsl.diagnostics import DiagnosticError
from authority_dsl.formatter import format_source

ROOT = Path(__file__).resolve().parent.parent
SPEC = (ROOT / "specs" / "wiv2017.auth").read_text("utf-8")
COMMENTED = SPEC.replace("\n", "\n# a comment between lines\n", 3)
NESTED = 'law "x" { version: "1" }\nforbid f { when ' + "(" * 500 + "urgent" + ")" * 500 + " }\n"


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh cache directory, and a parser made anew on each `parser._lark()` after
    `parser._lark.cache_clear()`; the process's usual parser afterwards."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    parser._lark.cache_clear()
    yield tmp_path / "authority-dsl"
    parser._lark.cache_clear()


def outputs() -> tuple[str, str]:
    """What the parser in use makes of a commented spec (formatted: comments are kept) and of
    too deep a nesting of parentheses (the error's message)."""
    with pytest.raises(DiagnosticError) as caught:
        parser.parse(NESTED, "nested.auth")
    return format_source(COMMENTED, "spec.auth"), str(caught.value.diagnostics[0].message)


def test_a_loaded_parser_parses_as_a_built_one(cache_home: Path) -> None:
    built = outputs()  # built from the grammar, and written to the cache
    files = list(cache_home.iterdir())
    assert len(files) == 1 and files[0].stat().st_size > 0
    assert oct(cache_home.stat().st_mode & 0o777) == oct(0o700)
    written = files[0].stat().st_mtime_ns
    parser._lark.cache_clear()
    assert outputs() == built  # loaded from the cache
    assert files[0].stat().st_mtime_ns == written  # read, not written again
    assert "# a comment between lines" in built[0]
    assert "nest" in built[1]


def test_a_damaged_cache_is_built_again(cache_home: Path) -> None:
    built = outputs()
    [path] = cache_home.iterdir()
    whole = path.read_bytes()
    for damaged in (b"", whole[: len(whole) // 2], b"not a parser\n" + whole):
        path.write_bytes(damaged)
        parser._lark.cache_clear()
        assert outputs() == built
        rewritten = path.read_bytes()  # written anew, whole
        assert rewritten.split(b"\n", 1)[0] == whole.split(b"\n", 1)[0]
        assert len(rewritten) > len(whole) // 2
        written = path.stat().st_mtime_ns
        parser._lark.cache_clear()
        assert outputs() == built
        assert path.stat().st_mtime_ns == written  # and loaded from there next time


def test_a_directory_others_may_write_to_is_not_used(cache_home: Path) -> None:
    cache_home.mkdir(mode=0o700)
    os.chmod(cache_home, 0o777)
    assert parser._cache_file(parser.grammar_text()) is None
    built = outputs()
    assert list(cache_home.iterdir()) == []  # nothing written there
    os.chmod(cache_home, 0o700)
    assert parser._cache_file(parser.grammar_text()) is not None
    assert outputs() == built


def test_an_unwritable_cache_is_passed_over(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))  # authority-dsl cannot be made in it
    parser._lark.cache_clear()
    try:
        assert parser._cache_file(parser.grammar_text()) is None
        assert "# a comment between lines" in outputs()[0]
    finally:
        parser._lark.cache_clear()


def test_a_changed_grammar_is_not_loaded_from_the_cache_of_the_old(cache_home: Path) -> None:
    """The cache file is named by the grammar's text: a parser kept from before a change (here,
    numbers in any script's digits) is never loaded for the grammar after it."""
    outputs()
    old = parser.grammar_text().replace("[0-9]", "\\d")
    assert old != parser.grammar_text()
    assert parser._cache_file(old) != parser._cache_file(parser.grammar_text())
    parser._lark.cache_clear()  # loaded from the cache now
    with pytest.raises(DiagnosticError) as caught:
        parser.parse("capability c { intrusion: \uff15 }", "c.auth")
    assert "is not an ASCII digit" in caught.value.diagnostics[0].message
