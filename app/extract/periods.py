"""Dating an amount from the words around it, against the document's date.

Explicit years win ("in 2019", "by 2020"); a year after "compared with" or "than" is a
baseline, not the period. Relative dates ("last year", "in April", "presently") are
resolved against the dateline and say so; in an undated document they stay unknown.
Present tense with no date is read as the publication (a day for counts, the year for
yearly quantities), and says so.
"""

import re
from dataclasses import dataclass
from datetime import date

_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
_YEAR = re.compile(r"(?<![\d,.])(19\d{2}|20\d{2})(?!\d|[,.]\d)")
_BASELINE = re.compile(r"(?:compared (?:with|to)|than|from|since|over)\s+(?:the\s+)?$", re.I)
_RANGE = re.compile(r"\b(?:from\s+)?(19\d{2}|20\d{2})\s*(?:-|\u2013|to)\s*(19\d{2}|20\d{2})\b")
_CONSECUTIVE = re.compile(
    r"\b(two|three|four|five|six|seven|eight|nine|ten|\d+)\s+(?:consecutive|straight|successive)"
    r"\s+years\b",
    re.I,
)
_COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
_COUNTS |= {"nine": 9, "ten": 10}
_MONTH = re.compile(
    r"\b(?:in|early|mid|late|since|by)\s+(?:early\s+|mid-|late\s+)?(" + "|".join(_MONTHS) + r")\b",
    re.I,
)
_YEARLY = re.compile(r"\b(?:annual|yearly|per year|a year|share|growth|output)\b", re.I)


@dataclass(frozen=True)
class Dating:
    label: str | None
    ambiguity: str | None


def date_amount(sentence: str, position: int, published: date | None) -> Dating | None:
    """The period of an amount at `position` in `sentence`; None when the sentence says
    nothing about time (the caller may carry the previous sentence's period)."""
    years = [
        m for m in _YEAR.finditer(sentence) if not _BASELINE.search(sentence[: m.start()][-30:])
    ]
    consecutive = _CONSECUTIVE.search(sentence, position)
    if consecutive and years and not re.search(r"[,;]", sentence[position : consecutive.start()]):
        last = int(years[-1].group(1))
        word = consecutive.group(1).lower()
        count = int(word) if word.isdigit() else _COUNTS.get(word, 1)
        return Dating(
            f"{last - count + 1}/{last}",
            f'"{consecutive.group(0)}" read as the years up to {last}.',
        )
    span = _RANGE.search(sentence)
    if span and int(span.group(2)) > int(span.group(1)):
        return Dating(f"{span.group(1)}/{span.group(2)}", None)
    if years:
        nearest = min(years, key=lambda m: abs(m.start() - position))
        return Dating(nearest.group(1), None)
    lowered = sentence.lower()
    if "last year" in lowered or "previous year" in lowered:
        return _relative(published, -1, '"Last year"')
    if "this year" in lowered:
        return _relative(published, 0, '"This year"')
    month = _MONTH.search(sentence)
    if month:
        index = _MONTHS.index(month.group(1).lower()) + 1
        if published is None:
            return Dating(None, f'"{month.group(0)}" in an undated document; the year is unknown.')
        year = published.year if index <= published.month else published.year - 1
        return Dating(
            f"{year}-{index:02d}",
            f'"{month.group(0)}" read as {year}, against the publication date {published}.',
        )
    if re.search(r"\b(?:presently|currently|at present|now|so far|to date)\b", lowered):
        return _present(published, sentence)
    return None


def present_tense(sentence: str, published: date | None) -> Dating:
    """The reading of an undated statement: the publication (said as an ambiguity)."""
    return _present(published, sentence)


def _relative(published: date | None, offset: int, words: str) -> Dating:
    if published is None:
        return Dating(None, f"{words} in an undated document; the year cannot be resolved.")
    year = published.year + offset
    return Dating(str(year), f"{words} read as {year}, against the publication date {published}.")


def _present(published: date | None, sentence: str) -> Dating:
    if published is None:
        return Dating(None, "Not dated in the text, and the document is undated.")
    if _YEARLY.search(sentence):
        return Dating(
            str(published.year),
            f"A yearly quantity not dated in the text; read as the publication year"
            f" ({published.year}).",
        )
    return Dating(published.isoformat(), "Not dated in the text; dated to the publication.")
