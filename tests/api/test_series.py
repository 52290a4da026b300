"""Series for charts and the latest value per subject, over HTTP on both engines, with the
rule for facts whose period is unknown."""

import pytest
from fastapi.testclient import TestClient

from tests.api.answers import API, false_side, get


def test_series_of_several_places_keeps_undated_facts_apart(client: TestClient) -> None:
    body = get(client, "/series?indicator=high_tech_enterprises&places=daye,changzhi,hefei")
    daye, changzhi, hefei = body["data"]
    assert [p["key"] for p in daye["points"]] == ["daye-high-tech-enterprises-2023"]
    assert daye["points"][0]["value"] == 333
    assert daye["points"][0]["period"]["year"] == 2023
    assert changzhi["points"] == []
    assert [(p["value"], p["derived"]) for p in changzhi["undated"]] == [(264, False), (224, True)]
    assert all("not_after" in p for p in changzhi["undated"])
    assert hefei["subject"]["slug"] == "hefei"
    assert hefei["points"] == hefei["undated"] == []
    assert body["meta"]["points"] == 1
    assert body["meta"]["undated"] == 2
    assert body["meta"]["indicator"]["unit"] == "count"


def test_series_points_are_ordered_by_period(client: TestClient) -> None:
    body = get(client, "/series?indicator=private_enterprise_trade_share&places=hunan")
    (hunan,) = body["data"]
    assert [p["period"]["year"] for p in hunan["points"]] == [2017, 2018]
    stated = get(client, "/series?indicator=private_enterprise_trade_share&places=hunan"
                 "&derived=false")  # fmt: skip
    assert [p["value"] for p in stated["data"][0]["points"]] == [68.1]


def test_series_without_subjects_gives_every_subject(client: TestClient) -> None:
    body = get(client, "/series?indicator=high_tech_enterprises")
    assert [s["subject"]["slug"] for s in body["data"]] == ["changzhi", "daye"]


def test_series_mixes_subject_kinds(client: TestClient) -> None:
    body = get(client, "/series?indicator=cluster_revenue&clusters=hefei-intelligent-voice")
    (cluster,) = body["data"]
    assert cluster["subject"]["kind"] == "cluster"
    assert cluster["points"][0]["value"] == 137_800_000_000


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("places=daye", 422),
        ("indicator=nope&places=daye", 422),
        ("indicator=high_tech_enterprises&places=nowhere", 422),
        ("indicator=high_tech_enterprises&places=Daye", 422),
        ("indicator=high_tech_enterprises&places=" + ",".join(f"p{i}" for i in range(21)), 422),
        ("indicator=high_tech_enterprises&places=" + "a" * 65, 422),
        ("indicator=high_tech_enterprises&places=daye&colour=red", 400),
        ("indicator=high_tech_enterprises&places=daye&derived=maybe", 422),
    ],
)
def test_bad_series_requests_are_problems(client: TestClient, query: str, status: int) -> None:
    response = client.get(f"{API}/series?{query}")
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_latest_picks_the_stated_value_over_the_derived_one(client: TestClient) -> None:
    body = get(client, "/metrics?latest=true&indicator=high_tech_enterprises&sort=-value")
    assert [(m["key"], m["value"]) for m in body["data"]] == [
        ("daye-high-tech-enterprises-2023", 333),
        ("changzhi-high-tech-enterprises", 264),
    ]


def test_latest_picks_the_later_period(client: TestClient) -> None:
    body = get(client, "/metrics?latest=true&indicator=private_enterprise_trade_share")
    assert [m["key"] for m in body["data"]] == ["hunan-private-trade-share-2018"]
    everything = get(client, "/metrics?latest=true&count=true&limit=1")
    assert everything["meta"]["total"] == 33  # 36 facts, 3 of them older or derived twins


def test_latest_false_gives_the_superseded_facts(client: TestClient) -> None:
    assert false_side(client, "latest") == [
        "changzhi-enterprise-rd-investment-previous",
        "changzhi-high-tech-enterprises-before",
        "hunan-private-trade-share-2017",
    ]
