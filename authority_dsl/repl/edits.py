"""Changes to an operation typed by a student: `set`, `add` and `unset`, as pure functions.

Each edit takes the current operation (an immutable value) and the words after the command and
returns the changed operation with a one-line description. Names are checked against the loaded
law (when there is one) with a did-you-mean suggestion; a bad edit raises `ReplError` and leaves
the operation as it was.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs
from msgspec.structs import replace

from ..diagnostics import closest, did_you_mean
from ..durations import parse_date, parse_duration
from ..model import Law
from ..operation import Approval, Operation, Sharing, Subject


class ReplError(Exception):
    """A command that cannot be carried out; `help` says what to do instead."""

    def __init__(self, message: str, help: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.help = help


SET_FIELDS = ("threat", "technique", "date", "duration", "retention", "urgent", "service", "id")
ADD_KINDS = ("capability", "subject", "approval", "assessment", "share")
# `unset` takes a field, or an item kind and a name, or a plural that clears the whole list.
UNSET_ITEMS = ("capability", "subject", "protected", "approval", "assessment", "share")
UNSET_LISTS = ("capabilities", "subjects", "approvals", "assessments", "sharing")
UNSET_WORDS = (*SET_FIELDS, *UNSET_ITEMS, *UNSET_LISTS)
SHARE_KEYWORDS = ("country", "data", "with")
DATA_KINDS = ("evaluated", "unevaluated")
_TRUE = ("true", "yes", "on")
_FALSE = ("false", "no", "off")

Edit = tuple[Operation, str]


@attrs.frozen
class Context:
    """What an edit needs besides the operation: the law (if loaded) and the default date."""

    law: Law | None
    default_date: dt.date


def words_of(text: str) -> list[str]:
    """Split arguments on spaces and commas: `a, b c` -> [a, b, c]."""
    return [w for w in text.replace(",", " ").split() if w]


# ---- names ------------------------------------------------------------------------------------


def _kinds(law: Law) -> dict[str, Mapping[str, object]]:
    return {
        "threat": law.threats, "technique": law.techniques, "capability": law.capabilities,
        "protected category": law.protected, "safeguard": law.safeguards,
        "assessment": law.assessments, "recipient": law.recipients,
    }


def kind_of(law: Law, name: str) -> str | None:
    """What the law declares `name` as (threat, capability ...), or None."""
    for kind, table in _kinds(law).items():
        if name in table:
            return kind
    if any(p.name == name for p in law.powers):
        return "power"
    return None


_HINTS: dict[tuple[str, str], str] = {
    ("capability", "technique"): "add it with `add capability {name}`",
    ("technique", "capability"): "set it with `set technique {name}`",
    ("assessment", "safeguard"): "add it with `add assessment {name}`",
    ("safeguard", "assessment"): "add it with `add approval {name}`",
    ("protected category", "safeguard"): "add a protected subject with `add subject {name}`",
}


def check_name(ctx: Context, name: str, kind: str) -> str:
    """`name` if the law declares it as `kind`; otherwise a ReplError with a suggestion."""
    law = ctx.law
    if law is None:
        return name
    tables = _kinds(law)
    wanted = ("safeguard", "assessment") if kind == "safeguard or assessment" else (kind,)
    if any(name in tables[k] for k in wanted):
        return name
    actual = kind_of(law, name)
    if actual is not None:
        hint = _HINTS.get((actual, kind), "").format(name=name) or None
        raise ReplError(f"`{name}` is {_a(actual)}, not {_a(kind)}", hint)
    known = [n for k in wanted for n in tables[k]]
    raise ReplError(f"unknown {kind} `{name}`",
                    did_you_mean(name, known) or f"`list {_plural(wanted[0])}` shows them all")


def _a(kind: str) -> str:
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def _plural(kind: str) -> str:
    return {"threat": "threats", "technique": "techniques", "capability": "capabilities",
            "protected category": "protected", "safeguard": "safeguards",
            "assessment": "assessments", "recipient": "recipients"}[kind]


def _one(words: Sequence[str], what: str) -> str:
    if len(words) != 1:
        raise ReplError(f"expected one {what}, got {len(words)} words" if words
                        else f"expected a {what}")
    return words[0]


def _choose(word: str, choices: Iterable[str], what: str) -> str:
    choices = tuple(choices)
    if word in choices:
        return word
    raise ReplError(f"unknown {what} `{word}`",
                    did_you_mean(word, choices) or f"choose one of: {', '.join(choices)}")


# ---- set --------------------------------------------------------------------------------------


def set_field(op: Operation, ctx: Context, words: Sequence[str]) -> Edit:
    if not words:
        raise ReplError("`set` needs a field and a value",
                        f"the fields are: {', '.join(SET_FIELDS)}")
    field = _choose(words[0], SET_FIELDS, "field")
    rest = words[1:]
    if field == "urgent":
        value = (rest[0].lower() if rest else "true")
        if len(rest) > 1 or value not in (*_TRUE, *_FALSE):
            raise ReplError("`set urgent` takes `true` or `false`")
        urgent = value in _TRUE
        return replace(op, urgent=urgent), f"urgent: {'true' if urgent else 'false'}"
    if not rest:
        raise ReplError(f"`set {field}` needs a value")
    if field == "threat":
        name = check_name(ctx, _one(rest, "threat"), "threat")
        return replace(op, threat=name), f"threat: {name}"
    if field == "technique":
        name = check_name(ctx, _one(rest, "technique"), "technique")
        return replace(op, technique=name), f"technique: {name}{_maps_to(ctx, name)}"
    if field == "date":
        day = _date(_one(rest, "date"))
        return replace(op, date=day), f"date: {day}"
    if field in ("duration", "retention"):
        try:
            amount = parse_duration(" ".join(rest))
        except ValueError as exc:
            raise ReplError(str(exc)) from None
        changed = (replace(op, duration=amount) if field == "duration"
                   else replace(op, retention=amount))
        return changed, f"{field}: {amount}"
    text = " ".join(rest).strip('"')
    if not text:
        raise ReplError(f"`set {field}` needs a value")
    if field == "service":
        return replace(op, service=text), f"service: {text}"
    return replace(op, id=text), f"id: {text}"


def _maps_to(ctx: Context, technique: str) -> str:
    if ctx.law is None or technique not in ctx.law.techniques:
        return ""
    return " (exercises " + ", ".join(sorted(ctx.law.techniques[technique])) + ")"


def _date(word: str) -> dt.date:
    try:
        return parse_date(word)
    except ValueError as exc:
        raise ReplError(str(exc)) from None


# ---- add --------------------------------------------------------------------------------------


def add_item(op: Operation, ctx: Context, words: Sequence[str]) -> Edit:
    if not words:
        raise ReplError("`add` needs what to add", f"add one of: {', '.join(ADD_KINDS)}")
    kind = _choose(_singular(words[0]), ADD_KINDS, "kind of item")
    handler: Callable[[Operation, Context, Sequence[str]], Edit] = {
        "capability": _add_capabilities, "subject": _add_subject, "approval": _add_approvals,
        "assessment": _add_assessments, "share": _add_share,
    }[kind]
    return handler(op, ctx, words[1:])


def _singular(word: str) -> str:
    return {"capabilities": "capability", "subjects": "subject", "approvals": "approval",
            "assessments": "assessment", "shares": "share", "sharing": "share"}.get(word, word)


def _add_capabilities(op: Operation, ctx: Context, words: Sequence[str]) -> Edit:
    if not words:
        raise ReplError("`add capability` needs a capability name")
    names = [check_name(ctx, w, "capability") for w in words]
    new = tuple(n for n in dict.fromkeys(names) if n not in op.capabilities)
    if not new:
        raise ReplError(f"the operation already has capability `{names[0]}`")
    return (replace(op, capabilities=op.capabilities + new),
            f"capabilities: {', '.join(op.capabilities + new)}")


def _add_subject(op: Operation, ctx: Context, words: Sequence[str]) -> Edit:
    """`add subject [ROLE] [PROTECTED...]`: the role defaults to `target`; with a law loaded, a
    first word that is a protected category is read as one."""
    role, words = _subject_role(ctx, words)
    protected = tuple(dict.fromkeys(check_name(ctx, w, "protected category") for w in words))
    subject = Subject(role or "target", protected)
    shown = subject.role + (f" ({', '.join(protected)})" if protected else "")
    return replace(op, subjects=(*op.subjects, subject)), f"subject: {shown}"


# A role is printed by `show` as `subject ROLE { ... }`, where the grammar takes a name (NAME in
# grammar/authority.lark), not a string: a role must be one, for the block to read back.
_NAME = re.compile(r"(?!\d)\w+")


def is_name(text: str) -> bool:
    """Whether `text` reads as a name in the DSL (a role, a threat ...), not only as a string."""
    return _NAME.fullmatch(text) is not None


def _subject_role(ctx: Context, words: Sequence[str]) -> tuple[str | None, list[str]]:
    """The role `add subject` was given (None for the default) and the words after it; a role
    in quotes, as `set id "..."` takes them, may hold spaces, and is refused, as any that is not
    a name."""
    words = list(words)
    if not words or (ctx.law is not None and words[0] in ctx.law.protected):
        return None, words
    role = words.pop(0)
    if role.startswith('"'):
        while not (len(role) > 1 and role.endswith('"')) and words:
            role += " " + words.pop(0)
        role = role.strip('"')
    if not role:
        raise ReplError("a subject's role cannot be empty", "leave it out for `target`")
    if not is_name(role):
        name = re.sub(r"\W+", "_", role).strip("_")
        raise ReplError(f"`{role}` cannot be a subject's role: a role is one name, of letters, "
                        "digits and `_`, not starting with a digit",
                        f"e.g. `add subject {name}`" if is_name(name) else None)
    return role, words


def subject_warning(ctx: Context, words: Sequence[str], command: str = "add") -> str | None:
    """A warning for `add subject WORD ...` whose role looks like a misspelt protected category
    of the law (`journalst`, `Journalist`): it is taken as a role, which the law never weighs."""
    if ctx.law is None or len(words) < 2 or _singular(words[0]) != "subject":
        return None
    try:
        role, rest = _subject_role(ctx, words[1:])
    except ReplError:
        return None
    if role is None:
        return None
    categories = list(ctx.law.protected)
    meant = next((c for c in categories if c.lower() == role.lower()), None)
    meant = meant or closest(role.lower(), categories)
    if meant is None:
        return None
    return (f"`{role}` is taken as the subject's role; did you mean the protected category "
            f"`{meant}`? write `{' '.join([command, 'subject', 'target', meant, *rest])}`")


def _add_approvals(op: Operation, ctx: Context, words: Sequence[str]) -> Edit:
    """`add approval NAME [on DATE], ...`: an approval replaces an earlier one of the same name."""
    if not words:
        raise ReplError("`add approval` needs a safeguard name",
                        "e.g. `add approval minister_approval on 2027-08-28`")
    approvals: list[Approval] = []
    i = 0
    while i < len(words):
        name = check_name(ctx, words[i], "safeguard")
        day = None
        if i + 1 < len(words) and words[i + 1] == "on":
            if i + 2 >= len(words):
                raise ReplError(f"`on` after `{name}` needs a date like `2027-08-28`")
            day = _date(words[i + 2])
            i += 2
        approvals.append(Approval(name, day))
        i += 1
    names = {a.safeguard for a in approvals}
    kept = tuple(a for a in op.approvals if a.safeguard not in names)
    shown = ", ".join(a.safeguard + (f" on {a.date}" if a.date else "") for a in approvals)
    return replace(op, approvals=kept + tuple(approvals)), f"approval: {shown}"


def _add_assessments(op: Operation, ctx: Context, words: Sequence[str]) -> Edit:
    if not words:
        raise ReplError("`add assessment` needs an assessment name")
    names = [check_name(ctx, w, "assessment") for w in words]
    new = tuple(n for n in dict.fromkeys(names) if n not in op.assessments)
    if not new:
        raise ReplError(f"the operation already has assessment `{names[0]}`")
    return (replace(op, assessments=op.assessments + new),
            f"assessments: {', '.join(op.assessments + new)}")


def _add_share(op: Operation, ctx: Context, words: Sequence[str]) -> Edit:
    """`add share RECIPIENT [country CC] [data evaluated|unevaluated] [with NAME, ...]`."""
    if not words:
        raise ReplError("`add share` needs a recipient",
                        "e.g. `add share foreign_service country BE data unevaluated with "
                        "weighing_note`")
    recipient = check_name(ctx, words[0], "recipient")
    country: str | None = None
    data = "unevaluated"
    with_: list[str] = []
    rest = list(words[1:])
    while rest:
        word = rest.pop(0)
        if word in DATA_KINDS:
            data = word
        elif word == "country" and rest:
            country = rest.pop(0).strip('"')
        elif word == "data" and rest:
            data = _choose(rest.pop(0), DATA_KINDS, "kind of data")
        elif word == "with":
            while rest and rest[0] not in SHARE_KEYWORDS:
                with_.append(check_name(ctx, rest.pop(0), "safeguard or assessment"))
        else:
            raise ReplError(f"unexpected `{word}` in `add share`",
                            "write `add share RECIPIENT [country CC] [data evaluated|"
                            "unevaluated] [with NAME, ...]`")
    sharing = Sharing(recipient, country, data, tuple(dict.fromkeys(with_)))
    return replace(op, sharing=(*op.sharing, sharing)), f"share: {describe_share(sharing)}"


def describe_share(s: Sharing) -> str:
    country = "" if s.country is None else f" country {s.country or chr(34) * 2}"  # "" shown
    text = s.recipient + country + f" data {s.data}"
    return text + (f" with {', '.join(s.with_)}" if s.with_ else "")


# ---- unset ------------------------------------------------------------------------------------


def unset(op: Operation, ctx: Context, words: Sequence[str]) -> Edit:
    if not words:
        raise ReplError("`unset` needs a field or an item",
                        "e.g. `unset threat`, `unset approval review_board`, `unset subjects`")
    what = _choose(words[0], UNSET_WORDS, "field or item")
    rest = list(words[1:])
    if what in UNSET_LISTS:
        if rest:
            raise ReplError(f"`unset {what}` clears the whole list; to remove one, write "
                            f"`unset {_singular(what)} NAME`")
        cleared = {
            "capabilities": lambda: replace(op, capabilities=()),
            "subjects": lambda: replace(op, subjects=()),
            "approvals": lambda: replace(op, approvals=()),
            "assessments": lambda: replace(op, assessments=()),
            "sharing": lambda: replace(op, sharing=()),
        }[what]()
        return cleared, f"{what}: none"
    if what in UNSET_ITEMS:
        if not rest:
            raise ReplError(f"`unset {what}` needs a name", f"or `unset {_plural_of(what)}` to "
                            "clear them all" if what != "protected" else None)
        return _remove(op, what, rest)
    if rest:
        raise ReplError(f"`unset {what}` takes no value")
    if what == "date":
        return replace(op, date=ctx.default_date), f"date: {ctx.default_date} (the default)"
    if what == "urgent":
        return replace(op, urgent=False), "urgent: false"
    if what == "id":
        return replace(op, id=DEFAULT_ID), f"id: {DEFAULT_ID}"
    if getattr(op, what) is None:
        raise ReplError(f"the operation has no {what}")
    cleared = {
        "threat": lambda: replace(op, threat=None),
        "technique": lambda: replace(op, technique=None),
        "duration": lambda: replace(op, duration=None),
        "retention": lambda: replace(op, retention=None),
        "service": lambda: replace(op, service=None),
    }[what]()
    return cleared, f"{what}: none"


DEFAULT_ID = "repl"


def _plural_of(item: str) -> str:
    return {"capability": "capabilities", "subject": "subjects", "approval": "approvals",
            "assessment": "assessments", "share": "sharing"}[item]


def _absent(item: str, name: str, present: Iterable[str]) -> ReplError:
    present = sorted(set(present))
    plural = {"capability": "capabilities", "protected subject": "protected subjects",
              "sharing with": "sharing"}.get(item, f"{item}s")
    return ReplError(f"the operation has no {item} `{name}`",
                     did_you_mean(name, present) or
                     (f"it has: {', '.join(present)}" if present else f"it has no {plural}"))


def _require_present(item: str, names: Sequence[str], present: Sequence[str]) -> None:
    for n in names:
        if n not in present:
            raise _absent(item, n, present)


def _remove(op: Operation, item: str, names: Sequence[str]) -> Edit:
    if item == "capability":
        _require_present("capability", names, op.capabilities)
        kept = tuple(c for c in op.capabilities if c not in names)
        return replace(op, capabilities=kept), f"capabilities: {', '.join(kept) or 'none'}"
    if item == "approval":
        _require_present("approval", names, [a.safeguard for a in op.approvals])
        approvals = tuple(a for a in op.approvals if a.safeguard not in names)
        return replace(op, approvals=approvals), f"removed approval {', '.join(names)}"
    if item == "assessment":
        _require_present("assessment", names, op.assessments)
        kept = tuple(a for a in op.assessments if a not in names)
        return replace(op, assessments=kept), f"assessments: {', '.join(kept) or 'none'}"
    if item == "subject":
        _require_present("subject", names, [s.role for s in op.subjects])
        subjects = tuple(s for s in op.subjects if s.role not in names)
        return replace(op, subjects=subjects), f"removed subject {', '.join(names)}"
    if item == "protected":
        _require_present("protected subject", names,
                         [p for s in op.subjects for p in s.protected])
        subjects = tuple(replace(s, protected=tuple(p for p in s.protected
                                                  if p not in names))
                         for s in op.subjects)
        return (replace(op, subjects=subjects),
                f"no subject is {', '.join(names)} any more")
    _require_present("sharing with", names, [s.recipient for s in op.sharing])
    sharing = tuple(s for s in op.sharing if s.recipient not in names)
    return replace(op, sharing=sharing), f"removed sharing with {', '.join(names)}"


def apply(op: Operation, ctx: Context, command: str, words: Sequence[str]) -> Edit:
    """Apply `set`, `add` or `unset` with its words."""
    if command == "set":
        return set_field(op, ctx, words)
    if command == "add":
        return add_item(op, ctx, words)
    if command == "unset":
        return unset(op, ctx, words)
    raise ReplError(f"`{command}` is not a change to the operation",
                    "a change is a `set`, `add` or `unset` command")
