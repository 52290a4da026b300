"""A value that names nothing is refused, with what it may have meant, on every route: a
relation filter's value is a 422, a path key a 404; a path key given another way than by
its key (capitals, a name in either script, a division code) is a 308 to the canonical URL
when it names one row, a 404 listing the rows when it names several."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.api import URL_MAP
from app.query import Filter, ListSpec

API = "/api/v1"


def misspelt(value: str) -> str:
    """`value` with two neighbouring characters swapped, from the second on (daye -> dyae)."""
    i = next(i for i in range(1, len(value) - 1) if value[i] != value[i + 1])
    return value[:i] + value[i + 1] + value[i] + value[i + 2 :]


def relation_filters() -> Iterator[tuple[str, Filter]]:
    """Every list route (top-level and nested) with each filter it takes that names rows
    (not `q=`, text to find, nor a closed vocabulary such as `via=`, checked against its
    choices before any lookup)."""
    for mount in URL_MAP:
        resource = mount.resource
        routes: list[tuple[str, ListSpec, tuple[str, ...]]] = [
            (f"/{resource.name}", resource.spec, ())
        ]
        for nested in mount.nested:
            parent = f"/{resource.name}/{resource.path_key.example}/{nested.child.name}"
            routes.append((parent, nested.child.spec, (nested.filter,)))
        for path, spec, fixed in routes:
            for flt in spec.filters:
                names_rows = flt.lookup is not None and flt.choices is None
                if names_rows and flt.name != "q" and flt.name not in fixed:
                    yield path, flt


WALKED = list(relation_filters())


def test_every_relation_filter_declares_what_it_names() -> None:
    """A lookup filter without `names` would answer a typo with an empty page: only `q=`,
    which is text to find rather than a name, may leave it out."""
    assert len(WALKED) > 40
    assert [(path, flt.name) for path, flt in WALKED if flt.lookup.names is None] == []  # type: ignore[union-attr]


@pytest.mark.parametrize(("path", "flt"), WALKED, ids=[f"{p}?{f.name}" for p, f in WALKED])
def test_a_misspelt_relation_value_is_refused_with_the_fix(
    client: TestClient, path: str, flt: Filter
) -> None:
    assert isinstance(flt.example, str)
    for parameter in (flt.name, f"{flt.name}__ne"):
        if parameter != flt.name and "ne" not in flt.operators:
            continue
        response = client.get(f"{API}{path}?{parameter}={misspelt(flt.example)}")
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        (error,) = response.json()["errors"]
        assert error["parameter"] == parameter
        names = flt.lookup.names  # type: ignore[union-attr]
        if names is not None and names.search is not None:
            assert flt.example in error["suggestions"], error
            assert "did you mean " in error["detail"]


@pytest.mark.parametrize(
    ("url", "parameter", "suggested"),
    [
        ("/metrics?city=hefie", "city", "hefei"),
        ("/metrics?indicator=high-tech-enterprises", "indicator", "high_tech_enterprises"),
        ("/metrics?category=inovation", "category", "innovation"),
        ("/programs?covers=dyae", "covers", "daye"),
        ("/rankings?indicator=high_tech_enterprise", "indicator", "high_tech_enterprises"),
        ("/rankings?indicator=high_tech_enterprises&place=chanzhi", "place", "changzhi"),
        ("/rankings?indicator=high_tech_enterprises&peers=province:hubi", "peers", "hubei"),
        ("/places/changzhi/rankings?peers=within:shanxii", "peers", "shanxi"),
        ("/series?indicator=high_tech_enterprises&places=daye,hefie", "places", "hefei"),
        ("/series?indicator=cluster_revenue&clusters=hefei-intelligent-voise", "clusters",
         "hefei-intelligent-voice"),
        ("/comparisons?indicator=high_tech_enterprises&subject=place:dye&from=2022&to=2023",
         "subject", "daye"),
    ],
)  # fmt: skip
def test_other_routes_refuse_a_misspelt_name_the_same_way(
    client: TestClient, url: str, parameter: str, suggested: str
) -> None:
    response = client.get(API + url)
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["parameter"] == parameter
    assert suggested in error["suggestions"]
    assert "did you mean " in response.json()["detail"]


def test_a_value_of_the_wrong_level_says_what_it_is(client: TestClient) -> None:
    response = client.get(f"{API}/metrics?city=hubei")
    assert response.status_code == 422
    assert response.json()["detail"] == "city: 'hubei' is a province, not a city"


def test_nothing_near_suggests_nothing(client: TestClient) -> None:
    response = client.get(f"{API}/metrics?indicator=nonexistent_thing")
    assert response.status_code == 422
    assert response.json()["detail"] == "indicator: no indicator 'nonexistent_thing'"
    assert "suggestions" not in response.json()["errors"][0]


@pytest.mark.parametrize(
    ("asked", "canonical"),
    [
        ("/places/Hefei", "/places/hefei"),
        ("/places/%E5%90%88%E8%82%A5", "/places/hefei"),  # 合肥
        ("/places/340100", "/places/hefei"),
        ("/places/hefei%20city", "/places/hefei"),
        ("/places/Chang%20zhi", "/places/changzhi"),
        ("/cities/420281/clusters?limit=2", "/cities/daye/clusters?limit=2"),
        ("/places/Changzhi/rankings?year=2023", "/places/changzhi/rankings?year=2023"),
        ("/indicators/High_Tech_Enterprises", "/indicators/high_tech_enterprises"),
        ("/clusters/Hefei%20intelligent%20voice%20cluster", "/clusters/hefei-intelligent-voice"),
    ],
)
def test_a_key_given_another_way_moves_to_the_canonical_url(
    client: TestClient, asked: str, canonical: str
) -> None:
    moved = client.get(API + asked, follow_redirects=False)
    assert moved.status_code == 308, moved.text
    assert moved.headers["location"] == API + canonical
    assert client.get(API + asked).status_code == 200


def test_a_name_several_places_share_lists_them(client: TestClient) -> None:
    response = client.get(f"{API}/places/%E6%9C%9D%E9%98%B3%E5%8C%BA", follow_redirects=False)
    assert response.status_code == 404  # 朝阳区: Beijing's and Changchun's
    (error,) = response.json()["errors"]
    assert {"chaoyang-beijing", "chaoyang-changchun"} <= set(error["suggestions"])
    assert "names 2 places: " in response.json()["detail"]


def test_a_misspelt_key_is_a_404_with_the_fix(client: TestClient) -> None:
    for url in ("/places/hefie", "/places/hefie/metrics", "/places/hefie/rankings"):
        response = client.get(API + url, follow_redirects=False)
        assert response.status_code == 404, url
        assert response.json()["errors"][0]["suggestions"] == ["hefei"]
        assert "did you mean hefei?" in response.json()["detail"]
