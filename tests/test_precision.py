"""The precision rule for derived values, as a table."""

import pytest

from app.facts.precision import (
    EXACT,
    Precision,
    allowed_qualifier,
    derived_precision,
    round_to,
    stated_precision,
)
from app.models.vocabulary import Qualifier

STATED = [
    ("2.19 billion yuan", Precision(3, 7)),
    ("38.6 percent", Precision(3, -1)),
    ("20 percent", Precision(2, 0)),
    ("45.2 billion RMB", Precision(3, 8)),
    ("264", EXACT),
    ("4,889", EXACT),
    ("nine", EXACT),
    ("first", EXACT),
]


@pytest.mark.parametrize(("stated", "expected"), STATED)
def test_stated_precision(stated: str, expected: Precision) -> None:
    assert stated_precision(stated) == expected


DERIVED = [
    # formula, input precisions, computed value, value to record
    ("{a} / (1 + {b} / 100)", [Precision(3, 7), Precision(3, -1)], 1580086580.0866, 1.58e9),
    ("{a} - {b}", [Precision(3, -1), Precision(2, -1)], 67.00000000000001, 67.0),
    ("{a} + {b} + {c}", [EXACT, EXACT, EXACT], 254.0, 254.0),
    ("{a} * {b}", [EXACT, Precision(2, 0)], 123.456, 120.0),
]


@pytest.mark.parametrize(("formula", "inputs", "computed", "recorded"), DERIVED)
def test_derived_values_keep_their_inputs_precision(
    formula: str, inputs: list[Precision], computed: float, recorded: float
) -> None:
    precision = derived_precision(formula, inputs)
    assert round_to(computed, precision, product="*" in formula or "/" in formula) == recorded


QUALIFIERS = [
    ("{a} + {b}", [(Qualifier.exact, True), (Qualifier.exact, True)], Qualifier.exact),
    ("{a} - {b}", [(Qualifier.exact, True), (Qualifier.exact, True)], Qualifier.approximate),
    ("{a} + {b}", [(Qualifier.exact, False), (Qualifier.exact, True)], Qualifier.approximate),
    ("{a} / {b}", [(Qualifier.exact, True), (Qualifier.exact, True)], Qualifier.approximate),
    ("{a} + {b}", [(Qualifier.approximate, True), (Qualifier.exact, True)], Qualifier.approximate),
]


@pytest.mark.parametrize(("formula", "inputs", "expected"), QUALIFIERS)
def test_one_qualifier_rule(
    formula: str, inputs: list[tuple[Qualifier, bool]], expected: Qualifier
) -> None:
    assert allowed_qualifier(formula, inputs) == expected
