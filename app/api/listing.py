"""The query language shared by every list endpoint.

A resource declares an allow-list (`ListSpec`): the filters it accepts with their operators,
the fields it sorts on, and the fields it returns. From that one declaration come the
request parser, the SQL (bound parameters only), the keyset pagination and the OpenAPI
parameters, so the docs, the validation and the queries cannot disagree.

Grammar: `field=value` (exact), `field__op=value` with op in gt, gte, lt, lte, in
(comma-separated), contains (case-insensitive substring); `sort=a,-b`; `limit`; `cursor`;
`fields=a,b`; `count=true` for the total.
"""

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    false,
    func,
    or_,
    select,
    tuple_,
)
from starlette.datastructures import URL, QueryParams

from app.api.sql import STATEMENTS, fetch, slot
from app.errors import ParameterError, ProblemError, parameter_problem

OPERATORS = ("exact", "gt", "gte", "lt", "lte", "in", "contains")
RANGE_OPERATORS = ("exact", "gt", "gte", "lt", "lte", "in")
SET_OPERATORS = ("exact", "in")
TEXT_OPERATORS = ("exact", "in", "contains")
CONTROL_PARAMETERS = ("limit", "cursor", "sort", "fields", "count")
MAX_IN_VALUES = 100
DEFAULT_LIMIT = 50
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
MAX_LIMIT = 500
MAX_VALUE_LENGTH = 200

# Numbers and dates in canonical ASCII form only: Python's own parsers also take "1_000",
# fullwidth digits, " 5", "inf" and "20240101", which no client means and the schema refuses.
_INTEGER = re.compile(r"[+-]?[0-9]{1,12}")
_DECIMAL = re.compile(r"[+-]?([0-9]{1,308}(\.[0-9]{0,30})?|\.[0-9]{1,30})([eE][+-]?[0-9]{1,3})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

Row = Mapping[Any, Any]
ValueKind = type[int] | type[float] | type[str] | type[date] | type[bool]
_CANONICAL: dict[ValueKind, re.Pattern[str]] = {int: _INTEGER, float: _DECIMAL, date: _DATE}


@dataclass(frozen=True)
class Filter:
    """An allow-listed filter. `column` compares directly; `clause` builds a custom condition
    (for filters that go through a join, such as `province` on metrics)."""

    name: str
    description: str
    kind: ValueKind = str
    operators: tuple[str, ...] = SET_OPERATORS
    column: ColumnElement[Any] | None = None
    clause: Callable[[str, list[Any]], ColumnElement[bool]] | None = None
    example: Any = None
    choices: tuple[str, ...] | None = None  # a closed vocabulary, documented as an enum

    def condition(self, operator: str, values: list[Any]) -> ColumnElement[bool]:
        if self.clause is not None:
            return self.clause(operator, values)
        assert self.column is not None
        return compare(self.column, operator, values)


def compare(column: ColumnElement[Any], operator: str, values: list[Any]) -> ColumnElement[bool]:
    condition: ColumnElement[bool]
    match operator:
        case "exact":
            condition = column == values[0]
        case "in":
            condition = column.in_(values)
        case "gt":
            condition = column > values[0]
        case "gte":
            condition = column >= values[0]
        case "lt":
            condition = column < values[0]
        case "lte":
            condition = column <= values[0]
        case "contains":  # the bound value is a LIKE pattern made by like_pattern()
            condition = func.lower(column).like(values[0], escape="\\")
        case _:  # pragma: no cover - operators are checked when parsed
            raise AssertionError(operator)
    return condition


def like_pattern(text: str) -> str:
    """A case-folded LIKE pattern matching `text` literally anywhere."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class Sort:
    name: str
    column: ColumnElement[Any]
    kind: ValueKind
    nullable: bool = False


@dataclass(frozen=True)
class ListSpec:
    """A list endpoint's allow-list and how to read its rows."""

    name: str
    base: Callable[[], Select[Any]]
    id_column: ColumnElement[Any]
    filters: tuple[Filter, ...]
    sorts: tuple[Sort, ...]
    default_sort: tuple[str, ...]
    fields: tuple[str, ...]
    serialize: Callable[[Row], dict[str, Any]]
    # What `count=true` counts: the resource's own table with its scope (the cities' levels,
    # say), without the joins of `base`. Filters only ever test the resource's own columns or
    # IN-subqueries, so they apply unchanged; counting through the joined select made SQLite
    # evaluate every join for every matching row (q6 at 3M rows: 0.43x Datasette).
    count_base: Callable[[], Select[Any]] | None = None

    def filter(self, name: str) -> Filter | None:
        return next((f for f in self.filters if f.name == name), None)

    def sort(self, name: str) -> Sort | None:
        return next((s for s in self.sorts if s.name == name), None)


@dataclass(frozen=True)
class AppliedFilter:
    filter: Filter
    operator: str
    values: list[Any]

    def describe(self) -> dict[str, Any]:
        value: Any = self.values if self.operator == "in" else self.values[0]
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, list):
            value = [v.isoformat() if isinstance(v, date) else v for v in value]
        return {"field": self.filter.name, "operator": self.operator, "value": value}


