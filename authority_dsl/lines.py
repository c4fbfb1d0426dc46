"""Scans of the audit's input bytes.

Line ends: `count_lines(data)` is `data.count(b"\\n")` and `split_lines(data)` is
`data.split(b"\\n")`. Where setup.py built the C extension `_lines`, they find each line end with
the C library's `memchr`, which tests many bytes at once: on the audit's input, splitting takes
about a third of the time of bytes' own method and counting about a sixth (docs/reviewers.md);
those test a byte at a time. Elsewhere (an editable or plain-Python install), bytes' own methods.

Keys given twice: `repeated_key(value_text)` says where a JSON object names a key twice (which
value counts is then a guess: JSON readers disagree), and `repeats_a_key(data)` whether a line
may, in one pass over its bytes where `_lines` is built (True also for a key with an escape, which
only the decoded comparison of `repeated_key` can settle); elsewhere `repeated_key` itself.

Nesting: `deeper_than(data, limit)` says whether JSON text opens more than `limit` arrays or
objects inside one another, without recursing: text nested deeper than MAX_DEPTH is refused before
it is decoded, so that no later step meets Python's recursion limit, which is nearer in a worker
process than in the main one (the same line would be refused differently with several jobs).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

_R = TypeVar("_R")
# Arrays and objects inside one another that a line may open. An operation needs four; Python's
# own JSON reader gives up near a thousand, at a depth that depends on the caller's stack.
MAX_DEPTH = 512


class _Repeated(Exception):
    """Raised by `_unique` for an object that gives a key twice."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _Repeated
    return value


class _Marked(dict):  # type: ignore[type-arg]
    """An object as `mark_repeats` reads it: with the keys it gives twice, in the order of their
    second mention."""

    again: tuple[str, ...] = ()


def mark_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A `json.loads` hook: each object as a dict that remembers the keys it gives twice, for
    `repeated_in`."""
    value = _Marked(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        again: list[str] = []
        for key, _ in pairs:
            if key in seen and key not in again:
                again.append(key)
            seen.add(key)
        value.again = tuple(again)
    return value


class Repeated(NamedTuple):
    """A key given twice: the JSON path of the first object that gives one (outer objects
    first), the key, and every key the outermost object gives twice (an `id` among them names
    no operation)."""

    path: str
    key: str
    outermost: frozenset[str]


def repeated_key(text: str | bytes) -> Repeated | None:
    """The first key some object of the JSON text gives twice, comparing keys decoded (`"a"`
    and `"\\u0061"` are the same key); None if none does, or if the text is not JSON (its
    decoding says what is wrong) or nests deeper than MAX_DEPTH (refused as such)."""
    if deeper_than(text.encode() if isinstance(text, str) else text, MAX_DEPTH):
        return None
    try:
        value = json.loads(text, object_pairs_hook=mark_repeats)
    except ValueError:
        return None
    return repeated_in(value)


def repeated_in(value: object) -> Repeated | None:
    """`repeated_key` of a value decoded with `mark_repeats`."""
    found = find_in_json(value, lambda part, where: (where, part.again[0]) if isinstance(
        part, _Marked) and part.again else None)
    if found is None:
        return None
    return Repeated(*found, frozenset(value.again) if isinstance(value, _Marked) else frozenset())


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def member(path: str, key: str) -> str:
    """The JSON path of an object's member: `$.subjects` for a key that is a name, else the key
    as a JSON string in brackets (`$["a.b[0]"]`, `$[""]`; RFC 9535), so that no key can pass for
    a path of other members. Non-ASCII is escaped in a key that is not all printable (a control
    character, a lone surrogate)."""
    if _NAME.match(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=not key.isprintable())}]"


def find_in_json(value: object, found: Callable[[object, str], _R | None],
                 path: str = "$") -> _R | None:
    """The first answer of `found(part, its JSON path)` that is not None, over a decoded JSON
    value and its parts, each object or array before what it holds, in order."""
    answer = found(value, path)
    if answer is not None:
        return answer
    parts: list[tuple[str, object]] = (
        [(member(path, key), item) for key, item in value.items()] if isinstance(value, dict)
        else [(f"{path}[{index}]", item) for index, item in enumerate(value)]
        if isinstance(value, list) else [])
    for where, item in parts:
        answer = find_in_json(item, found, where)
        if answer is not None:
            return answer
    return None


try:
    from ._lines import count_lines, deeper_than, repeats_a_key, split_lines
except ImportError:  # not built: the same answers, a byte at a time
    # A string (closed or not), or a bracket outside strings.
    _TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"?|[\[\]{}]')
    _OPENING = frozenset(b"[{")

    def deeper_than(data: bytes, limit: int) -> bool:
        if data.count(b"[") + data.count(b"{") <= limit:
            return False
        depth = 0
        for token in _TOKEN.finditer(data):
            first = token.group()[0]
            if first in _OPENING:
                depth += 1
                if depth > limit:
                    return True
            elif first != 34:  # a closing bracket
                depth -= 1
        return False

    def count_lines(data: bytes) -> int:
        return data.count(b"\n")

    def split_lines(data: bytes) -> list[bytes]:
        return data.split(b"\n")

    def repeats_a_key(data: bytes) -> bool:
        try:
            json.loads(data, object_pairs_hook=_unique)
        except _Repeated:
            return True
        except (ValueError, RecursionError):  # not JSON: its decoding refuses it
            return False
        return False


__all__ = ["MAX_DEPTH", "Repeated", "count_lines", "deeper_than", "find_in_json", "mark_repeats",
           "member", "repeated_in", "repeated_key", "repeats_a_key", "split_lines"]
