"""`/search`: places, clusters, programs, organizations, indicators and sources by name, in
English or Chinese, and metrics by the sentence that states them, ranked, with the matched
text marked."""

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from fastapi import Request
from pydantic import Field
from sqlalchemy import Connection
from starlette.datastructures import QueryParams

from ..errors import parameter_problem
from ..facts.search import fold
from ..paths import API_PREFIX
from ..query.parsing import check_names, convert, parse_limit
from ..query.search import COLLECTIONS, KINDS, highlight, search_statement
from ..query.statements import fetch_all, slot
from .dispatch import api_router
from .reads import in_database
from .resource import Tag
from .responses import RawJSON, answers, to_json
from .shapes import Schema, SelfLink


class SearchMatch(Schema):
    field: str = Field(description="name, name_local, or key (slug, code or id).")
    value: str | None
    highlighted: str | None = Field(
        description="The value, HTML-escaped, with each match in <mark>."
    )


if TYPE_CHECKING:
    SearchKind = str
else:  # the kinds of record the search holds (app.facts.search), as one shared schema
    SearchKind = StrEnum("SearchKind", [(kind, kind) for kind in KINDS])


class SearchTier(StrEnum):
    """How a result matched: the whole name, its start, inside it, or by its key."""

    exact = "exact"
    prefix = "prefix"
    contains = "contains"
    other = "other"


class SearchResult(Schema):
    kind: SearchKind
    key: str = Field(description="The slug (code for indicators, id for sources).")
    name: str = Field(description="Its name; a metric's is the quote that states it.")
    name_local: str | None = Field(description="The name in Chinese, null when none is known.")
    rank: int
    match: SearchTier = Field(description="exact, prefix, contains or other (matched by key).")
    matched: list[SearchMatch]
    url: str


class SearchMeta(Schema):
    q: str = Field(description="The query as matched (case-folded).")
    kinds: list[SearchKind]
    returned: int
    limit: int


class SearchPage(Schema):
    data: list[SearchResult]
    meta: SearchMeta
    links: SelfLink


MAX_QUERY = 100
DEFAULT_LIMIT, MAX_LIMIT = 20, 50
PARAMETERS = ("q", "kind", "limit")

SEARCH_TAG = Tag("search", "Names of every kind of record, English and Chinese.")
router = api_router(SEARCH_TAG.name)
SEARCH_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "q",
        "in": "query",
        "required": True,
        "description": "The text to find (one or more characters).",
        "schema": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_QUERY,
            "pattern": r"^[^\x00-\x1f\x7f-\x9f]*\S[^\x00-\x1f\x7f-\x9f]*$",
        },
        "examples": {"english": {"value": "hefei"}, "chinese": {"value": "合肥"}},
    },
    {
        "name": "kind",
        "in": "query",
        "required": False,
        "description": f"Only these kinds (comma-separated): {', '.join(KINDS)}.",
        "schema": {
            "type": "string",
            "pattern": f"^({'|'.join(KINDS)})(,({'|'.join(KINDS)})){{0,{len(KINDS) - 1}}}$",
        },
        "example": "place,cluster",
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": f"At most this many results (1 to {MAX_LIMIT}).",
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_LIMIT,
            "default": DEFAULT_LIMIT,
        },
    },
]  # fmt: skip


def _query(params: QueryParams) -> tuple[str, tuple[str, ...] | None, int]:
    check_names(params, PARAMETERS, "given more than once")
    raw = params.get("q")
    if raw is None:
        raise parameter_problem("q", "required: the text to search for")
    if len(raw) > MAX_QUERY:
        raise parameter_problem("q", f"at most {MAX_QUERY} characters")
    text = fold(convert("q", raw, str)) or ""
    if not text:
        raise parameter_problem("q", "expected text, got nothing")
    kinds: tuple[str, ...] | None = None
    if "kind" in params:
        kinds = tuple(dict.fromkeys(params["kind"].split(",")))
        wrong = [k for k in kinds if k not in KINDS]
        if wrong:
            raise parameter_problem("kind", f"{wrong[0]!r} is not one of {', '.join(KINDS)}")
    return text, kinds, parse_limit(params.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)


def _item(row: dict[str, Any], text: str) -> dict[str, Any]:
    matched = [
        {"field": field, "value": row[field], "highlighted": marked}
        for field in ("name", "name_local")
        if (marked := highlight(row[field], text)) is not None
    ]
    if not matched:  # found by its slug or code
        matched = [
            {"field": "key", "value": row["key"], "highlighted": highlight(row["key"], text)}
        ]
    return {
        "kind": row["kind"],
        "key": row["key"],
        "name": row["name"],
        "name_local": row["name_local"],
        "rank": row["rank"],
        "match": tuple(SearchTier)[row["tier"]],
        "matched": matched,
        "url": f"{API_PREFIX}/{COLLECTIONS[row['kind']]}/{row['key']}",
    }


def run_search(
    connection: Connection, text: str, kinds: tuple[str, ...] | None, limit: int
) -> list[dict[str, Any]]:
    count = None if kinds is None else len(kinds)
    values: dict[str, Any] = {"q": text, "limit": limit}
    if kinds is not None:
        values |= {f"kind{i}": kind for i, kind in enumerate(kinds)}
    rows = fetch_all(
        connection,
        ("search", count),
        lambda: search_statement(
            slot("q"),
            None if count is None else [slot(f"kind{i}") for i in range(count)],
            slot("limit"),
        ),
        values,
    )
    return [_item({**row, "rank": rank}, text) for rank, row in enumerate(rows, start=1)]


@router.get(
    "/search",
    operation_id="search",
    summary="Search by name",
    description=(
        "Places, clusters, programs, organizations, indicators and sources whose names"
        " (English or Chinese, any case) contain `q`, and metrics whose quoted sentence"
        " does (their `name` here is the quote). Ranked: exact name, then names"
        " starting with `q`, then names containing it, then other names (slug, code);"
        " shorter names first. `matched` shows where, with the text in `<mark>` (HTML-escaped)."
        " A place's six-digit division code is one of its names, and `q` also matches with"
        " case, spaces, `-_.'` and a trailing city, county, district or province (市, 县, 区,"
        " 省) left out (`hefei city`, `Chang zhi`): equal so, a name ranks as exact."
    ),
    **answers(SearchPage, 400, 422, 503, description="The best matches, best first.",
              parameters=SEARCH_PARAMETERS),
)  # fmt: skip
async def search(request: Request) -> RawJSON:
    text, kinds, limit = _query(request.query_params)

    def work(connection: Connection) -> bytes:
        items = run_search(connection, text, kinds, limit)
        meta = {"q": text, "kinds": list(kinds or KINDS), "returned": len(items), "limit": limit}
        return to_json({"data": items, "meta": meta, "links": {"self": str(request.url)}})

    shape = ("search", len(text) >= 3, None if kinds is None else len(kinds))
    return RawJSON(await in_database(request, work, shape=shape, cost=f"search for {text!r}"))
