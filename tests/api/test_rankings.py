"""Rankings among peers and computed comparisons, over HTTP on both engines, from the seed
data: ranks with ties and the group's size stated, change and growth with their formula
and the keys of their inputs, never served as facts."""

import json
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.query.rankings import Peer, comparability, rank, same_period
from tests.api.answers import API, get


def standings(body: dict[str, Any]) -> list[tuple[int, float | None, str, float]]:
    return [(e["rank"], e["percentile"], e["place"]["slug"], e["value"]) for e in body["data"]]


def test_nationwide_ranking_takes_each_places_latest_value(client: TestClient) -> None:
    body = get(client, "/rankings?indicator=high_tech_enterprises")
    # Changzhi counts once, with the stated 264 (not the derived 224 of the year before).
    assert standings(body) == [(1, 100.0, "daye", 333), (2, 0.0, "changzhi", 264)]
    assert body["meta"]["peers"] == {"group": "every place", "size": 2}
    assert body["meta"]["year"] is None
    assert body["meta"]["computed"] is True
    assert "competition" in body["meta"]["ties"]
    assert body["data"][1]["key"] == "changzhi-high-tech-enterprises"
    assert body["data"][1]["period"]["year"] is None


def test_a_year_ranks_dated_facts_of_that_year_only(client: TestClient) -> None:
    body = get(client, "/rankings?indicator=high_tech_enterprises&year=2023"
               "&peers=province:hubei&place=daye")  # fmt: skip
    assert standings(body) == [(1, None, "daye", 333)]  # alone: no percentile
    assert body["meta"]["peers"] == {"group": "places in hubei", "size": 1}
    assert body["meta"]["place"]["key"] == "daye-high-tech-enterprises-2023"
    assert body["meta"]["place_note"] is None
    outside = get(client, "/rankings?indicator=high_tech_enterprises&year=2023&place=changzhi")
    assert outside["meta"]["place"] is None
    assert outside["meta"]["place_note"] == (
        "changzhi has no value of high_tech_enterprises for 2023 among every place"
    )


@pytest.mark.parametrize(
    ("peers", "group", "ranked"),
    [
        ("level:prefecture_city", "places at level prefecture_city", ["changzhi"]),
        ("province:shanxi", "places in shanxi", ["changzhi"]),
        ("level:county_city", "places at level county_city", ["daye"]),
        ("within:china,level:prefecture_city", "places in china and at level prefecture_city",
         ["changzhi"]),
        ("level:county_city,within:hubei", "places at level county_city and in hubei", ["daye"]),
        ("nationwide", "every place", ["daye", "changzhi"]),
    ],
)  # fmt: skip
def test_peer_groups(client: TestClient, peers: str, group: str, ranked: list[str]) -> None:
    body = get(client, f"/rankings?indicator=high_tech_enterprises&place=changzhi&peers={peers}")
    assert [e["place"]["slug"] for e in body["data"]] == ranked
    assert body["meta"]["peers"] == {"group": group, "size": len(ranked)}
    if "changzhi" in ranked:
        assert body["meta"]["place"]["rank"] == ranked.index("changzhi") + 1
    else:
        assert body["meta"]["place_note"].startswith("changzhi has no value")


def test_order_and_paging(client: TestClient) -> None:
    body = get(client, "/rankings?indicator=high_tech_enterprises&order=asc&limit=1")
    assert standings(body) == [(1, 100.0, "changzhi", 264)]
    assert body["links"]["next"].endswith("order=asc&limit=1&offset=1")
    rest = client.get(body["links"]["next"]).json()
    assert standings(rest) == [(2, 0.0, "daye", 333)]
    assert rest["links"]["next"] is None


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([20, 20, 10, 5], [(1, 66.7), (1, 66.7), (3, 33.3), (4, 0.0)]),
        ([7, 7, 7], [(1, 0.0), (1, 0.0), (1, 0.0)]),
        ([3, 9], [(1, 100.0), (2, 0.0)]),
        ([1], [(1, None)]),
    ],
)
def test_competition_ranks_and_percentiles(
    values: list[float], expected: list[tuple[int, float | None]]
) -> None:
    peers = [Peer(i, i, f"p{i}", float(v)) for i, v in enumerate(values)]
    assert [(s.rank, s.percentile) for s in rank(peers)] == expected


