"""`verify`: check every principle of a law against every class of operations.

A principle `when C requires R1, R2` holds if every *permitted* operation satisfying C has obtained
each Ri: among its timely approvals or assessments, or in the `with` list of one of its sharings.
A principle `when C deny: true` holds if no operation satisfying C is permitted. A condition that
cannot be evaluated (e.g. it reads a duration the operation does not state) counts as satisfied:
the principle is not allowed to escape on a missing fact.

Monotonicity (more approvals never make a verdict worse, conditions never mention approvals)
removes the approvals from the search: a `requires` principle is violated exactly when some class
of operations is permitted holding every approval and assessment except one of the required ones.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import attrs
from msgspec.structs import replace

from ..conditions import CannotEvaluate, evaluate
from ..decision import PERMITTED, Decision
from ..engine import CompiledLaw, compile_law
from ..engine.common import facts_of, obtained
from ..model import Law, PrincipleDef
from ..operation import Approval, Operation
from .minimise import minimise
from .space import Space

DEFAULT_EXAMPLES = 2000


@attrs.frozen
class PrincipleResult:
    """The outcome of checking one principle."""

    principle: PrincipleDef
    holds: bool
    exhaustive: bool  # every class was enumerated (else: bounded enumeration and a search)
    classes: int  # classes of operations enumerated
    examples: int  # operations tried by the search fallback
    counterexample: Operation | None = None
    decision: Decision | None = None
    lacking: tuple[str, ...] = ()  # the required approvals the counterexample does not hold
    limits: tuple[str, ...] = ()
    seconds: float = attrs.field(default=0.0, eq=False)

    @property
    def method(self) -> str:
        if not self.holds:
            return "counterexample found"
        if self.exhaustive:
            return f"proved over {self.classes:,} classes of operations"
        return (f"no counterexample in {self.examples:,} examples (and {self.classes:,} classes "
                "enumerated within bounds)")


@attrs.frozen
class VerifyReport:
    law: Law
    results: tuple[PrincipleResult, ...]
    seconds: float = attrs.field(default=0.0, eq=False)

    @property
    def holds(self) -> bool:
        return all(r.holds for r in self.results)


class PrincipleCheck:
    """Decides whether one operation is a counterexample to one principle."""

    def __init__(self, law: Law, compiled: CompiledLaw, principle: PrincipleDef) -> None:
        self.law = law
        self.compiled = compiled
        self.principle = principle

    def applies(self, op: Operation) -> bool:
        """The principle's condition holds for the operation (or cannot be evaluated)."""
        caps = set(op.capabilities)
        if op.technique is not None:
            caps |= self.law.techniques.get(op.technique, frozenset())
        try:
            facts = facts_of(self.law, op, frozenset(caps))
            return evaluate(self.principle.condition, facts)
        except CannotEvaluate:
            return True
        except KeyError:  # an unknown name: such an operation is never permitted
            return False

    def lacking(self, op: Operation) -> tuple[str, ...]:
        have = set(obtained(self.law, op))
        for sharing in op.sharing:
            have |= set(sharing.with_)
        return tuple(sorted(self.principle.requires - have))

    def counterexample(self, op: Operation) -> bool:
        if not self.applies(op):
            return False
        if not self.principle.deny and not self.lacking(op):
            return False
        return self.compiled.decide(op).verdict == PERMITTED

    def candidates(self, op: Operation) -> Iterator[Operation]:
        """The class's operation with every obtainable approval except one required one."""
        law = self.law
        missing: Sequence[str | None] = [None] if self.principle.deny else sorted(
            self.principle.requires)
        for name in missing:
            yield replace(
                op, approvals=tuple(Approval(s) for s in law.safeguards if s != name),
                assessments=tuple(a for a in law.assessments if a != name))


def check_principle(law: Law, principle: PrincipleDef, *, compiled: CompiledLaw | None = None,
                    examples: int = DEFAULT_EXAMPLES, seed: int | None = None) -> PrincipleResult:
    started = time.perf_counter()
    compiled = compiled or compile_law(law)
    check = PrincipleCheck(law, compiled, principle)
    space = Space([law], [principle.condition], mode="verify")
    classes = 0
    found: Operation | None = None
    for op in space:
        classes += 1
        if not check.applies(op):
            continue
        found = next((c for c in check.candidates(op) if check.counterexample(c)), None)
        if found is not None:
            break
    tried = 0
    if found is None and not space.exhaustive:
        found, tried = _search(space, check, examples, seed)
    limits = tuple(space.limits)
    if found is None:
        return PrincipleResult(principle, True, space.exhaustive, classes, tried, limits=limits,
                               seconds=time.perf_counter() - started)
    smallest = minimise(replace(found, id="counterexample"), check.counterexample)
    return PrincipleResult(principle, False, space.exhaustive, classes, tried, smallest,
                           compiled.decide(smallest), check.lacking(smallest), limits,
                           time.perf_counter() - started)


def _search(space: Space, check: PrincipleCheck, examples: int,
            seed: int | None) -> tuple[Operation | None, int]:
    from .search import search

    def found(op: Operation) -> bool:
        return any(check.counterexample(c) for c in check.candidates(op))

    op, tried = search(space, found, examples, seed)
    if op is None:
        return None, tried
    return next(c for c in check.candidates(op) if check.counterexample(c)), tried


def verify(law: Law, names: Sequence[str] | None = None, *, examples: int = DEFAULT_EXAMPLES,
           seed: int | None = None) -> VerifyReport:
    """Check the law's principles (all, or those named)."""
    started = time.perf_counter()
    compiled = compile_law(law)
    chosen = [p for p in law.principles if names is None or p.name in names]
    results = tuple(check_principle(law, p, compiled=compiled, examples=examples, seed=seed)
                    for p in chosen)
    return VerifyReport(law, results, time.perf_counter() - started)
