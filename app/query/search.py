"""Name search over the search entries, one interface on both engines.

A query matches an entry when its folded text contains the query, case-folded. The match
is served by a trigram index: on SQLite the FTS5 table `search_entry_fts` (trigram
tokenizer), on PostgreSQL pg_trgm's GIN index on `search_entry.folded`. A trigram index
cannot serve a query shorter than three characters (合肥 is two); those scan the entries,
a few thousand rows. The rank is computed the same way on both engines, so both give the
same answer in the same order: exact name, then name prefix, then name containing the
query, then any other matching name (the slug or code); shorter names first, then by kind
and key. The same score, one number per entry (`relevance`), ranks a list given `q=`
(`/metrics?q=`, `sort=-relevance`): read for the rows the filter chose, by the entries'
(kind, key) index.

A query also matches *squashed*, as values are compared (app.facts.names.squash): without
case, spaces, `-_.'` and a trailing city/county/district/province (市, 县, 区, 省), against
the squashed names the loader adds to `folded`. So "hefei city", "Chang zhi" and
"合肥市" find Hefei and Changzhi; a place's six-digit division code is one of its names. A
name equal to the query once both are squashed ranks as an exact match.
"""

import html
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BindParameter,
    Boolean,
    ColumnElement,
    Integer,
    Select,
    Table,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel import SQLModel

from ..facts.names import DROPPED, SUFFIXES
from ..facts.search import NAME_LENGTH, SEARCHED, Searched
from .spec import RANKED_TEXT, Filter, Lookup, Sort
from .statements import slot

KINDS = tuple(entry.kind for entry in SEARCHED)
COLLECTIONS = {entry.kind: entry.collection for entry in SEARCHED}
MIN_TRIGRAM = 3
TIERS = ("exact", "prefix", "contains", "other")  # how a name matched, best first


def entries() -> Table:
    return SQLModel.metadata.tables["search_entry"]


class NameMatch(ColumnElement[bool]):
    """Entries whose folded names contain the bound query (raw: folded here in SQL)."""

    inherit_cache = True
    type = Boolean()

    def __init__(self, query: ColumnElement[Any]) -> None:
        self.query = query


class _Squashed(ColumnElement[Any]):
    """`text` squashed in SQL: see `squashed`."""

    inherit_cache = True

    def __init__(self, text: ColumnElement[Any]) -> None:
        self.text = text
        self.type = text.type


@compiles(_Squashed)
def _squash(element: _Squashed, compiler: SQLCompiler, **kw: Any) -> str:
    """The folded text is written once, in a derived table, and its suffix cut by name:
    written inline, each of the suffixes' tests repeated the whole chain of replacements
    (41 copies), and a ranked list's statement reached 79 KB and took 124 ms to compile."""
    folded: ColumnElement[Any] = func.lower(element.text)
    for character in DROPPED:  # the characters app.facts.names.squash leaves out
        folded = func.replace(folded, character, "")
    t: ColumnElement[Any] = literal_column("t")
    n: ColumnElement[Any] = literal_column("n")
    cut = case(
        *(((n > len(suffix)) & (func.substr(t, n - len(suffix) + 1) == suffix),
           func.substr(t, 1, n - len(suffix))) for suffix in SUFFIXES),
        else_=t,
    )  # fmt: skip
    return (
        f"(SELECT {compiler.process(cut, **kw)} FROM (SELECT t, length(t) AS n FROM"
        f" (SELECT {compiler.process(folded, **kw)} AS t) AS folded) AS sized)"
    )


def squashed(query: ColumnElement[Any]) -> ColumnElement[Any]:
    """The query squashed in SQL as app.facts.names.squash does in Python (but NFKC)."""
    return _Squashed(query)


def name_matches(query: ColumnElement[Any]) -> ColumnElement[bool]:
    """Entries matching the query as given or squashed (not an empty squash: `-`)."""
    short = squashed(query)
    return or_(NameMatch(query), (func.length(short) > 0) & NameMatch(short))


@compiles(NameMatch, "sqlite")
def _sqlite_match(element: NameMatch, compiler: SQLCompiler, **kw: Any) -> str:
    entry = entries()
    query = element.query
    phrase = literal('"') + func.replace(query, '"', '""') + literal('"')
    fts: Select[Any] = (
        select(literal_column("rowid"))
        .select_from(table("search_entry_fts"))
        .where(literal_column("search_entry_fts").op("MATCH")(phrase))
    )
    condition = case(
        (func.length(query) >= MIN_TRIGRAM, entry.c.id.in_(fts.scalar_subquery())),
        else_=_position(entry.c.folded, func.lower(query)) > 0,  # no wildcards to escape
    )
    return compiler.process(condition, **kw)


@compiles(NameMatch)
def _trigram_match(element: NameMatch, compiler: SQLCompiler, **kw: Any) -> str:
    entry = entries()
    lowered = func.lower(element.query)
    escaped = func.replace(
        func.replace(func.replace(lowered, "\\", "\\\\"), "%", "\\%"), "_", "\\_"
    )
    pattern = literal("%") + escaped + literal("%")
    return compiler.process(entry.c.folded.like(pattern, escape="\\"), **kw)


