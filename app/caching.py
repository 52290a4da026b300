"""What shared caches (a CDN, nginx's proxy_cache, Varnish) may do with each response:
`Cache-Control` by kind of response, `Vary`, and surrogate keys naming the resource, the
item and the dataset version a response was read from, so a deployment can purge by key.

Freshness is the bound on staleness: a load is visible through a cache within `max-age`
seconds plus one revalidation (docs/operations.md, "Caching and purging"). Only successes
are served stale (`stale-while-revalidate`, `stale-if-error`); an error is never kept as
if it were the answer, and one that depends on the moment (busy, over budget, database
away) is not kept at all.
"""

import json
import re
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .asgi import header, set_headers
from .paths import API_PREFIX, EXPORT_EXTENSIONS

NO_STORE = "no-store"
# Errors that are the same answer to the same URL until the data changes: a malformed
# parameter or cursor, an unknown slug. Everything else that is not a success (429, 408,
# 422 query-too-expensive, 5xx, 406 and 415, which depend on request headers or content)
# is never stored.
STABLE_PROBLEMS = frozenset({400, 404, 410})
SUCCESS = frozenset({200, 203, 204, 206, 300, 301, 308})
ALL_KEY = "atlas"  # on every response: purging it empties the cache of this API
KEY_TEXT = re.compile(r"[A-Za-z0-9_.-]{1,100}")


@dataclass(frozen=True)
class CachePolicy:
    """Seconds a shared cache may use a response: fresh (`max_age`), stale while it fetches
    the next version in the background, and stale while the API answers errors."""

    max_age: int
    stale_while_revalidate: int
    stale_if_error: int
    problem_max_age: int

    def cache_control(self, status: int) -> str:
        if status in SUCCESS or status == 304:
            directives = [f"public, max-age={self.max_age}"]
            if self.stale_while_revalidate:
                directives.append(f"stale-while-revalidate={self.stale_while_revalidate}")
            if self.stale_if_error:
                directives.append(f"stale-if-error={self.stale_if_error}")
            return ", ".join(directives)
        if status in STABLE_PROBLEMS and self.problem_max_age:
            return f"public, max-age={self.problem_max_age}"
        return NO_STORE


def surrogate_keys(path: str, version: str | None, item_keys: Mapping[str, str]) -> list[str]:
    """Keys naming what a response at `path` shows: `atlas`, the collection (`places`), the
    item (`place:hefei`, by `item_keys`: the URL map's), a nested collection (`clusters`),
    and `dataset:<version>`."""
    keys = [ALL_KEY]
    if path.startswith(API_PREFIX + "/"):
        segments = [s for s in path.removeprefix(API_PREFIX + "/").split("/") if s]
        stem, _, extension = segments[-1].rpartition(".") if segments else ("", "", "")
        if stem and extension in EXPORT_EXTENSIONS:  # an export twin: keyed as its list
            segments[-1] = stem
        if segments and KEY_TEXT.fullmatch(segments[0]):
            keys.append(segments[0])
            item = item_keys.get(segments[0])
            if item and len(segments) > 1 and KEY_TEXT.fullmatch(segments[1]):
                keys.append(f"{item}:{segments[1]}")
            if len(segments) > 2 and KEY_TEXT.fullmatch(segments[2]):
                keys.append(segments[2])
    if version is not None and KEY_TEXT.fullmatch(version):
        keys.append(f"dataset:{version}")
    return keys


class CacheHeadersMiddleware:
    """`Cache-Control` by status (a route's own `no-store` stands), `Vary: Accept` where the
    Accept header picks the representation, and the surrogate keys as `Surrogate-Key`
    (Fastly, Varnish with xkey's `xkey` convention), `xkey` and `Cache-Tag` (Cloudflare,
    comma-separated). Outermost, so it sees every response, refusals included, and the
    dataset version the response itself names."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        policy: CachePolicy,
        negotiated: Callable[[str], bool] = lambda _p: False,
        item_keys: Mapping[str, str],
    ) -> None:
        self.app = app
        self.item_keys = item_keys
        self.policy = policy
        self.negotiated = negotiated

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        cacheable_method = scope["method"] in ("GET", "HEAD")

        async def with_cache_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                if self.negotiated(path) or path == "/":
                    _vary(MutableHeaders(scope=message), "Accept")
                version = header(message, b"x-atlas-dataset-version")
                keys = surrogate_keys(path, version, self.item_keys)
                spaced = " ".join(keys).encode("latin-1")
                chosen = [(b"surrogate-key", spaced), (b"xkey", spaced),
                          (b"cache-tag", ",".join(keys).encode("latin-1"))]  # fmt: skip
                if not cacheable_method:
                    chosen.append((b"cache-control", NO_STORE.encode("latin-1")))
                elif NO_STORE not in (header(message, b"cache-control") or ""):
                    control = self.policy.cache_control(message["status"])
                    chosen.append((b"cache-control", control.encode("latin-1")))
                set_headers(message, chosen)
            await send(message)

        await self.app(scope, receive, with_cache_headers)


def _vary(headers: MutableHeaders, field: str) -> None:
    present = [v.strip().lower() for v in headers.get("vary", "").split(",") if v.strip()]
    if field.lower() not in present:
        headers.add_vary_header(field)


def keys_to_purge(before: str, after: str) -> list[str]:
    """What a load makes stale: every response read from the version it replaced."""
    return [] if before == after else [f"dataset:{before}"]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None  # the 3xx is then raised as an HTTPError: a failed purge


def send_purge(url: str, keys: list[str], version: str, timeout: float = 10.0) -> int:
    """Ask the cache at `url` to drop `keys`: a POST naming them in `Surrogate-Key` (and
    `xkey-purge`, Varnish's xkey convention) and in a JSON body with the new version; the
    cache's status is returned. Only http(s), never redirected, and only a 2xx is a purge:
    anything else raises OSError (urllib opened `file:` URLs and followed redirects, and a
    `file:///etc/passwd` was reported purged)."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise OSError(f"ATLAS_PURGE_URL must be an http:// or https:// URL, not {scheme or 'a'}:")
    body = json.dumps({"surrogate_keys": keys, "dataset_version": version}).encode()
    request = urllib.request.Request(  # noqa: S310  (http or https, checked above)
        url,
        data=body,
        method="POST",
        headers={
            "content-type": "application/json",
            "surrogate-key": " ".join(keys),
            "xkey-purge": " ".join(keys),
        },
    )
    opener = urllib.request.build_opener(_NoRedirects)
    with opener.open(request, timeout=timeout) as response:
        status: int = response.status
    if not 200 <= status < 300:
        raise OSError(f"the cache answered HTTP {status}, not a 2xx")
    return status