@pytest.mark.parametrize(
    ("query", "status", "parameter"),
    [
        ("", 422, "indicator"),
        ("indicator=nope", 422, "indicator"),
        ("indicator=high_tech_enterprises&peers=everywhere", 422, "peers"),
        ("indicator=high_tech_enterprises&peers=province:daye", 422, "peers"),
        ("indicator=high_tech_enterprises&peers=province:nowhere", 422, "peers"),
        ("indicator=high_tech_enterprises&peers=same_level&place=daye", 422, "peers"),
        ("indicator=high_tech_enterprises&peers=level:county,level:district", 422, "peers"),
        ("indicator=high_tech_enterprises&peers=within:hubei,province:hubei", 422, "peers"),
        ("indicator=high_tech_enterprises&peers=nationwide,level:county", 422, "peers"),
        ("indicator=high_tech_enterprises&peers=same_period,nationwide", 422, "peers"),
        ("indicator=high_tech_enterprises&peers=same_period,same_period", 422, "peers"),
        ("indicator=high_tech_enterprises&place=nowhere", 422, "place"),
        ("indicator=high_tech_enterprises&year=23", 422, "year"),
        ("indicator=high_tech_enterprises&year=2023&year=2022", 422, "year"),
        ("indicator=high_tech_enterprises&limit=501", 422, "limit"),
        ("indicator=high_tech_enterprises&offset=-1", 422, "offset"),
        ("indicator=high_tech_enterprises&order=up", 422, "order"),
        ("indicator=high_tech_enterprises&sort=value", 400, "sort"),
    ],
)
def test_bad_ranking_requests_name_the_parameter(
    client: TestClient, query: str, status: int, parameter: str
) -> None:
    response = client.get(f"{API}/rankings?{query}")
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["parameter"] == parameter


def test_a_rank_indicator_ranks_its_lowest_value_first(client: TestClient) -> None:
    body = get(client, "/rankings?indicator=provincial_rank_rd_investment_growth")
    assert body["meta"]["order"] == "asc"
    assert standings(body) == [(1, None, "changzhi", 2)]


def test_a_places_standings_on_every_indicator(client: TestClient) -> None:
    body = get(client, "/places/changzhi/rankings?peers=nationwide")
    by_code = {s["indicator"]["code"]: s for s in body["data"]}
    assert len(by_code) == 12  # 14 facts of Changzhi, 12 indicators: one standing each
    high_tech = by_code["high_tech_enterprises"]
    assert (high_tech["rank"], high_tech["percentile"], high_tech["peers"]) == (2, 0.0, 2)
    assert high_tech["key"] == "changzhi-high-tech-enterprises"
    assert high_tech["ranking"] == (
        "/api/v1/rankings?indicator=high_tech_enterprises&place=changzhi&peers=nationwide"
    )
    assert get(client, high_tech["ranking"].removeprefix(API))["meta"]["place"]["rank"] == 2
    assert body["meta"]["peers"] == "every place"
    own_level = get(client, "/places/changzhi/rankings")  # peers: same_level by default
    assert own_level["meta"]["peers"] == "places at changzhi's level (prefecture_city)"
    assert {s["peers"] for s in own_level["data"]} == {1}
    assert own_level["data"][0]["ranking"].endswith("&peers=level%3Aprefecture_city")
    province = get(client, "/places/changzhi/rankings?peers=same_province")
    assert province["data"][0]["ranking"].endswith("&peers=province%3Ashanxi")
    daye = get(client, "/places/daye/rankings?year=2023&peers=province:hubei")
    assert [(s["indicator"]["code"], s["rank"]) for s in daye["data"]] == [
        ("high_tech_enterprises", 1),
        ("high_tech_industry_output_value", 1),
    ]
    outside = get(client, "/places/changzhi/rankings?peers=province:hubei")
    assert outside["data"] == []
    assert outside["meta"]["note"] == "changzhi is not among places in hubei"


