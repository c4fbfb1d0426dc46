"""Hypothesis strategies for small generated laws and operations, with readable reprs.

A generated law is a `GenLaw`: plain data whose `source()` is a .auth text. Shrunk counterexamples
print as that text, so a failing property shows a law a person can read.
"""

from __future__ import annotations

import atexit
import datetime as dt
import random
import shutil
import tempfile
from collections.abc import Sequence

import attrs
from hypothesis import strategies as st
from msgspec.structs import replace

from authority_dsl.checker import load_law
from authority_dsl.durations import Duration, Unit
from authority_dsl.model import Law
from authority_dsl.operation import Approval, Operation, Sharing, Subject

PROTECTED = ("journalist", "lawyer")
RECIPIENTS = ("foreign_service", "private_party")
DAY0 = dt.date(2027, 1, 1)


@attrs.frozen
class GenPower:
    name: str
    threats: tuple[str, ...]
    capabilities: tuple[str, ...]
    requires: tuple[str, ...]
    conditionals: tuple[tuple[str, tuple[str, ...]], ...]
    max_duration: Duration | None
    retention: Duration | None
    valid_from: dt.date | None

    def source(self) -> str:
        lines = [f"power {self.name} {{",
                 f"    threats: {', '.join(self.threats)}",
                 f"    capabilities: {', '.join(self.capabilities)}"]
        if self.requires:
            lines.append(f"    requires: {', '.join(self.requires)}")
        for cond, reqs in self.conditionals:
            lines.append(f"    when {cond} requires {', '.join(reqs)}")
        if self.max_duration:
            lines.append(f"    max_duration: {self.max_duration}")
        if self.retention:
            lines.append(f"    retention: {self.retention}")
        if self.valid_from:
            lines.append(f"    valid: {self.valid_from} ..")
        lines.append("}")
        return "\n".join(lines)


@attrs.frozen
class GenLaw:
    """A small law: threats (a forest), capabilities, techniques, powers, prohibitions, sharing."""

    threats: tuple[tuple[str, str | None, int], ...]  # name, parent, severity
    capabilities: tuple[tuple[str, int, str], ...]  # name, intrusion, scope
    techniques: tuple[tuple[str, tuple[str, ...]], ...]
    safeguards: tuple[tuple[str, int | None], ...]  # name, urgent window in days
    assessments: tuple[str, ...]
    powers: tuple[GenPower, ...]
    prohibitions: tuple[str, ...]  # conditions
    share_rules: tuple[tuple[str, tuple[str, ...], str | None], ...]  # recipient, requires, forbid
    in_force: dt.date
    # name, first and last day in force: threats in force only for a while
    threat_windows: tuple[tuple[str, dt.date, dt.date], ...] = ()

    def declarations(self) -> list[str]:
        out = []
        for name, parent, severity in self.threats:
            under = f" under {parent}" if parent else ""
            dates = {n: (a, b) for n, a, b in self.threat_windows}.get(name)
            valid = f' cites: "{name} act" valid: {dates[0]} .. {dates[1]}' if dates else ""
            out.append(f"threat {name}{under} {{ severity: {severity}{valid} }}")
        for name, intrusion, scope in self.capabilities:
            out.append(f"capability {name} {{ intrusion: {intrusion} scope: {scope} }}")
        for name, caps in self.techniques:
            out.append(f"technique {name} -> {', '.join(caps)}")
        for name in PROTECTED:
            out.append(f"protected {name}")
        for name, window in self.safeguards:
            body = f" {{ urgent_within: {window} days }}" if window else ""
            out.append(f"safeguard {name}{body}")
        for name in self.assessments:
            out.append(f"assessment {name}")
        out.append("recipient foreign_service { foreign: true }")
        out.append("recipient private_party")
        out.append('set watched = {"RU", "IR"}')
        out.extend(p.source() for p in self.powers)
        for i, cond in enumerate(self.prohibitions):
            out.append(f"forbid f{i} {{ when {cond} }}")
        for i, (recipient, requires, forbid) in enumerate(self.share_rules):
            body = [f"    recipients: {recipient}"]
            if requires:
                body.append(f"    requires: {', '.join(requires)}")
            if forbid:
                body.append(f"    forbid when {forbid}")
            out.append(f"share s{i} {{\n" + "\n".join(body) + "\n}")
        return out

    def source(self, order: Sequence[int] | None = None) -> str:
        decls = self.declarations()
        if order is not None:
            decls = [decls[i] for i in order]
        header = f'law "generated" {{ version: "1" in_force: {self.in_force} .. }}'
        return "\n".join([header, *decls]) + "\n"

    def __repr__(self) -> str:
        return "GenLaw(<<\n" + self.source() + ">>)"

    @property
    def requirement_names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.safeguards) + self.assessments


_LAW_CACHE: dict[str, Law] = {}


