"""Lints for drafters: warnings about a law that checks without errors.

- `technology-word`: a threat, capability or power whose name or description names a technology
  (a curated lexicon, tech_lexicon.txt, replaceable with `--lexicon FILE`);
- `capability-not-granted`: a capability that no power grants;
- `power-never-applies`: a power that no operation can ever use (its threats or validity leave
  nothing, or prohibitions always block it);
- `power-shadowed`: a power another power makes redundant;
- `safeguard-ladder`: a capability of higher intrusion that needs fewer safeguards than one of
  lower intrusion for the same threat;
- `missing-cites`: a power, prohibition or sharing rule that cites no article, so that the
  decisions resting on it cite nothing.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path

import attrs
from msgspec.structs import replace

from ..checker import allowed
from ..conditions import AnyOf, Const, Fact, Op
from ..decision import DENIED, PERMITTED
from ..diagnostics import NO_SPAN, Diagnostic, DiagnosticError, Span, error, sort_key, warning
from ..durations import ALWAYS, Duration, Unit, Validity, hours_range
from ..engine import compile_law
from ..model import Law, PowerDef
from ..operation import Approval, Operation
from ..source import read_source
from .space import Space
from .vocabulary import facts_read

LINT_CODES = ("technology-word", "capability-not-granted", "power-never-applies",
              "power-shadowed", "safeguard-ladder", "missing-cites")
_EDGE = r"(?<![A-Za-z0-9])"
_END = r"(?![A-Za-z0-9])"


@attrs.frozen
class Lexicon:
    """Technology-specific terms and their patterns."""

    terms: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...] = attrs.field(eq=False, repr=False)

    @staticmethod
    def parse(text: str, file: str = "<lexicon>") -> Lexicon:
        """Raises DiagnosticError, located, for a term with no letter or digit: `*` or `-`
        would match every word, and even an empty description; `.` every full stop."""
        terms: list[str] = []
        for number, line in enumerate(text.splitlines(), 1):
            term = line.strip()
            if not term or term.startswith("#"):
                continue
            if not any(c.isalnum() for c in term):
                column = line.index(term) + 1
                raise DiagnosticError([error(
                    "bad-lexicon", f"term `{term}` has no letter or digit: it would "
                    "match any word, or punctuation, or a missing description",
                    Span(file, number, column, number, column + len(term)),
                    "remove the line, or write the word before the `*`")])
            terms.append(term)
        return Lexicon(tuple(terms), tuple(_pattern(t) for t in terms))

    def find(self, text: str) -> Iterator[tuple[int, str]]:
        """(offset, word as written) of every technology word in `text`."""
        for pattern in self.patterns:
            for match in pattern.finditer(text):
                yield match.start(), match.group(0)


def _pattern(term: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in re.split(r"[\s_\-]+", term.rstrip("*")) if p]
    body = r"[\s_\-]?".join(parts)
    ending = r"[A-Za-z0-9]*" if term.endswith("*") else r"(?:s|es|en|'s)?"
    return re.compile(_EDGE + body + ending + _END, re.IGNORECASE)


def default_lexicon() -> Lexicon:
    text = resources.files("authority_dsl.analysis").joinpath("tech_lexicon.txt")
    return Lexicon.parse(text.read_text("utf-8"), "tech_lexicon.txt")


def load_lexicon(path: str | Path) -> Lexicon:
    """A lexicon file in the format of tech_lexicon.txt; raises DiagnosticError, located (a
    file that cannot be read, invalid UTF-8, a term that would match everything)."""
    return Lexicon.parse(read_source(path), str(path))


def lint_law(law: Law, lexicon: Lexicon | None = None,
             texts: Mapping[str, str] | None = None) -> list[Diagnostic]:
    """Every lint warning for a law that checked without errors, less those the drafters have
    acknowledged with `# allow: CODE`, as for the checker's warnings. The directives are looked
    for in `texts` (each file's text, as the law was loaded from), or else in the law's files,
    read again: the law keeps no source text."""
    anchors: dict[Diagnostic, Span] = {}
    sources = _texts(law) if texts is None else texts
    out = [*technology_words(law, lexicon or default_lexicon(), anchors, sources),
           *capabilities_not_granted(law), *powers_never_applying(law), *shadowed_powers(law),
           *safeguard_ladder(law), *missing_cites(law)]
    return sorted(allowed(out, sources, anchors), key=sort_key)


def _texts(law: Law) -> dict[str, str]:
    """The text of each file of the law that can still be read."""
    texts = {}
    for file in law.files:
        try:
            texts[file] = read_source(file)
        except DiagnosticError:
            continue
    return texts


# ---- technology words -------------------------------------------------------------------------


def technology_words(law: Law, lexicon: Lexicon, anchors: dict[Diagnostic, Span] | None = None,
                     texts: Mapping[str, str] | None = None) -> Iterator[Diagnostic]:
    """Technology words in names and descriptions. A word in a description is pointed at where
    it is written, found in `texts` (each file's text; else the law's files, read again);
    `anchors` (when given) records the declaration it belongs to, where an `# allow:` directive
    for it is looked for too."""
    declarations: list[tuple[str, str, str | None]] = []
    declarations += [("threat", t.name, t.description) for t in law.threats.values()]
    declarations += [("capability", c.name, c.description) for c in law.capabilities.values()]
    declarations += [("power", p.name, p.description) for p in law.powers]
    help_text = ("a technology-neutral law names threats and abstract capabilities; map "
                 "techniques to capabilities in the technique register")
    sources = _texts(law) if texts is None else texts
    for kind, name, description in declarations:
        span = law.spans.get(name, NO_SPAN)
        words = sorted({w.lower() for _, w in lexicon.find(name.replace("_", " "))})
        for word in words:
            yield warning("technology-word", f"{kind} `{name}` is named after a technology: "
                          f"`{word}`", span, help_text)
        seen = set(words)
        for offset, word in sorted(lexicon.find(description or "")):
            if word.lower() in seen:
                continue
            seen.add(word.lower())
            where = _word_span(sources.get(span.file), span, description or "", offset,
                               len(word))
            found = warning("technology-word", f"the description of {kind} `{name}` names a "
                            f"technology: `{word}`", where, help_text)
            if anchors is not None:
                anchors[found] = span
            yield found


# The tokens of a declaration, as far as finding its `description:` string needs: comments and
# strings are whole tokens, so that neither a `{`, `}` or `description` in them counts.
_TOKEN = re.compile(r'(?P<skip>\s+|#[^\n]*)|(?P<string>"(?:[^"\\\n]|\\.)*")|(?P<word>\w+)|.',
                    re.DOTALL)


def _word_span(text: str | None, decl: Span, description: str, offset: int,
               length: int) -> Span:
    """Where the characters `offset` to `offset + length` of the description are written: in
    the string of the `description:` field of the declaration named at `decl`; `decl` itself
    when the source is not at hand or does not hold that description."""
    if text is None or (found := _description_token(text, decl)) is None:
        return decl
    start, token = found
    decoded, raw = _decode(token[1:-1])
    if decoded != description:
        return decl
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 2  # 1-based, after the quote
    return Span(decl.file, line, column + raw[offset], line, column + raw[offset + length])


def _description_token(text: str, decl: Span) -> tuple[int, str] | None:
    """The offset and text of the string given to `description:` in the body of the
    declaration whose name is at `decl`."""
    lines = text.split("\n")
    if decl.line > len(lines):
        return None
    position = sum(len(line) + 1 for line in lines[:decl.line - 1]) + decl.column - 1
    depth, expecting = 0, ""
    for match in _TOKEN.finditer(text, position):
        kind, token = match.lastgroup, match.group()
        if kind == "skip":
            continue
        if expecting == ":" and token == ":":
            expecting = "string"
            continue
        if expecting == "string" and kind == "string":
            return match.start(), token
        expecting = ""
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth <= 0:
                return None
        elif depth == 1 and token == "description":
            expecting = ":"
    return None


def _decode(body: str) -> tuple[str, list[int]]:
    """A string literal's text without its escapes, and for each of its characters (and its
    end) the offset in `body` where it is written."""
    out: list[str] = []
    raw: list[int] = []
    i = 0
    while i < len(body):
        raw.append(i)
        if body[i] == "\\" and i + 1 < len(body):
            out.append({"n": "\n", "t": "\t"}.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(body[i])
            i += 1
    raw.append(len(body))
    return "".join(out), raw


# ---- capabilities and powers ------------------------------------------------------------------


def capabilities_not_granted(law: Law) -> Iterator[Diagnostic]:
    granted = {c for p in law.powers for c in p.capabilities}
    for name in law.capabilities:
        if name not in granted:
            yield warning("capability-not-granted", f"no power grants capability `{name}`",
                          law.spans.get(name, NO_SPAN),
                          "grant it in a power, or remove it if the law should not allow it")


def missing_cites(law: Law) -> Iterator[Diagnostic]:
    """Provisions that decisions cite (powers, prohibitions, sharing rules) with no citation, or
    one of only spaces: a decision explains itself by the articles it rests on."""
    kinds = (("power", law.powers), ("prohibition", law.prohibitions),
             ("sharing rule", law.share_rules))
    for kind, provisions in kinds:
        for provision in provisions:
            if provision.cites is None or not provision.cites.strip():
                how = "cites no article" if provision.cites is None else "has an empty `cites`"
                yield warning("missing-cites",
                              f"{kind} `{provision.name}` {how}: the decisions resting on it "
                              "cite nothing", law.spans.get(provision.name, NO_SPAN),
                              'add `cites: "art. ..."` with the article it stands for')


def _overlap(a: Validity, b: Validity) -> bool:
    start = max((d for d in (a.start, b.start) if d is not None), default=None)
    end = min((d for d in (a.end, b.end) if d is not None), default=None)
    return start is None or end is None or start <= end


def powers_never_applying(law: Law) -> Iterator[Diagnostic]:
    for power in law.powers:
        reason = _never_applies(law, power)
        if reason is not None:
            yield warning("power-never-applies", f"power `{power.name}` can never apply: "
                          f"{reason}", law.spans.get(power.name, NO_SPAN),
                          "no operation can use this power; check its threats, validity and "
                          "the prohibitions")


def _never_applies(law: Law, power: PowerDef) -> str | None:
    if not power.threats:
        return "it is granted for no threat"
    if not _overlap(power.valid, law.in_force):
        return f"it is valid {power.valid}, while the law is in force {law.in_force}"
    threats = [t for t in law.threats.values() if power.threats & t.ancestors]
    if not any(_overlap(t.in_force, power.valid) and _overlap(t.in_force, law.in_force)
               for t in threats):
        return "none of its threats is in force while it is"
    probe = _probe(law, power)
    compiled = compile_law(probe)
    uses = AnyOf(tuple(Op("contains", Fact("capabilities", "set[capability]"),
                          Const(c, "capability")) for c in sorted(power.capabilities)))
    space = Space([probe], [uses], mode="verify")
    approvals = tuple(Approval(s) for s in law.safeguards)
    blockers: list[frozenset[str]] = []  # the prohibitions on each operation it could serve
    for op in space:
        if not set(op.capabilities) & power.capabilities:
            continue
        decision = compiled.decide(replace(op, approvals=approvals,
                                           assessments=tuple(law.assessments)))
        if decision.verdict == PERMITTED:
            return None
        if power.valid.contains(op.date) and op.threat is not None and \
                power.threats & law.threats[op.threat].ancestors:
            blockers.append(frozenset(v.message.split("`")[1] for v in decision.violations
                                      if v.code == "prohibited"))
    if not space.exhaustive:
        return None
    if blockers and all(blockers):
        names = frozenset.intersection(*blockers) or frozenset.union(*blockers)
        listed = ", ".join(f"`{b}`" for b in sorted(names))
        plural = len(names) > 1
        return f"prohibition{'s' * plural} {listed} always block{'' if plural else 's'} it"
    return "every operation that could use it is denied (its limits or conditions cannot be met)"


def _probe(law: Law, power: PowerDef) -> Law:
    """`law` with `power` as the only power for its capabilities, and every other capability
    granted for every threat with no requirement, limit or condition: an operation is permitted
    here, with everything obtained, if `power` serves some operation that the real law does not
    deny — also one with capabilities of other powers, which may lift a prohibition that is not
    increasing (`when intrusion < 3`)."""
    rest = frozenset(law.capabilities) - power.capabilities
    if not rest:
        return attrs.evolve(law, powers=(power,))
    others = PowerDef(f"{power.name} others", frozenset(law.threats), rest, frozenset(), (),
                      None, False, None, None, ALWAYS, None)
    return attrs.evolve(law, powers=(power, others))


def _covers(q: PowerDef, threat: str, law: Law) -> bool:
    info = law.threats.get(threat)
    return info is not None and bool(q.threats & info.ancestors)


def _within(inner: Validity, outer: Validity) -> bool:
    return ((outer.start is None or (inner.start is not None and outer.start <= inner.start))
            and (outer.end is None or (inner.end is not None and inner.end <= outer.end)))


def _at_least(a: Duration | None, b: Duration | None) -> bool:
    """Limit `a` allows at least what limit `b` allows, on every start date: counted from any
    date, `a` ends no earlier than `b`. Units of one kind keep their order on every date; a
    fixed length against a calendar one is compared with the calendar one's shortest (or
    longest) length over all start dates."""
    if a is None:
        return True
    if b is None:
        return False
    if a.calendar and b.calendar:
        return _months(a) >= _months(b)
    return _hours(a)[0] >= _hours(b)[1]


def _months(d: Duration) -> int:
    return d.amount * (12 if d.unit is Unit.YEARS else 1)


def _hours(d: Duration) -> tuple[int, int]:
    """The shortest and the longest `d` lasts, in hours, over all start dates; for calendar
    spans too long to range exactly, the bounds of 28 and 31 days a month."""
    exact = hours_range(d)
    if exact is not None:
        return exact
    return _months(d) * 28 * 24, _months(d) * 31 * 24


# Facts every operation states, that a condition can always evaluate: a condition reading any
# other (a duration, a service, a sharing's country) fails closed when it is left out.
_ALWAYS_STATED = frozenset({"threat", "severity", "capabilities", "intrusion", "scope",
                            "protected", "retention", "urgent", "date", "recipients", "shares",
                            "recipient", "data", "foreign"})


def _clauses_within(q: PowerDef, p: PowerDef) -> bool:
    """`q`'s conditional requirements never stop it where `p` can be used: each clause adds
    only requirements `p` has in the same circumstances (unconditionally or under the same
    condition), and a condition that cannot be evaluated (it fails closed, `q` cannot be used)
    either can always be evaluated where `p` can be used (`p`'s maximum duration needs a stated
    duration) or is a condition of `p` too, which fails on the same operations."""
    stated = _ALWAYS_STATED | ({"duration"} if p.max_duration is not None else set())
    for clause in q.conditionals:
        same = [c for c in p.conditionals if c.condition == clause.condition]
        if not same and not facts_read(clause.condition) <= stated:
            return False
        if not clause.requires <= p.requires.union(*(c.requires for c in same)):
            return False
    return True


def dominates(q: PowerDef, p: PowerDef, law: Law) -> bool:
    """`q` is usable wherever `p` is and never needs more: `p` never changes a decision."""
    return (all(_covers(q, t, law) for t in p.threats)
            and p.capabilities <= q.capabilities
            and _within(p.valid, q.valid)
            and q.requires <= p.requires
            and _clauses_within(q, p)
            and _at_least(q.max_duration, p.max_duration)
            and _at_least(q.retention, p.retention))


def _terms(p: PowerDef) -> tuple[object, ...]:
    """Everything `dominates` reads of a power: two powers with the same terms dominate, and are
    dominated by, the same powers."""
    clauses = tuple((c.condition, c.requires) for c in p.conditionals)
    return (p.threats, p.capabilities, p.valid, p.requires, clauses, p.max_duration, p.retention)


def shadowed_powers(law: Law) -> Iterator[Diagnostic]:
    """Each power another power dominates, named with the first such power in the law's order;
    of two equivalent powers (each dominates the other) only the later name is reported.

    Dominance depends on a power's terms, not its name, so it is decided once per pair of
    distinct terms rather than per pair of powers: a law of many alike powers stays near linear
    instead of quadratic. Among the powers equivalent to one, the first in the law's order with
    an earlier name is found by bisecting their names. Power names are unique in a checked law."""
    groups: dict[tuple[object, ...], list[int]] = {}  # terms -> positions in the law, in order
    for i, power in enumerate(law.powers):
        groups.setdefault(_terms(power), []).append(i)
    members = list(groups.values())
    alike = [law.powers[positions[0]] for positions in members]
    by_name = [_earliest_by_name(law, positions) for positions in members]
    shadow: dict[int, int] = {}  # position of a shadowed power -> position of the first shadow
    for g, positions in enumerate(members):
        p = alike[g]
        stronger: int | None = None  # the first power that dominates these and is not dominated
        equivalent: list[int] = []  # the groups that dominate these and are dominated by them
        for h, q in enumerate(alike):
            if not dominates(q, p, law):
                continue
            if h != g and not dominates(p, q, law):
                stronger = members[h][0] if stronger is None else min(stronger, members[h][0])
            else:
                equivalent.append(h)
        for i in positions:
            name = law.powers[i].name
            best = stronger
            for h in equivalent:
                names, earliest = by_name[h]
                before = bisect.bisect_left(names, name)  # how many are named before this one
                if before and (best is None or earliest[before - 1] < best):
                    best = earliest[before - 1]
            if best is not None:
                shadow[i] = best
    for i in sorted(shadow):
        p, q = law.powers[i], law.powers[shadow[i]]
        yield warning("power-shadowed", f"power `{p.name}` is shadowed by power `{q.name}`",
                      law.spans.get(p.name, NO_SPAN),
                      f"`{q.name}` grants the same capabilities for the same threats with no "
                      "more requirements and limits at least as generous, so "
                      f"`{p.name}` never changes a decision")


def _earliest_by_name(law: Law, positions: list[int]) -> tuple[list[str], list[int]]:
    """The names of the powers at `positions`, sorted, and for each k the first position in the
    law among the powers with the first k + 1 of those names."""
    ordered = sorted(positions, key=lambda i: law.powers[i].name)
    return [law.powers[i].name for i in ordered], list(itertools.accumulate(ordered, min))


# ---- the safeguard ladder ---------------------------------------------------------------------


def safeguard_ladder(law: Law) -> Iterator[Diagnostic]:
    """For each threat class and date, compare the safeguards each granted capability needs on
    its own; warn once per capability that needs fewer than a less intrusive one."""
    space = Space([law], mode="verify")
    compiled = compile_law(law)
    worst: dict[str, tuple[int, str, str, frozenset[str], frozenset[str]]] = {}
    for day in space.dates:
        durations: list[Duration | None] = [
            d for d in space.durations_on(day)[0] if d is not None] or [None]
        for members in space.threat_classes:
            threat = members[0]
            if not law.threats[threat].in_force.contains(day):
                continue
            guards = {}
            for cap in law.capabilities:
                for duration in durations:  # the shortest duration the capability allows
                    decision = compiled.decide(Operation(
                        "ladder", day, threat=threat, capabilities=(cap,), duration=duration))
                    if decision.verdict != DENIED:
                        guards[cap] = frozenset(m.requirement for m in decision.missing
                                                if m.kind == "safeguard")
                        break
            _compare(law, threat, guards, worst)
    for high, (_, low, threat, mine, theirs) in sorted(worst.items()):
        hi, lo = law.capabilities[high], law.capabilities[low]
        yield warning("safeguard-ladder",
                      f"capability `{high}` (intrusion {hi.intrusion}) needs fewer safeguards "
                      f"than `{low}` (intrusion {lo.intrusion}) for threat `{threat}`: "
                      f"{_list(mine)} against {_list(theirs)}",
                      law.spans.get(high, NO_SPAN),
                      "a more intrusive capability should need at least the safeguards of a "
                      "less intrusive one")


def _compare(law: Law, threat: str, guards: dict[str, frozenset[str]],
             worst: dict[str, tuple[int, str, str, frozenset[str], frozenset[str]]]) -> None:
    for high, mine in guards.items():
        for low, theirs in guards.items():
            gap = len(theirs) - len(mine)
            if law.capabilities[high].intrusion <= law.capabilities[low].intrusion or gap <= 0:
                continue
            if high not in worst or gap > worst[high][0]:
                worst[high] = (gap, low, threat, mine, theirs)


def _list(names: Iterable[str]) -> str:
    items = sorted(names)
    return ", ".join(f"`{n}`" for n in items) if items else "none"


__all__ = ["LINT_CODES", "Lexicon", "default_lexicon", "lint_law",
           "load_lexicon"]
