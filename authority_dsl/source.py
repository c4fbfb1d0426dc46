"""Reading source files safely: every failure becomes a located diagnostic, never a traceback."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from .diagnostics import Diagnostic, DiagnosticError, Span, error, warning

MAX_SOURCE_BYTES = 4 * 1024 * 1024

# Characters that change how text is displayed without being visible: bidirectional controls
# (the "Trojan Source" family), zero-width characters and other format characters.
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def read_source(path: str | Path) -> str:
    """Read a spec file as UTF-8 text; raises DiagnosticError with a location on any problem."""
    name = str(path)
    where = Span(name, 1, 1, 1, 1)
    p = Path(path)
    try:
        if p.is_dir():
            raise DiagnosticError([error("bad-source", f"`{name}` is a directory, not a file",
                                         where, "give the .auth files inside it")])
        size = p.stat().st_size
        if size > MAX_SOURCE_BYTES:
            raise DiagnosticError([error(
                "bad-source", f"file is {size / 1e6:.1f} MB; a spec may be at most "
                f"{MAX_SOURCE_BYTES // (1024 * 1024)} MiB", where,
                "split the law into files joined with `import`")])
        data = p.read_bytes()
    except FileNotFoundError:
        raise DiagnosticError([error("bad-source", f"file `{name}` not found", where)]) from None
    except PermissionError:
        raise DiagnosticError([error("bad-source", f"file `{name}` cannot be read: permission "
                                     "denied", where)]) from None
    except OSError as exc:
        raise DiagnosticError([error("bad-source", f"file `{name}` cannot be read: "
                                     f"{exc.strerror or exc}", where)]) from None
    return decode(data, name)


def decode(data: bytes, name: str) -> str:
    """Decode UTF-8, refusing binary data and pointing at the first bad byte."""
    if b"\x00" in data:
        line, column = _position(data, data.index(b"\x00"))
        raise DiagnosticError([error("bad-source", "file contains a NUL byte; it looks binary, "
                                     "not a spec", Span(name, line, column, line, column + 1))])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        raise DiagnosticError([error(
            "bad-source", f"invalid UTF-8 byte 0x{data[exc.start]:02x}",
            Span(name, line, column, line, column + 1), "save the file as UTF-8")]) from None
    return text[1:] if text.startswith("\ufeff") else text


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return line, column


_SUSPECT = re.compile(r"[^\t\n\r\x20-\x7e]")


def hidden_characters(text: str, name: str) -> Iterator[Diagnostic]:
    """Warn about invisible or bidirectional control characters: a law must read as it evaluates."""
    if not _SUSPECT.search(text):  # printable ASCII only: nothing can hide
        return
    for lineno, line in enumerate(text.splitlines(), 1):
        if not _SUSPECT.search(line):
            continue
        for col, ch in enumerate(line, 1):
            if ch in _BIDI or (unicodedata.category(ch) == "Cf" and ch != "\ufeff") or (
                unicodedata.category(ch) in ("Cc", "Co", "Cn") and ch not in "\t"
            ):
                cp = f"U+{ord(ch):04X}"
                label = unicodedata.name(ch, "unnamed character").lower()
                kind = "bidirectional control" if ch in _BIDI else "invisible"
                yield warning("hidden-character", f"{kind} character {cp} ({label})",
                              Span(name, lineno, col, lineno, col + 1),
                              "remove it: the text may not read as it evaluates")


def script_of(ch: str) -> str:
    """A coarse Unicode script name for a letter (the first word of its character name)."""
    if ch.isascii():
        return "LATIN" if ch.isalpha() else ""
    if not ch.isalpha():
        return ""
    name = unicodedata.name(ch, "")
    return name.split(" ")[0] if name else ""


def mixed_script(name: str) -> list[str] | None:
    """The scripts of an identifier when it mixes more than one (e.g. Latin with Cyrillic)."""
    scripts = {s for s in map(script_of, name) if s}
    return sorted(scripts) if len(scripts) > 1 else None
