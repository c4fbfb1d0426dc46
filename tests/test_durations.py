"""Calendar spans: the shortest and longest a duration can be, over every start date."""

from __future__ import annotations

import datetime as dt

from authority_dsl.durations import Duration, Unit, add_months, hours_range


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
