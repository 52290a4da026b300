"""What an amount is about: the place, cluster or program the text most likely means.

Names come from the database (places with their reference divisions, clusters, programs),
each with aliases: "Xuhui District" is also "Xuhui"; a cluster is named by its
sector followed by "cluster" or "industry"; a program named in full is then also "the
pilot", "the plan", ... (its kind). "The city", "the district" and "the province" mean
the last place of that level mentioned before. An amount's subject is the nearest mention
before it in its sentence; failing that, the document's focus (its most mentioned
subject).
"""

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select
from sqlmodel import SQLModel

from ..models.vocabulary import CITY_LEVELS, PROVINCE_LEVELS, PlaceLevel
from ..seeding.divisions import DIVISIONS_SOURCE

_SUFFIXES = re.compile(
    r"\s+(?:district|county|city|province|prefecture|league|banner|autonomous\s+\w+(?:\s+\w+)?"
    r"|special administrative region|municipality)$",
    re.I,
)
_LEVEL_NOUNS: dict[str, tuple[str, ...]] = {
    "city": tuple(level.value for level in CITY_LEVELS),
    "district": (PlaceLevel.district.value,),
    "county": (PlaceLevel.county.value, PlaceLevel.county_city.value),
    "province": tuple(level.value for level in PROVINCE_LEVELS),
    "country": (PlaceLevel.country.value,),
}
_GENERIC = re.compile(r"\b(?:the|this|that|its|each)\s+(city|district|county|province|country)\b")
_LEVEL_RANK = {level.value: rank for rank, level in enumerate(PlaceLevel)}


@dataclass(frozen=True)
class Entity:
    kind: str  # place, cluster or program
    slug: str
    name: str
    level: str | None = None  # a place's level
    kind_word: str | None = None  # a program's kind ("pilot", "plan")
    ancestors: tuple[str, ...] = ()  # a place's ancestors, a cluster's or program's place
    curated: bool = False  # from a document, not only the reference divisions


def trie_pattern(words: Iterable[str]) -> str:
    """A regular expression matching any of `words`, longest first, with their common
    prefixes factored out: at each position the engine follows one branch per character.
    The plain alternation of 3,300 names tried every one of them at every position, about
    14 s a megabyte; this is linear in the text with a small constant."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for character in word:
            node = node.setdefault(character, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(c) + emit(child) for c, child in sorted(node.items()) if c]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body  # greedy: the longer name first

    return "(?:" + emit(trie) + ")"


@dataclass
class Catalog:
    """The names a document's words are matched against."""

    entities: list[Entity]
    aliases: dict[str, list[Entity]] = field(default_factory=dict)
    pattern: re.Pattern[str] | None = None

    def __post_init__(self) -> None:
        for entity in self.entities:
            for alias in _aliases(entity):
                self.aliases.setdefault(alias.casefold(), []).append(entity)
        if self.aliases:
            self.pattern = re.compile(
                r"(?<![\w-])" + trie_pattern(self.aliases) + r"(?![\w-])", re.I
            )

    @classmethod
    def from_database(cls, connection: Connection) -> "Catalog":
        tables = SQLModel.metadata.tables
        place, ancestor = tables["place"], tables["place_ancestor"]
        slugs = dict(connection.execute(select(place.c.id, place.c.slug)).all())
        up: dict[int, list[int]] = {}
        for place_id, ancestor_id, depth in connection.execute(
            select(ancestor.c.place_id, ancestor.c.ancestor_id, ancestor.c.depth)
        ):
            if depth > 0:
                up.setdefault(place_id, []).append(ancestor_id)
        entities = [
            Entity(
                "place",
                slug,
                name,
                level=level,
                ancestors=tuple(slugs[a] for a in up.get(place_id, [])),
                curated=source_id != DIVISIONS_SOURCE,
            )
            for place_id, slug, name, level, source_id in connection.execute(
                select(place.c.id, place.c.slug, place.c.name, place.c.level, place.c.source_id)
            )
        ]
        cluster, program = tables["cluster"], tables["program"]
        for slug, sector, place_id in connection.execute(
            select(cluster.c.slug, cluster.c.sector, cluster.c.place_id)
        ):
            entities.append(
                Entity("cluster", slug, sector, ancestors=(slugs[place_id],), curated=True)
            )
        for slug, name, kind, place_id in connection.execute(
            select(program.c.slug, program.c.name, program.c.kind, program.c.place_id)
        ):
            entities.append(
                Entity(
                    "program",
                    slug,
                    name,
                    kind_word=kind,
                    ancestors=(slugs[place_id],),
                    curated=True,
                )
            )
        return cls(entities)


