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
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

_R = TypeVar("_R")


class _Repeated(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Repeated(key)
            seen.add(key)
    return value


class _Marked(dict):  # type: ignore[type-arg]
    """An object that named `repeated` twice (`repeated_key`)."""

    repeated: str | None = None


def _marked(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = _Marked(pairs)
    if len(value) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen and value.repeated is None:
                value.repeated = key
            seen.add(key)
    return value


def repeated_key(text: str | bytes) -> tuple[str, str] | None:
    """(the JSON path of the object, the key) of the first key some object of the JSON text
    gives twice, comparing keys decoded (`"a"` and `"\\u0061"` are the same key); None if none
    does, or if the text is not JSON (its decoding says what is wrong)."""
    try:
        json.loads(text, object_pairs_hook=_unique)
    except _Repeated:
        pass
    except (ValueError, RecursionError):
        return None
    else:
        return None
    return _find(json.loads(text, object_pairs_hook=_marked), "$")


def find_in_json(value: object, found: Callable[[object, str], _R | None],
                 path: str = "$") -> _R | None:
    """The first answer of `found(part, its JSON path)` that is not None, over a decoded JSON
    value and its parts, each object or array before what it holds, in order."""
    answer = found(value, path)
    if answer is not None:
        return answer
    items = (value.items() if isinstance(value, dict) else enumerate(value)
             if isinstance(value, list) else ())
    for key, item in items:
        answer = find_in_json(item, found,
                              f"{path}.{key}" if isinstance(value, dict) else f"{path}[{key}]")
        if answer is not None:
            return answer
    return None


def _find(value: object, path: str) -> tuple[str, str] | None:
    return find_in_json(value, lambda part, where: (where, part.repeated) if isinstance(
        part, _Marked) and part.repeated is not None else None, path)


try:
    from ._lines import count_lines, repeats_a_key, split_lines
except ImportError:  # not built: the same answers, a byte at a time

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


__all__ = ["count_lines", "find_in_json", "repeated_key", "repeats_a_key", "split_lines"]
