"""Durations and validity windows with calendar arithmetic.

Months and years are calendar periods counted from a start date (3 months from 31 January ends on
30 April); they are never converted to a fixed number of days.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import functools
import re

import attrs


class Unit(enum.Enum):
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"
    YEARS = "years"

    # Members are singletons: hashing by identity is correct, and runs in C (the evaluators use
    # durations in dictionary keys).
    __hash__ = object.__hash__


# Read from plain dictionaries: an enum member's `.value` is a slow property lookup.
_NAMES = {u: u.value for u in Unit}
_NAME = {u: u.value[:-1] for u in Unit}
_SINGULAR = {u.value[:-1]: u for u in Unit}
_PLURAL = {u.value: u for u in Unit}
_HOURS = {Unit.HOURS: 1, Unit.DAYS: 24, Unit.WEEKS: 168}
# Amounts beyond this are absurd for a law and would overflow date arithmetic.
MAX_AMOUNT = 100_000
# ASCII digits only: `\d` would also take `５` and `٣`, which the language and the JSON schema do
# not allow.
_DURATION_RE = re.compile(r"^\s*([0-9]+)\s*([A-Za-z]+)\s*$")
MAX_DIGITS = 30  # of an amount, leading zeros included (as the JSON schema says)
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_unit(text: str) -> Unit | None:
    return _PLURAL.get(text) or _SINGULAR.get(text)


@attrs.frozen(order=False, cache_hash=True)
class Duration:
    """An amount of calendar units, e.g. `3 months`."""

    amount: int
    unit: Unit

    @property
    def calendar(self) -> bool:
        """Months and years: their length depends on the date they count from."""
        return self.unit is Unit.MONTHS or self.unit is Unit.YEARS

    def __str__(self) -> str:
        return f"{self.amount} {(_NAMES if self.amount != 1 else _NAME)[self.unit]}"

    def end_hours(self, start: dt.date) -> int:
        """When this duration ends when it starts at midnight on `start`: in hours since the
        midnight before 1 January of the year 1, exact however far it reaches (past the year
        9999 too)."""
        if self.unit in _HOURS:
            return start.toordinal() * 24 + self.amount * _HOURS[self.unit]
        index = start.month - 1 + self.amount * (12 if self.unit is Unit.YEARS else 1)
        year, month = start.year + index // 12, index % 12 + 1
        return _ordinal(year, month, min(start.day, _month_days(year, month))) * 24

    def compare(self, other: Duration, start: dt.date) -> int:
        """-1, 0 or 1 as this duration ends before, with or after `other`, both from `start`."""
        if self.unit is other.unit:
            return (self.amount > other.amount) - (self.amount < other.amount)
        a, b = self.end_hours(start), other.end_hours(start)
        return (a > b) - (a < b)


def add_months(start: dt.datetime, months: int) -> dt.datetime:
    """Add calendar months, clamping the day to the end of the target month; `datetime.max`
    past the year 9999."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    if year > dt.MAXYEAR:
        return dt.datetime.max
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DAYS_BEFORE_MONTH = (0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)


def _month_days(year: int, month: int) -> int:
    return 29 if month == 2 and calendar.isleap(year) else _MONTH_DAYS[month]


def _ordinal(year: int, month: int, day: int) -> int:
    """`date.toordinal` of the proleptic Gregorian calendar, for any year from 1 (past 9999)."""
    before = year - 1
    return before * 365 + before // 4 - before // 100 + before // 400 + \
        _DAYS_BEFORE_MONTH[month] + (month > 2 and calendar.isleap(year)) + day


MAX_RANGED_MONTHS = 1200  # longer spans are not ranged (every answer is taken as date-dependent)


@functools.lru_cache(maxsize=1024)
def hours_range(d: Duration) -> tuple[int, int] | None:
    """The shortest and longest this duration can be, in hours, over all start dates; None when
    it is too long to range."""
    if d.unit in _HOURS:
        hours = d.amount * _HOURS[d.unit]
        return hours, hours
    months = d.amount * (12 if d.unit is Unit.YEARS else 1)
    if months > MAX_RANGED_MONTHS:
        return None
    lengths = [(add_months(start, months) - start).days * 24 for start in _starts()]
    return min(lengths), max(lengths)


@functools.cache
def _starts() -> list[dt.datetime]:
    """Start dates that show every length a span of calendar months can have: the days of a leap
    cycle around a year divisible by 400 and of one around a century that is not a leap year.
    Of each month, only its first day and its 29th to 31st: a span from any day up to the 28th
    lands on the same day of its last month, and is as long as the span from the first."""
    return [dt.datetime(year, month, day)
            for first in (1996, 2096) for year in range(first, first + 8)
            for month in range(1, 13)
            for day in (1, *range(29, calendar.monthrange(year, month)[1] + 1))]


def date_dependent(a: Duration, b: Duration) -> bool:
    """Whether comparing `a` with `b` can give different answers for different start dates:
    only for a fixed length (hours, days, weeks) within the range of a calendar one."""
    if a.calendar == b.calendar:
        return False
    ra, rb = hours_range(a), hours_range(b)
    if ra is None or rb is None:
        return True
    return ra[0] <= rb[1] and rb[0] <= ra[1]


@functools.lru_cache(maxsize=1024)
def parse_duration(text: str) -> Duration:
    """Parse `3 months`; raises ValueError with a readable message. Equal texts give the same
    object (durations are immutable), so that the evaluators hash it once."""
    m = _DURATION_RE.match(text)
    if not m:
        other = next((c for c in text if c.isdigit() and not c.isascii()), None)
        if other is not None:
            raise ValueError(f"`{_clip(text)}` has the digit `{other}` (U+{ord(other):04X}); "
                             "write numbers with the ASCII digits 0-9")
        raise ValueError(f"`{_clip(text)}` is not a duration like `3 months`")
    unit = parse_unit(m.group(2).lower())
    if unit is None:
        raise ValueError(f"unknown unit `{_clip(m.group(2))}`; use hours, days, weeks, months "
                         "or years")
    # The digits are counted before `int` converts them: it refuses more than 4,300.
    digits = m.group(1).lstrip("0") or "0"
    if len(digits) > len(str(MAX_AMOUNT)) or int(digits) > MAX_AMOUNT:
        raise ValueError(f"duration `{_clip(text.strip())}` is too long (at most {MAX_AMOUNT} "
                         f"{unit.value})")
    if len(m.group(1)) > MAX_DIGITS:
        raise ValueError(f"duration `{_clip(text.strip())}` has more than {MAX_DIGITS} digits")
    return Duration(int(digits), unit)


def _clip(text: str) -> str:
    """Text to quote in a message, its first 40 characters of a longer one."""
    return text if len(text) <= 40 else f"{text[:40]}…"


def parse_date(text: str) -> dt.date:
    """Parse an ISO date `YYYY-MM-DD`; raises ValueError with a readable message."""
    if not _DATE_RE.fullmatch(text):
        other = next((c for c in text if c.isdigit() and not c.isascii()), None)
        if other is not None:
            raise ValueError(f"`{_clip(text)}` has the digit `{other}` (U+{ord(other):04X}); "
                             "write numbers with the ASCII digits 0-9")
        raise ValueError(f"`{_clip(text)}` is not a date like `2027-01-31`")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"`{text}` is not a valid calendar date") from None


@attrs.frozen
class Validity:
    """An inclusive window of dates; either end may be open."""

    start: dt.date | None = None
    end: dt.date | None = None

    def contains(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def __str__(self) -> str:
        return f"{self.start or ''} .. {self.end or ''}".strip()


ALWAYS = Validity()
