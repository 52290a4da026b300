"""Runtime settings, read once from the environment (and an optional `.env`)."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from platformdirs import user_data_dir
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .locations import installed, shipped

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_data_dir() -> Path:
    """Where the SQLite database and generated files go unless a setting says otherwise: the
    checkout's `var/` (what `make run` uses), or, for an installed package, the user's data
    directory (`~/.local/share/innovation-atlas` on Linux, `$XDG_DATA_HOME` when set)."""
    if installed():
        return Path(user_data_dir("innovation-atlas", appauthor=False))
    return PROJECT_ROOT / "var"


def _default_documents_dir() -> Path | None:
    if installed():  # the raw documents are beside a checkout, never in a package
        return None
    candidate = PROJECT_ROOT.parent / "shared" / "seeds"
    return candidate if candidate.is_dir() else None


Milliseconds = Annotated[int, Field(ge=1)]
Seconds = Annotated[float, Field(gt=0)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATLAS_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Directory of the default SQLite database and of generated files.",
    )
    database_url: str = Field(
        default_factory=lambda given: f"sqlite:///{given['data_dir'] / 'atlas.db'}",
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL of the database; `atlas.db` in the data directory by default.",
    )
    releases_dir: Path = Field(
        default_factory=lambda given: given["data_dir"] / "releases",
        description="Where `atlas load` writes each release's files (a folder per version)"
        " and the API serves them from; `releases` in the data directory by default.",
    )
    archives_dir: Path = Field(
        default_factory=lambda given: given["data_dir"] / "archives",
        description="Where `atlas load` keeps each kept release as the rows the next one"
        " changed, and the API restores it whole, so that a request pinned to it"
        " (`version=`, `as_of=`, a cursor) is answered as it was; `archives` in the data"
        " directory by default.",
    )
    keep_releases: int = Field(
        default=10,
        ge=1,
        description="How many releases, the newest, stay queryable; a request for an older"
        " one is a 410 naming the oldest kept.",
    )
    restore_wait_ms: int = Field(
        default=2000,
        ge=0,
        description="How long a request pinned to a kept release waits for its restore (a"
        " whole database rebuilt, seconds of work) before answering 503 with Retry-After; the"
        " restore goes on, and the request after it is served.",
    )
    seeds_dir: Path = Field(default_factory=lambda: shipped("seeds"))
    documents_dir: Path | None = Field(default_factory=_default_documents_dir)
    cors_origins: list[str] = ["*"]
    cursor_secret: str | None = Field(
        default=None,
        description="Key that signs pagination cursors, the same for every worker. Unset:"
        " the random key `atlas load` generated and keeps in the database.",
    )
    pool_size: int = 5
    pool_timeout: float = 5.0
    db_threads: int | None = Field(
        default=None,
        description="Requests using the database at once per worker: default 1 on SQLite"
        " (its driver convoys on the GIL), the pool size on PostgreSQL.",
    )
    cache_max_age: int = Field(
        default=60,
        ge=0,
        description="Seconds a shared cache or browser may reuse a successful response: the"
        " bound on how long a load takes to be seen through a cache.",
    )
    cache_stale_while_revalidate: int = Field(
        default=30,
        ge=0,
        description="Seconds past max-age a cache may answer with the old response while it"
        " fetches the new one in the background.",
    )
    cache_stale_if_error: int = Field(
        default=86400,
        ge=0,
        description="Seconds past max-age a cache may answer with the old response while the"
        " API is failing (5xx or unreachable).",
    )
    cache_problem_max_age: int = Field(
        default=10,
        ge=0,
        description="Seconds a cache may reuse a 400, 404 or 410, which are the same answer"
        " until the data changes; 0 stores none. Other errors are never stored.",
    )
    purge_url: str | None = Field(
        default=None,
        description="Called by `atlas load` after a load that changed the data: a POST with"
        " the surrogate keys to purge in `Surrogate-Key`, for a cache or CDN that purges by"
        " key. Unset: the keys are printed and caches see the load within max-age.",
    )
    public_url: str | None = Field(
        default=None,
        description="The API's address as clients use it (`https://atlas.example.org`, no"
        " path): when set, the only base of absolute links, whatever Host or forwarded"
        " headers a request carries. Unset: links follow the request's Host and scheme.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of reverse proxies whose"
        " X-Forwarded-Proto and X-Forwarded-For headers are believed (uvicorn's"
        " forwarded_allow_ips), so links carry the scheme the client used; `*` trusts any"
        " peer. Empty (the default): forwarded headers are ignored.",
    )
    fast_budget_ms: Milliseconds = Field(
        default=100,
        description="Time a request's statements may take in the fast lane before the request"
        " is moved to the slow lane.",
    )
    inline_budget_ms: int = Field(
        default=10,
        ge=0,
        description="On SQLite, time a request seen to be quick (a quarter of this in the fast"
        " lane) may take on the event loop's own thread (no thread hop) before it is stopped"
        " and run again in the fast lane. 0: every request runs in a lane's threads.",
    )
    query_budget_ms: Milliseconds = Field(
        default=1000,
        description="Time a request's statements may take in the slow lane before it is"
        " refused as too expensive (422, query-too-expensive).",
    )
    slow_threads: int = Field(
        default=1, ge=1, description="Requests running in the slow lane at once per worker."
    )
    head_timeout: Seconds = Field(
        default=10.0,
        description="Seconds a connection has to deliver a complete request head, counted from"
        " accept, then from the first byte of each later head on a keep-alive connection.",
    )
    keep_alive_timeout: Seconds = Field(
        default=15.0,
        description="Seconds an idle keep-alive connection is kept for its next request.",
    )
    send_timeout: Seconds = Field(
        default=30.0,
        description="Seconds a response may stay stalled on a client that reads nothing.",
    )
    export_slots: int = Field(
        default=4,
        ge=1,
        description="CSV and NDJSON exports one worker streams at once; one more is refused"
        " with 429 and Retry-After.",
    )
    replica_urls: str = Field(
        default="",
        description="Comma-separated URLs of PostgreSQL streaming replicas (the forms"
        " DATABASE_URL takes) that serve reads; loads always go to DATABASE_URL. Empty: every"
        " read goes to DATABASE_URL.",
    )
    replica_max_lag_ms: int = Field(
        default=5000,
        ge=0,
        description="A replica further behind its primary than this (WAL replay) is skipped.",
    )
    version_refresh_ms: int = Field(
        default=1000,
        ge=50,
        description="How often each worker checks every database: reachable, its replay lag"
        " and its dataset version. A 304 is answered from the last check, so a load shows in"
        " validators within this (see docs/operations.md, Read replicas and consistency).",
    )
    max_connections: int | None = Field(
        default=None,
        ge=1,
        description="Open connections per worker; default and ceiling: the open-files limit"
        " less a margin for the database, files and refusals.",
    )

    @property
    def replicas(self) -> list[str]:
        """The replicas' URLs, in the driver's form."""
        return [with_driver(url.strip()) for url in self.replica_urls.split(",") if url.strip()]

    @field_validator("public_url")
    @classmethod
    def _origin_only(cls, url: str | None) -> str | None:
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected http:// or https:// and a host name")
        if parts.path.strip("/") or parts.query or parts.fragment or parts.username:
            raise ValueError("expected a scheme, a host and a port only: no path or query")
        return f"{parts.scheme}://{parts.netloc}"

    @field_validator("database_url")
    @classmethod
    def _normalise_postgres_driver(cls, url: str) -> str:
        return with_driver(url)


def with_driver(url: str) -> str:
    """Accept the plain `postgresql://` form users copy from elsewhere; we speak psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
