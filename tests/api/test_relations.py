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
    ways = {(p["slug"], p["via"]) for p in page["programs_covering"]}
    assert ("national-innovative-city", "candidate") in ways
    assert ("manufacturing-city-tech-transformation-pilot", "ancestor") in ways
    daye = client.get(f"{API}/cities/daye").json()
    assert ("daye-2024-innovation-action-plan", "place") in {
        (p["slug"], p["via"]) for p in daye["programs_covering"]
    }