@pytest.mark.parametrize(
    ("url", "status", "parameter"),
    [
        ("/places/changzhi/rankings?peers=same_level,same_level", 422, "peers"),
        ("/places/changzhi/rankings?peers=province:nowhere", 422, "peers"),
        ("/places/changzhi/rankings?year=now", 422, "year"),
        ("/places/changzhi/rankings?indicator=high_tech_enterprises", 400, "indicator"),
    ],
)
def test_bad_place_standings_name_the_parameter(
    client: TestClient, url: str, status: int, parameter: str
) -> None:
    response = client.get(API + url)
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["parameter"] == parameter


def test_a_ranking_of_mixed_periods_and_levels_says_so(client: TestClient) -> None:
    """Daye (a county-level city, 2023) against Changzhi (a prefecture, undated): the
    ranking is answered, flagged in meta and on the entry that differs from the group."""
    body = get(client, "/rankings?indicator=high_tech_enterprises")
    meta = body["meta"]
    assert meta["comparable"] is False
    assert "2 different periods" in meta["comparability"]
    assert "2 levels (county, prefectural)" in meta["comparability"]
    daye, changzhi = body["data"]
    assert (daye["comparable"], daye["differs"]) == (True, [])
    assert changzhi["comparable"] is False
    assert changzhi["differs"] == [
        "its period is unknown, the group's is 2023-01-01 to 2023-12-31",
        "it is a prefecture_city (prefectural level), the group's places are of county level",
    ]
    focus = get(client, "/rankings?indicator=high_tech_enterprises&place=changzhi")
    assert focus["meta"]["place"]["differs"] == changzhi["differs"]


def test_a_group_of_one_says_its_rank_compares_nothing(client: TestClient) -> None:
    body = get(client, "/places/daye/rankings")
    assert body["data"], body
    for standing in body["data"]:
        assert standing["peers"] == 1
        assert standing["comparable"] is False
        assert standing["differs"] == [
            "a group of one: daye is ranked against no other place, so its rank compares nothing"
        ]
    assert body["meta"]["comparable"] is False
    assert body["meta"]["comparability"].startswith("not comparable: high_tech_enterprises (a")


@pytest.mark.parametrize(
    ("url", "ranked", "group"),
    [
        ("peers=same_period", ["daye"], "places with a value for the latest dated period"),
        ("peers=same_period&place=changzhi", ["changzhi"],
         "places with a value for changzhi's period"),
        ("peers=level:county_city,same_period&place=daye", ["daye"],
         "places at level county_city and with a value for daye's period"),
        ("peers=nationwide,same_period", ["daye"],
         "places with a value for the latest dated period"),
    ],
)  # fmt: skip
def test_peers_of_the_same_period_only(
    client: TestClient, url: str, ranked: list[str], group: str
) -> None:
    body = get(client, f"/rankings?indicator=high_tech_enterprises&{url}")
    assert [e["place"]["slug"] for e in body["data"]] == ranked
    assert body["meta"]["peers"]["group"] == group


def test_a_places_standings_among_the_same_period(client: TestClient) -> None:
    body = get(client, "/places/changzhi/rankings?peers=nationwide,same_period")
    standing = {s["indicator"]["code"]: s for s in body["data"]}["high_tech_enterprises"]
    assert (standing["rank"], standing["peers"]) == (1, 1)  # Daye's 2023 value left out
    ranking = client.get(standing["ranking"]).json()  # the whole ranking, same peers
    assert ranking["meta"]["place"]["rank"] == 1
    assert ranking["meta"]["peers"]["size"] == 1
    every = get(client, "/places/changzhi/rankings?peers=nationwide")["data"]
    assert {s["indicator"]["code"]: s["peers"] for s in every}["high_tech_enterprises"] == 2


def test_comparability_of_peers_sharing_period_and_level() -> None:
    def peer(slug: str, value: float, end: int, level: str) -> Peer:
        return Peer(0, 0, slug, value, (date(end, 1, 1), date(end, 12, 31)), level)

    # Beijing (a municipality) ranks with provinces: the same administrative level.
    alike = comparability(
        rank([peer("a", 2, 2023, "province"), peer("b", 1, 2023, "municipality")])
    )
    assert (alike.comparable, alike.alone) == (True, False)
    three = rank([peer("a", 3, 2022, "province"), peer("b", 2, 2023, "province"),
                  peer("c", 1, 2023, "province")])  # fmt: skip
    mixed = comparability(three)
    assert mixed.comparable is False
    assert [mixed.differs(s.peer) for s in three] == [
        ["its period is 2022-01-01 to 2022-12-31, the group's is 2023-01-01 to 2023-12-31"],
        [], [],
    ]  # fmt: skip
    assert [p.slug for p in same_period([s.peer for s in three], None)] == ["b", "c"]


