"""Finding every stated amount in a text: its number, scale, unit and qualifier.

"over 12 percent", "4.5 billion yuan", "seven", "no more than 80 million RMB", "ranked
third". Years, dates, times, durations ("three straight years", "500 years ago"), numbers
inside names ("5G", "COVID-19") and currency conversions in brackets are not
amounts. The qualifier words are the loader's own (QUALIFIER_CUES), so a draft's
qualifier always passes its check.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from ..models.vocabulary import Qualifier
from ..seeding.checks import QUALIFIER_CUES

NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
}  # fmt: skip
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10,
}  # fmt: skip
SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_MONEY = {"rmb": "CNY", "yuan": "CNY", "cny": "CNY", "$": "USD", "us$": "USD", "dollars": "USD"}

_CUE_TO_QUALIFIER = sorted(
    ((cue, qualifier) for qualifier, cues in QUALIFIER_CUES.items() for cue in cues),
    key=lambda item: -len(item[0]),  # "no more than" before "more than"
)
_QUALIFIER = "|".join(re.escape(cue) for cue, _ in _CUE_TO_QUALIFIER)
_NUMERAL = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_WORD = "|".join(NUMBER_WORDS)
_AMOUNT = re.compile(
    rf"(?:(?P<qualifier>{_QUALIFIER})\s+)?"
    rf"(?P<stated>(?P<currency>us\$|\$)?(?P<number>{_NUMERAL}|\b(?:{_WORD})\b)"
    r"(?:\s+(?P<scale>thousand|million|billion|trillion)\b)?"
    r"(?:\s*(?P<unit>percentage points?\b|percent\b|%|rmb\b|yuan\b|cny\b|dollars\b))?)",
    re.I,
)
_RANK = re.compile(
    r"\b(?:rank(?:s|ed|ing)?|placed|came)\s+(?:\w+\s+){0,2}?(?P<stated>"
    + "|".join(ORDINALS)
    + r")\b",
    re.I,
)
_DURATION = re.compile(
    r"^\s*(?:consecutive\s+|straight\s+|successive\s+)?(?:years?|months?|weeks?|days?|decades?"
    r"|quarters?|centuries|times|hours?|minutes?)\b",
    re.I,
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_PARTITIVE = re.compile(r"^\s*(?:of|or|another|and|to|by|another|in|on|at)\b", re.I)


@dataclass(frozen=True)
class Amount:
    start: int  # the qualifier's start, or the number's
    end: int
    stated: str  # as the text states it: "45.2 billion RMB", "nine", "first"
    value: Decimal
    unit: str | None  # CNY, USD, percent, percentage_point, ordinal, or None (a count)
    qualifier: Qualifier
    stated_start: int


def find_amounts(text: str) -> Iterator[Amount]:
    """Every amount in `text`, in order."""
    found = [a for a in (_amount(m, text) for m in _AMOUNT.finditer(text)) if a is not None]
    found.extend(_rank(m) for m in _RANK.finditer(text))
    yield from sorted(found, key=lambda a: a.start)


def _qualifier(word: str | None) -> Qualifier:
    if word is None:
        return Qualifier.exact
    lowered = " ".join(word.lower().split())
    return next(q for cue, q in _CUE_TO_QUALIFIER if cue == lowered)


def _amount(match: re.Match[str], text: str) -> Amount | None:
    number, scale, unit, currency = match.group("number", "scale", "unit", "currency")
    start, end = match.span("stated")
    before, after = text[max(0, start - 12) : start], text[end : end + 30]
    word = number.isalpha()
    if _inside_a_token(text, start, end) or _in_a_date(before, after, number):
        return None
    if not (scale or unit or currency) and not word and _is_year(number):
        return None  # a year: a period, not an amount
    if _DURATION.match(after) or re.match(r"^\s*-?(?:year|month|day)s?\b", after, re.I):
        return None
    if word and not _word_is_amount(number, match.group("qualifier"), after):
        return None
    if currency and re.search(r"\(\s*$", before):
        return None  # a conversion in brackets after the amount it converts
    value = Decimal(NUMBER_WORDS[number.lower()]) if word else Decimal(number.replace(",", ""))
    if scale:
        value *= SCALES[scale.lower()]
    stated = match.group("stated")
    return Amount(
        start=match.start(),
        end=end,
        stated=stated,
        value=value,
        unit=_unit(unit, currency),
        qualifier=_qualifier(match.group("qualifier")),
        stated_start=start,
    )


def _rank(match: re.Match[str]) -> Amount:
    start, end = match.span("stated")
    return Amount(
        start=start,
        end=end,
        stated=match.group("stated"),
        value=Decimal(ORDINALS[match.group("stated").lower()]),
        unit="ordinal",
        qualifier=Qualifier.exact,
        stated_start=start,
    )


def _unit(unit: str | None, currency: str | None) -> str | None:
    if currency:
        return "USD"
    if unit is None:
        return None
    lowered = unit.lower()
    if lowered.startswith("percentage point"):
        return "percentage_point"
    if lowered in ("percent", "%"):
        return "percent"
    return _MONEY[lowered]


def _inside_a_token(text: str, start: int, end: int) -> bool:
    """`5g`, `covid-19`, `31st`, `no.3`: a number that is part of a name or code."""
    previous = text[start - 1] if start > 0 else " "
    following = text[end] if end < len(text) else " "
    if previous.isalpha() or previous in "-/#_:" or (previous == "." and start > 1):
        return True
    return (
        following.isalpha() or following in "-/_:" or (following == "." and _digit_after(text, end))
    )


def _digit_after(text: str, index: int) -> bool:
    return index + 1 < len(text) and text[index + 1].isdigit()


def _in_a_date(before: str, after: str, number: str) -> bool:
    if re.search(rf"\b{_MONTH}\s*$", before, re.I) and number.isdigit() and int(number) <= 31:
        return True
    return bool(re.match(rf"^\s*{_MONTH}\b", after, re.I)) and number.isdigit()


def _is_year(number: str) -> bool:
    return number.isdigit() and len(number) == 4 and 1900 <= int(number) <= 2100


def _word_is_amount(number: str, qualifier: str | None, after: str) -> bool:
    """A number word counts things when a noun follows it ("six research parks"); "one"
    only with a qualifier ("at least one"), since it is also a pronoun."""
    if number.lower() == "one" and qualifier is None:
        return False
    if _PARTITIVE.match(after):
        return False
    return bool(re.match(r"^\s+[a-z]", after, re.I))
