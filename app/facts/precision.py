"""How precise a value is, and what a derived value may claim from its inputs.

A stated figure is as precise as its numeral: "2.19 billion" has three significant digits
and its last digit is in the ten-millions; "38.6 percent" has three and is in tenths; a
number word ("nine") or a plain whole number of things is exact. A derived value is then
rounded the way a careful reader would round it:

- a formula that only adds and subtracts keeps the coarsest last digit of its inputs
  (68.1 - 1.1 = 67.0, to the tenth);
- a formula that multiplies or divides keeps the fewest significant digits of its
  inexact inputs (2.19 billion / 1.386 = 1.58 billion, three digits).

And one rule for the qualifier: a derived value is `exact` only when it is a sum of exact
counts. A difference of counts (a stock before a year's additions) rests on the assumption
that nothing else changed, and any formula over rounded figures inherits their rounding,
so both are `approximate`. Bounds (`more_than`, `up_to`, ...) are not inputs at all: a
formula over "over 28 percent" would state a bound as if it were a value.
"""

import math
import re
from dataclasses import dataclass
from decimal import Decimal

from ..models.vocabulary import Qualifier

_NUMERAL = re.compile(r"^\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?")
_SCALES = {"thousand": 3, "million": 6, "billion": 9, "trillion": 12}
_PRODUCT = re.compile(r"[*/]")
_OPERATOR_OUTSIDE_BRACES = re.compile(r"\{[^}]*\}")


@dataclass(frozen=True)
class Precision:
    """`digits` significant digits (None: exact), last digit at 10**`place`."""

    digits: int | None
    place: int


EXACT = Precision(None, 0)


def stated_precision(stated: str) -> Precision:
    """The precision of a stated figure ("2.19 billion yuan", "nine", "4,889")."""
    match = _NUMERAL.match(stated)
    if match is None:
        return EXACT  # a number word or an ordinal
    whole, fraction = match.group(1).replace(",", ""), match.group(2) or ""
    words = stated.lower().split()
    scale = next((_SCALES[w] for w in words if w in _SCALES), 0)
    if not fraction and scale == 0 and "percent" not in stated.lower():
        return EXACT  # a whole number of things
    digits = len((whole + fraction).lstrip("0")) or 1
    return Precision(digits, scale - len(fraction))


def is_product(formula: str) -> bool:
    """Whether the formula multiplies or divides (outside the braces naming its inputs)."""
    return _PRODUCT.search(_OPERATOR_OUTSIDE_BRACES.sub("", formula)) is not None


def is_sum(formula: str) -> bool:
    """Whether the formula only adds its inputs."""
    bare = _OPERATOR_OUTSIDE_BRACES.sub("", formula)
    return re.search(r"[-*/]", bare) is None


def derived_precision(formula: str, inputs: list[Precision]) -> Precision:
    """The precision a formula's result may claim from its inputs'."""
    if is_product(formula):
        digits = [p.digits for p in inputs if p.digits is not None]
        return Precision(min(digits), 0) if digits else EXACT
    inexact = [p.digits for p in inputs if p.digits is not None]
    return Precision(min(inexact) if inexact else None, max(p.place for p in inputs))


def round_to(value: float, precision: Precision, *, product: bool) -> float:
    """`value` rounded to what `precision` justifies."""
    if value == 0:
        return 0.0
    if product:
        if precision.digits is None:
            return value
        place = math.floor(math.log10(abs(value))) - precision.digits + 1
    else:
        place = precision.place
    return float(round(Decimal(repr(value)), -place))


def result_precision(value: float, precision: Precision, *, product: bool) -> Precision:
    """The precision of a rounded result, for use as an input of a later formula."""
    if not product or precision.digits is None or value == 0:
        return precision
    place = math.floor(math.log10(abs(value))) - precision.digits + 1
    return Precision(precision.digits, place)


def allowed_qualifier(formula: str, inputs: list[tuple[Qualifier, bool]]) -> Qualifier:
    """The qualifier a derived value must carry; `inputs` are (qualifier, is an exact count)."""
    if is_sum(formula) and all(q == Qualifier.exact and count for q, count in inputs):
        return Qualifier.exact
    return Qualifier.approximate


BOUNDS = frozenset({Qualifier.more_than, Qualifier.at_least, Qualifier.less_than, Qualifier.up_to})
