"""Reading a list's query string against its `ListSpec`.

Grammar: `field=value` (exact), `field__op=value` with an operator from the registry
(app.query.operators); `sort=a,-b`; `limit`; `cursor`; `fields=a,b`; `count=true`.
Anything else is refused with a problem naming the parameter.
"""

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

import orjson
from starlette.datastructures import QueryParams

from ..errors import InvalidParameter, ProblemError, parameter_problem, shown
from .cursors import decode_cursor
from .names import distance
from .operators import OPERATORS, Arity
from .spec import Condition, ListQuery, ListSpec, Sort, ValueKind

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
_CANONICAL: dict[ValueKind, re.Pattern[str]] = {int: _INTEGER, float: _DECIMAL, date: _DATE}
_KIND_NAMES = {int: "an integer", float: "a number", str: "text", date: "a date (YYYY-MM-DD)"}


def parse_query(
    spec: ListSpec,
    params: QueryParams,
    *,
    secret: str,
    fixed: Sequence[str] = (),
    path: str = "",
    columns: Sequence[str] = (),
) -> ListQuery:
    """Read and validate the query string against `spec`; raise ProblemError on anything else.

    `fixed` names filters set by the URL path (a nested view), which the query may not repeat.
    `path` is the list's URL path; with the filters it scopes the cursors this list issues.
    `columns` are the item's export columns (`place.slug`), which `fields=` also takes.
    """
    for name in {key for key, _ in params.multi_items()}:
        if len(params.getlist(name)) > 1:
            raise parameter_problem(name, "given more than once; use __in for several values")
    filters = [
        _parse_filter(spec, name, raw, fixed)
        for name, raw in params.items()
        if name not in CONTROL_PARAMETERS
    ]
    sort = _parse_sort(spec, params.get("sort"), filters)
    limit = parse_limit(params.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
    fields = _parse_fields(spec, params.get("fields"), columns)
    count = parse_bool("count", params.get("count", "false"))
    scope = orjson.dumps(
        [path, sorted((f.filter.name, f.operator, f.values) for f in filters)], default=str
    )
    query = ListQuery(filters, sort, limit, None, fields, count, scope)
    cursor = params.get("cursor")
    if cursor is not None:
        after, version = decode_cursor(cursor, spec=spec, query=query, secret=secret)
        query = ListQuery(filters, sort, limit, after, fields, count, scope, version)
    return query


def list_controls(spec: ListSpec) -> tuple[str, ...]:
    """Every control a list route takes besides its filters: the query language's, `format`
    and `bom` (exports), `facets` where the list counts by some field, its augmenting
    control (`per`), and `version` and `as_of`, which every data route takes."""
    return (
        *CONTROL_PARAMETERS, "format", "bom", *(("facets",) if spec.facets else ()),
        *((spec.augment.name,) if spec.augment else ()), "version", "as_of",
    )  # fmt: skip


def _unknown(spec: ListSpec, name: str, fixed: Sequence[str]) -> ProblemError:
    filters = sorted({f.name for f in spec.filters} - set(fixed))
    controls = list_controls(spec)
    near = nearest_names(name.partition("__")[0], [*filters, *controls])
    hint = f"; did you mean {' or '.join(near)}?" if near else ""
    return ProblemError(
        400,
        "unknown-parameter",
        f"unknown query parameter {shown(name)}{hint} filters here: {', '.join(filters)};"
        f" controls: {', '.join(controls)}",
        [InvalidParameter(name, f"not a parameter of this endpoint{hint}", suggestions=near)],
    )


def nearest_names(name: str, accepted: Sequence[str]) -> list[str]:
    """The accepted parameter names within two edits of `name` (`indicater`)."""
    folded = name.lower()
    return [a for a in accepted if distance(folded, a, 2) <= 2][:3]


def _parse_filter(spec: ListSpec, name: str, raw: str, fixed: Sequence[str]) -> Condition:
    field_name, separator, operator = name.partition("__")
    operator = operator if separator else "exact"  # `year__` names no operator: refused
    flt = spec.filter(field_name)
    if flt is None or field_name in fixed:
        raise _unknown(spec, name, fixed)
    if operator not in flt.accepted:
        raise ProblemError(
            400,
            "unknown-parameter",
            f"{field_name!r} does not take the operator {operator!r};"
            f" it takes {', '.join(flt.accepted)}",
            [InvalidParameter(name, f"operator {operator!r} not allowed")],
        )
    arity = OPERATORS[operator].arity
    if len(raw) > MAX_VALUE_LENGTH * (MAX_IN_VALUES if arity is Arity.MANY else 1):
        raise parameter_problem(name, "value too long")
    parts = raw.split(",") if arity is Arity.MANY else [raw]
    if len(parts) > MAX_IN_VALUES:
        raise parameter_problem(name, f"at most {MAX_IN_VALUES} values")
    if any(len(part) > MAX_VALUE_LENGTH for part in parts):
        raise parameter_problem(name, f"a value is longer than {MAX_VALUE_LENGTH} characters")
    kind: ValueKind = {Arity.TEXT: str, Arity.FLAG: bool}.get(arity, flt.kind)
    values = [convert(name, part, kind) for part in parts]
    if flt.choices is not None and arity in (Arity.ONE, Arity.MANY):
        unknown = [v for v in values if v not in flt.choices]
        if unknown:
            raise parameter_problem(name, f"{unknown[0]!r} is not one of {', '.join(flt.choices)}")
    return Condition(flt, operator, values)


def _is_control(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F


def convert(name: str, raw: str, kind: ValueKind) -> Any:
    """`raw` read as `kind`, in canonical form only, or a problem naming `name`."""
    text = raw if kind is str else raw.strip()
    if any(_is_control(c) for c in text):
        raise parameter_problem(name, "control characters are not allowed")
    if kind is bool:
        return parse_bool(name, text)
    if text == "":
        raise parameter_problem(name, f"expected {_KIND_NAMES.get(kind, 'a value')}, got nothing")
    canonical = _CANONICAL.get(kind)
    if canonical is not None and not canonical.fullmatch(text):
        raise parameter_problem(name, f"expected {_KIND_NAMES[kind]}, got {shown(raw)}")
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
        raise parameter_problem(name, f"expected {_KIND_NAMES[kind]}, got {shown(raw)}") from None
    return text


def parse_bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise parameter_problem(name, f"expected true or false, got {shown(raw)}")


def _parse_sort(
    spec: ListSpec, raw: str | None, filters: Sequence[Condition]
) -> list[tuple[Sort, bool]]:
    """The sort asked for, or the list's default. A ranked sort (`relevance`, best first
    as `-relevance`) needs the filter whose text it scores by: given that filter and no
    `sort=`, the list is ranked; ties in a ranked sort that ends the order are broken by
    the list's default order."""
    given = {f.filter.name for f in filters if f.operator == "exact"}
    ranked = next((s for s in spec.sorts if s.ranks is not None and s.ranks in given), None)
    if raw is not None:
        names = tuple(raw.split(","))
    elif ranked is not None:
        names = (f"-{ranked.name}", *spec.default_sort)
    else:
        names = spec.default_sort
    result: list[tuple[Sort, bool]] = []
    seen: set[str] = set()
    for item in names:
        descending = item.startswith("-")
        name = item[1:] if descending else item
        sort = spec.sort(name)
        if sort is None:
            allowed = ", ".join(s.name for s in spec.sorts)
            raise parameter_problem("sort", f"cannot sort by {item!r}; sortable fields: {allowed}")
        if sort.ranks is not None and sort.ranks not in given:
            raise parameter_problem(
                "sort",
                f"{item!r} ranks by how well each row matches {sort.ranks}=; give {sort.ranks}="
                " with the text to rank by, or sort by another field",
            )
        if name in seen:
            continue  # named twice: the first occurrence decides, as with fields=
        seen.add(name)
        result.append((sort, descending))
    if not result:
        raise parameter_problem("sort", "name at least one field")
    if result[-1][0].ranks is not None:  # equal scores: in the list's own order
        result.extend(s for s in _parse_sort(spec, None, ()) if s[0].name not in seen)
    return result


def unknown_parameters(names: Sequence[str], allowed: Sequence[str]) -> ProblemError:
    """The 400 for parameters a route with a fixed set does not take, listing every one it
    does (with `version` and `as_of`, which every data route takes) and the nearest to
    each."""
    accepted = [*allowed, "version", "as_of"]
    errors = []
    for name in names:
        near = nearest_names(name, accepted)
        hint = f"; did you mean {' or '.join(near)}?" if near else ""
        errors.append(InvalidParameter(name, f"not a parameter of this endpoint{hint}",
                                     suggestions=near))  # fmt: skip
    return ProblemError(
        400, "unknown-parameter",
        f"unknown query parameter(s) {', '.join(map(shown, names))};"
        f" parameters: {', '.join(accepted)}", errors,
    )  # fmt: skip


def check_names(params: QueryParams, allowed: Sequence[str], once: str) -> None:
    """For an endpoint with a fixed set of parameters: refuse any other (400) and any given
    twice (422, `once` saying why one value is enough)."""
    unknown = sorted({k for k, _ in params.multi_items()} - set(allowed))
    if unknown:
        raise unknown_parameters(unknown, allowed)
    for name in allowed:
        if len(params.getlist(name)) > 1:
            raise parameter_problem(name, once)


def parse_limit(raw: str | None, default: int, maximum: int) -> int:
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw):
        raise parameter_problem(
            "limit", f"expected an integer from 1 to {maximum}, got {shown(raw)}"
        )
    limit = int(raw)
    if not 1 <= limit <= maximum:
        raise parameter_problem("limit", f"expected an integer from 1 to {maximum}, got {limit}")
    return limit


def field_names(spec: ListSpec, columns: Sequence[str]) -> list[str]:
    """What `fields=` takes: the item's fields, and the dotted names of what they hold, as
    an export's header shows them (`place.slug`), with every object on the way (`place`,
    `provenance.source`)."""
    names = dict.fromkeys(spec.fields)
    for column in columns:
        parts = column.split(".")
        if parts[0] in names:
            names.update((".".join(parts[:end]), None) for end in range(2, len(parts) + 1))
    return list(names)


def _parse_fields(
    spec: ListSpec, raw: str | None, columns: Sequence[str]
) -> tuple[str, ...] | None:
    if raw is None:
        return None
    names = tuple(dict.fromkeys(name.strip() for name in raw.split(",")))
    accepted = field_names(spec, columns)
    unknown = [name for name in names if name not in accepted]
    if unknown or not names:
        near = nearest_names(unknown[0], accepted) if unknown else []
        hint = f"; did you mean {' or '.join(near)}?" if near else ""
        why = f"unknown field(s) {', '.join(map(shown, unknown))}{hint}" if unknown else "empty"
        raise ProblemError(
            422,
            "invalid-parameter",
            f"fields: {why}; fields: {', '.join(accepted)}",
            [InvalidParameter("fields", f"{why}; fields: {', '.join(accepted)}", suggestions=near)],
        )
    return names
