"""`authority fmt [--check] PATH...`: canonical formatting that keeps comments."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..diagnostics import os_reason
from .common import input_file

HELP = "format specs canonically (keeps comments; --check only reports)"

_BOM = b"\xef\xbb\xbf"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", metavar="PATH", type=input_file("fmt"),
                   help=".auth files or folders")
    p.add_argument("--check", action="store_true",
                   help="change nothing; exit 1 if any file is not formatted")


def _files(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(sorted(p.rglob("*.auth")))
        else:
            out.append(p)
    return out


def run(args: argparse.Namespace) -> int:
    from ..diagnostics import DiagnosticError
    from ..formatter import format_source
    from ..render import print_diagnostics, stderr_console
    from ..source import read_source, refuse_stream

    console = stderr_console()
    bad = changed = 0
    files = _files(args.paths)
    for path in files:
        try:
            if not args.check:  # what it reads it writes back: not to a pipe or a device
                refuse_stream(path, "fmt-not-a-file", "fmt rewrites files in place",
                              "`fmt --check` checks it, or format a copy in a file")
            text = read_source(path)
            formatted = format_source(text, str(path))
            # The formatter writes LF; a file whose first line ends in CRLF keeps CRLF.
            if _crlf(text):
                formatted = formatted.replace("\n", "\r\n")
            if formatted != text and not args.check:
                _write(path, text, formatted)
        except DiagnosticError as exc:
            print_diagnostics(console, exc.diagnostics)
            bad += 1
            continue
        if formatted == text:
            continue
        changed += 1
        console.print(f"{path}: {'not formatted' if args.check else 'formatted'}", highlight=False)
    verb = "would be reformatted" if args.check else "reformatted"
    console.print(f"{len(files)} file{'s' * (len(files) != 1)}: {changed} {verb}, {bad} with "
                  f"errors", highlight=False)
    if bad or (args.check and changed):
        return 1
    return 0


def _crlf(text: str) -> bool:
    end = text.find("\n")
    return end > 0 and text[end - 1] == "\r"


def _write(path: Path, source: str, text: str) -> None:
    """Write the formatted text over the file a link points to, keeping its mode, owner and links.

    The text goes to a temporary file beside the target first, so a full disk or a size limit
    fails before the original is touched. That file then replaces the original, unless the
    original has other hard links or an owner the temporary file cannot be given: then it is
    copied over the original in place, and the original is written back if that fails.
    """
    import contextlib
    import os
    import stat
    import tempfile

    from ..diagnostics import DiagnosticError, Span, error

    name = str(path)

    def failure(message: str, help_text: str | None = None) -> DiagnosticError:
        return DiagnosticError([error("fmt-cannot-write", message, Span(name, 1, 1, 1, 1),
                                      help_text)])

    target = Path(os.path.realpath(path))
    try:
        st = target.stat()
        original = target.read_bytes()
    except OSError as exc:
        raise failure(f"file `{name}` cannot be read: {os_reason(exc)}") from None
    if original.removeprefix(_BOM).decode("utf-8", errors="replace") != source:
        raise failure(f"file `{name}` changed while it was being formatted; it is left as it was",
                      "run fmt again")
    if not st.st_mode & 0o222:
        raise failure(f"file `{name}` is read-only; it is left as it was",
                      "make it writable (`chmod u+w`) to format it")
    if not os.access(target, os.W_OK):
        raise failure(f"file `{name}` cannot be written: permission denied")
    data = (_BOM if original.startswith(_BOM) else b"") + text.encode("utf-8")

    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise failure(f"file `{name}` cannot be written: no temporary file can be made in "
                      f"`{target.parent}`: {os_reason(exc)}",
                      "fmt writes the new text beside the file first") from None
    keep_tmp = False
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                if _owner(fd) != (st.st_uid, st.st_gid):
                    _chown(fd, st.st_uid, st.st_gid)
                os.fchmod(fd, stat.S_IMODE(st.st_mode))  # after chown, which clears setuid
                owned = _owner(fd) == (st.st_uid, st.st_gid)
            if st.st_nlink == 1 and owned:
                os.replace(tmp, target)
                return
        except OSError as exc:
            raise failure(f"file `{name}` cannot be written: {os_reason(exc)}; it is "
                          "left as it was") from None
        try:
            _overwrite(target, data)
        except OSError as exc:
            try:
                _overwrite(target, original)
            except OSError:
                keep_tmp = True
                raise failure(f"file `{name}` was left incomplete: {os_reason(exc)}",
                              f"the formatted text is in `{tmp}`") from None
            raise failure(f"file `{name}` cannot be written: {os_reason(exc)}; it is "
                          "left as it was") from None
    finally:
        if not keep_tmp:
            with contextlib.suppress(OSError):  # gone if it replaced the original
                os.unlink(tmp)


def _owner(fd: int) -> tuple[int, int]:
    import os

    st = os.fstat(fd)
    return st.st_uid, st.st_gid


def _chown(fd: int, uid: int, gid: int) -> None:
    """Give the file the original's owner and group, or only its group, as far as allowed."""
    import os

    for owner in (uid, -1):
        try:
            os.fchown(fd, owner, gid)
            return
        except PermissionError:
            continue


def _overwrite(target: Path, data: bytes) -> None:
    """Write data over the file itself (same inode), then cut it to length."""
    import os

    fd = os.open(target, os.O_WRONLY)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)
