"""From a cleaned document to candidate facts: amount, period, subject, indicator, span."""

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import islice

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import SQLModel

from ..models.vocabulary import Qualifier
from .documents import Document, DocumentError
from .indicators import Indicators
from .periods import Dating, date_amount, present_tense
from .quantities import Amount, find_amounts
from .subjects import Catalog, Entity, Resolver

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”']?\s+(?=[\"“'(]?[A-Za-z0-9])")
_CLAUSE_MARKS = ",;:\u2013\u2014()"
MAX_QUOTE = 200
# Bounds that keep extraction linear in the document's length. Each amount is read in a
# window of text around it (its clause, indicator cues and period are all near it), not
# in its whole sentence: "Hefei had " + "1," * N made every amount rescan the sentence,
# 52 s at 25.6 KB. A sentence yields at most MAX_PER_SENTENCE candidates (a real one
# states a handful), and a document gets DEADLINE_SECONDS in all.
WINDOW = 300
MAX_PER_SENTENCE = 24
DEADLINE_SECONDS = 30.0


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


def extract(
    document: Document, vocabulary: Vocabulary, *, deadline_seconds: float = DEADLINE_SECONDS
) -> list[Candidate]:
    """Candidates for every amount the document's body states, in order; DocumentError if
    it takes longer than `deadline_seconds` (no article does)."""
    catalog, indicators = vocabulary.catalog, vocabulary.indicators
    resolver = Resolver(catalog, document.text, document.body, not document.lowercased)
    deadline = time.monotonic() + deadline_seconds
    candidates: list[Candidate] = []
    for paragraph in document.body:
        previous: Dating | None = None  # a period stated earlier in the paragraph
        for sentence in sentences(document.text, paragraph):
            if time.monotonic() > deadline:
                raise DocumentError(
                    f"{document.file_name}: extraction stopped after {deadline_seconds:g} s"
                    f" with {len(candidates)} candidates; it is not an article"
                )
            for amount in islice(_amounts(document.text, sentence), MAX_PER_SENTENCE):
                candidate = _candidate(document, resolver, indicators, amount, previous)
                candidates.append(candidate)
            opening = document.text[sentence[0] : min(sentence[1], sentence[0] + 2 * WINDOW)]
            previous = _carried(date_amount(opening, 0, document.published_on)) or previous
    return candidates


@dataclass(frozen=True)
class _Found:
    """An amount with the window of its sentence it is read in: `amount`'s offsets are
    relative to `window`, which starts at `offset` in the document."""

    amount: Amount
    window: tuple[int, int]

    @property
    def offset(self) -> int:
        return self.window[0]


def _amounts(text: str, sentence: tuple[int, int]) -> Iterator[_Found]:
    """The amounts of a sentence, in order, each with its window. A long sentence is read
    in slices, each with a window of context on both sides; an amount belongs to the slice
    it starts in, so it is seen whole, with its context, and once."""
    start, end = sentence
    step = 8 * WINDOW
    for piece in range(start, end, step):
        low, high = max(start, piece - WINDOW), min(end, piece + step + WINDOW)
        for amount in find_amounts(text[low:high]):
            at = low + amount.start
            if not piece <= at < piece + step:
                continue
            window = (max(start, at - WINDOW), min(end, low + amount.end + WINDOW))
            local = at - window[0]
            shifted = replace(
                amount,
                start=local,
                end=local + amount.end - amount.start,
                stated_start=local + amount.stated_start - amount.start,
            )
            yield _Found(shifted, window)


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
    found: _Found,
    previous: Dating | None,
) -> Candidate:
    amount, offset = found.amount, found.offset
    text = document.text[found.window[0] : found.window[1]]
    start, end = _clause(text, amount)
    subject, named = resolver.subject(found.window, offset + amount.stated_start)
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