def _aliases(entity: Entity) -> Iterable[str]:
    if entity.kind == "cluster":
        for noun in ("cluster", "clusters", "industry", "industries"):
            yield f"{entity.name} {noun}"
        return
    yield entity.name
    if entity.kind == "place":
        bare = _SUFFIXES.sub("", entity.name)
        minimum = 4 if _LEVEL_RANK.get(entity.level or "", 0) <= _LEVEL_RANK["prefecture"] else 5
        if bare != entity.name and len(bare) >= minimum:
            yield bare
        if entity.level in _LEVEL_NOUNS["province"] and entity.level != "country":
            yield f"{bare} province"


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    entity: Entity


class Resolver:
    """Finds the mentions in one document and answers "what is this amount about?"."""

    def __init__(self, catalog: Catalog, text: str, body: list[tuple[int, int]], cased: bool):
        self.catalog = catalog
        self.text = text
        self.mentions = self._find(body, cased)
        self.starts = [m.start for m in self.mentions]
        self.focus = self._focus()

    def _find(self, body: list[tuple[int, int]], cased: bool) -> list[Mention]:
        if self.catalog.pattern is None:
            return []
        raw: list[tuple[int, int, list[Entity]]] = []
        for start, end in body:
            for match in self.catalog.pattern.finditer(self.text, start, end):
                options = self.catalog.aliases[match.group(0).casefold()]
                proper = all(e.kind == "place" for e in options)
                if cased and proper and not match.group(0)[:1].isupper():
                    continue  # a place's name is capitalized where the text has capitals
                raw.append((match.start(), match.end(), options))
        named = {e.slug for _, _, options in raw for e in options if len(options) == 1}
        mentions = [Mention(s, e, self._choose(options, named)) for s, e, options in raw]
        mentions.extend(self._kind_mentions(body, {m.entity for m in mentions}))
        mentions.extend(self._generic_mentions(body, mentions))
        return sorted(mentions, key=lambda m: m.start)

    @staticmethod
    def _choose(options: list[Entity], named: set[str]) -> Entity:
        """Of places sharing a name, the one whose parents the text names, a curated one,
        or the highest level."""

        def score(entity: Entity) -> tuple[int, int, int]:
            context = sum(1 for a in entity.ancestors if a in named)
            return (context, int(entity.curated), -_LEVEL_RANK.get(entity.level or "", 0))

        return max(options, key=score)

    def _kind_mentions(self, body: list[tuple[int, int]], named: set[Entity]) -> list[Mention]:
        """A program named in full is afterwards "the pilot", "pilot cities", "the plan"."""
        found: list[Mention] = []
        for entity in named:
            if entity.kind != "program" or not entity.kind_word:
                continue
            pattern = re.compile(rf"\b{re.escape(entity.kind_word)}\b", re.I)
            for start, end in body:
                found.extend(
                    Mention(m.start(), m.end(), entity)
                    for m in pattern.finditer(self.text, start, end)
                )
        return found

    def _generic_mentions(
        self, body: list[tuple[int, int]], mentions: list[Mention]
    ) -> list[Mention]:
        """ "The city", "the district": the last place of that level named before."""
        found = []
        lowered = self.text.lower()
        by_end = sorted(mentions, key=lambda m: m.end)
        latest: dict[str, Entity] = {}  # the last mention of each noun's kind seen so far
        seen = 0
        for start, end in body:
            for match in _GENERIC.finditer(lowered, start, end):
                while seen < len(by_end) and by_end[seen].end <= match.start():
                    entity = by_end[seen].entity
                    latest.update({noun: entity for noun in _LEVEL_NOUNS if _fits(entity, noun)})
                    seen += 1
                noun = match.group(1)
                if noun in latest:
                    found.append(Mention(match.start(), match.end(), latest[noun]))
        return found

    def _focus(self) -> Entity | None:
        counts = Counter(m.entity for m in self.mentions if m.entity.kind != "place")
        counts.update(m.entity for m in self.mentions if m.entity.kind == "place")
        if not counts:
            return None
        return max(counts, key=lambda e: (counts[e], e.kind != "place"))

    def subject(self, sentence: tuple[int, int], position: int) -> tuple[Entity | None, bool]:
        """The subject of an amount at `position`, and whether its sentence names it."""
        start, _ = sentence
        low = bisect_left(self.starts, start)
        high = bisect_right(self.starts, position)
        before = [m for m in self.mentions[low:high] if m.end <= position]
        if not before:
            return self.focus, False
        if before[-1].entity.kind != "place":
            return before[-1].entity, True
        places = [m.entity for m in before if m.entity.kind == "place"]
        # "Kunshan, a city in east China's Jiangsu province": the most specific place.
        return max(places, key=lambda e: _LEVEL_RANK.get(e.level or "", 0)), True


def _fits(entity: Entity, noun: str) -> bool:
    if entity.kind == "place":
        return (entity.level or "") in _LEVEL_NOUNS[noun]
    return entity.name.lower().rsplit(" ", 1)[-1] == noun  # "... Sci-tech City"
