"""The space of operations under one or two laws, cut into finitely many classes.

A class fixes everything a decision can tell apart: the threat (threats that every provision
treats alike form one class), the capabilities (likewise), the protected categories, the sharings,
one date per interval between the dates the laws mention, one duration and one retention per
interval between the thresholds they mention, urgency and service when a condition reads them.
Set-valued facts are enumerated only up to their *witness sets* (vocabulary.py, witnesses.py): an
operation with more capabilities, categories or sharings than that is decided like one of the
enumerated ones (docs/analysis.md gives the argument). Where a witness product is too large, the
space is bounded and says so (`exhaustive` is false, `limits` says why).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TypeVar

import attrs

from ..conditions import CannotEvaluate, Cond, Fact, Facts, Op, ShareFacts, apply, evaluate
from ..countries import COUNTRIES
from ..durations import Duration
from ..engine.common import fold
from ..model import Law, PowerDef, ShareRuleDef
from ..operation import Operation, Sharing, Subject
from .calendar import (
    date_representatives,
    duration_representatives,
    mixed_units,
    validity_cuts,
)
from .vocabulary import (
    Vocabulary,
    facts_read,
    law_conditions,
    only_share_facts,
    positive_law,
    vocabulary,
)
from .witnesses import distinct, set_key, witness_sets

T = TypeVar("T")
Scalars = tuple[tuple[str, ...], Duration | None, Duration | None, bool, str | None]
MAX_PROTECTED = 10  # categories enumerated as a full power set
DATA_KINDS = ("unevaluated", "evaluated")
_OTHER_SERVICES = ("AIVD", "MIVD", "other service")


def _written_otherwise(service: str, named: set[str]) -> str | None:
    """`service` in other case or spacing, as no name of `named` is written."""
    return next((v for v in (service.lower(), service.upper(), f" {service}")
                 if v not in named), None)
_OTHER_COUNTRIES = ("BE", "DE", "FR", "US")


@attrs.frozen
class ShareConfig:
    """One sharing as the analysis varies it: recipient kind, country class, kind of data."""

    recipient: str
    country: str | None
    data: str

    def sharing(self) -> Sharing:
        return Sharing(self.recipient, self.country, self.data)

    def __str__(self) -> str:
        return f"{self.recipient}:{self.country or ''}:{self.data}"


@attrs.frozen
class Shape:
    """The set-valued part of a class: threat, capabilities and sharings."""

    threat: str | None
    capabilities: frozenset[str]
    sharings: frozenset[ShareConfig]

    @property
    def size(self) -> int:
        return len(self.capabilities) + len(self.sharings)


def neutral_facts(law: Law, threat: str = "", day: dt.date = dt.date(2028, 1, 1)) -> Facts:
    """Facts of an operation with nothing in it, to evaluate constant parts of conditions."""
    info = law.threats.get(threat)
    return Facts(threat=threat, severity=info.severity if info else 0,
                 capabilities=frozenset(), intrusion=0, scope="targeted", protected=frozenset(),
                 duration=None, retention=None, urgent=False, date=day, service=None,
                 recipients=frozenset(), shares=(), ancestors=law.ancestors)


class Space:
    """The classes of operations for some laws (one for `verify`, two for `diff`).

    `mode` is `verify`: a class keeps the witnesses a counterexample to the `extra` conditions
    needs; or `diff`: a class holds one capability or sharing (its *focus*) and the witnesses that
    the provisions it touches need. When every condition of the laws is increasing
    (`positive_law`), only the atoms of the conditions that matter are witnessed; otherwise all
    atoms are, which is exact but larger."""

    def __init__(self, laws: Sequence[Law], extra: Sequence[Cond] = (), *, mode: str = "verify",
                 dates: Sequence[dt.date] | None = None) -> None:
        self.laws = tuple(laws)
        self.mode = mode
        self.extra = tuple(extra)
        self.limits: list[str] = []
        self.positive = all(positive_law(law) for law in self.laws)
        self.vocab = vocabulary(self.laws, self.extra)
        self.law_vocabs = [vocabulary([law], self._extra_for(i)) for i, law in enumerate(self.laws)]
        self.threat_classes = self._threat_classes()
        self.capability_classes = self._capability_classes()
        self.capability_rep = {m: members[0] for members in self.capability_classes
                               for m in members}
        self.threat_rep = {m: members[0] for members in self.threat_classes for m in members}
        self.protected = self._protected()
        self.unknown_protected = tuple(
            p for p in self.protected if not all(p in law.protected for law in self.laws))
        self._country_reps: dict[tuple[str | None, tuple[bool, ...]], str] = {}
        self.configs = self._configs()
        self.dates = list(dates) if dates is not None else self._dates()
        if mode == "verify":
            self.dates = [d for d in self.dates if self.laws[0].in_force_on(d)]
        self._reads: dict[object, frozenset[str]] = {}
        self._power_reads = [{p.name: _power_reads(p) for p in law.powers} for law in self.laws]
        self._durations: dict[dt.date, tuple[list[Duration | None], list[Duration | None]]] = {}
        self._date_groups: dict[object, tuple[list[dt.date], dict[tuple[bool, ...], dt.date]]] = {}
        self._witness_cache: dict[object, list[tuple[frozenset[str], frozenset[ShareConfig]]]] = {}
        self.shapes_by_threat = {t: self._shapes(t) for t in self.threat_reps()}

    def _extra_for(self, index: int) -> tuple[Cond, ...]:
        return self.extra if index == 0 and self.mode == "verify" else ()

    @property
    def exhaustive(self) -> bool:
        return not self.limits

    def threat_reps(self) -> list[str | None]:
        return [members[0] for members in self.threat_classes] + [None]

    # ---- classes of names ---------------------------------------------------------------------

    def _threat_classes(self) -> list[tuple[str, ...]]:
        names = _union(law.threats for law in self.laws)
        groups: dict[object, list[str]] = {}
        for name in names:
            key = tuple(self._threat_signature(i, law, name) for i, law in enumerate(self.laws))
            groups.setdefault(key, []).append(name)
        return [tuple(members) for members in groups.values()]

    def _threat_signature(self, index: int, law: Law, name: str) -> object:
        info = law.threats.get(name)
        if info is None:
            return ("unknown",)
        vocab = self.law_vocabs[index]
        powers = frozenset(p.name for p in law.powers if p.threats & info.ancestors)
        severity = info.severity if vocab.severity_whole else None
        facts = neutral_facts(law, name)
        atoms = tuple(_threat_atom(op, facts, name) for op in vocab.threat_ops)
        return (info.in_force, powers, severity, atoms)

    def _capability_classes(self) -> list[tuple[str, ...]]:
        names = _union(law.capabilities for law in self.laws)
        groups: dict[object, list[str]] = {}
        for name in names:
            named = name in self.vocab.cap_names or self.vocab.cap_whole
            key = (name if named else "",
                   tuple(self._capability_signature(i, law, name)
                         for i, law in enumerate(self.laws)))
            groups.setdefault(key, []).append(name)
        return [tuple(members) for members in groups.values()]

    def _capability_signature(self, index: int, law: Law, name: str) -> object:
        info = law.capabilities.get(name)
        if info is None:
            return ("unknown",)
        vocab = self.law_vocabs[index]
        intrusion: object = info.intrusion if vocab.intrusion_whole else tuple(
            info.intrusion >= v for v in sorted(vocab.intrusion_levels))
        bulk = info.scope == "bulk" if "scope" in vocab.facts else None
        powers = frozenset(p.name for p in law.powers if name in p.capabilities)
        return (intrusion, bulk, powers)

    def _protected(self) -> tuple[str, ...]:
        declared = _union(law.protected for law in self.laws)
        vocab = self.vocab
        chosen = [p for p in declared if vocab.protected_whole or p in vocab.protected_names
                  or not all(p in law.protected for law in self.laws)]
        if len(chosen) > MAX_PROTECTED:
            self.limits.append(f"protected categories: only sets of the first {MAX_PROTECTED} "
                               f"of the {len(chosen)} that conditions read")
            chosen = chosen[:MAX_PROTECTED]
        return tuple(chosen)

    def _configs(self) -> list[ShareConfig]:
        """Kinds of sharing: each recipient, with the country and the kind of data varied only
        where a condition that may concern that recipient reads them."""
        recipients = _union(law.recipients for law in self.laws)
        common = frozenset().union(*(facts_read(p) for p in self.vocab.share_preds))
        countries = self._countries() if "country" in self.vocab.facts else [None]
        out = []
        for recipient in recipients:
            reads = common.union(*(_rule_reads(r) for law in self.laws for r in law.share_rules
                                   if recipient in r.recipients))
            out += [ShareConfig(recipient, c, d)
                    for c in (countries if "country" in reads else [None])
                    for d in (DATA_KINDS if "data" in reads else DATA_KINDS[:1])]
        return out

    def _countries(self) -> list[str | None]:
        """One country per class of countries that every condition treats alike: absent (a
        condition reading it cannot be evaluated), each named class, and one no condition
        names."""
        named = sorted(set(self.vocab.countries) |
                       {str(v) for s in self.vocab.country_sets for v in s})
        # Any valid code the law does not name (none is left if it names them all).
        others = [c for c in (*_OTHER_COUNTRIES, *sorted(COUNTRIES)) if c not in named][:1]
        out: list[str | None] = [None]
        for country in [*named, *others]:
            key = self._country_key(country)
            if key not in self._country_reps:
                self._country_reps[key] = country
                out.append(country)
        return out

    def _country_key(self, country: str) -> tuple[str | None, tuple[bool, ...]]:
        sets = sorted(self.vocab.country_sets, key=lambda s: sorted(map(str, s)))
        return (country if country in self.vocab.countries else None,
                tuple(country in s for s in sets))

    def config_of(self, sharing: Sharing) -> ShareConfig:
        """The kind of sharing (space.configs) that stands for `sharing`."""
        countries = {c.country for c in self.configs if c.recipient == sharing.recipient}
        data = {c.data for c in self.configs if c.recipient == sharing.recipient}
        country = self.country_rep(sharing.country) if len(countries) > 1 else None
        return ShareConfig(sharing.recipient, country,
                           sharing.data if len(data) > 1 else DATA_KINDS[0])

    def country_rep(self, country: str | None) -> str | None:
        """The country that stands for `country` in the classes."""
        if country is None or "country" not in self.vocab.facts:
            return None if "country" not in self.vocab.facts else country
        return self._country_reps.get(self._country_key(country), country)

    def _dates(self) -> list[dt.date]:
        cuts: set[dt.date] = set(self.vocab.date_cuts)
        for law in self.laws:
            cuts.update(validity_cuts(law.in_force.start, law.in_force.end))
            windows = [t.in_force for t in law.threats.values()]
            windows += [p.valid for p in law.powers] + [p.valid for p in law.prohibitions]
            windows += [r.valid for r in law.share_rules]
            for window in windows:
                cuts.update(validity_cuts(window.start, window.end))
        groups = [[d for d, _ in self.vocab.durations], [d for d, _ in self.vocab.retentions]]
        return date_representatives(cuts, groups)

    # ---- witness sets -------------------------------------------------------------------------

    def _atoms(self, conds: Sequence[Sequence[Cond]]) -> tuple[list[frozenset[str]],
                                                               list[frozenset[ShareConfig]]]:
        """For each atom the conditions read (conds[i] are read under law i), the capability
        classes or sharings whose presence makes it true."""
        reps = [members[0] for members in self.capability_classes]
        caps: list[frozenset[str]] = []
        shares: list[frozenset[ShareConfig]] = []
        for law, law_conds in zip(self.laws, conds, strict=True):
            vocab = Vocabulary()
            vocab.scan_all(law_conds)
            known = law.capabilities
            for name in sorted(vocab.cap_names):
                caps.append(frozenset((self.capability_rep[name],))
                            if name in self.capability_rep else frozenset())
            levels = set(vocab.intrusion_levels)
            if vocab.intrusion_whole:
                levels |= {c.intrusion for c in known.values()}
            for level in sorted(levels):
                caps.append(frozenset(r for r in reps
                                      if r in known and known[r].intrusion >= level))
            if "scope" in vocab.facts:
                caps.append(frozenset(r for r in reps if r in known and known[r].scope == "bulk"))
            if vocab.cap_whole:
                caps.extend(frozenset((r,)) for r in reps)
            for pred in vocab.share_preds:
                shares.append(frozenset(c for c in self.configs if self._share_may_hold(pred, c))
                              if only_share_facts(pred) else frozenset(self.configs))
            names = set(vocab.recipient_names)
            if vocab.recipients_whole:
                names |= {c.recipient for c in self.configs}
            for name in sorted(names):
                shares.append(frozenset(c for c in self.configs if c.recipient == name))
        return distinct(caps), distinct(shares)

    def _share_may_hold(self, pred: Cond, config: ShareConfig) -> bool:
        for law in self.laws:
            if config.recipient not in law.recipients:
                continue
            share = ShareFacts(config.recipient, config.country, config.data,
                               law.recipients[config.recipient])
            try:
                if evaluate(pred, neutral_facts(law), share):
                    return True
            except CannotEvaluate:
                return True
        return False

    def _witness_pairs(self, conds: Sequence[Sequence[Cond]],
                       ) -> list[tuple[frozenset[str], frozenset[ShareConfig]]]:
        """Every pair (capability set, sharing set) holding at most one witness per atom."""
        key = tuple(tuple(c) for c in conds)
        cached = self._witness_cache.get(key)
        if cached is not None:
            return cached
        cap_atoms, share_atoms = self._atoms(conds)
        reps = [members[0] for members in self.capability_classes]
        cap_sets = self._witnesses(cap_atoms, reps, "capabilities")
        share_sets = self._witnesses(share_atoms, self.configs, "sharings")
        pairs = [(c, s) for c in cap_sets for s in share_sets]
        self._witness_cache[key] = pairs
        return pairs

    def _witnesses(self, atoms: list[frozenset[T]], universe: Sequence[T],
                   what: str) -> list[frozenset[T]]:
        sets, note = witness_sets(atoms, universe, what)
        if note is not None and note not in self.limits:
            self.limits.append(note)
        return sets

    # ---- shapes -------------------------------------------------------------------------------

    def _law_conds(self, index: int) -> list[Cond]:
        return [*law_conditions(self.laws[index]), *self._extra_for(index)]

    def _focus_conds(self, threat: str | None, caps: frozenset[str],
                     recipients: frozenset[str]) -> list[list[Cond]]:
        """The conditions of the prohibitions and of the provisions a focus touches, per law."""
        out = []
        for index, law in enumerate(self.laws):
            conds = [p.condition for p in law.prohibitions]
            info = law.threats.get(threat or "")
            for power in law.powers:
                if info is not None and power.threats & info.ancestors and \
                        power.capabilities & caps:
                    conds.extend(c.condition for c in power.conditionals)
            for rule in law.share_rules:
                if rule.recipients & recipients:
                    conds.extend(c.condition for c in rule.conditionals)
                    conds.extend(c for c, _ in rule.forbidden)
            conds.extend(self._extra_for(index))
            out.append(conds)
        return out

    def _shapes(self, threat: str | None) -> list[Shape]:
        reps = [members[0] for members in self.capability_classes]
        pairs: set[tuple[frozenset[str], frozenset[ShareConfig]]] = set()
        if self.mode == "verify":
            conds = ([list(self.extra)] if self.positive else
                     [self._law_conds(i) for i in range(len(self.laws))])
            pairs = {p for p in self._witness_pairs(conds) if p[0] or p[1]}
            pairs |= {(frozenset((r,)), frozenset()) for r in reps}
            pairs |= {(frozenset(), frozenset((s,))) for s in self.configs}
        else:
            global_conds = [self._law_conds(i) for i in range(len(self.laws))]
            foci: list[tuple[frozenset[str], frozenset[ShareConfig]]] = [
                (frozenset((r,)), frozenset()) for r in reps]
            foci += [(frozenset(), frozenset((s,))) for s in self.configs]
            for caps, shares in foci:
                conds = global_conds if not self.positive else self._focus_conds(
                    threat, caps, frozenset(s.recipient for s in shares))
                for w_caps, w_shares in self._witness_pairs(conds):
                    pairs.add((w_caps | caps, w_shares | shares))
        if threat is None:
            pairs = {p for p in pairs if not p[0]}
        ordered = sorted(pairs, key=lambda p: (len(p[0]) + len(p[1]), set_key(p[0]),
                                               set_key(p[1])))
        return [Shape(threat, c, s) for c, s in ordered]

    # ---- relevance and the scalar facts -------------------------------------------------------

    def touched(self, index: int, shape: Shape) -> tuple[list[PowerDef], list[ShareRuleDef]]:
        """The powers and share rules of law `index` that a decision on this shape consults."""
        law = self.laws[index]
        info = law.threats.get(shape.threat or "")
        recipients = {s.recipient for s in shape.sharings}
        powers = [p for p in law.powers if info is not None and p.threats & info.ancestors
                  and p.capabilities & shape.capabilities]
        rules = [r for r in law.share_rules if r.recipients & recipients]
        return powers, rules

    def law_reads(self, index: int, shape: Shape) -> frozenset[str]:
        """The facts law `index` reads when it decides on this shape."""
        key = (index, shape.threat, shape.capabilities,
               frozenset(s.recipient for s in shape.sharings))
        cached = self._reads.get(key)
        if cached is None:
            law = self.laws[index]
            facts = set().union(*(facts_read(p.condition) for p in law.prohibitions),
                                *(facts_read(c) for c in self._extra_for(index)))
            powers, rules = self.touched(index, shape)
            for power in powers:
                facts |= self._power_reads[index][power.name]
            for rule in rules:
                facts |= _rule_reads(rule)
            cached = frozenset(facts)
            self._reads[key] = cached
        return cached

    def reads(self, shape: Shape) -> frozenset[str]:
        """The facts some provision consulted for this shape reads."""
        return frozenset().union(*(self.law_reads(i, shape) for i in range(len(self.laws))))

    def date_reps(self, shape: Shape) -> list[dt.date]:
        """The dates to try for this shape: one per interval between the date boundaries of the
        provisions it touches (every date when durations are read and units are mixed)."""
        key = (shape.threat, shape.capabilities, frozenset(s.recipient for s in shape.sharings))
        cached = self._date_groups.get(key)
        if cached is None:
            cuts = sorted(self._cuts(shape))
            groups: dict[tuple[bool, ...], dt.date] = {}
            for day in self.dates:
                groups.setdefault(tuple(day >= c for c in cuts), day)
            self._date_groups[key] = cached = (cuts, groups)
        cuts, groups = cached
        return list(groups.values())

    def date_rep(self, shape: Shape, day: dt.date) -> dt.date:
        """The date tried for this shape that stands for `day`."""
        self.date_reps(shape)
        key = (shape.threat, shape.capabilities, frozenset(s.recipient for s in shape.sharings))
        cuts, groups = self._date_groups[key]
        return groups.get(tuple(day >= c for c in cuts), day)

    def _cuts(self, shape: Shape) -> set[dt.date]:
        reads = self.reads(shape)
        if (("duration" in reads and mixed_units(d for d, _ in self.vocab.durations)) or
                ("retention" in reads and mixed_units(d for d, _ in self.vocab.retentions))):
            return set(self.dates)
        cuts: set[dt.date] = set()
        conds: list[Cond] = list(self.extra)
        for index, law in enumerate(self.laws):
            windows = [law.in_force] + [p.valid for p in law.prohibitions]
            info = law.threats.get(shape.threat or "")
            if info is not None:
                windows.append(info.in_force)
            powers, rules = self.touched(index, shape)
            windows += [p.valid for p in powers] + [r.valid for r in rules]
            for window in windows:
                cuts.update(validity_cuts(window.start, window.end))
            conds += [p.condition for p in law.prohibitions]
            conds += [c.condition for p in powers for c in p.conditionals]
            conds += [c.condition for r in rules for c in r.conditionals]
            conds += [c for r in rules for c, _ in r.forbidden]
        vocab = Vocabulary()
        vocab.scan_all(conds)
        return cuts | vocab.date_cuts

    def durations_on(self, day: dt.date) -> tuple[list[Duration | None], list[Duration | None]]:
        cached = self._durations.get(day)
        if cached is None:
            exact = self.vocab.duration_eq
            cached = (duration_representatives(self.vocab.durations, day, absent_is_zero=False,
                                               exact=exact),
                      duration_representatives(self.vocab.retentions, day, absent_is_zero=True,
                                               exact=exact))
            self._durations[day] = cached
        return cached

    def _protected_sets(self, reads: frozenset[str]) -> list[tuple[str, ...]]:
        pool = self.protected if "protected" in reads else self.unknown_protected
        return [c for size in range(len(pool) + 1) for c in itertools.combinations(pool, size)]

    def _services(self, reads: frozenset[str]) -> list[str | None]:
        if "service" not in reads:
            return [None]
        named = sorted(self.vocab.services)
        # A service no condition names, not even written otherwise (which the engine denies as
        # a misspelling of the one it is near: `common.near_service`).
        folded = {fold(s) for s in named}
        candidates = itertools.chain(_OTHER_SERVICES,
                                     (f"other service {i}" for i in itertools.count(2)))
        other = next(s for s in candidates if fold(s) not in folded)
        # Comparing laws, a service written otherwise than a named one (`aivd` for `AIVD`): an
        # unknown name under a law that names it, an ordinary service under one that does not.
        near = [] if self.mode == "verify" or len(self.laws) < 2 else sorted(
            {v for s in named if (v := _written_otherwise(s, set(named))) is not None})
        return [None, *named, other, *near]

    def scalars(self, shape: Shape, day: dt.date) -> Iterator[Scalars]:
        reads = self.reads(shape)
        durations, retentions = self.durations_on(day)
        return itertools.product(
            self._protected_sets(reads),
            durations if "duration" in reads else [None],
            retentions if "retention" in reads else [None],
            (False, True) if "urgent" in reads else (False,),
            self._services(reads))

    def scalar_count(self, shape: Shape, day: dt.date) -> int:
        reads = self.reads(shape)
        durations, retentions = self.durations_on(day)
        return (len(self._protected_sets(reads))
                * (len(durations) if "duration" in reads else 1)
                * (len(retentions) if "retention" in reads else 1)
                * (2 if "urgent" in reads else 1) * len(self._services(reads)))

    def project(self, index: int, shape: Shape, scalars: Scalars) -> Scalars:
        """The scalar facts law `index` can tell apart for this shape (others set to absent)."""
        reads = self.law_reads(index, shape)
        protected, duration, retention, urgent, service = scalars
        vocab = self.law_vocabs[index]
        law = self.laws[index]
        if "protected" not in reads:
            protected = tuple(p for p in protected if p not in law.protected)
        elif not vocab.protected_whole:
            protected = tuple(p for p in protected
                              if p in vocab.protected_names or p not in law.protected)
        return (protected,
                duration if "duration" in reads else None,
                retention if "retention" in reads else None,
                urgent and "urgent" in reads,
                service if "service" in reads else None)

    # ---- enumeration --------------------------------------------------------------------------

    def threat_ok(self, threat: str | None, day: dt.date) -> bool:
        """In verify mode, a threat out of force on `day` cannot give a permitted operation."""
        if self.mode != "verify" or threat is None:
            return True
        info = self.laws[0].threats.get(threat)
        return info is not None and info.in_force.contains(day)

    def count(self) -> int:
        total = 0
        for threat, shapes in self.shapes_by_threat.items():
            for shape in shapes:
                total += sum(self.scalar_count(shape, day) for day in self.date_reps(shape)
                             if self.threat_ok(threat, day))
        return total

    def __iter__(self) -> Iterator[Operation]:
        for threat, shapes in self.shapes_by_threat.items():
            for shape in shapes:
                for day in self.date_reps(shape):
                    if self.threat_ok(threat, day):
                        yield from self.operations(shape, day)

    def operations(self, shape: Shape, day: dt.date) -> Iterator[Operation]:
        for scalars in self.scalars(shape, day):
            yield self.operation(shape, day, scalars)

    def operation(self, shape: Shape, day: dt.date, scalars: Scalars) -> Operation:
        protected, duration, retention, urgent, service = scalars
        return Operation(
            id="class", date=day, threat=shape.threat, service=service,
            capabilities=tuple(sorted(shape.capabilities)),
            subjects=(Subject("target", protected),) if protected else (),
            duration=duration, urgent=urgent, retention=retention,
            sharing=tuple(s.sharing() for s in sorted(shape.sharings, key=str)))

    def threat_members(self, rep: str | None) -> tuple[str, ...]:
        for members in self.threat_classes:
            if members[0] == rep:
                return members
        return ()

    def capability_members(self, rep: str) -> tuple[str, ...]:
        for members in self.capability_classes:
            if members[0] == rep:
                return members
        return (rep,)


def _power_reads(power: PowerDef) -> frozenset[str]:
    facts = set().union(*(facts_read(c.condition) for c in power.conditionals))
    if power.max_duration is not None:
        facts.add("duration")
    if power.retention is not None:
        facts.add("retention")
    return frozenset(facts)


def _rule_reads(rule: ShareRuleDef) -> frozenset[str]:
    return frozenset().union(*(facts_read(c.condition) for c in rule.conditionals),
                             *(facts_read(c) for c, _ in rule.forbidden))


def _threat_atom(op: Op, facts: Facts, threat: str) -> object:
    """The value of a comparison of `threat` or `severity` for one threat, or the threat's own
    name when the comparison also reads another fact (then the threat is a class of its own)."""
    values: list[object] = []
    for side in (op.left, op.right):
        if isinstance(side, Fact):
            if side.name == "threat":
                values.append(threat)
            elif side.name == "severity":
                values.append(facts.severity)
            else:
                return threat
        elif hasattr(side, "value"):
            values.append(side.value)
        else:
            return threat
    try:
        return apply(op.op, values[0], values[1], facts)
    except (TypeError, CannotEvaluate):
        return threat


def _union(mappings: Iterable[Mapping[T, object]]) -> list[T]:
    out: dict[T, None] = {}
    for mapping in mappings:
        out.update(dict.fromkeys(mapping))
    return list(out)


__all__ = ["Shape", "ShareConfig", "Space", "neutral_facts"]
