"""The checked model of a law: names resolved, conditions typed, ready for the evaluators."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import attrs

from .conditions import Cond
from .diagnostics import Span
from .durations import ALWAYS, Duration, Validity


@attrs.frozen
class ThreatDef:
    name: str
    parent: str | None
    ancestors: frozenset[str]  # itself and every ancestor
    severity: int
    cites: str | None
    valid: Validity  # as declared
    description: str | None
    # When it is in force: its own window within those of every threat above it (a sub-threat
    # does not outlive its parent); `valid` if none above it has one.
    in_force: Validity = attrs.field(default=attrs.Factory(lambda self: self.valid,
                                                           takes_self=True))


@attrs.frozen
class CapabilityDef:
    name: str
    intrusion: int
    scope: str
    cites: str | None
    description: str | None


@attrs.frozen
class SafeguardDef:
    name: str
    by: str | None
    urgent_within: Duration | None
    cites: str | None
    description: str | None


@attrs.frozen
class Requirement:
    """A requirement: a safeguard or an assessment, with the clause that imposes it."""

    name: str
    kind: str  # "safeguard" | "assessment"


@attrs.frozen
class ConditionalDef:
    condition: Cond
    requires: frozenset[str]
    text: str  # the condition as written, for explanations
    line: int


@attrs.frozen
class PowerDef:
    name: str
    threats: frozenset[str]
    capabilities: frozenset[str]
    requires: frozenset[str]
    conditionals: tuple[ConditionalDef, ...]
    max_duration: Duration | None
    renewable: bool
    retention: Duration | None
    cites: str | None
    valid: Validity
    description: str | None


@attrs.frozen
class ProhibitionDef:
    name: str
    condition: Cond
    text: str
    cites: str | None
    valid: Validity
    description: str | None


@attrs.frozen
class ShareRuleDef:
    name: str
    recipients: frozenset[str]
    requires: frozenset[str]
    guarantees: frozenset[str]
    conditionals: tuple[ConditionalDef, ...]
    forbidden: tuple[tuple[Cond, str], ...]
    cites: str | None
    valid: Validity
    description: str | None


@attrs.frozen
class PrincipleDef:
    name: str
    condition: Cond
    text: str
    requires: frozenset[str]
    deny: bool
    cites: str | None
    description: str | None


@attrs.frozen
class Law:
    """Everything the evaluators need, with names as plain strings."""

    title: str
    id: str
    version: str
    jurisdiction: str | None
    in_force: Validity
    sha256: str
    files: tuple[str, ...]
    threats: Mapping[str, ThreatDef]
    capabilities: Mapping[str, CapabilityDef]
    techniques: Mapping[str, frozenset[str]]
    protected: Mapping[str, str | None]  # name -> cites
    safeguards: Mapping[str, SafeguardDef]
    assessments: Mapping[str, str | None]
    recipients: Mapping[str, bool]  # name -> foreign
    sets: Mapping[str, frozenset[object]]
    powers: tuple[PowerDef, ...]
    prohibitions: tuple[ProhibitionDef, ...]
    share_rules: tuple[ShareRuleDef, ...]
    principles: tuple[PrincipleDef, ...]
    ancestors: Mapping[str, frozenset[str]]
    spans: Mapping[str, Span] = attrs.field(factory=dict, eq=False)  # name -> where declared

    def requirement_kind(self, name: str) -> str:
        return "assessment" if name in self.assessments else "safeguard"

    def in_force_on(self, day: dt.date) -> bool:
        return self.in_force.contains(day)

    @property
    def info(self) -> dict[str, str]:
        return {"title": self.title, "version": self.version, "sha256": self.sha256}


def validity(window: Validity | None) -> Validity:
    return window if window is not None else ALWAYS
