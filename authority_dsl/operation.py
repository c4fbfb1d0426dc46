"""Operations: the JSON contract of DESIGN.md and the DSL `operation { ... }` block, one model.

Validation reports the JSON path of the first problem (`$.approvals[1].date`), so that a reviewer
can find it; names are not resolved here (the evaluators do that against a law, failing closed).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import attrs

from . import ast
from .durations import Duration, parse_date, parse_duration


class OperationError(ValueError):
    """A malformed operation; `path` is a JSON path like `$.subjects[0].protected`."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


@attrs.frozen
class Approval:
    safeguard: str
    date: dt.date | None = None


@attrs.frozen
class Subject:
    role: str = "target"
    protected: tuple[str, ...] = ()


@attrs.frozen
class Sharing:
    recipient: str
    country: str | None = None
    data: str = "unevaluated"
    with_: tuple[str, ...] = ()


@attrs.frozen
class Operation:
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
MAX_LIST = 1000
MAX_TEXT = 1000


def loads(text: str) -> Operation:
    """Parse one operation from JSON text; raises OperationError."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OperationError(f"line {exc.lineno} column {exc.colno}",
                             f"invalid JSON: {exc.msg.lower()}") from None
    except RecursionError:
        raise OperationError("$", "invalid JSON: nested too deeply") from None
    return from_json(value)


def from_json(value: object) -> Operation:
    """Validate a decoded JSON value as an operation; raises OperationError with a JSON path."""
    obj = _object(value, "$")
    unknown = sorted(set(obj) - set(OPERATION_KEYS))
    if unknown:
        from .diagnostics import did_you_mean

        hint = did_you_mean(unknown[0], OPERATION_KEYS)
        raise OperationError(f"$.{unknown[0]}", "unknown field" + (f"; {hint}" if hint else ""))
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


def _object(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise OperationError(path, f"expected an object, got {_kind(value)}")
    return value


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
    try:
        return parse_date(_text(value, path))
    except ValueError as exc:
        raise OperationError(path, str(exc)) from None


def _duration(value: object, path: str) -> Duration:
    try:
        return parse_duration(_text(value, path))
    except ValueError as exc:
        raise OperationError(path, str(exc)) from None


def _subject(value: object, path: str) -> Subject:
    obj = _object(value, path)
    role = _text(obj.get("role", "target"), f"{path}.role")
    return Subject(role, tuple(_names(obj.get("protected", []), f"{path}.protected")))


def _approval(value: object, path: str) -> Approval:
    if isinstance(value, str):
        return Approval(_name(value, path))
    obj = _object(value, path)
    if "safeguard" not in obj:
        raise OperationError(f"{path}.safeguard", "missing: name the safeguard obtained")
    when = obj.get("date")
    return Approval(_name(obj["safeguard"], f"{path}.safeguard"),
                    None if when is None else _date(when, f"{path}.date"))


def _sharing(value: object, path: str) -> Sharing:
    obj = _object(value, path)
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
