"""Line ends in the audit's input: `count_lines(data)` is `data.count(b"\\n")` and
`split_lines(data)` is `data.split(b"\\n")`. Where setup.py built the C extension `_lines`, they
find each line end with the C library's `memchr`, which tests many bytes at once: on the audit's
input, splitting takes about a third of the time of bytes' own method and counting about a sixth
(docs/reviewers.md); those test a byte at a time. Elsewhere (an editable or plain-Python
install), bytes' own methods."""

from __future__ import annotations

try:
    from ._lines import count_lines, split_lines
except ImportError:  # not built: the same answers, a byte at a time

    def count_lines(data: bytes) -> int:
        return data.count(b"\n")

    def split_lines(data: bytes) -> list[bytes]:
        return data.split(b"\n")


__all__ = ["count_lines", "split_lines"]
