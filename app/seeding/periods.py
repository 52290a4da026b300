"""Period labels of the seed files ("2023", "2024-04", "2022-12-29", "2017/2021")."""

import calendar
from dataclasses import dataclass
from datetime import date

from ..models.vocabulary import PeriodPrecision


@dataclass(frozen=True)
class Period:
    label: str | None
    start: date | None
    end: date | None
    precision: PeriodPrecision
    year: int | None


UNKNOWN = Period(None, None, None, PeriodPrecision.unknown, None)


def parse_period(label: str | None) -> Period:
    """Read a label into its first and last day; `year` is the year the period ends in."""
    if label is None:
        return UNKNOWN
    if "/" in label:
        first, last = label.split("/")
        start, end = int(first), int(last)
        if end <= start:
            raise ValueError(f"period {label!r} must run forwards")
        return Period(label, date(start, 1, 1), date(end, 12, 31), PeriodPrecision.range, end)
    parts = [int(part) for part in label.split("-")]
    if len(parts) == 1:
        (year,) = parts
        return Period(label, date(year, 1, 1), date(year, 12, 31), PeriodPrecision.year, year)
    if len(parts) == 2:
        year, month = parts
        last_day = calendar.monthrange(year, month)[1]
        return Period(
            label, date(year, month, 1), date(year, month, last_day), PeriodPrecision.month, year
        )
    day = date(*parts)
    return Period(label, day, day, PeriodPrecision.day, day.year)
