"""What the name search holds: one entry per row of each searched table, read from its key
and its names (a metric's: the sentence of its source that states it), and how a name is
folded for matching. The loader writes the entries by
these declarations (app.seeding.search), `/search` and `q=` read them (app.query.search),
and each searched resource names its declaration (`Resource.search`, checked by a test)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Searched:
    kind: str  # the entry's kind, as `/search?kind=` names it
    collection: str  # where an entry's record lives: /api/v1/{collection}/{key}
    table: str
    key: str  # the column that is the record's key in URLs (slug, code, id)
    name: str  # the column with its name
    name_local: str | None = None  # the column with its name in Chinese, if any
    also: tuple[str, ...] = ()  # other columns a query finds it by (a place's division code)
    example: str = "innovation"  # a query that finds some, for the docs
    # columns of other tables a query finds it by, as (table, column referring to the
    # record's id, column): a place by the division codes it had before
    also_in: tuple[tuple[str, str, str], ...] = ()
    # what `name` holds, in the words of the `q=` filter's documentation
    text: str = "names (English or Chinese, any case)"
    keyed: bool = True  # whether its key is one of its names (a metric's is not: too many)
    only_with: str | None = None  # a column a row must have set to have an entry


SEARCHED: tuple[Searched, ...] = (
    Searched(
        "place",
        "places",
        "place",
        "slug",
        "name",
        "name_local",
        ("code",),
        "hefei",
        also_in=(("former_code", "place_id", "code"),),
    ),
    Searched("cluster", "clusters", "cluster", "slug", "name", example="hefei"),
    Searched("program", "programs", "program", "slug", "name"),
    Searched("organization", "organizations", "organization", "slug", "name"),
    Searched("indicator", "indicators", "indicator", "code", "name"),
    Searched("source", "sources", "source", "id", "title"),
    # Facts stated in a document's sentence, found by its words; a table's cells, whose
    # text is a number, are not.
    Searched("metric", "metrics", "observation", "key", "quote", example="new energy",
             text="quoted sentence (the words of its source that state it, any case)",
             keyed=False, only_with="locator_start"),
)  # fmt: skip
BY_KIND = {entry.kind: entry for entry in SEARCHED}


NAME_LENGTH = 300  # an entry's name as shown; a longer one (a quote) is cut


def shown_name(name: str) -> str:
    return name if len(name) <= NAME_LENGTH else name[: NAME_LENGTH - 1] + "\u2026"


def fold(text: str | None) -> str | None:
    """Names as they are matched: lower-cased, whitespace runs made one space."""
    return None if text is None else " ".join(text.lower().split())
