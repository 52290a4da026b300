"""The explorer at `/`: browsers get its page, API clients the JSON index.

The page and its assets are built from frontend/explorer (TypeScript, Vite) into
app/static/explorer and committed, so serving them needs no Node.
"""

from functools import lru_cache
from pathlib import Path

EXPLORER_PAGE = Path(__file__).parent / "static" / "explorer" / "index.html"
JSON_TYPES = ("application/json", "application/problem+json")


@lru_cache(maxsize=1)
def explorer_page() -> bytes:
    return EXPLORER_PAGE.read_bytes()


def _weights(accept: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for item in accept.split(","):
        media_range, *parameters = (part.strip() for part in item.split(";"))
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        media_range = media_range.lower()
        weights[media_range] = max(q, weights.get(media_range, 0.0))
    return weights


def prefers_html(accept: str | None) -> bool:
    """True when the client ranks HTML above JSON, as browsers do (`text/html,…,*/*;q=0.8`).
    A tie, `*/*` alone, or no Accept header at all gets JSON: API clients keep the index."""
    if not accept:
        return False
    weights = _weights(accept)
    html = weights.get("text/html", 0.0)
    json = max(
        [weights.get(t, 0.0) for t in JSON_TYPES]
        + [weights.get("application/*", 0.0), weights.get("*/*", 0.0)]
    )
    return html > json
