"""Search by name over HTTP on both engines: the same ranked answer from SQLite's FTS5
trigram table and PostgreSQL's pg_trgm index, English and Chinese, on /search and as `q=`
on each list."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.query.search import highlight
from tests.api.answers import API, get


def search(client: TestClient, query: str) -> dict[str, Any]:
    return get(client, f"/search?{query}")


def test_hefei_finds_the_city_first_then_its_cluster(client: TestClient) -> None:
    body = search(client, "q=hefei")
    assert [(r["kind"], r["key"], r["match"]) for r in body["data"]] == [
        ("place", "hefei", "exact"),
        ("cluster", "hefei-intelligent-voice", "prefix"),
    ]
    assert body["data"][0]["matched"] == [
        {"field": "name", "value": "Hefei", "highlighted": "<mark>Hefei</mark>"}
    ]
    assert body["data"][0]["url"] == f"{API}/places/hefei"


def test_chinese_name_is_found_from_two_characters(client: TestClient) -> None:
    (hefei,) = search(client, "q=合肥")["data"]
    assert hefei["key"] == "hefei"
    assert hefei["matched"] == [
        {"field": "name_local", "value": "合肥市", "highlighted": "<mark>合肥</mark>市"}
    ]
    (wuhan,) = search(client, "q=武汉市")["data"]  # three characters: the trigram index
    assert wuhan["key"] == "wuhan"


def test_case_kinds_and_limit(client: TestClient) -> None:
    assert search(client, "q=HEFEI")["data"][0]["key"] == "hefei"
    clusters = search(client, "q=hefei&kind=cluster")["data"]
    assert [r["kind"] for r in clusters] == ["cluster"]
    body = search(client, "q=he&limit=3")
    assert len(body["data"]) == 3
    assert [r["rank"] for r in body["data"]] == [1, 2, 3]
    assert all(r["match"] in ("exact", "prefix") for r in body["data"])


def test_like_wildcards_are_plain_text(client: TestClient) -> None:
    assert search(client, "q=%25")["data"] == []
    underscored = search(client, "q=_")["data"]  # only codes have underscores
    assert underscored
    assert all("_" in r["key"] and r["match"] == "other" for r in underscored)


def test_same_ranking_on_both_engines_is_deterministic(client: TestClient) -> None:
    keys = [r["key"] for r in search(client, "q=an&limit=50")["data"]]
    assert keys == [r["key"] for r in search(client, "q=an&limit=50")["data"]]
    # prefix matches before names that merely contain the text, shorter names first
    data = search(client, "q=an&limit=50")["data"]
    tiers = [("exact", "prefix", "contains", "other").index(r["match"]) for r in data]
    assert tiers == sorted(tiers)


@pytest.mark.parametrize(
    ("path", "field", "expected"),
    [
        ("/places?q=合肥", "slug", ["hefei"]),
        ("/cities?q=hefei", "slug", ["hefei"]),
        ("/clusters?q=hefei", "slug", ["hefei-intelligent-voice"]),
        ("/places?q=hefei&level=province", "slug", []),
        (
            "/indicators?q=high-tech+enterprises",
            "code",
            ["high_tech_enterprises", "high_tech_enterprises_added",
             "high_tech_enterprises_certified"],
        ),
    ],
)  # fmt: skip
def test_q_on_lists(client: TestClient, path: str, field: str, expected: list[str]) -> None:
    response = client.get(API + path)
    assert response.status_code == 200, response.text
    assert [item[field] for item in response.json()["data"]] == expected


@pytest.mark.parametrize(
    ("query", "status", "parameter"),
    [
        ("", 422, "q"),
        ("q=", 422, "q"),
        ("q=%20%20", 422, "q"),
        ("q=" + "a" * 101, 422, "q"),
        ("q=a%00b", 422, "q"),
        ("q=hefei&kind=city", 422, "kind"),
        ("q=hefei&limit=51", 422, "limit"),
        ("q=hefei&q=wuhan", 422, "q"),
        ("q=hefei&sort=name", 400, "sort"),
    ],
)
def test_bad_searches_are_problems(
    client: TestClient, query: str, status: int, parameter: str
) -> None:
    response = client.get(f"{API}/search?{query}")
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["parameter"] == parameter


@pytest.mark.parametrize(
    ("text", "query", "marked"),
    [
        ("Hefei", "hefei", "<mark>Hefei</mark>"),
        ("合肥市", "合肥", "<mark>合肥</mark>市"),
        ("Anan <b>", "an", "<mark>An</mark><mark>an</mark> &lt;b&gt;"),
        ("Wuhan", "hefei", None),
    ],
)
def test_highlight(text: str, query: str, marked: str | None) -> None:
    assert highlight(text, query) == marked


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("q=420281", ("place", "daye")),  # a division code
        ("q=340100", ("place", "hefei")),
        ("q=hefei city", ("place", "hefei")),  # a trailing city, any case and spacing
        ("q=HEFEI  CITY", ("place", "hefei")),
        ("q=Chang zhi", ("place", "changzhi")),
        ("q=changzhi-city", ("place", "changzhi")),
        ("q=合肥市", ("place", "hefei")),
        ("q=hubei province", ("place", "hubei")),
    ],
)
def test_search_finds_codes_and_names_written_loosely(
    client: TestClient, query: str, first: tuple[str, str]
) -> None:
    data = search(client, query)["data"]
    assert data, query
    assert (data[0]["kind"], data[0]["key"]) == first


def test_q_on_a_list_finds_a_place_by_code_and_loose_name(client: TestClient) -> None:
    for query in ("420281", "Da ye", "daye city"):
        response = client.get(f"{API}/places?q={query}&fields=slug")
        assert response.status_code == 200, response.text
        assert [p["slug"] for p in response.json()["data"]] == ["daye"], query


def test_a_query_that_squashes_to_nothing_does_not_match_everything(client: TestClient) -> None:
    # "-" squashes to nothing: only names with a "-" in them match, not every entry
    found = search(client, "q=-&limit=50")["data"]
    assert found
    assert all("-" in r["key"] or "-" in r["name"] for r in found), found
    assert search(client, "q=zzqx city")["data"] == []


def test_a_metric_is_found_by_the_words_that_state_it(client: TestClient) -> None:
    body = search(client, "q=INVESTMENT&kind=metric")
    data = body["data"]
    assert body["meta"]["kinds"] == ["metric"]
    assert len(data) >= 3
    tiers = [("exact", "prefix", "contains", "other").index(r["match"]) for r in data]
    assert tiers == sorted(tiers)  # ranked: then shorter quotes first within a tier
    for result in data:
        assert result["kind"] == "metric"
        assert result["url"] == f"{API}/metrics/{result['key']}"
        quote = client.get(result["url"]).json()["provenance"]["quote"]
        assert result["name"] == quote
        (matched,) = result["matched"]
        assert "<mark>" in matched["highlighted"].lower()
        assert "investment" in quote.lower()
    listed = client.get(f"{API}/metrics?q=investment&fields=key,provenance.quote&limit=100")
    assert listed.status_code == 200, listed.text
    assert {m["key"] for m in listed.json()["data"]} == {r["key"] for r in data}


def test_q_on_metrics_combines_with_filters_and_exports(client: TestClient) -> None:
    everything = client.get(f"{API}/metrics?q=new%20energy&fields=key,indicator").json()["data"]
    assert everything
    assert all(m["key"].startswith("hunan-nev") for m in everything)
    code = everything[0]["indicator"]["code"]
    narrowed = client.get(f"{API}/metrics?q=new%20energy&indicator={code}&fields=key").json()
    assert [m["key"] for m in narrowed["data"]] == [
        m["key"] for m in everything if m["indicator"]["code"] == code
    ]
    assert client.get(f"{API}/metrics?q=zzqx%20nothing").json()["data"] == []
    exported = client.get(f"{API}/metrics?q=new%20energy&fields=key&format=csv").text.split()
    assert exported == ["key", *(m["key"] for m in everything)]


def test_a_metric_is_not_found_by_its_key(client: TestClient) -> None:
    """Keys would find every Hefei metric for `hefei`: only a metric's quote is searched."""
    keys = [(r["kind"], r["key"]) for r in search(client, "q=hefei&limit=50")["data"]]
    assert keys[:2] == [("place", "hefei"), ("cluster", "hefei-intelligent-voice")]
    metrics = search(client, "q=hefei&kind=metric&limit=50")["data"]
    assert all("hefei" in r["name"].lower() for r in metrics)


