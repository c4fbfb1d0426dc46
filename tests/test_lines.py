"""`authority_dsl.lines`: the audit's line ends, found with `memchr` in the compiled build
(`_lines.pyx`), must be exactly those of bytes' own methods, which the plain-Python build uses; a
key given twice in one JSON object is never missed, in either build."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import authority_dsl
from authority_dsl import lines

# Mostly line ends and the bytes around them in the audit's input (a NUL, a high byte, a
# carriage return), so that empty lines, runs of line ends and ends at either edge are common.
chunks = st.lists(st.sampled_from([b"\n", b"\n\n", b"a", b"{}", b"\r", b"\x00", b"\xff", b"\n\r\n",
                                   b"x" * 100]), max_size=60).map(b"".join)


@given(st.one_of(chunks, st.binary(max_size=2000)))
def test_the_line_ends_are_those_of_bytes_own_methods(data: bytes) -> None:
    assert lines.count_lines(data) == data.count(b"\n")
    parts = lines.split_lines(data)
    assert parts == data.split(b"\n")
    assert all(type(part) is bytes for part in parts)


def test_long_input_and_no_line_end() -> None:
    data = b"".join(b'{"id":"op-%d"}\n' % i for i in range(100_000))
    assert lines.count_lines(data) == 100_000
    assert lines.split_lines(data) == data.split(b"\n")
    assert lines.split_lines(b"no end") == [b"no end"]
    assert lines.split_lines(b"") == [b""] and lines.count_lines(b"") == 0


def test_text_is_refused() -> None:
    with pytest.raises(TypeError):
        lines.count_lines("text\n")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        lines.split_lines("text\n")  # type: ignore[arg-type]


@pytest.mark.skipif(not authority_dsl.compiled(), reason="the installed authority-dsl is not "
                    "compiled: bytes' own methods stand in for `_lines`")
def test_the_compiled_build_finds_line_ends_with_the_extension() -> None:
    assert lines.count_lines.__module__ == lines.split_lines.__module__ == "authority_dsl._lines"


# ---- keys given twice -------------------------------------------------------------------------

# JSON values written by hand, so that an object may name a key twice, and a key may be spelt
# with escapes: ("object", [(key, spelling, value), ...]), a list, or a scalar.
KEYS = ["a", "b", "id", "protected", "\u00e9", "a\"b", "{", "}", ":", ""]


def _spellings(key: str) -> st.SearchStrategy[str]:
    plain = json.dumps(key, ensure_ascii=False)
    escaped = "\"" + "".join(f"\\u{ord(c):04x}" for c in key) + "\""
    return st.sampled_from([plain, plain, escaped]) if key else st.just(plain)


scalars = st.one_of(st.integers(-5, 5), st.sampled_from(["x", "{", "}", "a:", '"', "\\", ":"]),
                    st.booleans(), st.none())
members = st.sampled_from(KEYS).flatmap(lambda k: st.tuples(st.just(k), _spellings(k)))
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: ("list", items)),
        st.lists(st.tuples(members, inner), max_size=5).map(lambda pairs: ("object", pairs))),
    max_leaves=25)


def _write(value: Any, spaced: bool) -> str:
    colon, comma = (" : ", " , ") if spaced else (":", ",")
    if isinstance(value, tuple) and value[0] == "list":
        return "[" + comma.join(_write(v, spaced) for v in value[1]) + "]"
    if isinstance(value, tuple) and value[0] == "object":
        return "{" + comma.join(f"{spelling}{colon}{_write(v, spaced)}"
                                for (_, spelling), v in value[1]) + "}"
    return json.dumps(value, ensure_ascii=False)


def _repeats(value: Any) -> bool:
    """The oracle: whether some object of the value names a key twice (keys compared as
    decoded), from the value as generated."""
    if isinstance(value, tuple) and value[0] == "list":
        return any(_repeats(v) for v in value[1])
    if isinstance(value, tuple) and value[0] == "object":
        keys = [key for (key, _), _ in value[1]]
        return len(set(keys)) < len(keys) or any(_repeats(v) for _, v in value[1])
    return False


def _escaped_key(value: Any) -> bool:
    if isinstance(value, tuple) and value[0] == "list":
        return any(_escaped_key(v) for v in value[1])
    if isinstance(value, tuple) and value[0] == "object":
        return any("\\" in spelling or _escaped_key(v) for (_, spelling), v in value[1])
    return False


@given(values, st.booleans())
def test_a_repeated_key_is_never_missed(value: Any, spaced: bool) -> None:
    text = _write(value, spaced)
    repeats = _repeats(value)
    assert (lines.repeated_key(text) is not None) == repeats, text
    if repeats:
        assert lines.repeats_a_key(text.encode()), text
    elif not _escaped_key(value):  # an escape in a key sends the line the plain way
        assert not lines.repeats_a_key(text.encode()), text


def test_where_a_key_is_given_twice() -> None:
    def where(text: str) -> tuple[str, str] | None:
        found = lines.repeated_key(text)
        return None if found is None else (found.path, found.key)

    assert where('{"a": 1, "b": {"c": 1, "c": 2}}') == ("$.b", "c")
    assert where('{"a": 1, "\\u0061": 2}') == ("$", "a")
    assert where('{"s": [{"r": 1}, {"r": 2, "p": [], "p": [1]}]}') == ("$.s[1]", "p")
    assert where('{"a": {"x": 1, "x": 2}, "a": 3}') == ("$", "a")  # outer first
    # Every key the outermost object gives twice, whichever is reported.
    found = lines.repeated_key('{"t": 1, "t": 2, "id": "a", "id": "b", "u": {"id": 1, "id": 2}}')
    assert found == ("$", "t", frozenset({"t", "id"}))
    assert lines.repeated_key('{"u": {"id": 1, "id": 2}}') == ("$.u", "id", frozenset())
    assert lines.repeated_key('{"a": [{"x": 1}, {"x": 2}]}') is None  # two objects, one key each
    # A key that is not a name is written in brackets: it cannot pass for a path.
    assert where('{"a.b[0]": {"c": 1, "c": 2}}') == ('$["a.b[0]"]', "c")
    assert where('{"a": {"b": [{"c": 1, "c": 2}]}}') == ("$.a.b[0]", "c")
    assert where('{"": {"c": 1, "c": 2}}') == ('$[""]', "c")
    assert lines.repeated_key('{"a": 1, "a": ') is None  # not JSON: its decoding says so
    assert lines.repeats_a_key(b'{"a": 1, "b": {"a": 2}}') is False
    assert lines.repeats_a_key(b'{"a": "x\\"a\\":", "b": 1}') is False  # a string, not a key
    assert lines.repeats_a_key(b'{"a": 1, "a" \t:2}') is True
    assert lines.repeats_a_key(b'{"a": "}", "a": 2}') is True  # a brace inside a string


def test_deep_or_crowded_objects_are_sent_the_plain_way() -> None:
    deep = b'{"a":' * 40 + b"1" + b"}" * 40
    crowded = b"{" + b",".join(b'"k%d": 1' % i for i in range(300)) + b"}"
    assert lines.repeated_key(deep) is None and lines.repeated_key(crowded) is None
    if authority_dsl.compiled():  # past what the scan keeps track of: "maybe", never "no"
        assert lines.repeats_a_key(deep) and lines.repeats_a_key(crowded)
    else:
        assert not lines.repeats_a_key(deep) and not lines.repeats_a_key(crowded)


class _Object(tuple):  # type: ignore[type-arg]
    """An object as `json` reads it with every pair kept (a key given twice too)."""


def _depth(text: bytes) -> int:
    """The oracle: the deepest nesting of arrays and objects, decoded by `json`."""
    def depth(value: object) -> int:
        if isinstance(value, _Object):
            return 1 + max((depth(v) for _, v in value), default=0)
        if isinstance(value, list):
            return 1 + max(map(depth, value), default=0)
        return 0

    return depth(json.loads(text, object_pairs_hook=_Object))


@given(values, st.booleans(), st.integers(0, 6))
def test_how_deep_a_value_nests(value: Any, spaced: bool, limit: int) -> None:
    text = _write(value, spaced).encode()
    assert lines.deeper_than(text, limit) == (_depth(text) > limit), text


def test_deep_text_is_told_without_recursion() -> None:
    assert lines.deeper_than(b"[" * 100_000, lines.MAX_DEPTH)  # unclosed counts
    assert not lines.deeper_than(b"[]" * 100_000, lines.MAX_DEPTH)
    assert not lines.deeper_than(b'["' + b"[" * 10_000 + b'"]', 5)  # inside a string
    assert not lines.deeper_than(b'["\\"' + b"[" * 10_000 + b'"]', 5)  # an escaped quote
    nested = b'{"a":' * 600 + b"1" + b"}" * 600
    assert lines.deeper_than(nested, 599) and not lines.deeper_than(nested, 600)
    assert lines.repeated_key(b'{"a":' * 600 + b'{"b": 1, "b": 2}' + b"}" * 600) is None


@pytest.mark.parametrize(("key", "path"), [
    ("subjects", "$.subjects"),
    ("_x9", "$._x9"),
    ("a.b[0]", '$["a.b[0]"]'),
    ("", '$[""]'),
    ("9a", '$["9a"]'),
    ("a b", '$["a b"]'),
    ('say "x"', '$["say \\"x\\""]'),
    ("caf\u00e9", '$["caf\u00e9"]'),  # printable: written as it is
    ("\u00e9\n", '$["\\u00e9\\n"]'),  # a control character: all escaped
    ("\ud800", '$["\\ud800"]'),  # a lone surrogate: escaped, so the path is valid UTF-8
])
def test_a_member_path_cannot_be_mistaken(key: str, path: str) -> None:
    assert lines.member("$", key) == path
    assert lines.member(path, "x") == f"{path}.x"
    path.encode("utf-8")
