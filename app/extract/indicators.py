"""Guessing what an amount measures, from the database's own indicators.

Each indicator is scored by the words its name and description share with the words
around the amount (stems, so "enterprises" meets "enterprise"), among the indicators whose
unit the amount can be in. The guess is for a curator to confirm: the score is kept as
part of the candidate's confidence.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlmodel import SQLModel

from ..seeding.quantities import COMPATIBLE_UNITS

_WORD = re.compile(r"[a-z0-9&]+")
_STOP = frozenset(
    (
        *("a", "an", "the", "of", "in", "on", "at", "to", "for", "by", "with", "and", "or"),
        *("its", "their", "it", "is", "was", "were", "be", "been", "has", "have", "had"),
        *("this", "that", "these", "those", "from", "as", "per", "all", "any", "each"),
        *("than", "over", "more", "less", "about", "which", "who"),
    )
)


def stems(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s", "ing", "ed", "al"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


@dataclass(frozen=True)
class Indicator:
    code: str
    unit: str
    for_programs: bool  # a program's terms (category program_terms), not a place's figures
    name_stems: frozenset[str]
    description_stems: frozenset[str]


@dataclass(frozen=True)
class Guess:
    code: str | None
    score: float


class Indicators:
    def __init__(self, indicators: Iterable[Indicator]) -> None:
        self.indicators = list(indicators)

    @classmethod
    def from_database(cls, connection: Connection) -> "Indicators":
        table = SQLModel.metadata.tables["indicator"]
        return cls(
            Indicator(
                code,
                unit,
                category.startswith("program"),
                frozenset(stems(name)),
                frozenset(stems(description)),
            )
            for code, unit, category, name, description in connection.execute(
                select(
                    table.c.code, table.c.unit, table.c.category, table.c.name, table.c.description
                ).order_by(table.c.code)
            )
        )

    def guess(
        self, unit: str | None, context: tuple[str, str, str], subject_kind: str | None
    ) -> Guess:
        """The best indicator for an amount in `unit`; `context` is the words right after
        it, its clause and its sentence, weighted in that order."""
        following, clause, sentence = (stems(text) for text in context)
        best = Guess(None, 0.0)
        for indicator in self.indicators:
            if unit not in COMPATIBLE_UNITS.get(indicator.unit, frozenset()):
                continue
            if indicator.unit == "rank" and unit != "ordinal":
                continue  # a rank is stated as "first", "second"
            name = indicator.name_stems
            if not (following | clause | sentence) & name:
                continue  # nothing in the sentence names what the indicator measures
            score = (
                2.0 * len(following & name)
                + 1.5 * len(clause & name)
                + 1.0 * len(sentence & name)
                + 0.3 * len(sentence & indicator.description_stems)
            )
            score /= 1.0 + 0.1 * len(indicator.name_stems)  # prefer the specific match
            if (subject_kind == "program") != indicator.for_programs:
                score *= 0.5
            if score > best.score:
                best = Guess(indicator.code, score)
        return best