def test_q_on_metrics_ranks_them_as_search_does(client: TestClient) -> None:
    """Given `q=` and no `sort=`, the best match comes first: "total investment of more than
    20 billion rmb" starts with the text, so it outranks the shorter "boosting its total to
    264", which only contains it, though the list's own order (by id) puts it after."""
    ranked = get(client, "/metrics?q=total&fields=key,provenance.quote")
    assert ranked["meta"]["sort"] == ["-relevance", "id"]
    keys = [m["key"] for m in ranked["data"]]
    assert keys[:2] == ["baiyun-lake-total-investment", "changzhi-high-tech-enterprises"]
    quotes = [m["provenance"]["quote"] for m in ranked["data"]]
    assert quotes[0].lower().startswith("total")
    assert len(quotes[1]) < len(quotes[0])
    by_id = [m["key"] for m in get(client, "/metrics?q=total&sort=id&fields=key")["data"]]
    assert sorted(by_id) == sorted(keys)
    assert by_id != keys
    assert by_id.index("baiyun-lake-total-investment") > by_id.index(
        "changzhi-high-tech-enterprises"
    )
    searched = search(client, "q=total&kind=metric&limit=50")["data"]
    assert [r["key"] for r in searched] == keys  # one score, in /search and on the list
    # the same order, asked for by name; ties in it broken by the list's own order
    named = get(client, "/metrics?q=total&sort=-relevance&fields=key")
    assert named["meta"]["sort"] == ["-relevance", "id"]
    assert [m["key"] for m in named["data"]] == keys


