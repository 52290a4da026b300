"""How a value is compared with a name: the one rule the loader (folded search entries)
and the query layer (refusals, suggestions, search) both apply."""

import unicodedata

# Trailing words a name may carry or leave off, by what they mean in either script.
SUFFIXES = {
    "city": "city", "市": "city", "county": "county", "县": "county",
    "district": "district", "区": "district", "province": "province", "省": "province",
}  # fmt: skip
DROPPED = " \t-_.'\u2019\u00b7"  # characters a squashed name leaves out
_DROPPED = str.maketrans("", "", DROPPED)


def squash(text: str) -> tuple[str, str | None]:
    """A name as values are compared with it: NFKC, lower case, no spaces or `-_.'`, and
    without a trailing city/county/district/province (in English or Chinese), which is
    returned beside it."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_DROPPED)
    for suffix, meaning in SUFFIXES.items():
        if folded.endswith(suffix) and len(folded) > len(suffix):
            return folded[: -len(suffix)], meaning
    return folded, None
