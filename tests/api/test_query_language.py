"""The query language's parser, table-driven, with no database."""

from datetime import date
from typing import Any

import pytest
from starlette.datastructures import QueryParams

from app.api.metrics import METRIC_SPEC
from app.api.places import CITY_SPEC
from app.api.programs import PROGRAM_SPEC
from app.errors import ProblemError
from app.query import parse_query
from app.query.cursors import decode_cursor, encode_cursor

SECRET = "test-secret"


def parse(query: str, spec: Any = METRIC_SPEC) -> Any:
    return parse_query(spec, QueryParams(query), secret=SECRET)


@pytest.mark.parametrize(
    ("query", "field", "operator", "values"),
    [
        ("year=2023", "year", "exact", [2023]),
        ("year__gt=2020", "year", "gt", [2020]),
        ("year__gte=2020", "year", "gte", [2020]),
        ("year__lt=2020", "year", "lt", [2020]),
        ("year__lte=2020", "year", "lte", [2020]),
        ("year__in=2018,2021", "year", "in", [2018, 2021]),
        ("value__gte=1e9", "value", "gte", [1e9]),
        ("indicator__in=a,b", "indicator", "in", ["a", "b"]),
        ("derived=true", "derived", "exact", [True]),
        ("derived=0", "derived", "exact", [False]),
        ("qualifier=more_than", "qualifier", "exact", ["more_than"]),
    ],
)
def test_filters_parse(query: str, field: str, operator: str, values: list[Any]) -> None:
    (applied,) = parse(query).filters
    assert (applied.filter.name, applied.operator, applied.values) == (field, operator, values)


def test_date_filter_parses_iso_dates() -> None:
    (applied,) = parse("announced__gte=2024-04-01", PROGRAM_SPEC).filters
    assert applied.values == [date(2024, 4, 1)]


def test_contains_is_text_even_on_text_filters() -> None:
    (applied,) = parse("name__contains=Zhou", CITY_SPEC).filters
    assert (applied.operator, applied.values) == ("contains", ["Zhou"])


@pytest.mark.parametrize(
    ("query", "status", "parameter"),
    [
        ("colour=red", 400, "colour"),
        ("year__between=1,2", 400, "year__between"),
        ("indicator__gt=a", 400, "indicator__gt"),
        ("year=twenty", 422, "year"),
        ("year=", 422, "year"),
        ("year=9999999999999999999", 422, "year"),
        ("year=2147483648", 422, "year"),
        ("year__lte=-1000000000000000", 422, "year__lte"),
        ("qualifier=roughly", 422, "qualifier"),
        ("qualifier__in=exact,roughly", 422, "qualifier__in"),
        ("value=nan", 422, "value"),
        ("value=inf", 422, "value"),
        ("derived=maybe", 422, "derived"),
        ("limit=0", 422, "limit"),
        ("limit=-1", 422, "limit"),
        ("limit=501", 422, "limit"),
        ("limit=ten", 422, "limit"),
        ("sort=colour", 422, "sort"),
        ("sort=", 422, "sort"),
        ("fields=key,colour", 422, "fields"),
        ("count=perhaps", 422, "count"),
        ("year=2020&year=2021", 422, "year"),
        ("indicator=a%00b", 422, "indicator"),
        ("year__in=" + ",".join(["1"] * 101), 422, "year__in"),
        ("indicator=" + "x" * 201, 422, "indicator"),
    ],
)
def test_bad_parameters_are_named(query: str, status: int, parameter: str) -> None:
    with pytest.raises(ProblemError) as raised:
        parse(query)
    assert raised.value.status == status
    assert [e.parameter for e in raised.value.errors] == [parameter]


def test_a_sort_field_named_twice_counts_once() -> None:
    assert [(s.name, d) for s, d in parse("sort=-value,year,value").sort] == [
        ("value", True),
        ("year", False),
    ]


def test_sort_defaults_and_directions() -> None:
    assert [(s.name, d) for s, d in parse("").sort] == [("id", False)]
    assert [(s.name, d) for s, d in parse("sort=-value,year").sort] == [
        ("value", True),
        ("year", False),
    ]


def test_cursor_round_trips_and_is_bound_to_resource_and_sort() -> None:
    query = parse("sort=-value")
    version = "02385866a8198f562ceab1dce04590da52ab519cca42e3b99047010ececa5f8e"
    token = encode_cursor(METRIC_SPEC, query, [3.5, 7], SECRET, version)
    decoded = decode_cursor(token, spec=METRIC_SPEC, query=query, secret=SECRET)
    assert decoded == ([3.5, 7], version[:16])  # the version's first 16 digits, exactly
    with pytest.raises(ProblemError, match="not sort=value"):
        decode_cursor(token, spec=METRIC_SPEC, query=parse("sort=value"), secret=SECRET)
    with pytest.raises(ProblemError, match="issued for 'metrics'"):
        decode_cursor(token, spec=CITY_SPEC, query=parse("sort=-value"), secret=SECRET)
    with pytest.raises(ProblemError, match="altered"):
        decode_cursor(token, spec=METRIC_SPEC, query=query, secret="another secret")


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "!!!.???", "ZZZZ.ZZZZ", "é.é"])
def test_malformed_cursors_are_refused(token: str) -> None:
    with pytest.raises(ProblemError) as raised:
        parse(f"cursor={token}")
    assert raised.value.kind == "invalid-cursor"
