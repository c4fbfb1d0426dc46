"""Calendar spans: the shortest and longest a duration can be, over every start date."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authority_dsl.conditions import Facts, apply
from authority_dsl.durations import Duration, Unit, add_months, hours_range

_HOURS = {Unit.HOURS: 1, Unit.DAYS: 24, Unit.WEEKS: 168}


def every_start() -> list[dt.datetime]:
    """Every day of a leap cycle around 2000 (a leap year) and of one around 2100 (not one)."""
    return [dt.datetime(year, 1, 1) + dt.timedelta(days=n)
            for year in (1996, 2096) for n in range(8 * 365 + 2)]


def test_the_range_of_a_calendar_span_is_that_over_every_start_day() -> None:
    starts = every_start()
    spans = [Duration(n, Unit.MONTHS) for n in (*range(1, 37), 47, 48, 49, 59, 60, 61, 119, 1200)]
    spans += [Duration(n, Unit.YEARS) for n in (1, 2, 3, 4, 5, 99, 100)]
    for span in spans:
        months = span.amount * (12 if span.unit is Unit.YEARS else 1)
        hours = [(add_months(start, months) - start).days * 24 for start in starts]
        assert hours_range(span) == (min(hours), max(hours)), span
    assert hours_range(Duration(1, Unit.MONTHS)) == (28 * 24, 31 * 24)
    assert hours_range(Duration(1, Unit.YEARS)) == (365 * 24, 366 * 24)
    assert hours_range(Duration(3, Unit.WEEKS)) == (504, 504)
    assert hours_range(Duration(1201, Unit.MONTHS)) is None


@given(st.dates(), st.integers(0, 100_000), st.sampled_from(list(Unit)))
def test_an_end_is_what_calendar_arithmetic_gives_and_goes_past_the_year_9999(
        start: dt.date, amount: int, unit: Unit) -> None:
    """`end_hours` agrees with Python's dates wherever they reach, and keeps counting after."""
    span = Duration(amount, unit)
    midnight = dt.datetime(start.year, start.month, start.day)
    if unit in _HOURS:
        hours = start.toordinal() * 24 + amount * _HOURS[unit]
        assert span.end_hours(start) == hours
        return
    months = amount * (12 if unit is Unit.YEARS else 1)
    end = add_months(midnight, months)
    if end != dt.datetime.max:
        assert span.end_hours(start) == end.toordinal() * 24
    else:  # past the year 9999: later than any date Python has, and later for a longer span
        assert span.end_hours(start) > dt.date.max.toordinal() * 24
        assert Duration(amount + 1, unit).end_hours(start) > span.end_hours(start)


def test_durations_compare_exactly_near_the_end_of_the_calendar() -> None:
    day = dt.date(9999, 10, 1)
    assert Duration(5, Unit.YEARS).compare(Duration(3, Unit.MONTHS), day) == 1
    assert Duration(100_000, Unit.YEARS).compare(Duration(99_999, Unit.YEARS), day) == 1
    # 3 months from 31 December 9999 end on 31 March 10000, a leap year: 91 days.
    last = dt.date(9999, 12, 31)
    assert Duration(91, Unit.DAYS).compare(Duration(3, Unit.MONTHS), last) == 0
    assert Duration(92, Unit.DAYS).compare(Duration(3, Unit.MONTHS), last) == 1


_SPANS = st.builds(Duration, st.integers(1, 800), st.sampled_from(list(Unit)))

# The same length in two units, whatever the start date: n years and 12n months, n weeks and 7n
# days, n days and 24n hours (either way round). Drawn on purpose: two independent spans are
# seldom equal, and equal lengths written differently are what the comparison must not miss.
_SAME_LENGTH = st.integers(1, 400).flatmap(lambda n: st.sampled_from([
    (Duration(n, Unit.YEARS), Duration(12 * n, Unit.MONTHS)),
    (Duration(n, Unit.WEEKS), Duration(7 * n, Unit.DAYS)),
    (Duration(n, Unit.DAYS), Duration(24 * n, Unit.HOURS)),
    (Duration(n, Unit.WEEKS), Duration(168 * n, Unit.HOURS)),
])).flatmap(lambda pair: st.sampled_from([pair, pair[::-1]]))


def _facts(day: dt.date) -> Facts:
    return Facts("", 0, frozenset(), 0, "targeted", frozenset(), None, None, False, day, None,
                 frozenset(), (), {})


