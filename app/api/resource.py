"""What a resource declares: its collection, its path key, its list, its detail, and the
shapes of each. The URL map (app.api) says where each resource is mounted and which nested
views it offers; app.api.routing turns both into routes."""

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Table
from starlette.datastructures import QueryParams

from ..facts.search import Searched
from ..query import ListSpec

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"


@dataclass(frozen=True)
class PathKey:
    """The path segment that names one row (`/cities/{slug}`), validated one way on every
    route that takes it, detail or nested."""

    column: str  # the column of the resource's table the key is
    parameter: str  # its name on the detail route: /cities/{slug}
    nested: str  # its name on the nested routes: /cities/{city_slug}/metrics
    example: str
    max_length: int = 64
    # Another column whose value names the same row (a place's six-digit GB/T 2260 code:
    # no slug is six digits). Accepted wherever the key is.
    alias: str | None = None
    alias_pattern: str | None = None
    # A table of the alias's former values (`former_code`: place_id, code, name_local,
    # year): an old code answers 308 to the row it names today, and says so.
    former: str | None = None
    # The fewest leading characters of the key that name its row when no other row's key
    # starts with them (a release by 12 or more digits of its version); 0: the whole key.
    prefix: int = 0


@dataclass(frozen=True)
class Found:
    """The row a path key named: its id and its canonical key (a slug, not the alias)."""

    id: Any
    key: str


@dataclass(frozen=True)
class Detail:
    """`/{collection}/{key}`: the row as the list serializes it, read the same way, with
    what `more` adds for it, then `links` (and `counts`) for the nested views the URL map
    gives the resource."""

    model: type[BaseModel]
    summary: str
    description: str
    more: "Callable[[Connection, Found, dict[str, Any], DetailContext], dict[str, Any]] | None" = (
        None
    )
    counts: bool = False  # whether the body counts the rows of each nested view


@dataclass(frozen=True)
class Tag:
    """A group of operations in the OpenAPI document, with what it holds."""

    name: str
    description: str


@dataclass(frozen=True)
class Resource:
    name: str  # the collection: /cities
    noun: str  # one of it: "city", in summaries, operation ids and 404s
    tag: Tag
    table: Table
    spec: ListSpec
    page: type[BaseModel]
    summary: str
    description: str
    # Its entries in the name search (None: not searched by name). Stated, not defaulted,
    # so a new resource cannot leave `q=` and `/search` blind to it in silence.
    search: Searched | None
    key: PathKey | None = None  # None: no detail and no nested views
    detail: Detail | None = None
    # Its items' surrogate key in shared caches (`place:hefei`; cities are places); the
    # noun unless said otherwise. Only a resource with a path key has items to purge.
    item_key: str = ""

    @property
    def cache_item(self) -> str | None:
        return (self.item_key or self.noun) if self.key is not None else None

    @property
    def path_key(self) -> PathKey:
        assert self.key is not None, f"{self.name} has no path key"
        return self.key


@dataclass(frozen=True)
class Nested:
    """`/{parent}/{key}/{child}`: the child's list with its `filter` fixed to the key."""

    child: Resource
    filter: str
    summary: str = ""  # "List a city's metrics" unless said otherwise


@dataclass(frozen=True)
class View:
    """`/{parent}/{key}/{name}`: an answer computed about one row (a place's standings, the
    change to a metric). The key is checked and found as on every route that takes it;
    `check` refuses bad parameters before any database is chosen, `answer` reads the body."""

    name: str
    model: type[BaseModel]
    returns: str  # what the 200 holds, in a few words
    summary: str
    description: str
    parameters: list[dict[str, Any]]
    check: Callable[[QueryParams], object]
    answer: Callable[[Connection, Found, QueryParams, str], dict[str, Any]]
    shape: Callable[[QueryParams], tuple[Hashable, ...]]  # requests alike share a budget
    cost: str  # what is read, for a budget's message: "standings of {key}"
    # The model of a row of `data`, for a view that is a list of rows: it then also answers
    # CSV and NDJSON (`format=`), a row per item (app.api.answer_exports).
    rows: type[BaseModel] | None = None


@dataclass(frozen=True)
class Mount:
    """A resource in the URL map, with the nested lists and views it offers."""

    resource: Resource
    nested: tuple[Nested, ...] = ()
    views: tuple[View, ...] = ()


@dataclass(frozen=True)
class DetailContext:
    """What a detail reader may ask of the URL map: the rows of its nested views."""

    views: dict[str, Nested] = field(default_factory=dict)
    version: str = "unversioned"  # the dataset's version (citations name it)
