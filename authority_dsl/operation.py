"""Operations: the JSON contract of DESIGN.md and the DSL `operation { ... }` block, one model.

Validation reports the JSON path of the first problem (`$.approvals[1].date`), so that a reviewer
can find it; names are not resolved here (the evaluators do that against a law, failing closed).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from msgspec.structs import astuple

from . import ast
from .durations import Duration, parse_date, parse_duration
from .lines import (
    MAX_DEPTH,
    deeper_than,
    find_in_json,
    mark_repeats,
    member,
    repeated_in,
    repeats_a_key,
)

MAX_LIST = 1000
MAX_TEXT = 1000
MAX_OPERATION_BYTES = 16 * 1024 * 1024  # of a file (or standard input) holding one operation


class OperationError(ValueError):
    """A malformed operation; `path` is a JSON path like `$.subjects[0].protected`."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


# The operation model. Its classes are msgspec structures: immutable, compared and hashed by value
# like any record, and built in C, which matters when an audit reads millions. The `Annotated`
# limits and `forbid_unknown_fields` only act where `decode` reads JSON into them.
_Name = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT)]
_Text = Annotated[str, msgspec.Meta(max_length=MAX_TEXT)]
_Names = Annotated[tuple[_Name, ...], msgspec.Meta(max_length=MAX_LIST)]