@given(st.one_of(st.tuples(_SPANS, _SPANS), _SAME_LENGTH),
       st.dates(dt.date(1900, 1, 1), dt.date(2200, 12, 31)))
def test_conditions_compare_durations_by_length(pair: tuple[Duration, Duration],
                                                day: dt.date) -> None:
    """`==` and `!=` in conditions agree with `<=` and `>=` (both hold: equal), and membership
    of a set of durations is equality with one of them: `retention == 12 months` holds for
    `1 year`, and `duration == 4 weeks` for `28 days`. They compared unit and amount, so that
    writing the same length in another unit escaped a conditional requirement or a prohibition."""
    a, b = pair
    facts = _facts(day)
    equal = apply("<=", a, b, facts) and apply(">=", a, b, facts)
    if _kind(a) == _kind(b):  # both in hours or both in months, whatever the start date
        assert equal == (_amount(a) == _amount(b))
    assert apply("==", a, b, facts) == equal
    assert apply("!=", a, b, facts) == (not equal)
    assert apply("in", a, frozenset({b}), facts) == equal
    assert apply("notin", a, frozenset({b}), facts) == (not equal)
    assert apply("contains", frozenset({b}), a, facts) == equal
    # Among other lengths: membership is equality with one of them.
    others = frozenset({b, Duration(b.amount + 1, b.unit)})
    assert apply("in", a, others, facts) == any(
        apply("==", a, other, facts) for other in others)


def _kind(span: Duration) -> str:
    return "hours" if span.unit in _HOURS else "months"


def _amount(span: Duration) -> int:
    """The length in hours, or in months for months and years."""
    if span.unit in _HOURS:
        return span.amount * _HOURS[span.unit]
    return span.amount * (12 if span.unit is Unit.YEARS else 1)


@pytest.mark.parametrize(("stated", "listed"), [
    (Duration(1, Unit.YEARS), Duration(12, Unit.MONTHS)),
    (Duration(12, Unit.MONTHS), Duration(1, Unit.YEARS)),
    (Duration(28, Unit.DAYS), Duration(4, Unit.WEEKS)),
    (Duration(2, Unit.DAYS), Duration(48, Unit.HOURS)),
])
@pytest.mark.parametrize("evaluator", ["interpreted", "compiled"])
def test_membership_of_a_set_of_durations_is_by_length(stated: Duration, listed: Duration,
                                                        evaluator: str) -> None:
    """`retention in {12 months}` holds for a retention of `1 year` (and `not in` does not),
    `{12 months} contains retention` too; and so for weeks and days, days and hours. Compared as
    written (amount and unit), the same length in another unit was not found."""
    from authority_dsl.conditions import Const, Fact, Op, evaluate
    from authority_dsl.engine.compiled import compile_cond

    many = Const(frozenset({listed, Duration(5, Unit.DAYS)}), "set[duration]")
    retention = Fact("retention", "duration")
    facts = _facts(dt.date(2027, 3, 1))._replace(retention=stated)

    def holds(op: str, left: object, right: object) -> bool:
        cond = Op(op, left, right)  # type: ignore[arg-type]
        if evaluator == "compiled":
            return bool(compile_cond(cond)(facts, None))
        return evaluate(cond, facts)

    assert holds("in", retention, many)
    assert not holds("notin", retention, many)
    assert holds("contains", many, retention)
    # A length that is not in the set: 30 days from 1 March is not a month.
    facts = facts._replace(retention=Duration(30, Unit.DAYS))
    month = Const(frozenset({Duration(1, Unit.MONTHS)}), "set[duration]")
    assert not holds("in", retention, month)
    assert holds("notin", retention, month)
    assert not holds("contains", month, retention)


def test_a_year_equals_twelve_months_in_a_condition() -> None:
    facts = Facts("", 0, frozenset(), 0, "targeted", frozenset(), None, None, False,
                  dt.date(2027, 3, 1), None, frozenset(), (), {})
    assert apply("==", Duration(1, Unit.YEARS), Duration(12, Unit.MONTHS), facts)
    assert apply("==", Duration(28, Unit.DAYS), Duration(4, Unit.WEEKS), facts)
    assert not apply("==", Duration(30, Unit.DAYS), Duration(1, Unit.MONTHS), facts)  # March