def test_an_explicit_sort_wins_over_relevance(client: TestClient) -> None:
    by_value = get(client, "/metrics?q=total&sort=-value&fields=key,value")
    assert by_value["meta"]["sort"] == ["-value"]
    values = [m["value"] for m in by_value["data"]]
    assert values == sorted(values, reverse=True)
    worst_first = get(client, "/metrics?q=total&sort=relevance&fields=key")
    assert worst_first["meta"]["sort"] == ["relevance", "id"]
    assert worst_first["data"][-1]["key"] == "baiyun-lake-total-investment"
    then_value = get(client, "/metrics?q=the&sort=year,-relevance&fields=key")
    assert then_value["meta"]["sort"] == ["year", "-relevance", "id"]


@pytest.mark.parametrize(
    "path", ["/metrics?q=the", "/metrics?q=in&year__gte=2019", "/places/hunan/metrics?q=the"]
)
def test_a_ranked_list_pages_through_every_match_once(client: TestClient, path: str) -> None:
    whole = [m["key"] for m in get(client, f"{path}&limit=500&fields=key")["data"]]
    assert len(whole) >= 3  # two pages at least
    walked: list[str] = []
    url: str | None = f"{API}{path}&limit=2&fields=key"
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["meta"]["sort"] == ["-relevance", "id"]
        walked += [m["key"] for m in body["data"]]
        url = body["links"]["next"]
    assert walked == whole
    assert len(set(walked)) == len(walked)


@pytest.mark.parametrize(
    ("path", "parameter", "words"),
    [
        ("/metrics?sort=-relevance", "sort", "give q="),
        ("/metrics?sort=value,relevance", "sort", "give q="),
        ("/places/hunan/metrics?indicator=high_tech_enterprises&sort=relevance", "sort", "q="),
        ("/metrics?q=total&sort=relevance&limit=1", "cursor", "issued for sort=relevance,id"),
    ],
)
def test_relevance_without_its_text_is_refused_naming_the_parameter(
    client: TestClient, path: str, parameter: str, words: str
) -> None:
    if parameter == "cursor":  # a ranked walk's cursor, then asked in another order
        cursor = get(client, path)["meta"]["next_cursor"]
        path = f"/metrics?q=total&sort=id&cursor={cursor}"
    response = client.get(f"{API}{path}")
    assert response.status_code == (400 if parameter == "cursor" else 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert [e["parameter"] for e in problem["errors"]] == [parameter]
    assert words in problem["detail"]
