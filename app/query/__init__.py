"""The query language every list endpoint shares, one module per job:

- spec: what a list declares (filters, sorts, fields, indexes)
- operators: the operator registry (`field__op=value`)
- lookups: filters through other tables, resolved to ids
- parsing: the query string read against a spec
- cursors: signed keyset cursors
- plan: the access path chosen for a page of a large table
- execute: resolve, plan, read ids, materialise rows, count
- budget: time budgets and the fast and slow lanes
- openapi: the parameters as OpenAPI documents them
"""

from .envelope import page_body
from .execute import run_query
from .openapi import openapi_parameters
from .operators import RANGE_OPERATORS, SET_OPERATORS, TEXT_OPERATORS
from .parsing import CONTROL_PARAMETERS, parse_query
from .spec import (
    Condition,
    Filter,
    ListQuery,
    ListSpec,
    Page,
    Sort,
    TableIndex,
    choice_filter,
)

__all__ = [
    "CONTROL_PARAMETERS",
    "RANGE_OPERATORS",
    "SET_OPERATORS",
    "TEXT_OPERATORS",
    "Condition",
    "Filter",
    "ListQuery",
    "ListSpec",
    "Page",
    "Sort",
    "TableIndex",
    "choice_filter",
    "openapi_parameters",
    "page_body",
    "parse_query",
    "run_query",
]
