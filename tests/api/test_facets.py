"""Facets over HTTP on both engines: counts by value under the list's filters."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

API = "/api/v1"


def facets(client: TestClient, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["meta"]["facets"]
    return result


def counts(result: dict[str, Any], name: str) -> dict[Any, int]:
    return {v["value"]: v["count"] for v in result["counts"][name]["values"]}


def test_hubei_places_by_level_and_province(client: TestClient) -> None:
    result = facets(client, f"{API}/places?province=hubei&facets=level,province&limit=1")
    assert result["rows"] == 117
    assert result["exact"] is True
    level = counts(result, "level")
    assert level["prefecture_city"] == 12
    assert level["province"] == 1
    assert sum(level.values()) == 117
    (hubei,) = result["counts"]["province"]["values"]
    assert hubei == {"value": "hubei", "name": "Hubei", "count": 117}


def test_metric_facets_agree_with_the_filtered_lists(client: TestClient) -> None:
    result = facets(client, f"{API}/metrics?facets=indicator,year,province,derived&limit=1")
    indicator = counts(result, "indicator")
    for code, count in indicator.items():
        listed = client.get(f"{API}/metrics?indicator={code}&limit=500").json()["data"]
        assert len(listed) == count, code
    assert result["rows"] == 36
    assert result["counts"]["indicator"]["truncated"] is True  # 31 indicators, 30 listed
    assert sum(indicator.values()) < 36
    assert None in counts(result, "year")  # undated facts are counted, not dropped
    assert counts(result, "province")["hubei"] == 2
    assert sum(counts(result, "derived").values()) == 36
    assert set(counts(result, "derived")) <= {True, False}  # not 0 and 1 (SQLite)
    assert all(isinstance(v["value"], bool) for v in result["counts"]["derived"]["values"])


def test_facets_follow_filters_and_nested_views(client: TestClient) -> None:
    nested = facets(client, f"{API}/places/hubei/metrics?facets=indicator")
    filtered = facets(client, f"{API}/metrics?province=hubei&facets=indicator")
    assert nested == filtered
    assert counts(nested, "indicator") == {
        "high_tech_enterprises": 1, "high_tech_industry_output_value": 1,
    }  # fmt: skip
    nothing = facets(client, f"{API}/metrics?province=tibet&facets=year")
    assert nothing["rows"] == 0
    assert nothing["counts"]["year"]["values"] == []


def test_facet_values_are_capped(client: TestClient) -> None:
    result = facets(client, f"{API}/places?facets=province&limit=1")
    assert len(result["counts"]["province"]["values"]) == 30
    assert result["counts"]["province"]["truncated"] is True
    values = [v["count"] for v in result["counts"]["province"]["values"]]
    assert values == sorted(values, reverse=True)


@pytest.mark.parametrize(
    "query",
    ["facets=colour", "facets=", "facets=year&facets=indicator",
     "facets=year,indicator,province,place,source,category,qualifier"],
)  # fmt: skip
def test_bad_facets_are_problems(client: TestClient, query: str) -> None:
    response = client.get(f"{API}/metrics?{query}")
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["parameter"] == "facets"
