"""`authority_dsl.lines`: the audit's line ends, found with `memchr` in the compiled build
(`_lines.pyx`), must be exactly those of bytes' own methods, which the plain-Python build uses."""

from __future__ import annotations

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
