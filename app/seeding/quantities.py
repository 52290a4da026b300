"""Reading the number a document states ("45.2 billion RMB", "nine", "first").

The loader compares what a seed file says a document states with the value it records,
so a typo in either is caught before it reaches the database.
"""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
}
_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_UNITS = {
    "rmb": "CNY",
    "yuan": "CNY",
    "cny": "CNY",
    "percent": "percent",
    "%": "percent",
    "percentage point": "percentage_point",
    "percentage points": "percentage_point",
}
_PATTERN = re.compile(
    r"^(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|[a-z]+)"
    r"(?:\s+(?P<scale>thousand|million|billion|trillion))?"
    r"(?:\s*(?P<unit>rmb|yuan|cny|percent|%|percentage points?))?$"
)

# Which stated units each indicator unit accepts; None is a bare number.
COMPATIBLE_UNITS: dict[str, frozenset[str | None]] = {
    "CNY": frozenset({"CNY"}),
    "percent": frozenset({"percent"}),
    "percentage_point": frozenset({"percentage_point"}),
    "count": frozenset({None}),
    "rank": frozenset({"ordinal", None}),
}


@dataclass(frozen=True)
class Quantity:
    value: Decimal
    unit: str | None


def parse_quantity(stated: str) -> Quantity:
    """Parse a stated amount into its value in base units and the unit it was stated in."""
    match = _PATTERN.match(" ".join(stated.lower().split()))
    if match is None:
        raise ValueError(f"cannot read a quantity from {stated!r}")
    number, scale, unit = match.group("number", "scale", "unit")
    if number in _ORDINALS:
        if scale or unit:
            raise ValueError(f"an ordinal takes no unit: {stated!r}")
        return Quantity(Decimal(_ORDINALS[number]), "ordinal")
    if number.isalpha():
        if number not in _WORDS:
            raise ValueError(f"{number!r} is not a number word")
        amount = Decimal(_WORDS[number])
    else:
        try:
            amount = Decimal(number.replace(",", ""))
        except InvalidOperation as exc:  # pragma: no cover - the pattern admits only numerals
            raise ValueError(f"cannot read a number from {stated!r}") from exc
    if scale:
        amount *= _SCALES[scale]
    return Quantity(amount, _UNITS[unit] if unit else None)