def test_year_on_year_change_explains_itself(client: TestClient) -> None:
    body = get(client, "/comparisons?indicator=private_enterprise_trade_share&subject=place:hunan"
               "&from=2017&to=2018")  # fmt: skip
    data = body["data"]
    assert data["computed"] is True
    assert body["meta"]["computed"] is True
    assert data["inputs"] == ["hunan-private-trade-share-2017", "hunan-private-trade-share-2018"]
    assert data["change"] == {
        "value": 1.1,
        "unit": "percentage_point",
        "formula": "{hunan-private-trade-share-2018} - {hunan-private-trade-share-2017}",
        "qualifier": "approximate",  # the 2017 share is itself derived
    }
    assert data["growth"]["value"] == 1.6  # 1.1 / 67.0, to two significant digits
    assert data["growth"]["unit"] == "percent"
    assert data["from"]["derived"] is True
    assert data["to"]["derived"] is False
    assert (data["from"]["value"], data["to"]["value"]) == (67, 68.1)


def test_growth_between_two_facts_reproduces_the_stated_rate(client: TestClient) -> None:
    """Changzhi's R&D spending: the undated pair compared by key gives the 38.6% the article
    states, so the number is explained by its inputs."""
    body = get(client, "/metrics/changzhi-enterprise-rd-investment/comparison"
               "?from=changzhi-enterprise-rd-investment-previous")  # fmt: skip
    stated = get(client, "/metrics/changzhi-enterprise-rd-investment-growth")
    assert body["data"]["growth"]["value"] == stated["value"] == 38.6
    assert body["data"]["change"]["value"] == 610_000_000
    assert body["data"]["change"]["unit"] == "CNY"
    assert body["data"]["subject"]["slug"] == "changzhi"


def test_a_growth_computed_from_its_own_source_says_it_is_circular(client: TestClient) -> None:
    """The "previous" spending was derived from this year's and the stated 38.6% growth:
    the computed growth restates that 38.6%, and the answer says so with the chain."""
    data = get(client, "/metrics/changzhi-enterprise-rd-investment/comparison"
               "?from=changzhi-enterprise-rd-investment-previous")["data"]  # fmt: skip
    assert data["circular"] is True
    assert data["chain"] == ["changzhi-enterprise-rd-investment-previous",
                             "changzhi-enterprise-rd-investment"]  # fmt: skip
    assert "restates the source's changzhi-enterprise-rd-investment-growth" in data["explanation"]
    assert "not independent evidence" in data["explanation"]


def test_a_change_computed_from_its_own_source_says_it_is_circular(client: TestClient) -> None:
    data = get(client, "/comparisons?indicator=private_enterprise_trade_share"
               "&subject=place:hunan&from=2017&to=2018")["data"]  # fmt: skip
    assert data["circular"] is True
    assert data["chain"] == ["hunan-private-trade-share-2017", "hunan-private-trade-share-2018"]
    assert "restates the source's hunan-private-trade-share-change-2018" in data["explanation"]


def test_independent_inputs_are_not_circular(client: TestClient) -> None:
    data = get(client, "/comparisons?indicator=cluster_revenue"
               "&subject=cluster:hefei-intelligent-voice&from=2021&to=2021")["data"]  # fmt: skip
    assert (data["circular"], data["chain"], data["explanation"]) == (False, [], None)


def test_reversed_years_are_refused_naming_both(client: TestClient) -> None:
    response = client.get(f"{API}/comparisons?indicator=private_enterprise_trade_share"
                          "&subject=place:hunan&from=2018&to=2017")  # fmt: skip
    assert response.status_code == 422, response.text
    body = response.json()
    assert [e["parameter"] for e in body["errors"]] == ["from", "to"]
    assert "later than to" in body["detail"]


