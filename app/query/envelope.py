"""A page as JSON (its items, what was asked and the link to the next page), and a query as
a refusal names it."""

from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import URL

from .spec import ListQuery, Page, field_heads


def page_body(request_url: URL, query: ListQuery, page: Page) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "returned": len(page.items),
        "limit": query.limit,
        "sort": [("-" if desc else "") + s.name for s, desc in query.sort],
        "filters": [f.describe() for f in query.filters],
        "next_cursor": page.next_cursor,
    }
    if query.fields is not None:
        meta["fields"] = list(dict.fromkeys(field_heads(query.fields)))  # what items hold
    if page.total is not None:
        meta["total"] = page.total
        meta["total_relation"] = "eq" if page.total_exact else "gte"
    next_url = next_link(request_url, page.next_cursor) if page.next_cursor else None
    return {"data": page.items, "meta": meta, "links": {"self": str(request_url), "next": next_url}}


def next_link(url: URL, cursor: str) -> str:
    """`url` with `cursor=` in place of any it had, last; the rest re-encoded as Starlette's
    `include_query_params` does, which parsed and re-encoded the query on every page (a
    tenth of a common page's CPU). The rest is remembered per query string."""
    rest = _without_cursor(url.query)
    cursor_param = urlencode([("cursor", cursor)])
    return str(url.replace(query=f"{rest}&{cursor_param}" if rest else cursor_param))


@lru_cache(maxsize=512)
def _without_cursor(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(name, value) for name, value in pairs if name != "cursor"])


def describe_cost(query: ListQuery) -> str:
    """The filters and sort of a query, as a refusal names them."""
    filters = ", ".join(f.parameter for f in query.filters) or "none"
    return f"filters: {filters}; sort: {query.sort_signature}"
