"""Reading source files safely: every failure becomes a located diagnostic, never a traceback."""

from __future__ import annotations

import os
import re
import stat
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from .diagnostics import Diagnostic, DiagnosticError, Span, error, os_reason, warning

MAX_SOURCE_BYTES = 4 * 1024 * 1024

# Characters that change how text is displayed without being visible: bidirectional controls
# (the "Trojan Source" family), zero-width characters and other format characters.
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def read_source(path: str | Path) -> str:
    """Read a spec file as UTF-8 text; raises DiagnosticError with a location on any problem.

    A pipe, FIFO or device (`/dev/stdin`, `<(...)`) can be read only once: its text is kept, and
    reading it again in this process gives that text rather than nothing (or waiting forever for
    a FIFO's next writer)."""
    name = str(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise _unreadable(exc, name) from None
    if stat.S_ISDIR(info.st_mode):
        raise DiagnosticError([error("bad-source", f"`{name}` is a directory, not a file",
                                     _start(name), "give the .auth files inside it")])
    regular = stat.S_ISREG(info.st_mode)
    key = (name, info.st_dev, info.st_ino)
    if not regular and key in _streams:
        return _streams[key]
    text = decode(read_bytes(path, MAX_SOURCE_BYTES, "a spec", "bad-source",
                             "split the law into files joined with `import`", info), name)
    if not regular:
        _streams[key] = text
    return text


# The text of each pipe, FIFO or device read so far, by name, device and inode (`read_source`).
_streams: dict[tuple[str, int, int], str] = {}


def read_bytes(path: str | Path, limit: int, what: str, code: str = "bad-source",
               help_text: str | None = None, info: os.stat_result | None = None) -> bytes:
    """The bytes of a file, a pipe or a device (`-` is standard input), read only as far as
    `limit` allows: a larger input, however long (`/dev/zero`, `yes |`), is refused with a
    located error that says `what` may be at most `limit` bytes, and is never read to its end.
    `info` is the file's status where the caller has it already."""
    stdin = str(path) == "-"
    name = "<stdin>" if stdin else str(path)
    mib = limit // (1024 * 1024)
    try:
        if stdin and sys.stdin is None:  # closed: `<&-`
            raise DiagnosticError([error(code, "standard input is closed", _start(name))])
        if stdin:
            data = sys.stdin.buffer.read(limit + 1)
        else:
            info = os.stat(path) if info is None else info
            if stat.S_ISREG(info.st_mode):  # its size is known before it is read
                if info.st_size > limit:
                    raise DiagnosticError([error(
                        code, f"file is {info.st_size / 1e6:.1f} MB; {what} may be at most "
                        f"{mib} MiB", _start(name), help_text)])
                data = Path(path).read_bytes()
            else:  # a pipe, FIFO or device: as far as the limit, and one byte more
                with open(path, "rb") as handle:
                    data = handle.read(limit + 1)
    except OSError as exc:
        raise _unreadable(exc, name, code) from None
    if len(data) > limit:
        raise DiagnosticError([error(code, f"input is larger than {mib} MiB, the most {what} "
                                     "may be", _start(name), help_text)])
    return data


def refuse_stream(path: str | Path, code: str, why: str, help_text: str | None = None) -> None:
    """Raise a located DiagnosticError, saying `why`, when `path` is a pipe, FIFO, socket or
    device rather than a regular file (a verb that writes the file back refuses those). A path
    that cannot be looked at is left to `read_source` to report."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return
    kind = ("a pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device")
    raise DiagnosticError([error(code, f"`{path}` is {kind}, not a regular file: {why}",
                                 _start(str(path)), help_text)])


def _start(name: str) -> Span:
    return Span(name, 1, 1, 1, 1)


def _unreadable(exc: OSError, name: str, code: str = "bad-source") -> DiagnosticError:
    if isinstance(exc, IsADirectoryError):
        return DiagnosticError([error(code, f"`{name}` is a directory, not a file",
                                      _start(name))])
    if isinstance(exc, FileNotFoundError):
        return DiagnosticError([error(code, f"file `{name}` not found", _start(name))])
    return DiagnosticError([error(code, f"file `{name}` cannot be read: {os_reason(exc)}",
                                  _start(name))])


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
