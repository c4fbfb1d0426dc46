"""The structural difference between two laws: declarations added, removed and changed.

Declarations are compared by kind and name, field by field, in the words of the language (a
condition as it was written, a list of names sorted), so that a reordering of declarations or of
names in a list is not a change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import attrs

from ..durations import Duration, Validity
from ..model import ConditionalDef, Law

# (kind, attribute of Law) in the order a report lists them.
KINDS = (
    ("threat", "threats"),
    ("capability", "capabilities"),
    ("technique", "techniques"),
    ("protected category", "protected"),
    ("safeguard", "safeguards"),
    ("assessment", "assessments"),
    ("recipient", "recipients"),
    ("set", "sets"),
    ("power", "powers"),
    ("prohibition", "prohibitions"),
    ("share rule", "share_rules"),
    ("principle", "principles"),
)
_SKIP = {"name", "ancestors", "condition", "in_force"}  # derived, or shown through `text`


@attrs.frozen
class DeclChange:
    """One declaration added, removed or changed; `fields` lists (field, old, new)."""

    change: str  # added | removed | changed
    kind: str
    name: str
    fields: tuple[tuple[str, str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"change": self.change, "kind": self.kind, "name": self.name,
                "fields": [{"field": f, "old": o, "new": n} for f, o, n in self.fields]}

    def __str__(self) -> str:
        sign = {"added": "+", "removed": "-", "changed": "~"}[self.change]
        head = f"{sign} {self.kind} `{self.name}`"
        if self.change != "changed":
            return head
        parts = [f"{f}: {o or '(none)'} -> {n or '(none)'}" for f, o, n in self.fields]
        return head + ": " + "; ".join(parts)


def render(value: object) -> str:
    """A field value in the words of the language: an empty string as `""`, so that it differs
    from a field not given ("")."""
    if value is None:
        return ""
    if value == "":
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (frozenset, set)):
        return ", ".join(sorted(map(render, value)))
    if isinstance(value, Validity):
        return "always" if value == Validity() else str(value)
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, ConditionalDef):
        return f"when {value.text} requires {', '.join(sorted(value.requires))}"
    if isinstance(value, tuple):
        items = [render(v) for v in value]
        if value and isinstance(value[0], ConditionalDef):
            items.sort()
        return "; ".join(items)
    return str(value)


# What the value is for declarations the model keeps as a plain value.
_VALUE_FIELD = {"techniques": "capabilities", "protected": "cites", "assessments": "cites",
                "recipients": "foreign", "sets": "values"}


def fields_of(value: object, attr: str = "") -> dict[str, str]:
    """The fields of a declaration, rendered."""
    if not attrs.has(type(value)):
        return {_VALUE_FIELD.get(attr, "value"): render(value)}
    out = {}
    for field in attrs.fields(cast("type[attrs.AttrsInstance]", type(value))):
        if field.name in _SKIP:
            continue
        item = getattr(value, field.name)
        if field.name == "forbidden":
            item = tuple(sorted(text for _, text in item))
            out[field.name] = "; ".join(f"forbid when {t}" for t in item)
            continue
        out[field.name] = render(item)
    return out


def _declarations(law: Law, attr: str) -> Mapping[str, object]:
    value = getattr(law, attr)
    if isinstance(value, tuple):
        return {d.name: d for d in value}
    return dict(value)


def header_changes(old: Law, new: Law) -> list[DeclChange]:
    fields = []
    for name in ("title", "version", "jurisdiction", "in_force"):
        a, b = render(getattr(old, name)), render(getattr(new, name))
        if a != b:
            fields.append((name, a, b))
    return [DeclChange("changed", "law", old.id, tuple(fields))] if fields else []


def structural_diff(old: Law, new: Law) -> tuple[DeclChange, ...]:
    """Every declaration of `new` that `old` lacks, every one it lost, and every changed one."""
    out = header_changes(old, new)
    for kind, attr in KINDS:
        before, after = _declarations(old, attr), _declarations(new, attr)
        for name in sorted(before.keys() - after.keys()):
            out.append(DeclChange("removed", kind, name))
        for name in sorted(after.keys() - before.keys()):
            out.append(DeclChange("added", kind, name))
        for name in sorted(before.keys() & after.keys()):
            a, b = fields_of(before[name], attr), fields_of(after[name], attr)
            changed = tuple((f, a.get(f, ""), b.get(f, "")) for f in sorted(a.keys() | b.keys())
                            if a.get(f, "") != b.get(f, ""))
            if changed:
                out.append(DeclChange("changed", kind, name, changed))
    return tuple(out)
