"""From a cleaned document to candidate facts: amount, period, subject, indicator, span."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import SQLModel

from app.extract.documents import Document
from app.extract.indicators import Indicators
from app.extract.periods import Dating, date_amount, present_tense
from app.extract.quantities import Amount, find_amounts
from app.extract.subjects import Catalog, Entity, Resolver
from app.models.vocabulary import Qualifier

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”']?\s+(?=[\"“'(]?[A-Za-z0-9])")
_CLAUSE_MARKS = ",;:\u2013\u2014()"
MAX_QUOTE = 200


@dataclass(frozen=True)
class Candidate:
    value: Decimal
    unit: str | None
    stated: str
    qualifier: Qualifier
    start: int  # the quote's span: the clause that states the amount
    end: int
    quote: str
    subject: Entity | None
    indicator: str | None
    period: Dating
    confidence: float

    @property
    def locator(self) -> str:
        return f"char={self.start},{self.end}"


class VocabularyError(RuntimeError):
    """The database cannot give the names and indicators to match against."""


@dataclass(frozen=True)
class Vocabulary:
    """What candidates are matched against: the database's names and indicators."""

    catalog: Catalog
    indicators: Indicators
    units: dict[str, str]

    @classmethod
    def from_database(cls, engine: Engine) -> "Vocabulary":
        table = SQLModel.metadata.tables["indicator"]
        try:
            with engine.connect() as connection:
                units = dict(connection.execute(select(table.c.code, table.c.unit)).all())
                vocabulary = cls(
                    Catalog.from_database(connection), Indicators.from_database(connection), units
                )
        except (OperationalError, ProgrammingError) as exc:
            raise VocabularyError(
                "the database has no places or indicators to match against: run `atlas load`"
            ) from exc
        if not units:
            raise VocabularyError("the database is empty: run `atlas load` first")
        return vocabulary


def extract(document: Document, vocabulary: Vocabulary) -> list[Candidate]:
    catalog, indicators = vocabulary.catalog, vocabulary.indicators
    resolver = Resolver(catalog, document.text, document.body, not document.lowercased)
    candidates = []
    for paragraph in document.body:
        previous: Dating | None = None  # a period stated earlier in the paragraph
        for sentence in sentences(document.text, paragraph):
            text = document.text[sentence[0] : sentence[1]]
            for amount in find_amounts(text):
                candidate = _candidate(document, resolver, indicators, sentence, amount, previous)
                candidates.append(candidate)
            stated = [date_amount(text, 0, document.published_on)]
            previous = _carried(stated[0]) or previous
    return candidates


def _carried(dating: Dating | None) -> Dating | None:
    """A period carried to the next sentences of the paragraph, saying so."""
    if dating is None:
        return None
    said = f" {dating.ambiguity}" if dating.ambiguity else ""
    return Dating(dating.label, f"No period in the sentence; read from the one before.{said}")


def sentences(text: str, paragraph: tuple[int, int]) -> Iterator[tuple[int, int]]:
    """Spans of the sentences of one paragraph."""
    start, end = paragraph
    cursor = start
    for match in _SENTENCE_END.finditer(text, start, end):
        yield cursor, match.start()
        cursor = match.end()
    if cursor < end:
        yield cursor, end


def _candidate(
    document: Document,
    resolver: Resolver,
    indicators: Indicators,
    sentence: tuple[int, int],
    amount: Amount,
    previous: Dating | None,
) -> Candidate:
    offset = sentence[0]
    text = document.text[sentence[0] : sentence[1]]
    start, end = _clause(text, amount)
    subject, named = resolver.subject(sentence, offset + amount.stated_start)
    following = " ".join(text[amount.end :].split()[:3])
    guess = indicators.guess(
        amount.unit, (following, text[start:end], text), subject.kind if subject else None
    )
    period = (
        date_amount(text, amount.stated_start, document.published_on)
        or previous
        or present_tense(text[start:end], document.published_on)
    )
    confidence = 0.4 + 0.2 * (amount.unit is not None) + 0.2 * named + 0.2 * min(guess.score, 1.0)
    return Candidate(
        value=amount.value,
        unit=amount.unit,
        stated=amount.stated,
        qualifier=amount.qualifier,
        start=offset + start,
        end=offset + end,
        quote=text[start:end],
        subject=subject,
        indicator=guess.code,
        period=period,
        confidence=round(confidence, 2),
    )


def _ends_clause(sentence: str, index: int) -> bool:
    """A clause mark, or a full stop that is not a decimal point ("$3.2 billion")."""
    character = sentence[index]
    if character == ".":
        return not sentence[index + 1 : index + 2].isdigit()
    return character in _CLAUSE_MARKS


def _clause(sentence: str, amount: Amount) -> tuple[int, int]:
    """The clause around an amount, from the mark before it to the mark after it."""
    start = amount.start
    while start > 0 and sentence[start - 1] not in _CLAUSE_MARKS:
        start -= 1
    end = amount.end
    while end < len(sentence) and not _ends_clause(sentence, end):
        end += 1
    start = max(start, amount.start - MAX_QUOTE // 2)
    end = min(end, amount.end + MAX_QUOTE // 2)
    while start < amount.start and not sentence[start - 1 : start].isspace() and start > 0:
        start += 1  # not in the middle of a word
    while start < amount.start and sentence[start].isspace():
        start += 1
    while end > amount.end and sentence[end - 1].isspace():
        end -= 1
    return start, end
