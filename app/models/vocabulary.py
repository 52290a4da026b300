"""Closed vocabularies shared by the tables, the seed schema and the API."""

from enum import StrEnum


class SourceKind(StrEnum):
    document = "document"
    table = "table"  # a published statistical table, committed as CSV under seeds/tables/
    reference = "reference"
    synthetic = "synthetic"


class CodeChange(StrEnum):
    """How a division under a former code relates to the place it names today."""

    recoded = "recoded"  # the same division under a new code or name
    merged = "merged"  # part of the place, with other divisions
    split_among = "split"  # shared among several places (`split`: a name str has)


class PlaceLevel(StrEnum):
    country = "country"
    province = "province"
    municipality = "municipality"
    sar = "sar"
    prefecture_city = "prefecture_city"
    prefecture = "prefecture"
    county_city = "county_city"
    county = "county"
    district = "district"


CITY_LEVELS = (PlaceLevel.municipality, PlaceLevel.prefecture_city, PlaceLevel.county_city)
PROVINCE_LEVELS = (PlaceLevel.province, PlaceLevel.municipality, PlaceLevel.sar)


class Unit(StrEnum):
    """The unit an indicator's values are normalized to. (Upper-case names: `count` would
    shadow `str.count`.)"""

    CNY = "CNY"
    COUNT = "count"
    PERCENT = "percent"
    PERCENTAGE_POINT = "percentage_point"
    RANK = "rank"
    PERSON_YEARS = "person_years"  # full-time equivalent work (人年)
    RATIO = "ratio"  # a ratio the indicator defines, such as males per 100 females


class Qualifier(StrEnum):
    exact = "exact"
    approximate = "approximate"
    more_than = "more_than"
    at_least = "at_least"
    less_than = "less_than"
    up_to = "up_to"


class PeriodPrecision(StrEnum):
    day = "day"
    month = "month"
    year = "year"
    range = "range"
    unknown = "unknown"


class SubjectKind(StrEnum):
    place = "place"
    cluster = "cluster"
    program = "program"


class OrganizationKind(StrEnum):
    enterprise = "enterprise"
    university = "university"
    institute = "institute"
    agency = "agency"
    platform = "platform"


class ClusterStatus(StrEnum):
    established = "established"
    developing = "developing"
    aspired = "aspired"


class ProgramKind(StrEnum):
    pilot = "pilot"
    plan = "plan"
    strategy = "strategy"
    designation = "designation"
    project = "project"


class RelationRole(StrEnum):
    partner = "partner"
    branch = "branch"
    leading_enterprise = "leading_enterprise"
    issuer = "issuer"
    publisher = "publisher"
    platform = "platform"
    data_source = "data_source"


class CoverageVia(StrEnum):
    """How a program covers a place: located at it, at a place inside it, at a place
    containing it, or linked to it or a place around it in one of the link's roles."""

    place = "place"
    inside = "inside"
    ancestor = "ancestor"
    candidate = "candidate"
    participant = "participant"
    scope = "scope"


class ProgramPlaceRole(StrEnum):
    candidate = "candidate"
    participant = "participant"
    scope = "scope"


class ChangeKind(StrEnum):
    """What a load did to a row, in a release's change log."""

    added = "added"
    changed = "changed"
    retracted = "retracted"


def check_in(column: str, values: type[StrEnum]) -> str:
    """SQL of a CHECK keeping `column` in the vocabulary (our constants, never input)."""
    quoted = ", ".join(f"'{member.value}'" for member in values)
    return f"{column} IN ({quoted})"
