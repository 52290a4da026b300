"""A page as JSON (its items, what was asked and the link to the next page), and a query as
a refusal names it."""

from typing import Any

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
    next_url = (
        str(request_url.include_query_params(cursor=page.next_cursor)) if page.next_cursor else None
    )
    return {"data": page.items, "meta": meta, "links": {"self": str(request_url), "next": next_url}}


def describe_cost(query: ListQuery) -> str:
    """The filters and sort of a query, as a refusal names them."""
    filters = ", ".join(f.parameter for f in query.filters) or "none"
    return f"filters: {filters}; sort: {query.sort_signature}"
