"""The fallback when the classes cannot all be enumerated: a seeded hypothesis search.

hypothesis is imported here only, and only when a search runs, so that `authority decide` and the
other verbs never load it.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..durations import Duration, Unit
from ..operation import Operation, Sharing, Subject
from .space import DATA_KINDS, Space

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

MAX_CAPABILITIES = 6
MAX_SHARINGS = 3


def operation_strategy(space: Space) -> SearchStrategy[Operation]:
    """Operations over every name the laws declare, with dates, durations and countries drawn
    from the space's representatives and beyond them."""
    from hypothesis import strategies as st

    laws = space.laws
    threats = sorted({t for law in laws for t in law.threats})
    caps = sorted({c for law in laws for c in law.capabilities})
    protected = sorted({p for law in laws for p in law.protected})
    recipients = sorted({r for law in laws for r in law.recipients})
    countries = sorted({c for c in (s.country for s in space.configs) if c is not None})
    days = space.dates or [laws[0].in_force.start or dt.date(2028, 1, 1)]
    reps = [d for day in days for d in space.durations_on(day)[0] if d is not None]
    keeps = [d for day in days for d in space.durations_on(day)[1] if d is not None]
    services = [*sorted(space.vocab.services), "AIVD"]

    def durations(known: list[Duration]) -> SearchStrategy[Duration | None]:
        free = st.builds(Duration, st.integers(0, 40), st.sampled_from(list(Unit)))
        return st.one_of(st.none(), st.sampled_from(known), free) if known else \
            st.one_of(st.none(), free)

    def subjects(names: list[str]) -> tuple[Subject, ...]:
        return (Subject("target", tuple(names)),) if names else ()

    names = st.lists(st.sampled_from(protected), unique=True) if protected else st.just([])
    sharing = st.builds(Sharing, st.sampled_from(recipients),
                        st.one_of(st.none(), st.sampled_from(countries)) if countries
                        else st.none(), st.sampled_from(DATA_KINDS)) if recipients else None
    lo, hi = min(days), max(days)
    return st.builds(
        Operation,
        id=st.just("search"),
        date=st.one_of(st.sampled_from(days), st.dates(lo.replace(year=max(lo.year - 1, 1)),
                                                       hi.replace(year=min(hi.year + 1, 9999)))),
        threat=st.one_of(st.none(), st.sampled_from(threats)) if threats else st.none(),
        service=st.one_of(st.none(), st.sampled_from(services)),
        capabilities=st.lists(st.sampled_from(caps), unique=True, max_size=MAX_CAPABILITIES)
        .map(tuple) if caps else st.just(()),
        subjects=names.map(subjects),
        duration=durations(reps),
        urgent=st.booleans(),
        retention=durations(keeps),
        sharing=st.lists(sharing, max_size=MAX_SHARINGS).map(tuple) if sharing is not None
        else st.just(()),
    )


def search(space: Space, found: Callable[[Operation], bool], examples: int,
           seed: int | None = None) -> tuple[Operation | None, int]:
    """Look for an operation for which `found` holds; returns it (shrunk by hypothesis) or
    None, and the number of operations tried."""
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import NoSuchExample

    tried = 0

    def condition(op: Operation) -> bool:
        nonlocal tried
        tried += 1
        return found(op)

    config = settings(max_examples=examples, derandomize=seed is None, database=None,
                      deadline=None, suppress_health_check=list(HealthCheck),
                      phases=(Phase.generate, Phase.shrink), print_blob=False)
    try:
        op = find(operation_strategy(space), condition, settings=config,
                  random=random.Random(seed) if seed is not None else None)
    except NoSuchExample:
        return None, tried
    return op, tried

