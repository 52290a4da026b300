"""The OpenAPI description of every parameter the parser accepts for a `ListSpec`.

The documented schemas are as strict as the parser: a request that matches them is one
the API accepts (schemathesis checks exactly that), bar a forged cursor.
"""

from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import Any

from .operators import OPERATORS, Arity
from .parsing import (
    DEFAULT_LIMIT,
    INT_MAX,
    INT_MIN,
    MAX_IN_VALUES,
    MAX_LIMIT,
    MAX_VALUE_LENGTH,
)
from .spec import Filter, ListSpec, Sort, ValueKind

TEXT = r"[^\x00-\x1f\x7f-\x9f,]*"
_ITEM_PATTERNS: dict[ValueKind, str] = {
    int: r"-?[0-9]{1,9}",
    float: r"-?[0-9]{1,15}(\.[0-9]{1,15})?([eE][-+]?[0-9]{1,2})?",
    # Days 29-31 exist in some months only, which a pattern cannot say; lists of dates are
    # documented with days up to 28 and single dates with format: date.
    date: r"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])",
    str: r"[^\x00-\x1f\x7f-\x9f,]{1,200}",
    bool: r"(true|false|1|0|yes|no)",
}
_OPENAPI_TYPES: dict[ValueKind, dict[str, Any]] = {
    int: {"type": "integer", "minimum": INT_MIN, "maximum": INT_MAX},
    float: {"type": "number", "minimum": -1e300, "maximum": 1e300},
    str: {"type": "string", "minLength": 1, "maxLength": MAX_VALUE_LENGTH,
          "pattern": f"^{TEXT}$"},
    date: {"type": "string", "format": "date", "minLength": 10, "maxLength": 10},
    bool: {"type": "boolean"},
}  # fmt: skip


def vocabulary_ref(vocabulary: type[StrEnum]) -> dict[str, Any]:
    """A closed vocabulary as the document names it: one shared schema per vocabulary, so a
    generated client has one `Qualifier` (not one per operation and operator)."""
    return {"$ref": f"#/components/schemas/{vocabulary.__name__}"}


def vocabulary_schema(vocabulary: type[StrEnum]) -> dict[str, Any]:
    """The shared schema of a vocabulary, as pydantic writes it for a model's field."""
    schema: dict[str, Any] = {
        "type": "string",
        "enum": [member.value for member in vocabulary],
        "title": vocabulary.__name__,
    }
    if vocabulary.__doc__ and vocabulary.__doc__ != StrEnum.__doc__:
        schema["description"] = " ".join(vocabulary.__doc__.split())
    return schema


def _value_schema(flt: Filter, operator: str) -> dict[str, Any]:
    arity = OPERATORS[operator].arity
    if arity is Arity.TEXT:
        return dict(_OPENAPI_TYPES[str])
    if arity is Arity.FLAG:
        return dict(_OPENAPI_TYPES[bool])
    item = _ITEM_PATTERNS[flt.kind]
    if flt.choices is not None:
        item = "(" + "|".join(flt.choices) + ")"
    if arity is Arity.MANY:
        return {"type": "string", "maxLength": MAX_VALUE_LENGTH * MAX_IN_VALUES,
                "pattern": f"^{item}(,{item}){{0,{MAX_IN_VALUES - 1}}}$"}  # fmt: skip
    if flt.vocabulary is not None:
        return vocabulary_ref(flt.vocabulary)
    schema = dict(_OPENAPI_TYPES[flt.kind])
    if flt.kind is str:
        schema["pattern"] = f"^{_ITEM_PATTERNS[str]}$"
    return schema


def _example(flt: Filter, operator: str) -> Any:
    arity = OPERATORS[operator].arity
    if arity is Arity.FLAG:
        return True
    if flt.example is None or not OPERATORS[operator].shows_example:
        return None
    return str(flt.example) if arity is Arity.MANY else flt.example


def _control_parameters(spec: ListSpec) -> list[dict[str, Any]]:
    sort_names = [s.name for s in spec.sorts]
    sort_item = "-?(" + "|".join(sort_names) + ")"
    field_item = "(" + "|".join(spec.fields) + ")"
    return [
        parameter(
            "limit",
            f"Page size, 1 to {MAX_LIMIT}.",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        ),
        parameter(
            "cursor",
            "Opaque token from `links.next` of the previous page; a token the API did not"
            " issue for this list and sort is refused with 400.",
            {"type": "string", "maxLength": 2000, "pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"},
        ),
        parameter(
            "sort",
            "Comma-separated fields, `-` for descending. Sortable: "
            + ", ".join(sort_names)
            + f". Default: {','.join(spec.default_sort)}."
            + "".join(_ranked_note(spec, sort) for sort in spec.sorts if sort.ranks),
            {
                "type": "string",
                "maxLength": 200,
                "pattern": f"^{sort_item}(,{sort_item}){{0,{len(sort_names) - 1}}}$",
            },
            example=",".join(spec.default_sort),
        ),
        parameter(
            "fields",
            "Comma-separated fields to return: " + ", ".join(spec.fields) + ".",
            {"type": "string", "maxLength": 1000, "pattern": f"^{field_item}(,{field_item})*$"},
        ),
        parameter(
            "count",
            "Include `meta.total`, the number of matching rows: exact (`meta.total_relation`"
            " `eq`) when it is 10,000 or fewer and the count could read every row its index"
            " range holds (at most 10,001); else a lower bound (`gte`). On a first page"
            " with no next page, the total is exact.",
            {"type": "boolean", "default": False},
        ),
    ]


def _ranked_note(spec: ListSpec, sort: Sort) -> str:
    default = ",".join(spec.default_sort)
    return (
        f" `{sort.name}` is how well a row matches `{sort.ranks}=` (scored as `/search` ranks:"
        " the whole text, then its start, then inside it; shorter text first), so it is taken"
        f" only with `{sort.ranks}=`; given `{sort.ranks}=` and no `sort=`, the order is"
        f" `-{sort.name},{default}`, best match first. When `{sort.name}` is the last field"
        f" named, the rows it ranks equal follow the default order ({default})."
    )


def openapi_parameters(spec: ListSpec, *, fixed: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The OpenAPI description of every parameter `parse_query` accepts for `spec`."""
    parameters = _control_parameters(spec)
    for flt in spec.filters:
        if flt.name in fixed:
            continue
        for name in flt.accepted:
            operator = OPERATORS[name]
            description = flt.description
            if name != "exact":
                description = f"{flt.description} ({operator.phrase})"
            parameters.append(
                parameter(
                    flt.name + operator.suffix,
                    description,
                    _value_schema(flt, name),
                    example=_example(flt, name),
                )
            )
    return parameters


def parameter(
    name: str, description: str, schema: dict[str, Any], *, example: Any = None
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }
    if example is not None:
        result["example"] = example
    return result
