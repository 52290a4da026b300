"""Every resource over HTTP, on both engines, with the filters, sorts and nested views users
reach for."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

API = "/api/v1"


def data(client: TestClient, url: str) -> list[dict[str, Any]]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["data"]
    return items


def keys(client: TestClient, url: str, field: str = "key") -> list[Any]:
    return [item[field] for item in data(client, url)]


def test_metric_carries_everything_without_a_second_request(client: TestClient) -> None:
    (metric,) = data(client, f"{API}/metrics?indicator=high_tech_industry_output_value")
    assert metric["key"] == "daye-high-tech-output-2023"
    assert metric["indicator"] == {
        "code": "high_tech_industry_output_value",
        "name": "High-tech industry output value",
        "unit": "CNY",
    }
    assert metric["subject"]["kind"] == "place"
    assert metric["subject"]["slug"] == "daye"
    assert metric["period"] == {
        "label": "2023", "start": "2023-01-01", "end": "2023-12-31", "precision": "year",
        "year": 2023,
    }  # fmt: skip
    assert metric["value"] == 45_200_000_000
    assert metric["stated"] == "45.2 billion RMB"
    assert metric["qualifier"] == "exact"
    assert metric["derived"] is False
    source = metric["provenance"]["source"]
    assert source["id"] == "std-2024-03-25-daye"
    assert source["publisher"] == "Science and Technology Daily"
    assert source["published_on"] == "2024-03-25"
    assert metric["provenance"]["locator"] == "char=2150,2204"
    assert "45.2 billion RMB" in metric["provenance"]["quote"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("city=daye", {"daye-high-tech-enterprises-2023", "daye-high-tech-output-2023"}),
        ("province=hubei", {"daye-high-tech-enterprises-2023", "daye-high-tech-output-2023"}),
        ("cluster=hefei-intelligent-voice", {
            "hefei-intelligent-voice-revenue-2021",
            "hefei-intelligent-voice-output-growth-2017-2021",
        }),
        ("place=chaoyang-beijing", {
            "chaoyang-featured-clusters-2022", "chaoyang-5g-base-stations-2022",
        }),
        ("city=beijing", {"chaoyang-featured-clusters-2022", "chaoyang-5g-base-stations-2022"}),
        ("indicator=high_tech_enterprises&year=2023", {"daye-high-tech-enterprises-2023"}),
        ("indicator__in=cluster_revenue,5g_base_stations", {
            "hefei-intelligent-voice-revenue-2021", "chaoyang-5g-base-stations-2022",
        }),
        ("year__gt=2022", {
            "daye-high-tech-enterprises-2023", "daye-high-tech-output-2023",
            "manufacturing-pilot-leading-sectors",
            "manufacturing-pilot-digital-transformation-target",
            "manufacturing-pilot-leading-enterprises", "manufacturing-pilot-major-projects",
            "manufacturing-pilot-major-project-threshold", "manufacturing-pilot-max-grant",
        }),
        ("year__lte=2017", {"hunan-private-trade-share-2017"}),
        ("year__lt=2018", {"hunan-private-trade-share-2017"}),
        ("year__gte=2021&year__lte=2021", {"hefei-intelligent-voice-revenue-2021",
                                           "hefei-intelligent-voice-output-growth-2017-2021"}),
        ("year__in=2017,2021&subject_kind=place", {"hunan-private-trade-share-2017"}),
        ("value__gt=100000000000", {
            "hefei-intelligent-voice-revenue-2021", "hunan-foreign-trade-volume-2018",
        }),
        ("value__gte=137800000000&value__lt=310000000000", {
            "hefei-intelligent-voice-revenue-2021",
        }),
        ("qualifier=up_to", {"manufacturing-pilot-max-grant"}),
        ("qualifier__in=approximate,at_least&derived=false", {
            "manufacturing-pilot-leading-sectors", "manufacturing-pilot-leading-enterprises",
            "manufacturing-pilot-major-projects",
        }),
        ("derived=true&province=shanxi", {
            "changzhi-innovation-platforms-total", "changzhi-enterprise-rd-investment-previous",
            "changzhi-high-tech-enterprises-before",
        }),
        ("source=std-2024-03-25-daye", {"daye-high-tech-enterprises-2023",
                                        "daye-high-tech-output-2023"}),
        ("program=manufacturing-city-tech-transformation-pilot&value__lte=1", {
            "manufacturing-pilot-leading-enterprises", "manufacturing-pilot-major-projects",
        }),
        ("category=trade&year=2018&value__lt=2", {"hunan-private-trade-share-change-2018"}),
    ],
)  # fmt: skip
def test_metric_filters(client: TestClient, query: str, expected: set[str]) -> None:
    assert set(keys(client, f"{API}/metrics?{query}&limit=500")) == expected


def test_contains_is_case_insensitive_and_literal(client: TestClient) -> None:
    names = keys(client, f"{API}/cities?name__contains=ZHOU&province=hunan&sort=slug", "slug")
    assert names == ["chenzhou", "yongzhou", "zhuzhou"]
    assert keys(client, f"{API}/cities?name__contains=%25", "slug") == []
    assert keys(client, f"{API}/cities?name__contains=_", "slug") == []


def test_sort_descending_with_stable_tie_breaker(client: TestClient) -> None:
    values = [m["value"] for m in data(client, f"{API}/metrics?sort=-value&limit=500")]
    assert values == sorted(values, reverse=True)
    tied = keys(client, f"{API}/metrics?value=1&sort=value&limit=500")
    again = keys(client, f"{API}/metrics?value=1&sort=value&limit=500")
    assert len(tied) == 3
    assert tied == again


def test_nulls_sort_last_both_ways(client: TestClient) -> None:
    for direction in ("", "-"):
        years = [
            m["period"]["year"]
            for m in data(client, f"{API}/metrics?sort={direction}year&limit=500")
        ]
        known = [y for y in years if y is not None]
        assert years[: len(known)] == known
        assert all(y is None for y in years[len(known) :])
        assert known == sorted(known, reverse=direction == "-")


def test_field_selection(client: TestClient) -> None:
    items = data(client, f"{API}/metrics?fields=key,value,qualifier&limit=3")
    assert all(set(item) == {"key", "value", "qualifier"} for item in items)


def test_total_count_when_asked(client: TestClient) -> None:
    body = client.get(f"{API}/metrics?province=hunan&limit=2&count=true").json()
    assert body["meta"]["total"] == 9
    assert body["meta"]["returned"] == 2
    assert "total" not in client.get(f"{API}/metrics?province=hunan").json()["meta"]


def test_meta_says_how_the_list_was_filtered_and_sorted(client: TestClient) -> None:
    query = "year__gte=2020&indicator__in=rd_intensity,sex_ratio&sort=-value"
    meta = client.get(f"{API}/metrics?{query}").json()["meta"]
    assert meta["sort"] == ["-value"]
    assert meta["filters"] == [
        {"field": "year", "operator": "gte", "value": 2020},
        {"field": "indicator", "operator": "in", "value": ["rd_intensity", "sex_ratio"]},
    ]


def test_city_detail_shows_province_districts_and_links(client: TestClient) -> None:
    beijing = client.get(f"{API}/cities/beijing").json()
    assert beijing["level"] == "municipality"
    children = [child["slug"] for child in beijing["children"]]
    assert "chaoyang-beijing" in children
    assert len(children) == 16  # Beijing's districts
    assert {c["slug"] for c in beijing["clusters"]} >= {"chaoyang-integrated-circuit"}
    assert beijing["counts"]["metrics"] == 2
    assert beijing["links"]["metrics"] == f"{API}/cities/beijing/metrics"
    daye = client.get(f"{API}/cities/daye").json()
    assert daye["province"]["slug"] == "hubei"
    assert daye["parent"]["slug"] == "huangshi"
    assert {p["slug"] for p in daye["programs"]} == {"daye-2024-innovation-action-plan"}


def test_places_by_code(client: TestClient) -> None:
    assert keys(client, f"{API}/places?code=420281", "slug") == ["daye"]
    assert keys(client, f"{API}/cities?code__in=430100,420281,110105", "slug") == [
        "changsha",
        "daye",
    ]  # fmt: skip  (Chaoyang District is a place, not a city)
    assert keys(client, f"{API}/places?code=999999", "slug") == []
    qingdao = client.get(f"{API}/cities/qingdao").json()
    assert (qingdao["code"], qingdao["name_local"], qingdao["source"]) == (
        "370200",
        "青岛市",
        "china-divisions",
    )
    assert qingdao["province"]["slug"] == "shandong"
    assert qingdao["coordinates"]["latitude"] == pytest.approx(36.07, abs=0.1)
    assert len(qingdao["children"]) >= 10
    by_code = client.get(f"{API}/places/370200").json()
    assert (by_code["slug"], by_code["links"]["metrics"]) == (
        "qingdao",
        f"{API}/places/qingdao/metrics",
    )
    assert client.get(f"{API}/cities/420281").json()["slug"] == "daye"
    assert client.get(f"{API}/cities/110105").status_code == 404  # a district, not a city


def test_provinces_and_districts_are_places(client: TestClient) -> None:
    provinces = keys(client, f"{API}/places?level=province&limit=500", "slug")
    assert "hunan" in provinces
    assert "daye" not in provinces
    assert client.get(f"{API}/places/baiyun-guangzhou").json()["parent"]["slug"] == "guangzhou"
    assert client.get(f"{API}/cities/hunan").status_code == 404
    hunan = keys(client, f"{API}/cities?province=hunan&limit=500", "slug")
    assert {"changsha", "xiangtan", "zhuzhou"} <= set(hunan)
    assert len(hunan) == 13 + 19  # Hunan's prefecture-level and county-level cities


@pytest.mark.parametrize(
    ("url", "field", "expected"),
    [
        ("/cities/changzhi/metrics?limit=500", "key", 14),
        ("/cities/daye/clusters", "slug", 7),
        ("/cities/daye/programs", "slug", 1),
        ("/cities/hefei/organizations", "slug", 1),
        ("/places/hunan/metrics?limit=500", "key", 9),
        ("/places/china/organizations?limit=500", "slug", 13),
        ("/clusters/hefei-intelligent-voice/metrics", "key", 2),
        ("/programs/manufacturing-city-tech-transformation-pilot/metrics", "key", 6),
        ("/indicators/high_tech_enterprises/metrics", "key", 3),
        ("/sources/chinadaily-2019-08-05-hunan/metrics", "key", 9),
    ],
)
def test_nested_views(client: TestClient, url: str, field: str, expected: int) -> None:
    assert len(keys(client, API + url, field)) == expected


def test_a_code_names_a_place_on_nested_routes_too(client: TestClient) -> None:
    """The six-digit code is an alias of the slug wherever the slug goes."""
    by_slug = keys(client, f"{API}/cities/daye/clusters", "slug")
    assert keys(client, f"{API}/cities/420281/clusters", "slug") == by_slug != []
    exported = client.get(f"{API}/places/420281/clusters?format=ndjson")
    assert exported.status_code == 200
    assert len(exported.text.splitlines()) == len(by_slug)
    assert client.get(f"{API}/cities/110105/clusters").json()["detail"] == "no city '110105'"
    moved = client.get(f"{API}/cities/420281/clusters?limit=2", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (
        308,
        f"{API}/cities/daye/clusters?limit=2",
    )


def test_nested_view_of_unknown_parent_is_404(client: TestClient) -> None:
    response = client.get(f"{API}/cities/atlantis/metrics")
    assert response.status_code == 404
    assert response.json()["detail"] == "no city 'atlantis'"


def test_cluster_program_organization_details(client: TestClient) -> None:
    voice = client.get(f"{API}/clusters/hefei-intelligent-voice").json()
    assert voice["place"]["slug"] == "hefei"
    (anchor,) = voice["organizations"]
    assert (anchor["organization"]["slug"], anchor["role"]) == ("iflytek", "leading_enterprise")
    pilot = client.get(f"{API}/programs/manufacturing-city-tech-transformation-pilot").json()
    assert {i["organization"]["slug"] for i in pilot["issuers"]} == {"ministry-of-finance", "miit"}
    assert pilot["announced_on"] == "2024-04-01"
    assert {t["key"] for t in pilot["terms"]} >= {"manufacturing-pilot-max-grant"}
    city = client.get(f"{API}/programs/national-innovative-city").json()
    assert [(p["place"]["slug"], p["role"]) for p in city["places"]] == [("changzhi", "candidate")]
    sjtu = client.get(f"{API}/organizations/shanghai-jiao-tong-university").json()
    assert [(r["target_kind"], r["target"]["slug"]) for r in sjtu["relations"]] == [
        ("place", "changzhi")
    ]
    garrad = client.get(f"{API}/organizations/garrad-hassan").json()
    assert garrad["relations"][0]["organization"]["slug"] == "xiangtan-electric-manufacturing"


def test_indicator_and_source_details(client: TestClient) -> None:
    indicator = client.get(f"{API}/indicators/cluster_revenue").json()
    assert (indicator["unit"], indicator["counts"]["metrics"]) == ("CNY", 1)
    source = client.get(f"{API}/sources/chinadaily-undated-changzhi").json()
    assert source["published_on"] is None
    assert "no headline" in source["date_note"]
    assert source["facts"]["observations"] == 14
    documents = keys(client, f"{API}/sources?kind=document&sort=-published", "id")
    assert documents[0] == "std-2024-04-18-manufacturing-pilot"
    assert documents[-1] == "chinadaily-undated-changzhi"
    recent = keys(client, f"{API}/sources?published__gte=2024-01-01", "id")
    assert set(recent) == {"std-2024-03-25-daye", "std-2024-04-18-manufacturing-pilot"}


def test_programs_filter_by_issuer_and_date(client: TestClient) -> None:
    assert keys(client, f"{API}/programs?issuer=miit", "slug") == [
        "manufacturing-city-tech-transformation-pilot"
    ]
    assert keys(client, f"{API}/programs?announced__lt=2024-05-01", "slug") == [
        "manufacturing-city-tech-transformation-pilot"
    ]


def test_metric_by_key(client: TestClient) -> None:
    metric = client.get(f"{API}/metrics/manufacturing-pilot-max-grant").json()
    assert metric["subject"] == {
        "kind": "program",
        "slug": "manufacturing-city-tech-transformation-pilot",
        "name": "Pilot program for technological transformation in manufacturing cities",
        "url": f"{API}/programs/manufacturing-city-tech-transformation-pilot",
    }
    assert metric["value"] == 300_000_000
