"""Change and growth between two facts of one indicator for one subject, computed on request.

A comparison is never stored and never served as a fact: it is returned apart, marked
`computed`, with its formula over the keys of its two inputs, written as the seeds write
derived values, so a reader can redo it. It is rounded as the loader rounds a derived value
(app.facts.precision): a difference to the coarsest last digit of its inputs, a growth
rate to the fewest significant digits of its inexact inputs. A bound ("more than 28
percent") is not a value and is refused as an input.

A comparison is *circular* when one input was derived from the other, directly or through
its formula's inputs (Changzhi's "previous" spending computed from this year's and the
stated growth rate): the figure then restates the source's own number rather than
confirming it, and says so with the chain of keys.
"""

from collections.abc import Callable, Mapping
from typing import Any

from ..models.vocabulary import Qualifier
from .formulas import evaluate, formula_inputs
from .precision import (
    BOUNDS,
    Precision,
    derived_precision,
    is_product,
    result_precision,
    round_to,
    stated_precision,
)

Fact = Mapping[str, Any]  # a serialized metric
MAX_DEPTH = 4  # derived inputs of derived inputs: the seeds' formulas nest two deep

CHANGE_UNITS = {"percent": "percentage_point"}


def bound_problem(fact: Fact) -> str | None:
    if fact["qualifier"] in BOUNDS:
        return (
            f"{fact['key']!r} is a bound ({fact['qualifier']} {fact['value']}), not a value"
            " to compute with"
        )
    return None


Lookup = Callable[[list[str]], Mapping[str, Fact]]


def precision_of(fact: Fact, lookup: Lookup, depth: int = 0) -> Precision:
    """A fact's precision: its numeral's when stated, else what its formula's inputs
    justify (read through `lookup`, which maps keys to facts)."""
    formula = fact["formula"]
    if formula is None or depth >= MAX_DEPTH:
        return stated_precision(fact["stated"] or "")
    keys = formula_inputs(formula)
    found = lookup(keys)
    inputs = [precision_of(found[k], lookup, depth + 1) for k in keys if k in found]
    own = derived_precision(formula, inputs)
    return result_precision(fact["value"], own, product=is_product(formula))


def derivation_chain(fact: Fact, target: str, lookup: Lookup, depth: int = 0) -> list[str]:
    """The keys from `fact` down its formulas to `target` (`[fact, ..., target]`), or an
    empty list when `fact` does not rest on `target`."""
    formula = fact["formula"]
    if formula is None or depth >= MAX_DEPTH:
        return []
    keys = formula_inputs(formula)
    if target in keys:
        return [fact["key"], target]
    found = lookup(keys)
    for key in keys:
        if key in found:
            chain = derivation_chain(found[key], target, lookup, depth + 1)
            if chain:
                return [fact["key"], *chain]
    return []


def circularity(start: Fact, end: Fact, lookup: Lookup) -> dict[str, Any]:
    """Whether either input rests on the other, with the chain and what the figure restates
    (the other inputs of the formula that reaches the second fact)."""
    for derived, source in ((start, end), (end, start)):
        chain = derivation_chain(derived, source["key"], lookup)
        if chain:
            parent = derived if len(chain) == 2 else lookup([chain[-2]])[chain[-2]]
            others = [k for k in formula_inputs(parent["formula"]) if k != source["key"]]
            restated = ", ".join(others) or source["key"]
            also = f" (with {restated})" if others else ""
            explanation = (
                f"{' was derived from '.join(chain)}{also}, so this figure restates the"
                f" source's {restated} rather than confirming it: it is not independent"
                " evidence"
            )
            return {"circular": True, "chain": chain, "explanation": explanation}
    return {"circular": False, "chain": [], "explanation": None}


def _computed(formula: str, values: dict[str, float], precisions: list[Precision]) -> float | int:
    product = is_product(formula)
    value = round_to(evaluate(formula, values), derived_precision(formula, precisions),
                     product=product)  # fmt: skip
    return int(value) if value.is_integer() and abs(value) < 2**63 else value


def compare(start: Fact, end: Fact, lookup: Lookup) -> dict[str, Any]:
    """The change from `start` to `end` and its growth rate, each with formula and inputs."""
    first, last = start["key"], end["key"]
    values = {first: float(start["value"]), last: float(end["value"])}
    precisions = [precision_of(start, lookup), precision_of(end, lookup)]
    exact = all(f["qualifier"] == Qualifier.exact for f in (start, end))
    qualifier = Qualifier.exact.value if exact else Qualifier.approximate.value
    unit = start["unit"]
    change_formula = f"{{{last}}} - {{{first}}}"
    growth_formula = f"({{{last}}} - {{{first}}}) / {{{first}}} * 100"
    growth: dict[str, Any] | None = None
    why_no_growth = None
    if values[first] > 0:
        growth = {
            "value": _computed(growth_formula, values, precisions),
            "unit": "percent",
            "formula": growth_formula,
            "qualifier": qualifier,
        }
    else:
        why_no_growth = "the starting value is not positive, so a growth rate is undefined"
    return {
        "computed": True,
        "inputs": [first, last],
        "change": {
            "value": _computed(change_formula, values, precisions),
            "unit": CHANGE_UNITS.get(unit, unit),
            "formula": change_formula,
            "qualifier": qualifier,
        },
        "growth": growth,
        "no_growth": why_no_growth,
        **circularity(start, end, lookup),
    }
