"""Relations listed and filtered by either end, and programs covering a place through its
ancestors, over HTTP on both engines."""

import pytest
from fastapi.testclient import TestClient

API = "/api/v1"


def keys(client: TestClient, url: str, field: str = "key") -> list[str]:
    response = client.get(API + url)
    assert response.status_code == 200, response.text
    return [item[field] for item in response.json()["data"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("role=issuer", ["miit-issues-manufacturing-pilot",
                         "ministry-of-finance-issues-manufacturing-pilot"]),
        ("involving=iflytek", ["iflytek-leads-hefei-intelligent-voice"]),
        ("organization=iflytek&role=leading_enterprise", ["iflytek-leads-hefei-intelligent-voice"]),
        ("cluster=hefei-intelligent-voice", ["iflytek-leads-hefei-intelligent-voice"]),
        ("program=manufacturing-city-tech-transformation-pilot&role=issuer",
         ["miit-issues-manufacturing-pilot", "ministry-of-finance-issues-manufacturing-pilot"]),
        ("role=branch&place=united-kingdom", ["crrc-zhuzhou-institute-rd-centers-uk"]),
    ],
)  # fmt: skip
def test_relations_filter_by_either_end(
    client: TestClient, query: str, expected: list[str]
) -> None:
    assert keys(client, f"/relations?{query}") == expected


def test_a_party_that_names_nobody_is_refused(client: TestClient) -> None:
    response = client.get(f"{API}/relations?involving=iflytec")
    assert response.status_code == 422
    assert response.json()["errors"][0]["suggestions"] == ["iflytek"]


def test_relation_items_name_both_ends_and_the_quote(client: TestClient) -> None:
    (item,) = client.get(f"{API}/relations?involving=iflytek").json()["data"]
    assert item["organization"]["slug"] == "iflytek"
    assert item["target_kind"] == "cluster"
    assert item["target"]["slug"] == "hefei-intelligent-voice"
    assert "iflytek" in item["provenance"]["quote"]
    assert len(keys(client, "/relations?limit=500")) == 7


def test_programs_covering_hubei_include_the_national_ones(client: TestClient) -> None:
    covering = keys(client, "/programs?covers=hubei&sort=slug", "slug")
    assert covering == [
        "belt-and-road-initiative", "daye-2024-innovation-action-plan",
        "little-giant-enterprises", "manufacturing-city-tech-transformation-pilot",
        "national-innovative-city",
    ]  # fmt: skip
    assert keys(client, "/programs?within=hubei", "slug") == ["daye-2024-innovation-action-plan"]
    assert "hunan-go-global-strategy" in keys(client, "/programs?covers=hong-kong", "slug")


def test_changzhi_page_shows_its_candidacy(client: TestClient) -> None:
    page = client.get(f"{API}/places/changzhi").json()
    ways = {p["slug"]: p["via"] for p in page["programs_covering"]}
    assert ways["national-innovative-city"] == ["ancestor", "candidate"]
    assert ways["manufacturing-city-tech-transformation-pilot"] == ["ancestor"]
    daye = client.get(f"{API}/cities/daye").json()
    assert {p["slug"]: p["via"] for p in daye["programs_covering"]}[
        "daye-2024-innovation-action-plan"
    ] == ["place"]


def test_a_places_programs_are_listed_once_with_every_way(client: TestClient) -> None:
    """Daye is covered by the little-giant designation as a part of China and as a named
    participant: one entry, both ways."""
    covering = client.get(f"{API}/places/daye").json()["programs_covering"]
    slugs = [p["slug"] for p in covering]
    assert len(slugs) == len(set(slugs))
    assert {p["slug"]: p["via"] for p in covering}["little-giant-enterprises"] == [
        "ancestor", "participant"
    ]  # fmt: skip


def test_programs_covering_a_place_say_how(client: TestClient) -> None:
    page = client.get(f"{API}/programs?covers=daye&sort=slug&fields=slug,via").json()
    assert {p["slug"]: p["via"] for p in page["data"]} == {
        "belt-and-road-initiative": ["ancestor"],
        "daye-2024-innovation-action-plan": ["place"],
        "little-giant-enterprises": ["ancestor", "participant"],
        "manufacturing-city-tech-transformation-pilot": ["ancestor"],
        "national-innovative-city": ["ancestor"],
    }
    plain = client.get(f"{API}/programs?sort=slug").json()["data"]
    assert {p["via"] for p in plain} == {None}  # no covers=, nothing to say
    hubei = {p["slug"]: p["via"] for p in client.get(f"{API}/programs?covers=hubei").json()["data"]}
    assert hubei["daye-2024-innovation-action-plan"] == ["inside"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("covers=changzhi&via=candidate", ["national-innovative-city"]),
        ("covers=daye&via=participant", ["little-giant-enterprises"]),
        ("covers=daye&via__in=place,participant",
         ["daye-2024-innovation-action-plan", "little-giant-enterprises"]),
        ("covers=hubei&via=inside", ["daye-2024-innovation-action-plan"]),
        ("covers=daye&via=candidate", []),
    ],
)  # fmt: skip
def test_via_filters_the_ways_a_place_is_covered(
    client: TestClient, query: str, expected: list[str]
) -> None:
    assert keys(client, f"/programs?{query}&sort=slug", "slug") == expected


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("via=candidate", "via"),
        ("covers__ne=daye&via=candidate", "via"),
        ("covers=daye&via=nearby", "via"),
        ("covers=dyae&via=place", "covers"),
    ],
)
def test_bad_via_names_the_parameter(client: TestClient, query: str, parameter: str) -> None:
    response = client.get(f"{API}/programs?{query}")
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["parameter"] == parameter
