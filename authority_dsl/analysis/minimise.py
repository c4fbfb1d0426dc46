"""Minimal examples: drop facts from an operation one at a time while it stays an example.

The result is minimal in the sense the drafters need: removing any single fact from it (a
capability, a protected category, a subject, a sharing, a country, a `with` item, an approval,
an assessment, urgency, the retention, the duration, the service, the threat or the technique)
makes it no longer an example.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from msgspec.structs import replace

from ..operation import Operation, Subject

T = TypeVar("T")


def _without(items: tuple[T, ...], index: int) -> tuple[T, ...]:
    return items[:index] + items[index + 1:]


def removals(op: Operation) -> Iterator[Operation]:
    """Every operation with exactly one fact of `op` removed."""
    for i in range(len(op.capabilities)):
        yield replace(op, capabilities=_without(op.capabilities, i))
    if op.technique is not None:
        yield replace(op, technique=None)
    for i, subject in enumerate(op.subjects):
        yield replace(op, subjects=_without(op.subjects, i))
        for j in range(len(subject.protected)):
            smaller = Subject(subject.role, _without(subject.protected, j))
            yield replace(op, subjects=(*op.subjects[:i], smaller, *op.subjects[i + 1:]))
    for i, sharing in enumerate(op.sharing):
        yield replace(op, sharing=_without(op.sharing, i))
        changed = []
        if sharing.country is not None:
            changed.append(replace(sharing, country=None))
        changed += [replace(sharing, with_=_without(sharing.with_, j))
                    for j in range(len(sharing.with_))]
        for other in changed:
            yield replace(op, sharing=(*op.sharing[:i], other, *op.sharing[i + 1:]))
    for i in range(len(op.approvals)):
        yield replace(op, approvals=_without(op.approvals, i))
    for i in range(len(op.assessments)):
        yield replace(op, assessments=_without(op.assessments, i))
    if op.urgent:
        yield replace(op, urgent=False)
    if op.retention is not None:
        yield replace(op, retention=None)
    if op.duration is not None:
        yield replace(op, duration=None)
    if op.service is not None:
        yield replace(op, service=None)
    if op.threat is not None:
        yield replace(op, threat=None)


def minimise(op: Operation, still: Callable[[Operation], bool]) -> Operation:
    """Greedily remove facts while `still` holds; `still(op)` must hold to begin with."""
    changed = True
    while changed:
        changed = False
        for smaller in removals(op):
            if still(smaller):
                op, changed = smaller, True
                break
    return op