@dataclass(frozen=True)
class ListQuery:
    filters: list[AppliedFilter]
    sort: list[tuple[Sort, bool]]  # (field, descending)
    limit: int
    after: list[Any] | None
    fields: tuple[str, ...] | None
    count: bool
    scope: bytes = b""  # what a cursor is bound to besides the sort: path and filters

    @property
    def sort_signature(self) -> str:
        return ",".join(("-" if desc else "") + s.name for s, desc in self.sort)


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# Parsing -------------------------------------------------------------------------------


def parse_query(
    spec: ListSpec,
    params: QueryParams,
    *,
    secret: str,
    fixed: Sequence[str] = (),
    path: str = "",
) -> ListQuery:
    """Read and validate the query string against `spec`; raise ProblemError on anything else.

    `fixed` names filters set by the URL path (a nested view), which the query may not repeat.
    `path` is the list's URL path; with the filters it scopes the cursors this list issues.
    """
    errors: list[ProblemError] = []
    for name in {key for key, _ in params.multi_items()}:
        if len(params.getlist(name)) > 1:
            errors.append(
                parameter_problem(name, "given more than once; use __in for several values")
            )
    if errors:
        raise errors[0]
    filters: list[AppliedFilter] = []
    for name, raw in params.items():
        if name in CONTROL_PARAMETERS:
            continue
        filters.append(_parse_filter(spec, name, raw, fixed))
    sort = _parse_sort(spec, params.get("sort"))
    limit = _parse_limit(params.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
    fields = _parse_fields(spec, params.get("fields"))
    count = _parse_bool("count", params.get("count", "false"))
    scope = orjson.dumps(
        [path, sorted((f.filter.name, f.operator, f.values) for f in filters)], default=str
    )
    query = ListQuery(filters, sort, limit, None, fields, count, scope)
    cursor = params.get("cursor")
    if cursor is not None:
        after = decode_cursor(cursor, spec=spec, query=query, secret=secret)
        query = ListQuery(filters, sort, limit, after, fields, count, scope)
    return query


def _parse_filter(spec: ListSpec, name: str, raw: str, fixed: Sequence[str]) -> AppliedFilter:
    field_name, separator, operator = name.partition("__")
    operator = operator if separator else "exact"  # `year__` names no operator: refused
    flt = spec.filter(field_name)
    if flt is None or field_name in fixed:
        allowed = ", ".join(sorted({f.name for f in spec.filters} - set(fixed)))
        raise ProblemError(
            400,
            "unknown-parameter",
            f"unknown query parameter {name!r}; filters here: {allowed};"
            f" controls: {', '.join(CONTROL_PARAMETERS)}",
            [ParameterError(name, "not a parameter of this endpoint")],
        )
    if operator not in flt.operators:
        raise ProblemError(
            400,
            "unknown-parameter",
            f"{field_name!r} does not take the operator {operator!r};"
            f" it takes {', '.join(flt.operators)}",
            [ParameterError(name, f"operator {operator!r} not allowed")],
        )
    if len(raw) > MAX_VALUE_LENGTH * (MAX_IN_VALUES if operator == "in" else 1):
        raise parameter_problem(name, "value too long")
    parts = raw.split(",") if operator == "in" else [raw]
    if operator == "in" and len(parts) > MAX_IN_VALUES:
        raise parameter_problem(name, f"at most {MAX_IN_VALUES} values")
    if any(len(part) > MAX_VALUE_LENGTH for part in parts):
        raise parameter_problem(name, f"a value is longer than {MAX_VALUE_LENGTH} characters")
    kind = str if operator == "contains" else flt.kind
    values = [_convert(name, part, kind) for part in parts]
    if flt.choices is not None and operator != "contains":
        unknown = [v for v in values if v not in flt.choices]
        if unknown:
            raise parameter_problem(name, f"{unknown[0]!r} is not one of {', '.join(flt.choices)}")
    return AppliedFilter(flt, operator, values)


_KIND_NAMES = {int: "an integer", float: "a number", str: "text", date: "a date (YYYY-MM-DD)"}


def _is_control(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F


def _convert(name: str, raw: str, kind: ValueKind) -> Any:
    text = raw if kind is str else raw.strip()
    if any(_is_control(c) for c in text):
        raise parameter_problem(name, "control characters are not allowed")
    if kind is bool:
        return _parse_bool(name, text)
    if text == "":
        raise parameter_problem(name, f"expected {_KIND_NAMES.get(kind, 'a value')}, got nothing")
    canonical = _CANONICAL.get(kind)
    if canonical is not None and not canonical.fullmatch(text):
        raise parameter_problem(name, f"expected {_KIND_NAMES[kind]}, got {raw!r}")
    try:
        if kind is int:
            value: Any = int(text)
            if not INT_MIN <= value <= INT_MAX:  # the columns are 32-bit integers
                raise ValueError
            return value
        if kind is float:
            value = float(text)
            if value != value or abs(value) > 1e300:
                raise ValueError
            return value
        if kind is date:
            return date.fromisoformat(text)
    except ValueError:
        raise parameter_problem(name, f"expected {_KIND_NAMES[kind]}, got {raw!r}") from None
    return text


def _parse_bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise parameter_problem(name, f"expected true or false, got {raw!r}")


def _parse_sort(spec: ListSpec, raw: str | None) -> list[tuple[Sort, bool]]:
    names = spec.default_sort if raw is None else tuple(raw.split(","))
    result: list[tuple[Sort, bool]] = []
    seen: set[str] = set()
    for item in names:
        descending = item.startswith("-")
        name = item[1:] if descending else item
        sort = spec.sort(name)
        if sort is None:
            allowed = ", ".join(s.name for s in spec.sorts)
            raise parameter_problem("sort", f"cannot sort by {item!r}; sortable fields: {allowed}")
        if name in seen:
            continue  # named twice: the first occurrence decides, as with fields=
        seen.add(name)
        result.append((sort, descending))
    if not result:
        raise parameter_problem("sort", "name at least one field")
    return result


def _parse_limit(raw: str | None, default: int, maximum: int) -> int:
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw):
        raise parameter_problem("limit", f"expected an integer from 1 to {maximum}, got {raw!r}")
    limit = int(raw)
    if not 1 <= limit <= maximum:
        raise parameter_problem("limit", f"expected an integer from 1 to {maximum}, got {limit}")
    return limit


def _parse_fields(spec: ListSpec, raw: str | None) -> tuple[str, ...] | None:
    if raw is None:
        return None
    names = tuple(dict.fromkeys(name.strip() for name in raw.split(",")))
    unknown = [name for name in names if name not in spec.fields]
    if unknown or not names:
        raise parameter_problem(
            "fields",
            f"unknown field(s) {', '.join(map(repr, unknown))}; fields: {', '.join(spec.fields)}",
        )
    return names


# Cursors -------------------------------------------------------------------------------


def _signature(payload: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:12]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(spec: ListSpec, query: ListQuery, values: list[Any], secret: str) -> str:
    """An opaque token: the last row's sort values, bound to this list (resource, path,
    filters and sort order) and signed, so a tampered cursor, or one from another list, is
    refused instead of silently misread. The scope is signed, not carried: tokens stay short."""
    plain = [v.isoformat() if isinstance(v, date) else v for v in values]
    payload = orjson.dumps([spec.name, query.sort_signature, plain])
    return f"{_b64(payload)}.{_b64(_signature(payload + query.scope, secret))}"


def decode_cursor(token: str, *, spec: ListSpec, query: ListQuery, secret: str) -> list[Any]:
    def invalid(why: str) -> ProblemError:
        return ProblemError(
            400, "invalid-cursor", f"cursor: {why}", [ParameterError("cursor", why)]
        )

    try:
        payload_text, signature_text = token.split(".")
        payload, signature = _unb64(payload_text), _unb64(signature_text)
    except (ValueError, UnicodeEncodeError):
        raise invalid("not a cursor issued by this API") from None
    parsed = _payload(payload)
    verified = hmac.compare_digest(signature, _signature(payload + query.scope, secret))
    why = _mismatch(parsed, spec, query)
    if not verified or why or parsed is None:
        raise invalid(why or "issued for another list (path or filters), or altered")
    values = parsed[2]
    kinds = [s.kind for s, _ in query.sort] + [int]
    return [
        date.fromisoformat(v) if kind is date and v is not None else v
        for v, kind in zip(values, kinds, strict=True)
    ]


def _payload(payload: bytes) -> tuple[Any, Any, list[Any]] | None:
    """A cursor's payload as (resource, sort, values), or None if it is not one."""
    try:
        resource, sort, values = orjson.loads(payload)
    except (orjson.JSONDecodeError, TypeError, ValueError):
        return None
    return (resource, sort, values) if isinstance(values, list) else None


def _mismatch(
    parsed: tuple[Any, Any, list[Any]] | None, spec: ListSpec, query: ListQuery
) -> str | None:
    """What in a cursor's payload is not this list's: its resource or its sort. (Path and
    filters are only in the signature, so a cursor from another path or filters is told
    apart from a tampered one only by the signature.)"""
    if parsed is None:
        return None
    resource, sort, _ = parsed
    if resource != spec.name:
        return f"issued for {resource!r}, not {spec.name!r}"
    if sort != query.sort_signature:
        return f"issued for sort={sort}, not sort={query.sort_signature}"
    return None


# Execution -----------------------------------------------------------------------------


def _sorted_by_id(spec: ListSpec, query: ListQuery) -> bool:
    return query.sort[-1][0].column is spec.id_column


def _order_by(spec: ListSpec, query: ListQuery) -> list[Any]:
    clauses = []
    for sort, descending in query.sort:
        clause = sort.column.desc() if descending else sort.column.asc()
        clauses.append(clause.nulls_last() if sort.nullable else clause)
    if not _sorted_by_id(spec, query):  # the id breaks ties, in the last key's direction
        last_descending = query.sort[-1][1]
        clauses.append(spec.id_column.desc() if last_descending else spec.id_column.asc())
    return clauses


def _after(spec: ListSpec, query: ListQuery, values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the sort order (nulls last), for keyset pagination."""
    keys = [(s.column, desc, s.nullable) for s, desc in query.sort]
    keys.append((spec.id_column, query.sort[-1][1], False))
    if _sorted_by_id(spec, query):
        keys, values = keys[:-1], values[:-1]
    directions = {desc for _, desc, _ in keys}
    if len(keys) == 1 and not keys[0][2]:
        column, descending, _ = keys[0]
        single: ColumnElement[bool] = column < values[0] if descending else column > values[0]
        return single
    if len(directions) == 1 and not any(nullable for _, _, nullable in keys):
        columns = tuple_(*(column for column, _, _ in keys))
        bound = tuple_(*values)
        after: ColumnElement[bool] = columns < bound if directions == {True} else columns > bound
        return after
    alternatives = []
    for i, (column, descending, nullable) in enumerate(keys):
        if values[i] is None:
            continue  # nothing sorts after a null but rows equal on it (handled by later keys)
        beyond = column < values[i] if descending else column > values[i]
        if nullable:
            beyond = or_(beyond, column.is_(None))
        equal = [
            key_column.is_(None) if value is None else key_column == value
            for (key_column, _, _), value in zip(keys[:i], values[:i], strict=True)
        ]
        alternatives.append(and_(*equal, beyond))
    return or_(*alternatives) if alternatives else false()


def _shape(
    spec: ListSpec, query: ListQuery, filters: Sequence[AppliedFilter]
) -> tuple[Hashable, ...]:
    """What decides the SQL text of a list query (its values are bound, not part of it)."""
    return (
        spec.name,
        tuple((f.filter.name, f.operator, len(f.values)) for f in filters),
        query.sort_signature,
        None if query.after is None else tuple(value is None for value in query.after),
    )


def list_parameters(query: ListQuery, filters: Sequence[AppliedFilter]) -> dict[str, Any]:
    values: dict[str, Any] = {"page_limit": query.limit + 1}
    for i, applied in enumerate(filters):
        for j, value in enumerate(applied.values):
            bound = like_pattern(str(value)) if applied.operator == "contains" else value
            values[f"f{i}_{j}"] = bound
    for k, value in enumerate(query.after or ()):
        if value is not None:
            values[f"after{k}"] = value
    return values


def list_statements(
    spec: ListSpec, query: ListQuery, filters: Sequence[AppliedFilter]
) -> tuple[Select[Any], Select[Any]]:
    """The page query (one row more than the limit, to know if there is a next page) and
    the count query, with bind parameters named as `list_parameters` fills them."""
    conditions = [
        f.filter.condition(f.operator, [slot(f"f{i}_{j}") for j in range(len(f.values))])
        for i, f in enumerate(filters)
    ]
    filtered = spec.base().where(*conditions)
    statement = filtered
    if query.after is not None:
        after: list[Any] = [
            None if v is None else slot(f"after{k}") for k, v in enumerate(query.after)
        ]
        statement = statement.where(_after(spec, query, after))
    sort_columns = [s.column.label(f"_sort{i}") for i, (s, _) in enumerate(query.sort)]
    statement = (
        statement.add_columns(*sort_columns, spec.id_column.label("_id"))
        .order_by(*_order_by(spec, query))
        .limit(slot("page_limit"))
    )
    if spec.count_base is not None:
        count = spec.count_base().where(*conditions)
    else:
        count = select(func.count().label("total")).select_from(filtered.subquery())
    return statement, count


def run_query(
    connection: Connection,
    spec: ListSpec,
    query: ListQuery,
    *,
    secret: str,
    fixed: Sequence[AppliedFilter] = (),
) -> Page:
    filters = [*fixed, *query.filters]
    shape = _shape(spec, query, filters)
    values = list_parameters(query, filters)
    page = STATEMENTS.get(
        connection, ("page", shape), lambda: list_statements(spec, query, filters)[0]
    )
    rows = fetch(connection, page, values)
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        last = rows[-1]
        keys = [last[f"_sort{i}"] for i in range(len(query.sort))] + [last["_id"]]
        next_cursor = encode_cursor(spec, query, keys, secret)
    items = [spec.serialize(row) for row in rows]
    if query.fields is not None:
        items = [{name: item[name] for name in query.fields} for item in items]
    total = None
    if query.count:
        count = STATEMENTS.get(
            connection, ("count", shape[:2]), lambda: list_statements(spec, query, filters)[1]
        )
        total = int(fetch(connection, count, values)[0]["total"])
    return Page(items, next_cursor, total)


def page_body(request_url: URL, query: ListQuery, page: Page) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "returned": len(page.items),
        "limit": query.limit,
        "sort": [("-" if desc else "") + s.name for s, desc in query.sort],
        "filters": [f.describe() for f in query.filters],
    }
    if page.total is not None:
        meta["total"] = page.total
    next_url = (
        str(request_url.include_query_params(cursor=page.next_cursor)) if page.next_cursor else None
    )
    return {"data": page.items, "meta": meta, "links": {"self": str(request_url), "next": next_url}}


# OpenAPI -------------------------------------------------------------------------------

# The documented schemas are as strict as the parser: a request that matches them is one
# the API accepts (schemathesis checks exactly that), bar a forged cursor.
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


def _value_schema(flt: Filter, operator: str) -> dict[str, Any]:
    if operator == "contains":
        return dict(_OPENAPI_TYPES[str])
    item = _ITEM_PATTERNS[flt.kind]
    if flt.choices is not None:
        item = "(" + "|".join(flt.choices) + ")"
    if operator == "in":
        return {"type": "string", "maxLength": MAX_VALUE_LENGTH * MAX_IN_VALUES,
                "pattern": f"^{item}(,{item}){{0,{MAX_IN_VALUES - 1}}}$"}  # fmt: skip
    if flt.choices is not None:
        return {"type": "string", "enum": list(flt.choices)}
    schema = dict(_OPENAPI_TYPES[flt.kind])
    if flt.kind is str:
        schema["pattern"] = f"^{_ITEM_PATTERNS[str]}$"
    return schema


_OPERATOR_TEXT = {
    "gt": "greater than",
    "gte": "greater than or equal to",
    "lt": "less than",
    "lte": "less than or equal to",
    "in": "any of (comma-separated)",
    "contains": "contains, ignoring case",
}


def openapi_parameters(spec: ListSpec, *, fixed: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The OpenAPI description of every parameter `parse_query` accepts for `spec`."""
    sort_names = [s.name for s in spec.sorts]
    sort_item = "-?(" + "|".join(sort_names) + ")"
    field_item = "(" + "|".join(spec.fields) + ")"
    parameters: list[dict[str, Any]] = [
        _param(
            "limit",
            f"Page size, 1 to {MAX_LIMIT}.",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        ),
        _param(
            "cursor",
            "Opaque token from `links.next` of the previous page; a token the API did not"
            " issue for this list and sort is refused with 400.",
            {"type": "string", "maxLength": 2000, "pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"},
        ),
        _param(
            "sort",
            "Comma-separated fields, `-` for descending. Sortable: "
            + ", ".join(sort_names)
            + f". Default: {','.join(spec.default_sort)}.",
            {
                "type": "string",
                "maxLength": 200,
                "pattern": f"^{sort_item}(,{sort_item}){{0,{len(sort_names) - 1}}}$",
            },
            example=",".join(spec.default_sort),
        ),
        _param(
            "fields",
            "Comma-separated fields to return: " + ", ".join(spec.fields) + ".",
            {"type": "string", "maxLength": 1000, "pattern": f"^{field_item}(,{field_item})*$"},
        ),
        _param(
            "count",
            "Include `meta.total`, the number of matching rows.",
            {"type": "boolean", "default": False},
        ),
    ]
    for flt in spec.filters:
        if flt.name in fixed:
            continue
        for operator in flt.operators:
            name = flt.name if operator == "exact" else f"{flt.name}__{operator}"
            schema = _value_schema(flt, operator)
            description = flt.description
            if operator != "exact":
                description = f"{flt.description} ({_OPERATOR_TEXT[operator]})"
            example = flt.example if operator in ("exact", "in", "contains") else None
            parameters.append(_param(name, description, schema, example=example))
    return parameters


def _param(
    name: str, description: str, schema: dict[str, Any], *, example: Any = None
) -> dict[str, Any]:
    parameter: dict[str, Any] = {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }
    if example is not None:
        parameter["example"] = example
    return parameter
