"""Witness sets: the sets of elements (capability classes, kinds of sharing) to try.

An atom is given as the set of elements whose presence makes it true; a set holding at most one
witness per atom keeps the value of every atom of any larger set it is drawn from
(docs/analysis.md). When there would be too many such sets, every set of at most `k` elements is
tried instead, and the caller is told the space is bounded.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from math import comb
from typing import TypeVar

T = TypeVar("T")
MAX_WITNESS_SETS = 4096  # beyond this many witness sets of one kind, bound the set size


def witness_sets(atoms: list[frozenset[T]], universe: Sequence[T],
                 what: str) -> tuple[list[frozenset[T]], str | None]:
    """The sets to try, smallest first, and a note when they had to be bounded."""
    count = 1
    for atom in atoms:
        count *= 1 + len(atom)
    if count <= MAX_WITNESS_SETS:
        out = {frozenset(x for x in pick if x is not None)
               for pick in itertools.product(*[[None, *sorted(a, key=str)] for a in atoms])}
        return sorted(out, key=set_key), None
    k = 0
    while k < len(universe) and subsets_count(len(universe), k + 1) <= MAX_WITNESS_SETS:
        k += 1
    note = (f"{what}: only sets of at most {k} of {len(universe)} classes "
            f"({count} witness sets would be needed)")
    subsets = (frozenset(c) for size in range(k + 1)
               for c in itertools.combinations(universe, size))
    return sorted(set(subsets), key=set_key), note


def distinct(atoms: Iterable[frozenset[T]]) -> list[frozenset[T]]:
    """The atoms that can hold, each once (atoms with the same witnesses are one atom)."""
    out: list[frozenset[T]] = []
    for atom in atoms:
        if atom and atom not in out:
            out.append(atom)
    return out


def set_key(items: frozenset[object]) -> tuple[int, list[str]]:
    """Smallest first, then by name: a deterministic order for sets of names."""
    return (len(items), sorted(map(str, items)))


def subsets_count(n: int, k: int) -> int:
    """How many subsets of at most `k` of `n` elements there are."""
    return sum(comb(n, i) for i in range(k + 1))