class Approval(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    safeguard: _Name
    date: dt.date | None = None


class Subject(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    role: _Text = "target"
    protected: _Names = ()


class Sharing(msgspec.Struct, frozen=True, forbid_unknown_fields=True, gc=False,
              rename={"with_": "with"}):
    recipient: _Name
    country: _Text | None = None
    data: str = "unevaluated"  # `decode` checks it is one of _DATA_KINDS
    with_: _Names = ()


class Operation(msgspec.Struct, frozen=True, gc=False):
    id: str
    date: dt.date
    threat: str | None = None
    service: str | None = None
    technique: str | None = None
    capabilities: tuple[str, ...] = ()
    subjects: tuple[Subject, ...] = ()
    duration: Duration | None = None
    urgent: bool = False
    retention: Duration | None = None
    approvals: tuple[Approval, ...] = ()
    assessments: tuple[str, ...] = ()
    sharing: tuple[Sharing, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The JSON form of DESIGN.md; `from_json(op.to_json()) == op`."""
        out: dict[str, Any] = {"id": self.id, "date": self.date.isoformat()}
        if self.service is not None:
            out["service"] = self.service
        if self.threat is not None:
            out["threat"] = self.threat
        if self.technique is not None:
            out["technique"] = self.technique
        out["capabilities"] = list(self.capabilities)
        out["subjects"] = [{"role": s.role, "protected": list(s.protected)} for s in self.subjects]
        if self.duration is not None:
            out["duration"] = str(self.duration)
        out["urgent"] = self.urgent
        if self.retention is not None:
            out["retention"] = str(self.retention)
        out["approvals"] = [
            {"safeguard": a.safeguard, "date": a.date.isoformat()} if a.date else a.safeguard
            for a in self.approvals]
        out["assessments"] = list(self.assessments)
        out["sharing"] = [_sharing_json(s) for s in self.sharing]
        return out


def _sharing_json(s: Sharing) -> dict[str, Any]:
    out: dict[str, Any] = {"recipient": s.recipient}
    if s.country is not None:
        out["country"] = s.country
    out["data"] = s.data
    out["with"] = list(s.with_)
    return out


OPERATION_KEYS = ("id", "date", "service", "threat", "technique", "capabilities", "subjects",
                  "duration", "urgent", "retention", "approvals", "assessments", "sharing")
_DATA_KINDS = ("evaluated", "unevaluated")
# The fields of the objects inside an operation: any other is refused, as at the top level (a
# misspelt `protected` or `date` must not pass for an absent one).
SUBJECT_KEYS = ("role", "protected")
APPROVAL_KEYS = ("safeguard", "date")
SHARING_KEYS = ("recipient", "country", "data", "with")


def read_bytes(source: str) -> bytes:
    """The bytes of an operation file, or of standard input for `-`, read only as far as
    `MAX_OPERATION_BYTES` allows; raises DiagnosticError located at the file (`<stdin>`)."""
    from .source import read_bytes as read

    return read(source, MAX_OPERATION_BYTES, "an operation", "bad-input")


def loads(text: str) -> Operation:
    """Parse one operation from JSON text; raises OperationError."""
    if deeper_than(text.encode("utf-8", "surrogatepass"), MAX_DEPTH):
        raise OperationError("$", "invalid JSON: nested too deeply")
    try:
        # Read once: each object remembers any key it gives twice (refused below).
        value = json.loads(text, object_pairs_hook=mark_repeats)
    except json.JSONDecodeError as exc:
        raise OperationError(f"line {exc.lineno} column {exc.colno}",
                             f"invalid JSON: {exc.msg.lower()}") from None
    except RecursionError:
        raise OperationError("$", "invalid JSON: nested too deeply") from None
    except ValueError:  # a number of more digits than `int` converts (4,300), as `audit` says
        raise OperationError(_long_number(text), "invalid JSON: a number has too many "
                             "digits") from None
    if "\\u" in text:
        where = surrogate_path(value)
        if where is not None:
            raise OperationError(where, LONE_SURROGATE)
    repeated = repeated_in(value)
    if repeated is not None:
        raise OperationError(repeated.path, repeated_key_message(repeated.key))
    return from_json(value)


def repeated_key_message(key: str) -> str:
    """What is wrong with an object that names `key` twice."""
    return (f"key {json.dumps(key, ensure_ascii=False)} is given twice in one object: which value "
            "counts is a guess (JSON readers differ), so the operation is not read")


def _long_number(text: str) -> str:
    """The JSON path of the first number in `text` with too many digits to convert."""
    try:
        return _path_of(json.loads(text, parse_int=_whole), "$") or "$"
    except (ValueError, RecursionError):
        return "$"


def _whole(digits: str) -> object:
    try:
        return int(digits)
    except ValueError:
        return _TOO_LONG


_TOO_LONG = object()  # what `_long_number` decodes a number with too many digits to


def _path_of(value: object, path: str) -> str | None:
    return find_in_json(value, lambda part, where: where if part is _TOO_LONG else None, path)


LONE_SURROGATE = ("a JSON string escapes a lone surrogate (e.g. \\ud800), which is not a "
                  "Unicode character")


def surrogate_path(value: object, path: str = "$") -> str | None:
    """The JSON path of the first string of a decoded value that holds a lone surrogate, which
    no UTF-8 output can carry (of a key: its object's), or None."""
    try:
        if isinstance(value, str):
            return path if _unencodable(value) else None
        if isinstance(value, dict):
            for key, item in value.items():
                found = path if _unencodable(key) else surrogate_path(item, member(path, key))
                if found is not None:
                    return found
        elif isinstance(value, list):
            for index, item in enumerate(value):
                found = surrogate_path(item, f"{path}[{index}]")
                if found is not None:
                    return found
    except RecursionError:
        return path
    return None


def _unencodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def from_json(value: object) -> Operation:
    """Validate a decoded JSON value as an operation; raises OperationError with a JSON path."""
    op = _fast(value)
    return op if op is not None else _checked(value)


def _checked(value: object) -> Operation:
    """`from_json` checking each field in turn, to report the first problem with its path."""
    obj = _fields(value, "$", OPERATION_KEYS)
    if "id" not in obj:
        raise OperationError("$.id", "missing: every operation needs an `id`")
    if "date" not in obj:
        raise OperationError("$.date", "missing: every operation needs a start `date`")
    return Operation(
        id=_text(obj["id"], "$.id"),
        date=_date(obj["date"], "$.date"),
        service=_opt(obj, "service", _text),
        threat=_opt(obj, "threat", _name),
        technique=_opt(obj, "technique", _name),
        capabilities=tuple(_names(obj.get("capabilities", []), "$.capabilities")),
        subjects=tuple(_subject(s, f"$.subjects[{i}]")
                       for i, s in enumerate(_list(obj.get("subjects", []), "$.subjects"))),
        duration=_opt(obj, "duration", _duration),
        urgent=_bool(obj.get("urgent", False), "$.urgent"),
        retention=_opt(obj, "retention", _duration),
        approvals=tuple(_approval(a, f"$.approvals[{i}]")
                        for i, a in enumerate(_list(obj.get("approvals", []), "$.approvals"))),
        assessments=tuple(_names(obj.get("assessments", []), "$.assessments")),
        sharing=tuple(_sharing(s, f"$.sharing[{i}]")
                      for i, s in enumerate(_list(obj.get("sharing", []), "$.sharing"))),
    )


# ---- the fast path ----------------------------------------------------------------------------
#
# `_fast` accepts the common shape of a valid operation and builds the same Operation as
# `_checked`, with fewer calls, and with parsed dates, subjects and undated approvals remembered
# (they are immutable); on anything unusual, valid or not, it gives up (None) and `_checked`
# decides, so that every error keeps its path and message. It accepts nothing that `_checked`
# refuses.

_KEYS = frozenset(OPERATION_KEYS)
_SUBJECT_KEYS, _APPROVAL_KEYS = frozenset(SUBJECT_KEYS), frozenset(APPROVAL_KEYS)
_SHARING_KEYS = frozenset(SHARING_KEYS)
_NONE: list[Any] = []  # an absent list (never changed)
_REMEMBER = 1 << 14  # entries of each cache below; all are forgotten when full
_dates: dict[str, dt.date] = {}
_subjects: dict[tuple[str, tuple[str, ...]], Subject] = {}
_undated: dict[str, Approval] = {}  # approvals without a date, by safeguard
_durations: dict[str, Duration] = {}  # by text, as `parse_duration` gives them: two per line


def _fast_date(text: str) -> dt.date | None:
    day = _dates.get(text)
    if day is None:
        try:
            day = parse_date(text)
        except ValueError:
            return None
        if len(_dates) >= _REMEMBER:
            _dates.clear()
        _dates[text] = day
    return day


def _subject_of(key: tuple[str, tuple[str, ...]]) -> Subject:
    if len(_subjects) >= _REMEMBER:
        _subjects.clear()
    subject = _subjects[key] = Subject(*key)
    return subject


def _undated_approval(name: str) -> Approval:
    if len(_undated) >= _REMEMBER:
        _undated.clear()
    approval = _undated[name] = Approval(name)
    return approval


def _fast_duration(text: object) -> Duration | None:
    if type(text) is not str or len(text) > MAX_TEXT:
        return None
    try:
        duration = parse_duration(text)
    except ValueError:
        return None
    if len(_durations) >= _REMEMBER:
        _durations.clear()
    _durations[text] = duration
    return duration


def _fast_names(names: object) -> tuple[str, ...] | None:
    if type(names) is not list:
        return None
    if not names:
        return ()
    if len(names) > MAX_LIST:
        return None
    for name in names:
        if type(name) is not str or not name or len(name) > MAX_TEXT:
            return None
    return tuple(names)


def _fast(value: object) -> Operation | None:
    if type(value) is not dict or not _KEYS.issuperset(value):
        return None
    get = value.get
    op_id = get("id")
    if type(op_id) is not str or len(op_id) > MAX_TEXT:
        return None
    date = get("date")
    if type(date) is not str:
        return None
    day = _dates.get(date) or _fast_date(date)
    if day is None:
        return None
    service = get("service")
    if service is not None and (type(service) is not str or len(service) > MAX_TEXT):
        return None
    threat = get("threat")
    if threat is not None and (type(threat) is not str or not threat or len(threat) > MAX_TEXT):
        return None
    technique = get("technique")
    if technique is not None and (type(technique) is not str or not technique
                                  or len(technique) > MAX_TEXT):
        return None
    capabilities = _fast_names(get("capabilities", _NONE))
    if capabilities is None:
        return None
    subjects_in = get("subjects", _NONE)
    if type(subjects_in) is not list or len(subjects_in) > MAX_LIST:
        return None
    subjects: list[Subject] = []
    for subject in subjects_in:
        if type(subject) is not dict or not _SUBJECT_KEYS.issuperset(subject):
            return None
        role = subject.get("role", "target")
        if type(role) is not str or len(role) > MAX_TEXT:
            return None
        protected = _fast_names(subject.get("protected", _NONE))
        if protected is None:
            return None
        key = role, protected
        subjects.append(_subjects.get(key) or _subject_of(key))
    duration = get("duration")
    if duration is not None:
        duration = _fast_duration(duration)
        if duration is None:
            return None
    urgent = get("urgent", False)
    if urgent is not True and urgent is not False:
        return None
    retention = get("retention")
    if retention is not None:
        retention = _fast_duration(retention)
        if retention is None:
            return None
    approvals_in = get("approvals", _NONE)
    if type(approvals_in) is not list or len(approvals_in) > MAX_LIST:
        return None
    approvals: list[Approval] = []
    for approval in approvals_in:
        name: object
        when: object
        if type(approval) is str:
            name, when = approval, None
        elif type(approval) is dict and _APPROVAL_KEYS.issuperset(approval):
            name, when = approval.get("safeguard"), approval.get("date")
            if when is not None and type(when) is not str:
                return None
        else:
            return None
        if type(name) is not str or not name or len(name) > MAX_TEXT:
            return None
        if when is None:
            approvals.append(_undated.get(name) or _undated_approval(name))
        else:
            assert type(when) is str
            on = _dates.get(when) or _fast_date(when)
            if on is None:
                return None
            approvals.append(Approval(name, on))
    assessments = _fast_names(get("assessments", _NONE))
    if assessments is None:
        return None
    sharing_in = get("sharing", _NONE)
    if type(sharing_in) is not list or len(sharing_in) > MAX_LIST:
        return None
    sharing: list[Sharing] = []
    for share in sharing_in:
        if type(share) is not dict or not _SHARING_KEYS.issuperset(share):
            return None
        recipient = share.get("recipient")
        if type(recipient) is not str or not recipient or len(recipient) > MAX_TEXT:
            return None
        country = share.get("country")
        if country is not None and (type(country) is not str or len(country) > MAX_TEXT):
            return None
        data = share.get("data", "unevaluated")
        if data not in _DATA_KINDS or type(data) is not str:
            return None
        with_ = _fast_names(share.get("with", _NONE))
        if with_ is None:
            return None
        sharing.append(Sharing(recipient, country, data, with_))
    return Operation(op_id, day, threat, service, technique, capabilities, tuple(subjects),
                     duration, urgent, retention, tuple(approvals), assessments, tuple(sharing))


# ---- the wire path ----------------------------------------------------------------------------
#
# `decode` reads a line of bytes straight into typed structures with msgspec, which checks the
# JSON and the shape in one pass in C, with the same limits as `_checked`; the result becomes the
# same Operation. On anything it refuses, valid or not, it gives up (None) and the caller decodes
# the line with `json` and `from_json`, so that every error keeps its path and wording. It accepts
# nothing that `json.loads` and `_checked` refuse (tests/test_audit_fast.py checks this).

class _WireOperation(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    id: _Text
    date: dt.date
    service: _Text | None = None
    threat: _Name | None = None
    technique: _Name | None = None
    capabilities: _Names = ()
    subjects: Annotated[tuple[Subject, ...], msgspec.Meta(max_length=MAX_LIST)] = ()
    duration: _Text | None = None
    urgent: bool = False
    retention: _Text | None = None
    approvals: Annotated[tuple[_Name | Approval, ...], msgspec.Meta(max_length=MAX_LIST)] = ()
    assessments: _Names = ()
    sharing: Annotated[tuple[Sharing, ...], msgspec.Meta(max_length=MAX_LIST)] = ()


_wire_decode = msgspec.json.Decoder(_WireOperation).decode
_WIRE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError)  # ValidationError is a DecodeError


def decode(raw: bytes, rename: tuple[str, str] | None = None) -> Operation | None:
    """The operation a line of JSON bytes holds, or None when the line needs the plain way
    (`json` and `from_json`: an error, or a valid operation of an unusual kind). With
    `rename=(old, new)`, the operation's id must be `old` and becomes `new` (else None). A line
    that may name a key twice in one object takes the plain way, which refuses it if it does."""
    try:
        wire = _wire_decode(raw)
    except _WIRE_ERRORS:
        return None
    if repeats_a_key(raw):
        return None
    # The fields at once: in the compiled build, one call costs less than a lookup of each
    # attribute (docs/reviewers.md); plain Python does about as well either way.
    (op_id, date, service, threat, technique, capabilities, subjects, duration_text, urgent,
     retention_text, approvals, assessments, sharing) = astuple(wire)
    if rename is not None:
        if op_id != rename[0]:
            return None
        op_id = rename[1]
    duration = retention = None
    if duration_text is not None:
        duration = _durations.get(duration_text) or _fast_duration(duration_text)
        if duration is None:
            return None
    if retention_text is not None:
        retention = _durations.get(retention_text) or _fast_duration(retention_text)
        if retention is None:
            return None
    if approvals:
        for approval in approvals:
            if type(approval) is str:
                approvals = tuple([
                    _undated.get(a) or _undated_approval(a) if type(a) is str else a
                    for a in approvals])
                break
    for one in sharing:
        if one.data not in _DATA_KINDS:
            return None
    return Operation(op_id, date, threat, service, technique, capabilities, subjects, duration,
                     urgent, retention, approvals, assessments, sharing)


def _object(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise OperationError(path, f"expected an object, got {_kind(value)}")
    return value


def _fields(value: object, path: str, known: tuple[str, ...]) -> Mapping[str, Any]:
    """An object whose fields are all among `known`."""
    obj = _object(value, path)
    unknown = sorted(set(obj) - set(known))
    if unknown:
        from .diagnostics import did_you_mean

        hint = did_you_mean(unknown[0], known)
        raise OperationError(member(path, unknown[0]),
                             "unknown field" + (f"; {hint}" if hint else ""))
    return obj


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def _opt(obj: Mapping[str, Any], key: str, conv: Any) -> Any:
    value = obj.get(key)
    return None if value is None else conv(value, f"$.{key}")


def _text(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise OperationError(path, f"expected a string, got {_kind(value)}")
    if len(value) > MAX_TEXT:
        raise OperationError(path, f"text of {len(value)} characters is too long")
    return value


def _name(value: object, path: str) -> str:
    text = _text(value, path)
    if not text:
        raise OperationError(path, "empty name")
    return text


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise OperationError(path, f"expected a list, got {_kind(value)}")
    if len(value) > MAX_LIST:
        raise OperationError(path, f"list of {len(value)} items is too long")
    return value


def _names(value: object, path: str) -> list[str]:
    return [_name(v, f"{path}[{i}]") for i, v in enumerate(_list(value, path))]


def _bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise OperationError(path, f"expected true or false, got {_kind(value)}")
    return value


def _date(value: object, path: str) -> dt.date:
    text = _text(value, path)  # its error has its path already
    try:
        return parse_date(text)
    except ValueError as exc:
        raise OperationError(path, str(exc)) from None


def _duration(value: object, path: str) -> Duration:
    text = _text(value, path)  # its error has its path already
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise OperationError(path, str(exc)) from None


def _subject(value: object, path: str) -> Subject:
    obj = _fields(value, path, SUBJECT_KEYS)
    role = _text(obj.get("role", "target"), f"{path}.role")
    return Subject(role, tuple(_names(obj.get("protected", []), f"{path}.protected")))


def _approval(value: object, path: str) -> Approval:
    if isinstance(value, str):
        return Approval(_name(value, path))
    obj = _fields(value, path, APPROVAL_KEYS)
    if "safeguard" not in obj:
        raise OperationError(f"{path}.safeguard", "missing: name the safeguard obtained")
    when = obj.get("date")
    return Approval(_name(obj["safeguard"], f"{path}.safeguard"),
                    None if when is None else _date(when, f"{path}.date"))


def _sharing(value: object, path: str) -> Sharing:
    obj = _fields(value, path, SHARING_KEYS)
    if "recipient" not in obj:
        raise OperationError(f"{path}.recipient", "missing: name the kind of recipient")
    data = _text(obj.get("data", "unevaluated"), f"{path}.data")
    if data not in _DATA_KINDS:
        raise OperationError(f"{path}.data", f"expected `evaluated` or `unevaluated`, got `{data}`")
    country = obj.get("country")
    return Sharing(
        _name(obj["recipient"], f"{path}.recipient"),
        None if country is None else _text(country, f"{path}.country"),
        data,
        tuple(_names(obj.get("with", []), f"{path}.with")),
    )


def from_spec(spec: ast.OperationSpec) -> Operation:
    """An operation written in the DSL; raises OperationError when it has no date."""
    if spec.date is None:
        raise OperationError("date", f"operation `{spec.id}` needs a `date`")
    return Operation(
        id=spec.id,
        date=spec.date,
        service=spec.service,
        threat=spec.threat.name if spec.threat else None,
        technique=spec.technique.name if spec.technique else None,
        capabilities=tuple(c.name for c in spec.capabilities),
        subjects=tuple(Subject(s.role, tuple(p.name for p in s.protected)) for s in spec.subjects),
        duration=spec.duration,
        urgent=bool(spec.urgent),
        retention=spec.retention,
        approvals=tuple(Approval(a.name, a.on) for a in spec.approvals),
        assessments=tuple(a.name for a in spec.assessments),
        sharing=tuple(
            Sharing(s.recipient.name, s.country, s.data.name if s.data else "unevaluated",
                    tuple(w.name for w in s.with_))
            for s in spec.sharing),
    )


def to_spec(op: Operation) -> ast.OperationSpec:
    """The DSL form of an operation (for printing counterexamples and REPL state)."""
    return ast.OperationSpec(
        id=op.id,
        date=op.date,
        service=op.service,
        threat=ast.Ident(op.threat) if op.threat else None,
        technique=ast.Ident(op.technique) if op.technique else None,
        capabilities=tuple(ast.Ident(c) for c in op.capabilities),
        subjects=tuple(ast.SubjectSpec(s.role, tuple(ast.Ident(p) for p in s.protected))
                       for s in op.subjects),
        duration=op.duration,
        urgent=op.urgent or None,
        retention=op.retention,
        approvals=tuple(ast.DatedName(a.safeguard, a.date) for a in op.approvals),
        assessments=tuple(ast.Ident(a) for a in op.assessments),
        sharing=tuple(ast.SharingSpec(ast.Ident(s.recipient), s.country, ast.Ident(s.data),
                                      tuple(ast.Ident(w) for w in s.with_)) for s in op.sharing),
    )
