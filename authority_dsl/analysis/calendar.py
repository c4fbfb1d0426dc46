"""Representative dates and durations: one per interval between the boundaries the laws mention.

Durations are compared by calendar arithmetic from the operation's start date, so whether
`90 days` is shorter than `3 months` depends on the date when a law mixes fixed units (hours,
days, weeks) with calendar ones (months, years). Within one interval between date boundaries the
analysis therefore keeps one date per distinct ordering of the thresholds.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence

from ..durations import MAX_AMOUNT, Duration, Unit

DAY = dt.timedelta(days=1)
FIXED_UNITS = (Unit.HOURS, Unit.DAYS, Unit.WEEKS)
# How far into an interval to look for other threshold orderings: five years cover every
# combination of day of the month, month length and leap year (centuries that skip a leap day
# aside).
SCAN_DAYS = 5 * 366
# Moments are whole hours since the midnight before 1 January of the year 1 (`end_hours`): exact
# past the year 9999, where a law's durations may end even when Python's dates do not reach.
_STEP = {Unit.HOURS: 1, Unit.DAYS: 24, Unit.WEEKS: 7 * 24}
# The fewest and most hours one month or one year of the calendar lasts.
_CALENDAR_HOURS = {Unit.MONTHS: (28 * 24, 31 * 24), Unit.YEARS: (365 * 24, 366 * 24)}
_PREFERRED = (Unit.MONTHS, Unit.WEEKS, Unit.DAYS, Unit.HOURS)


def midnight(day: dt.date) -> int:
    return day.toordinal() * 24


def mixed_units(thresholds: Iterable[Duration]) -> bool:
    """True if some thresholds count fixed time and others calendar months."""
    kinds = {t.unit in FIXED_UNITS for t in thresholds}
    return len(kinds) > 1


def _first_after(unit: Unit, after: int, day: dt.date) -> int:
    """The smallest amount >= 1 of `unit` whose end (from midnight on `day`) is later than
    `after`."""
    gap = after - midnight(day)
    if unit in _STEP:
        return max(1, gap // _STEP[unit] + 1)
    shortest, longest = _CALENDAR_HOURS[unit]
    low, high = max(1, gap // longest), max(1, gap // shortest + 1)  # the answer lies between
    while low < high:
        middle = (low + high) // 2
        if Duration(middle, unit).end_hours(day) > after:
            high = middle
        else:
            low = middle + 1
    return low


def between(day: dt.date, low: int, high: int | None) -> Duration | None:
    """A readable duration ending strictly after `low` and strictly before `high`, if any."""
    for unit in _PREFERRED:
        amount = _first_after(unit, low, day)
        if amount > MAX_AMOUNT:
            continue
        candidate = Duration(amount, unit)
        if high is None or candidate.end_hours(day) < high:
            return candidate
    return None


def duration_representatives(thresholds: Iterable[tuple[Duration, str]], day: dt.date, *,
                             absent_is_zero: bool, exact: bool) -> list[Duration | None]:
    """One duration per class of durations relative to `thresholds`, for an operation starting on
    `day`: absent (None) and one in each region between the thresholds' boundaries.

    A threshold `(t, "le")` separates `<= t` from `> t`, `(t, "lt")` separates `< t` from `>= t`.
    `absent_is_zero`: an absent value counts as zero (retention), so the region holding zero
    needs no value of its own. `exact`: some condition compares durations with `==`, so every
    threshold is kept, and a value in hours with the same end as well."""
    start = midnight(day)
    by_end: dict[int, list[Duration]] = {}
    points: set[tuple[int, int]] = set()  # (end, 0: before it / 1: after it)
    for t, kind in sorted(set(thresholds), key=lambda x: (x[0].unit.value, x[0].amount, x[1])):
        end = t.end_hours(day)
        if t not in by_end.setdefault(end, []):
            by_end[end].append(t)
        points.add((end, 0 if kind == "lt" else 1))
        if exact:
            points.update(((end, 0), (end, 1)))
    ordered = sorted(points)
    out: list[Duration | None] = [None]
    bounds: list[tuple[int, int] | None] = [None, *ordered, None]
    for low, high in itertools.pairwise(bounds):
        if absent_is_zero and _holds_zero(low, high, start):
            continue
        rep = _region(day, start, low, high, by_end)
        if rep is not None and rep not in out:
            out.append(rep)
    if exact:
        for end, same in sorted(by_end.items()):
            out.extend(t for t in same if t not in out)
            hours = end - start
            if 0 <= hours <= MAX_AMOUNT and Duration(hours, Unit.HOURS) not in out:
                out.append(Duration(hours, Unit.HOURS))
    return out


def _holds_zero(low: tuple[int, int] | None, high: tuple[int, int] | None, start: int) -> bool:
    above_low = low is None or (start > low[0] if low[1] else start >= low[0])
    below_high = high is None or (start <= high[0] if high[1] else start < high[0])
    return above_low and below_high


def _region(day: dt.date, start: int, low: tuple[int, int] | None,
            high: tuple[int, int] | None, by_end: dict[int, list[Duration]]) -> Duration | None:
    """A duration whose end lies after boundary `low` and before boundary `high`; a threshold
    itself where the region includes one, else a readable one strictly inside."""
    if high is not None and high[1] == 1 and (low is None or low < high):
        return by_end[high[0]][0]
    if low is not None and low[1] == 0 and (high is None or low[0] < high[0]):
        return by_end[low[0]][0]
    floor = low[0] if low is not None else start
    if low is None:
        if high is not None and high[0] <= start:
            return None
        inside = between(day, start, high[0] if high is not None else None)
        return inside if inside is not None else Duration(0, Unit.HOURS)
    return between(day, floor, high[0] if high is not None else None)


def _ordering(groups: Sequence[Sequence[Duration]], day: dt.date) -> tuple[int, ...]:
    return tuple(a.compare(b, day) for group in groups
                 for i, a in enumerate(group) for b in group[i + 1:])


def date_representatives(cuts: Iterable[dt.date],
                         groups: Sequence[Iterable[Duration]]) -> list[dt.date]:
    """One date per interval between the cut points (a cut is the first day of a new interval),
    and more where the ordering of a group of duration thresholds changes within an interval."""
    points = sorted(set(cuts))
    ordered = [sorted(set(g), key=lambda d: (d.unit.value, d.amount)) for g in groups]
    scan = any(mixed_units(g) for g in ordered)
    intervals: list[tuple[dt.date | None, dt.date | None]] = []
    previous: dt.date | None = None
    for point in points:
        intervals.append((previous, point))
        previous = point
    intervals.append((previous, None))
    out: list[dt.date] = []
    for low, high in intervals:
        if low is None and high is None:
            days = [dt.date(2028, 1, 3)]
        elif low is None:
            assert high is not None
            if high == dt.date.min:  # no day comes before it
                continue
            days = [high - DAY]
        else:
            days = [low]
        if scan:
            days = _scan_days(low, high)
        seen: set[tuple[int, ...]] = set()
        for day in days:
            key = _ordering(ordered, day) if scan else ()
            if key not in seen:
                seen.add(key)
                out.append(day)
    return out


def _scan_days(low: dt.date | None, high: dt.date | None) -> list[dt.date]:
    if low is None:
        end = high if high is not None else dt.date(2028, 1, 3)
        first = max(end.toordinal() - SCAN_DAYS, 1)
        return [dt.date.fromordinal(n) for n in range(end.toordinal() - 1, first - 1, -1)]
    last = min(low.toordinal() + SCAN_DAYS - 1, dt.date.max.toordinal())
    if high is not None:
        last = min(last, high.toordinal() - 1)
    return [dt.date.fromordinal(n) for n in range(low.toordinal(), last + 1)]


def validity_cuts(start: dt.date | None, end: dt.date | None) -> list[dt.date]:
    """The days on which `start <= day <= end` may change its truth."""
    out = []
    if start is not None:
        out.append(start)
    if end is not None and end < dt.date.max:
        out.append(end + DAY)
    return out
