"""What can come next on a REPL line: commands, fields, and every name the loaded law declares.

Pure: `candidates(session, text_before_cursor)` returns what to offer for the word being typed.
completer.py wraps it for prompt_toolkit; tests call it directly too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import attrs

from ..model import Law
from .edits import ADD_KINDS, DATA_KINDS, SET_FIELDS, SHARE_KEYWORDS, UNSET_WORDS
from .session import ALIASES, COMMANDS, Session
from .views import LIST_KINDS


@attrs.frozen
class Candidate:
    """Offer `text` in place of the last `replaces` characters typed; `meta` says what it is."""

    text: str
    replaces: int
    meta: str = ""


def candidates(session: Session, text: str) -> list[Candidate]:
    words = text.replace(",", " ").split()
    if text and not text[-1].isspace() and text[-1] != ",":
        current, before = words[-1], words[:-1]
    else:
        current, before = "", words
    if session.pending:
        options = _operation_fields(session.law)
    else:
        options = _options(session, before, current)
    seen: set[str] = set()
    out = []
    for name, meta in options:
        if name.startswith(current) and name not in seen:
            seen.add(name)
            out.append(Candidate(name, len(current), meta))
    return out


Options = Iterable[tuple[str, str]]


def _options(session: Session, before: Sequence[str], current: str) -> Options:
    if not before:
        yield from ((name, cmd.summary) for name, cmd in COMMANDS.items())
        yield "operation", "paste an operation block"
        return
    command = ALIASES.get(before[0], before[0])
    args = before[1:]
    law = session.law
    if command == "whatif":
        if not args:
            yield from (("set", "change a field"), ("add", "add an item"),
                        ("unset", "remove a field or item"))
        elif args[0] in ("set", "add", "unset"):
            yield from _edit_options(session, args[0], args[1:])
    elif command in ("set", "add", "unset"):
        yield from _edit_options(session, command, args)
    elif command == "show" and not args and law is not None:
        yield from _all_names(law)
    elif command == "list" and not args:
        yield from ((k, "") for k in LIST_KINDS)
    elif command == "help" and not args:
        yield from ((name, cmd.summary) for name, cmd in COMMANDS.items())
    elif command in ("load", "compare", "open") and not args:
        yield from _paths(current, (".json", ".auth") if command == "open" else (".auth",))


def _edit_options(session: Session, command: str, args: Sequence[str]) -> Options:
    law, op = session.law, session.operation
    if command == "set":
        if not args:
            yield from ((f, "field") for f in SET_FIELDS)
        elif len(args) == 1 and law is not None:
            field = args[0]
            if field == "threat":
                yield from _threats(law)
            elif field == "technique":
                yield from _techniques(law)
            elif field == "urgent":
                yield from (("true", ""), ("false", ""))
            elif field == "date":
                yield session.default_date.isoformat(), session.default_date_source
        elif len(args) == 1 and args[0] == "urgent":
            yield from (("true", ""), ("false", ""))
        return
    if command == "add":
        if not args:
            yield from ((k, "") for k in ADD_KINDS)
        elif law is not None:
            yield from _add_options(law, args[0], args[1:], session)
        return
    if not args:
        yield from ((w, "") for w in UNSET_WORDS)
        return
    item = args[0]
    present: dict[str, Iterable[str]] = {
        "capability": op.capabilities,
        "approval": (a.safeguard for a in op.approvals),
        "assessment": op.assessments,
        "subject": (s.role for s in op.subjects),
        "protected": (p for s in op.subjects for p in s.protected),
        "share": (s.recipient for s in op.sharing),
    }
    yield from ((name, f"in the operation ({item})") for name in present.get(item, ()))


def _add_options(law: Law, kind: str, args: Sequence[str], session: Session) -> Options:
    if kind in ("capability", "capabilities"):
        yield from _capabilities(law)
    elif kind == "subject":
        if not args:
            yield "target", "role"
        yield from ((p, "protected category") for p in sorted(law.protected))
    elif kind in ("approval", "approvals"):
        if args and args[-1] == "on":
            yield session.default_date.isoformat(), "date"
            return
        if args and args[-1] in law.safeguards:
            yield "on", "the date it was given"
        yield from _safeguards(law)
    elif kind in ("assessment", "assessments"):
        yield from ((a, "assessment") for a in sorted(law.assessments))
    elif kind == "share":
        if not args:
            yield from ((r, "foreign recipient" if f else "domestic recipient")
                        for r, f in sorted(law.recipients.items()))
        elif args[-1] == "data":
            yield from ((d, "") for d in DATA_KINDS)
        elif args[-1] == "country":
            return
        elif "with" in args:
            yield from _safeguards(law)
            yield from ((a, "assessment") for a in sorted(law.assessments))
            yield from ((k, "") for k in SHARE_KEYWORDS if k not in args)
        else:
            yield from ((k, "") for k in SHARE_KEYWORDS if k not in args)


def _threats(law: Law) -> Options:
    for name, t in sorted(law.threats.items()):
        yield name, "threat" + (f" under {t.parent}" if t.parent else "")


def _techniques(law: Law) -> Options:
    for name, caps in sorted(law.techniques.items()):
        yield name, "technique → " + ", ".join(sorted(caps))


def _capabilities(law: Law) -> Options:
    for name, c in sorted(law.capabilities.items()):
        yield name, f"capability, intrusion {c.intrusion}, {c.scope}"


def _safeguards(law: Law) -> Options:
    for name, s in sorted(law.safeguards.items()):
        yield name, "safeguard" + (f" by {s.by}" if s.by else "")


def _all_names(law: Law) -> Options:
    yield from _threats(law)
    yield from _capabilities(law)
    yield from _techniques(law)
    yield from ((p, "protected category") for p in sorted(law.protected))
    yield from _safeguards(law)
    yield from ((a, "assessment") for a in sorted(law.assessments))
    yield from ((r, "recipient") for r in sorted(law.recipients))
    yield from ((p.name, "power") for p in sorted(law.powers, key=lambda p: p.name))
    yield from ((p.name, "prohibition") for p in law.prohibitions)
    yield from ((r.name, "share rule") for r in law.share_rules)
    yield from ((p.name, "principle") for p in law.principles)
    yield from ((s, "set") for s in sorted(law.sets))


def _operation_fields(law: Law | None) -> Options:
    from ..ast import OperationSpec
    from ..parser import SCHEMAS

    yield from ((f"{f}:", "field") for f in SCHEMAS[OperationSpec])
    yield from (("subject", "block"), ("share", "block"))
    if law is not None:
        yield from _all_names(law)


def _paths(current: str, suffixes: tuple[str, ...]) -> Options:
    folder, _, stem = current.rpartition("/")
    directory = folder or "."
    if current.startswith("/") and not folder:
        directory = "/"
    try:
        entries = sorted(os.scandir(os.path.expanduser(directory)), key=lambda e: e.name)
    except OSError:
        return
    prefix = f"{folder}/" if folder or current.startswith("/") else ""
    for entry in entries:
        if entry.name.startswith(".") and not stem.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if is_dir:
            yield f"{prefix}{entry.name}/", "folder"
        elif entry.name.endswith(suffixes):
            yield f"{prefix}{entry.name}", "file"