def scratch_dir(prefix: str) -> str:
    """A temporary directory for the specs a test module builds, removed when the run ends."""
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def build(gen: GenLaw, tmp: str, order: Sequence[int] | None = None) -> Law:
    """Check a generated law through the real pipeline (parse, check); fails on diagnostics."""
    import pathlib

    text = gen.source(order)
    if text in _LAW_CACHE:
        return _LAW_CACHE[text]
    path = pathlib.Path(tmp) / f"gen{abs(hash(text))}.auth"
    path.write_text(text, encoding="utf-8")
    law, diags = load_law(path)
    assert law is not None, "\n".join(f"{d.span}: {d.message}" for d in diags) + "\n" + text
    _LAW_CACHE[text] = law
    return law


def durations() -> st.SearchStrategy[Duration]:
    return st.builds(Duration, st.integers(1, 14), st.sampled_from(list(Unit)))


@st.composite
def conditions(draw: st.DrawFn, threats: Sequence[str], caps: Sequence[str]) -> str:
    atoms = [
        st.sampled_from(PROTECTED).map(lambda p: f"protected contains {p}"),
        st.just("scope == bulk"),
        st.integers(1, 5).map(lambda n: f"severity >= {n}"),
        st.integers(1, 5).map(lambda n: f"intrusion >= {n}"),
        st.sampled_from(threats).map(lambda t: f"threat under {t}"),
        st.just("urgent"),
        durations().map(lambda d: f"retention > {d}"),
        st.sampled_from(caps).map(lambda c: f"capabilities contains {c}"),
        st.just('any share (country in watched)'),
        st.just("recipients contains private_party"),
        st.sampled_from(["date >= 2027-06-01", "date <= 2027-12-31", "date == 2027-03-01"]),
        durations().map(lambda d: f"duration <= {d}"),
    ]
    atom = draw(st.one_of(atoms))
    shape = draw(st.sampled_from(["atom", "not", "and", "or"]))
    if shape == "atom":
        return atom
    if shape == "not":
        return f"not {atom}"
    other = draw(st.one_of(atoms))
    return f"{atom} {shape} {other}"


@st.composite
def laws(draw: st.DrawFn, *, min_powers: int = 0, max_powers: int = 4,
         prohibitions: bool = True) -> GenLaw:
    n_threats = draw(st.integers(1, 4))
    threats: list[tuple[str, str | None, int]] = []
    for i in range(n_threats):
        parent = draw(st.none() | st.integers(0, i - 1)) if i else None
        threats.append((f"t{i}", f"t{parent}" if parent is not None else None,
                        draw(st.integers(1, 5))))
    n_caps = draw(st.integers(1, 4))
    caps = [(f"c{i}", draw(st.integers(1, 5)), draw(st.sampled_from(["targeted", "bulk"])))
            for i in range(n_caps)]
    cap_names = [c[0] for c in caps]
    threat_names = [t[0] for t in threats]
    techniques = [(f"k{i}", tuple(sorted(draw(st.sets(st.sampled_from(cap_names), min_size=1)))))
                  for i in range(draw(st.integers(1, 3)))]
    safeguards = [(f"g{i}", draw(st.none() | st.integers(1, 5))) for i in range(3)]
    assessments = ("necessity", "proportionality")
    reqs = [s[0] for s in safeguards] + list(assessments)
    powers = []
    for i in range(draw(st.integers(min_powers, max_powers))):
        conds = draw(st.lists(
            st.tuples(conditions(threat_names, cap_names),
                      st.sets(st.sampled_from(reqs), min_size=1).map(lambda s: tuple(sorted(s)))),
            max_size=2))
        powers.append(GenPower(
            f"p{i}",
            tuple(sorted(draw(st.sets(st.sampled_from(threat_names), min_size=1)))),
            tuple(sorted(draw(st.sets(st.sampled_from(cap_names), min_size=1)))),
            tuple(sorted(draw(st.sets(st.sampled_from(reqs))))),
            tuple(conds),
            draw(st.none() | durations()),
            draw(st.none() | durations()),
            draw(st.none() | st.sampled_from([dt.date(2027, 6, 1), dt.date(2028, 1, 1)])),
        ))
    pro = draw(st.lists(conditions(threat_names, cap_names), max_size=1)) if prohibitions else []
    shares = []
    for recipient in draw(st.sets(st.sampled_from(RECIPIENTS))):
        shares.append((recipient, tuple(sorted(draw(st.sets(st.sampled_from(reqs))))),
                       draw(st.none() | st.sampled_from([
                           "country in watched", "urgent and data == unevaluated",
                           "scope == bulk or foreign"]))))
    windows = []
    for name in threat_names:  # some threats are in force only for a while
        if draw(st.integers(0, 3)) == 0:
            first = draw(st.dates(dt.date(2026, 6, 1), dt.date(2027, 12, 31)))
            windows.append((name, first, first + dt.timedelta(days=draw(st.integers(0, 400)))))
    return GenLaw(tuple(threats), tuple(caps), tuple(techniques), tuple(safeguards), assessments,
                  tuple(powers), tuple(pro), tuple(sorted(shares)), DAY0, tuple(windows))