@pytest.mark.parametrize(
    ("url", "status", "parameter"),
    [
        ("indicator=foreign_trade_growth&subject=place:hunan&from=2018&to=2018", 422, "from"),
        ("indicator=high_tech_enterprises&subject=place:daye&from=2022&to=2023", 422, "from"),
        ("indicator=high_tech_enterprises&subject=place:daye&from=2023", 422, "to"),
        ("indicator=high_tech_enterprises&from=2022&to=2023", 422, "subject"),
        ("indicator=high_tech_enterprises&subject=daye&from=2022&to=2023", 422, "subject"),
        ("indicator=high_tech_enterprises&subject=place:nowhere&from=2022&to=2023", 422,
         "subject"),
        ("subject=place:daye&from=2022&to=2023", 422, "indicator"),
        ("indicator=cluster_revenue&subject=place:hefei&from=2021&to=2021", 422, "from"),
        ("indicator=high_tech_enterprises&subject=place:daye&from=20x3&to=2023", 422, "from"),
        ("indicator=high_tech_enterprises&subject=place:daye&from=2022&to=2023&x=1", 400, "x"),
        ("indicator=high_tech_enterprises&subject=place:daye&from=2022&to=2023&from_key=a", 400,
         "from_key"),
    ],
)  # fmt: skip
def test_bad_comparisons_name_the_parameter(
    client: TestClient, url: str, status: int, parameter: str
) -> None:
    response = client.get(f"{API}/comparisons?{url}")
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["parameter"] == parameter


def test_a_fact_compared_with_itself_changes_by_nothing(client: TestClient) -> None:
    body = get(client, "/comparisons?indicator=cluster_revenue"
               "&subject=cluster:hefei-intelligent-voice&from=2021&to=2021")  # fmt: skip
    assert body["data"]["change"]["value"] == 0
    assert body["data"]["growth"]["value"] == 0


@pytest.mark.parametrize(
    ("url", "status", "parameter"),
    [
        ("daye-high-tech-enterprises-2023/comparison", 422, "from"),
        ("daye-high-tech-enterprises-2023/comparison?from=changzhi-high-tech-enterprises", 422,
         "from"),
        ("daye-high-tech-enterprises-2023/comparison?from=daye-high-tech-output-2023", 422,
         "from"),
        ("daye-high-tech-enterprises-2023/comparison?from=nope", 422, "from"),
        ("hunan-foreign-trade-growth-2018/comparison?from=hunan-foreign-trade-growth-2018", 422,
         "from"),
        ("daye-high-tech-enterprises-2023/comparison?from=x&to=y", 400, "to"),
    ],
)  # fmt: skip
def test_bad_key_comparisons_name_the_parameter(
    client: TestClient, url: str, status: int, parameter: str
) -> None:
    response = client.get(f"{API}/metrics/{url}")
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["parameter"] == parameter


@pytest.mark.parametrize(
    ("view", "sibling", "names"),
    [
        ("/places/{}/rankings", "/places/{}/metrics", ("place_slug", "place_slug")),
        ("/metrics/{}/comparison?from=daye-high-tech-enterprises-2023", "/metrics/{}",
         ("metric_key", "key")),  # the detail route calls its key `key`
    ],
)  # fmt: skip
def test_nested_views_take_their_key_as_every_route_does(
    client: TestClient, view: str, sibling: str, names: tuple[str, str]
) -> None:
    """A view in the URL map checks and finds its key by the one rule: the same 422 and
    404 bodies as its sibling routes (but for the instance and the parameter's name)."""
    for key in ("UPPER", "nowhere", "x" * 200):
        mine, theirs = (client.get(API + url.format(key)) for url in (view, sibling))
        assert mine.status_code == theirs.status_code, key
        body = {**mine.json(), "instance": ""}
        expected = json.loads(json.dumps({**theirs.json(), "instance": ""}).replace(*names[::-1]))
        assert body == expected, key


def test_a_code_names_a_place_in_its_standings_too(client: TestClient) -> None:
    by_code = client.get(f"{API}/places/140400/rankings")
    assert by_code.status_code == 200, by_code.text
    assert by_code.json()["data"] == client.get(f"{API}/places/changzhi/rankings").json()["data"]
