"""Computed answers as files, over HTTP on both engines: a series a row per point, a ranking
a row per entry, a place's standings a row per indicator, each read back with the csv
module against the JSON answer, with the byte-order mark and the file name."""

import csv
import io

import orjson
import pytest
from fastapi.testclient import TestClient

API = "/api/v1"


def read_csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_a_series_is_a_row_per_point(client: TestClient) -> None:
    url = f"{API}/series?indicator=high_tech_enterprises&places=daye,changzhi"
    series = client.get(url).json()["data"]
    response = client.get(url + "&format=csv&bom=true")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbfsubject.kind,subject.slug,")
    rows = read_csv(response.content)
    points = [(s["subject"]["slug"], p) for s in series for p in s["points"] + s["undated"]]
    assert [(r["subject.slug"], r["key"]) for r in rows] == [(s, p["key"]) for s, p in points]
    assert len(rows) >= 3
    assert {r["subject.slug"] for r in rows} == {"daye", "changzhi"}
    daye = next(r for r in rows if r["key"] == "daye-high-tech-enterprises-2023")
    assert (daye["value"], daye["period.year"], daye["derived"]) == ("333", "2023", "false")
    assert "per.value" not in rows[0]  # with per= only
    assert response.headers["x-atlas-columns"].split(",") == list(rows[0])
    version = response.headers["x-atlas-dataset-version"][:12]
    assert response.headers["content-disposition"] == (
        f'attachment; filename="atlas-series-{version}-indicator-high_tech_enterprises'
        '-places-daye-changzhi.csv"'
    )


def test_a_series_as_ndjson_is_the_points_with_their_subject(client: TestClient) -> None:
    url = f"{API}/series?indicator=high_tech_enterprises&places=daye"
    (series,) = client.get(url).json()["data"]
    response = client.get(url, headers={"accept": "application/x-ndjson"})
    assert response.headers["content-type"] == "application/x-ndjson; charset=utf-8"
    lines = [orjson.loads(line) for line in response.content.splitlines()]
    assert lines == [{"subject": series["subject"], **p} for p in series["points"]]
    # The representation is part of the validator: a cache keeps JSON and NDJSON apart.
    assert "Accept" in response.headers["vary"]
    assert response.headers["etag"] != client.get(url).headers["etag"]
    again = client.get(url, headers={"accept": "application/x-ndjson",
                                     "if-none-match": response.headers["etag"]})  # fmt: skip
    assert again.status_code == 304


def test_a_ranking_file_holds_every_entry(client: TestClient) -> None:
    url = f"{API}/rankings?indicator=high_tech_enterprises"
    body = client.get(url + "&limit=500").json()
    response = client.get(url + "&format=csv")
    assert response.status_code == 200, response.text
    rows = read_csv(response.content)
    assert len(rows) == body["meta"]["peers"]["size"] == len(body["data"]) >= 2
    for row, item in zip(rows, body["data"], strict=True):
        assert row["rank"] == str(item["rank"])
        assert row["place.slug"] == item["place"]["slug"]
        assert row["comparable"] == ("true" if item["comparable"] else "false")
        assert row["differs"] == "; ".join(item["differs"])  # sentences hold commas
    assert any(row["comparable"] == "false" and row["differs"] for row in rows)
    capped = read_csv(client.get(url + "&format=csv&limit=1&offset=1").content)
    assert [r["place.slug"] for r in capped] == [rows[1]["place.slug"]]
    version = response.headers["x-atlas-dataset-version"][:12]
    assert response.headers["content-disposition"] == (
        f'attachment; filename="atlas-rankings-{version}-indicator-high_tech_enterprises.csv"'
    )


def test_a_place_s_standings_are_a_row_per_indicator(client: TestClient) -> None:
    body = client.get(f"{API}/places/daye/rankings").json()
    response = client.get(f"{API}/places/daye/rankings?format=csv&bom=true")
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = read_csv(response.content)
    assert [r["indicator.code"] for r in rows] == [i["indicator"]["code"] for i in body["data"]]
    alone = next(r for r in rows if r["indicator.code"] == "high_tech_enterprises")
    assert (alone["rank"], alone["peers"], alone["comparable"]) == ("1", "1", "false")
    assert "a group of one" in alone["differs"]
    version = response.headers["x-atlas-dataset-version"][:12]
    assert response.headers["content-disposition"] == (
        f'attachment; filename="atlas-rankings-{version}-place-daye.csv"'
    )


@pytest.mark.parametrize(
    ("target", "status", "parameter"),
    [
        ("/series?indicator=high_tech_enterprises&bom=true", 422, "bom"),
        ("/series?indicator=high_tech_enterprises&format=xml", 422, "format"),
        ("/rankings?indicator=high_tech_enterprises&format=ndjson&bom=true", 422, "bom"),
        ("/places/daye/rankings?bom=true", 422, "bom"),
        ("/rankings?indicator=hefie&format=csv", 422, "indicator"),
        ("/metrics/daye-high-tech-enterprises-2023/comparison?format=csv", 400, "format"),
    ],
)
def test_bad_file_requests_are_problems(
    client: TestClient, target: str, status: int, parameter: str
) -> None:
    response = client.get(API + target)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["parameter"] == parameter


def test_the_unknown_parameter_message_names_the_file_controls(client: TestClient) -> None:
    detail = client.get(f"{API}/rankings?indicator=x&colour=red").json()["detail"]
    assert "format" in detail
    assert "bom" in detail