@st.composite
def operations(draw: st.DrawFn, gen: GenLaw, *, unknown: bool = False) -> Operation:
    threat_names = [t[0] for t in gen.threats]
    cap_names = [c[0] for c in gen.capabilities]
    start = draw(st.dates(dt.date(2026, 11, 1), dt.date(2028, 6, 30)))
    use_technique = draw(st.booleans())
    technique = draw(st.sampled_from([t[0] for t in gen.techniques])) if use_technique else None
    capabilities = tuple(sorted(draw(st.sets(st.sampled_from(cap_names),
                                             min_size=0 if use_technique else 1, max_size=3))))
    approvals = []
    for name, _ in gen.safeguards:
        if draw(st.booleans()):
            offset = draw(st.none() | st.integers(-10, 6))
            approvals.append(Approval(name, None if offset is None
                                      else start + dt.timedelta(days=offset)))
    subjects = tuple(Subject("target", tuple(sorted(draw(st.sets(st.sampled_from(PROTECTED))))))
                     for _ in range(draw(st.integers(0, 2))))
    sharing = tuple(
        Sharing(draw(st.sampled_from(RECIPIENTS)), draw(st.sampled_from(["NL", "RU", "BE"])),
                draw(st.sampled_from(["evaluated", "unevaluated"])),
                tuple(sorted(draw(st.sets(st.sampled_from(gen.requirement_names), max_size=2)))))
        for _ in range(draw(st.integers(0, 2))))
    threat = draw(st.sampled_from(threat_names))
    op = Operation(
        id="op",
        date=start,
        threat=threat,
        technique=technique,
        capabilities=capabilities,
        subjects=subjects,
        duration=draw(st.none() | durations()),
        urgent=draw(st.booleans()),
        retention=draw(st.none() | durations()),
        approvals=tuple(approvals),
        assessments=tuple(sorted(draw(st.sets(st.sampled_from(gen.assessments))))),
        sharing=sharing,
    )
    if unknown:
        op = misspelt(draw, gen, op)
    return op


# Per field, names the generated laws never declare for it: misspellings, and names of another
# kind (an assessment given as an approval, a safeguard as an assessment, a protected category in
# a sharing's `with`), which are denied as unknown too.
_BOGUS = {
    "threat": ("t9", "terrorism", "x"),
    "technique": ("k_new", "c0", "x"),
    "capability": ("c9", "k0", "x"),
    "protected": ("journalst", "Lawyer", "g0"),
    "approval": ("g9", "necessity", "journalist"),
    "assessment": ("necesity", "g0", "lawyer"),
    "with": ("g7", "journalist", "proportionalty"),
}


def misspelt(draw: st.DrawFn, gen: GenLaw, op: Operation) -> Operation:
    """`op` with one name the law does not declare, in one of the places an operation names
    something: its threat, technique or capabilities, a subject's protected categories, an
    approval, an assessment or the `with` list of a sharing."""
    field = draw(st.sampled_from(sorted(_BOGUS)))
    bogus = draw(st.sampled_from(_BOGUS[field]))
    if field == "threat":
        return replace(op, threat=bogus)
    if field == "technique":
        return replace(op, technique=bogus)
    if field == "capability":
        return replace(op, capabilities=(*op.capabilities, bogus))
    if field == "protected":
        return replace(op, subjects=(*op.subjects, Subject("target", (bogus,))))
    if field == "approval":
        return replace(op, approvals=(*op.approvals, Approval(bogus)))
    if field == "assessment":
        return replace(op, assessments=(*op.assessments, bogus))
    if not op.sharing:
        return replace(op, sharing=(Sharing(draw(st.sampled_from(RECIPIENTS)), "NL", "evaluated",
                                            (bogus,)),))
    first = op.sharing[0]
    return replace(op, sharing=(replace(first, with_=(*first.with_, bogus)), *op.sharing[1:]))


def shuffled_order(gen: GenLaw, seed: int) -> list[int]:
    order = list(range(len(gen.declarations())))
    random.Random(seed).shuffle(order)
    return order


@st.composite
def plausible_operations(draw: st.DrawFn, gen: GenLaw, *, unknown: bool = False) -> Operation:
    """An operation aimed at one of the law's powers, so that `requires` and `permitted` are
    common rather than rare: its threat, some of its capabilities, a short duration. With
    `unknown`, one name in it is misspelt (`misspelt`): what would be permitted is denied."""
    op = draw(operations(gen))
    if not gen.powers:
        return misspelt(draw, gen, op) if unknown else op
    power = draw(st.sampled_from(gen.powers))
    caps = tuple(sorted(draw(st.sets(st.sampled_from(power.capabilities), min_size=1))))
    approvals = tuple(a for a in op.approvals if draw(st.booleans()))
    op = replace(
        op,
        date=draw(st.dates(dt.date(2028, 1, 1), dt.date(2028, 12, 31))),
        threat=draw(st.sampled_from(power.threats)),
        technique=None,
        capabilities=caps,
        duration=Duration(1, Unit.DAYS),
        retention=None,
        approvals=tuple(Approval(a.safeguard) for a in approvals),
        sharing=tuple(s for s in op.sharing if s.recipient in {r for r, _, _ in gen.share_rules}),
    )
    return misspelt(draw, gen, op) if unknown else op