def matching_ids(kind: str, query: BindParameter[Any], id_label: str = "id") -> Select[Any]:
    """The ids (row ids, or keys for sources) of `kind`'s entries matching `query`."""
    entry = entries()
    ident = entry.c.key if kind == "source" else entry.c.entity_id
    return select(ident.label(id_label)).where(entry.c.kind == kind, name_matches(query))


def _tier(query: ColumnElement[Any]) -> ColumnElement[int]:
    """How an entry's names match the query: 0 the whole name (as given or squashed), 1
    its start, 2 inside it, 3 another of its names (a slug, a code)."""
    entry = entries()
    folded = func.lower(query)
    names = (entry.c.name_folded, entry.c.local_folded)

    def any_name(test: Any) -> ColumnElement[bool]:
        return or_(*(test(column) for column in names))

    short = squashed(query)
    return case(
        (any_name(lambda c: c == folded), 0),
        (any_name(lambda c: squashed(c) == short), 0),  # "hubei province" names Hubei
        (any_name(lambda c: func.substr(c, 1, func.length(folded)) == folded), 1),
        (any_name(lambda c: func.coalesce(_position(c, folded), 0) > 0), 2),
        else_=len(TIERS) - 1,
    )


def _score(tier: ColumnElement[int]) -> ColumnElement[int]:
    """The rank as one number, higher better: the tier, then the shorter name (a name is
    at most NAME_LENGTH characters, so no length outweighs a tier)."""
    score = (len(TIERS) - tier) * (NAME_LENGTH + 1) - func.length(entries().c.name)
    return type_coerce(score, Integer())


def relevance(searched: Searched, key: ColumnElement[Any], query: ColumnElement[Any]) -> Any:
    """How well the row whose key is `key` matches `query`, as `/search` ranks its entry
    (higher better): a scalar subquery on the entries' unique (kind, key) index, read for
    the rows a `q=` filter already chose."""
    entry = entries()
    return (
        select(func.max(_score(_tier(query))))
        .where(entry.c.kind == searched.kind, entry.c.key == key)
        .scalar_subquery()
    )


def search_statement(
    query: BindParameter[Any],
    kinds: Sequence[BindParameter[Any]] | None,
    limit: BindParameter[Any],
) -> Select[Any]:
    entry = entries()
    tier = _tier(query)
    kind_order = case({k: i for i, k in enumerate(KINDS)}, value=entry.c.kind)
    statement = select(
        entry.c.kind, entry.c.key, entry.c.name, entry.c.name_local, tier.label("tier")
    ).where(name_matches(query))
    if kinds is not None:
        statement = statement.where(entry.c.kind.in_(kinds))
    return statement.order_by(_score(tier).desc(), kind_order, entry.c.key).limit(limit)


class _Position(ColumnElement[Any]):
    inherit_cache = True

    def __init__(self, haystack: Any, needle: Any) -> None:
        self.haystack, self.needle = haystack, needle


@compiles(_Position, "sqlite")
def _instr(element: _Position, compiler: SQLCompiler, **kw: Any) -> str:
    haystack, needle = (compiler.process(e, **kw) for e in (element.haystack, element.needle))
    return f"instr({haystack}, {needle})"


@compiles(_Position)
def _strpos(element: _Position, compiler: SQLCompiler, **kw: Any) -> str:
    haystack, needle = (compiler.process(e, **kw) for e in (element.haystack, element.needle))
    return f"strpos({haystack}, {needle})"


def _position(haystack: Any, needle: Any) -> ColumnElement[Any]:
    """Where `needle` first occurs in `haystack` (1-based), 0 when it does not."""
    position = _Position(haystack, needle)
    position.type = Integer()
    return position


def highlight(text: str | None, query: str) -> str | None:
    """`text` HTML-escaped with every match of `query` (case-folded) in <mark>, or None
    when the query does not occur in it."""
    if not text or not query:
        return None
    lowered = text.lower()
    if len(lowered) != len(text):  # folding changed the length: offsets would not line up
        lowered = text
    parts: list[str] = []
    start = 0
    found = lowered.find(query, start)
    if found < 0:
        return None
    while found >= 0:
        parts.append(html.escape(text[start:found]))
        parts.append(f"<mark>{html.escape(text[found : found + len(query)])}</mark>")
        start = found + len(query)
        found = lowered.find(query, start)
    parts.append(html.escape(text[start:]))
    return "".join(parts)


def search_filter(searched: Searched, column: Any, *, ranked: bool = False) -> Filter:
    """`q=` on a list: the rows whose names contain the text, as `/search` matches them;
    `ranked` where the list also offers `relevance_sort`, which its description names."""
    kind = searched.kind
    rank = " Without `sort=`, the best match comes first (`sort=-relevance`)." if ranked else ""
    return Filter(
        "q",
        f"Text in the {kind}'s {searched.text}, as /search matches it.{rank}",
        operators=("exact",),
        column=column,
        lookup=Lookup(ids=lambda keys: matching_ids(kind, keys[0])),
        example=searched.example,
    )


def relevance_sort(searched: Searched, key: ColumnElement[Any]) -> Sort:
    """`sort=relevance` beside `q=`: rows by how well their entry matches the text, scored as
    `/search` ranks (`-relevance`, best first, is the order of a list given `q=` alone)."""
    return Sort("relevance", relevance(searched, key, slot(RANKED_TEXT)), int, ranks="q")
