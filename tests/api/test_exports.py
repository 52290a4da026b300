"""Lists as CSV and NDJSON exports, over HTTP on both engines: every matching row without a
cursor, the same filters and sort as the JSON pages, flat columns, Chinese names intact,
formulas neutralised."""

import csv
import io
from typing import Any
from urllib.parse import unquote

import orjson
import pytest
from fastapi.testclient import TestClient

from app.api.export_rows import cell
from app.api.exports import preferred
from harness.server import running_server
from tests.conftest import Backend

API = "/api/v1"


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def every_page(client: TestClient, url: str) -> list[dict[str, Any]]:
    """The JSON list walked with its cursors, as a client without exports would."""
    items: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        body = client.get(next_url).json()
        items.extend(body["data"])
        next_url = body["links"]["next"]
    return items


def test_csv_export_is_every_place_in_the_json_order(client: TestClient) -> None:
    response = client.get(f"{API}/places?format=csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["etag"].startswith('W/"')  # from the version, not the streamed body
    rows = csv_rows(response.text)
    walked = every_page(client, f"{API}/places?limit=500")
    assert len(rows) == len(walked) == 3249  # seven internal pages, no cursor for the client
    assert [r["slug"] for r in rows] == [item["slug"] for item in walked]
    hefei = next(r for r in rows if r["slug"] == "hefei")
    assert hefei["name_local"] == "合肥市"
    assert hefei["province.slug"] == "anhui"
    assert hefei["code"] == "340100"
    assert response.headers["x-atlas-columns"].split(",") == list(rows[0])


def test_export_keeps_filters_and_sort(client: TestClient) -> None:
    url = f"{API}/metrics?indicator=high_tech_enterprises&sort=-value"
    rows = csv_rows(client.get(url + "&format=csv").text)
    walked = every_page(client, url)
    assert [r["key"] for r in rows] == [item["key"] for item in walked]
    assert len(rows) >= 2
    assert [float(r["value"]) for r in rows] == sorted(
        (float(r["value"]) for r in rows), reverse=True
    )
    assert {r["indicator.code"] for r in rows} == {"high_tech_enterprises"}
    query = client.get(url + "&format=csv").headers["x-atlas-query"]
    assert query == "indicator=high_tech_enterprises&sort=-value"


def test_an_export_states_booleans_as_the_query_string_does(client: TestClient) -> None:
    response = client.get(f"{API}/metrics?format=csv&latest=true&derived=false&limit=1")
    assert response.headers["x-atlas-query"] == "latest=true&derived=false&sort=id"


def test_an_export_can_state_its_total(client: TestClient) -> None:
    response = client.get(f"{API}/places?format=csv&count=true&province=hubei")
    assert response.headers["x-atlas-total"] == "117"
    assert len(csv_rows(response.text)) == 117
    assert "x-atlas-total" not in client.get(f"{API}/places?format=csv&limit=1").headers


def test_ndjson_lines_are_the_json_items(client: TestClient) -> None:
    url = f"{API}/places/hubei/programs"
    response = client.get(url, headers={"accept": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson; charset=utf-8"
    lines = [orjson.loads(line) for line in response.text.splitlines()]
    assert lines == every_page(client, url)
    assert lines  # Hubei has programs


@pytest.mark.parametrize(
    ("accept", "kind"),
    [
        ("text/csv", "text/csv"),
        ("text/csv, application/json;q=0.5", "text/csv"),
        ("application/json, text/csv;q=0.9", "application/json"),
        ("application/x-ndjson", "application/x-ndjson"),
        ("*/*", "application/json"),
    ],
)
def test_accept_chooses_the_format(client: TestClient, accept: str, kind: str) -> None:
    response = client.get(f"{API}/indicators", headers={"accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(kind)


def test_limit_caps_an_export_and_fields_picks_columns(client: TestClient) -> None:
    text = client.get(f"{API}/places?format=csv&limit=3&fields=slug,name_local,province").text
    rows = csv_rows(text)
    assert len(rows) == 3
    assert list(rows[0]) == [
        "slug", "name_local", "province.slug", "province.name", "province.level", "province.url",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("target", "headers", "status", "parameter"),
    [
        ("/places?format=xml", {}, 422, "format"),
        ("/places?format=csv&format=json", {}, 422, "format"),
        ("/places?format=csv&limit=0", {}, 422, "limit"),
        ("/places?format=csv&colour=red", {}, 400, "colour"),
        ("/places/nowhere/metrics?format=csv", {}, 404, None),
        ("/places/hubei", {"accept": "text/csv"}, 406, None),
        ("/places", {"accept": "text/csv;q=0"}, 406, None),
    ],
)
def test_bad_export_requests_are_problems(
    client: TestClient, target: str, headers: dict[str, str], status: int, parameter: str | None
) -> None:
    response = client.get(API + target, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if parameter is not None:
        assert response.json()["errors"][0]["parameter"] == parameter


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-3.5", "-3.5"),
        (-3.5, "-3.5"),
        (45_200_000_000.0, "45200000000"),
        (None, ""),
        (True, "true"),
        ("合肥市", "合肥市"),
        (["a-key", "b-key"], "a-key,b-key"),
        (["its period is unknown, the group's is 2023", "it is a county"],
         "its period is unknown, the group's is 2023; it is a county"),
    ],
)  # fmt: skip
def test_cells_are_spreadsheet_safe(value: Any, text: str) -> None:
    assert cell(value) == text


@pytest.mark.parametrize(
    ("accept", "kind"),
    [("text/csv", "csv"), ("application/json;q=0.1, text/csv;q=0.2", "csv"),
     ("text/csv;q=0.5, application/json;q=0.5", "json"), ("application/x-ndjson", "ndjson"),
     ("text/html", "json")],
)  # fmt: skip
def test_preferred_format(accept: str, kind: str) -> None:
    assert preferred(accept) == kind


@pytest.mark.server
def test_a_real_server_streams_the_export(reader_url: str, backend: Backend) -> None:
    import httpx

    with (
        running_server(reader_url) as base,
        httpx.stream("GET", f"{base}{API}/cities?format=csv&sort=-name", timeout=30) as response,
    ):
        assert response.status_code == 200
        assert response.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in response.headers
        text = "".join(response.iter_text())
        total = httpx.get(f"{base}{API}/cities?count=true&limit=1").json()["meta"]["total"]
    rows = csv_rows(text)
    assert len(rows) == total > 500  # more than one internal page
    assert rows[0]["name"] >= rows[-1]["name"]
    assert any(row["name_local"] == "合肥市" for row in rows)


def saved_as(response: Any) -> str:
    """The file name a browser saves the answer as: `filename*` when given, else `filename`."""
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    parameters = dict(part.strip().split("=", 1) for part in disposition.split(";")[1:])
    if "filename*" in parameters:
        charset, _, encoded = parameters["filename*"].partition("''")
        assert charset == "UTF-8"
        return unquote(encoded)
    return str(parameters["filename"].strip('"'))


def test_a_bom_lets_a_spreadsheet_read_the_chinese(client: TestClient) -> None:
    response = client.get(f"{API}/places?province=anhui&fields=slug,name_local&format=csv&bom=true")
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\xef\xbb\xbfslug,name_local\r\n")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["slug", "name_local"]
    assert ["hefei", "合肥市"] in rows
    plain = client.get(f"{API}/places?province=anhui&fields=slug,name_local&format=csv")
    assert plain.content == response.content[3:]  # the mark is all that differs
    assert plain.headers["etag"] != response.headers["etag"]


@pytest.mark.parametrize(
    ("target", "detail"),
    [
        ("/places?bom=true", "for CSV only"),
        ("/places?bom=true&format=ndjson", "for CSV only"),
        ("/places?bom=maybe&format=csv", "expected true or false"),
        ("/places?bom=true&bom=true&format=csv", "more than once"),
    ],
)
def test_a_bom_is_for_csv_only(client: TestClient, target: str, detail: str) -> None:
    response = client.get(API + target)
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["parameter"] == "bom"
    assert detail in error["detail"]
    assert client.get(f"{API}/places?bom=false&limit=1").status_code == 200


def test_fields_takes_the_names_the_csv_header_shows(client: TestClient) -> None:
    url = f"{API}/metrics?indicator=high_tech_enterprises&sort=key"
    whole = csv_rows(client.get(url + "&format=csv").text)
    names = ["indicator.code", "place.slug", "period.year", "value", "provenance.source.id"]
    response = client.get(url + "&format=csv&fields=" + ",".join(names))
    assert response.status_code == 200, response.text
    rows = csv_rows(response.text)
    assert list(rows[0]) == names == response.headers["x-atlas-columns"].split(",")
    assert rows == [{name: row[name] for name in names} for row in whole]
    # An object by its dotted name: every column it holds.
    source = csv_rows(client.get(url + "&format=csv&fields=provenance.source").text)
    assert list(source[0]) == [n for n in whole[0] if n.startswith("provenance.source.")]


def test_a_dotted_field_keeps_its_object_whole_in_json(client: TestClient) -> None:
    url = f"{API}/metrics?indicator=high_tech_enterprises&fields=place.slug,value"
    body = client.get(url).json()
    assert body["meta"]["fields"] == ["place", "value"]  # what each item holds
    assert body["data"]
    for item in body["data"]:
        assert set(item) == {"place", "value"}
        assert set(item["place"]) == {"slug", "name", "level", "url"}


@pytest.mark.parametrize(
    ("target", "suggestion"),
    [
        ("/metrics?format=csv&fields=place.slg", "place.slug"),
        ("/metrics?fields=value,indicator.cod", "indicator.code"),
        ("/places/hubei/metrics?fields=place.slug,nothing.here", None),
    ],
)
def test_an_unknown_dotted_field_is_refused_with_the_names(
    client: TestClient, target: str, suggestion: str | None
) -> None:
    response = client.get(API + target)
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["parameter"] == "fields"
    assert "place.slug" in error["detail"]
    assert "provenance.source.title" in error["detail"]
    assert error.get("suggestions", [None])[0] == suggestion


def test_the_file_name_says_the_version_and_the_query(client: TestClient) -> None:
    response = client.get(f"{API}/metrics?indicator=high_tech_enterprises&format=csv&bom=true")
    version = response.headers["x-atlas-dataset-version"]
    assert len(version) == 64
    expected = f"atlas-metrics-{version[:12]}-indicator-high_tech_enterprises.csv"
    assert response.headers["content-disposition"] == f'attachment; filename="{expected}"'
    nested = client.get(f"{API}/places/hubei/metrics?format=ndjson&sort=-value&limit=1")
    assert saved_as(nested) == f"atlas-metrics-{version[:12]}-within-hubei-sort-value.ndjson"
    everything = client.get(f"{API}/indicators?format=csv")
    assert saved_as(everything) == f"atlas-indicators-{version[:12]}-all.csv"


def test_a_chinese_query_is_named_in_filename_star(client: TestClient) -> None:
    response = client.get(f"{API}/places?name_local=合肥市&format=csv")
    version = response.headers["x-atlas-dataset-version"][:12]
    disposition = response.headers["content-disposition"]
    ascii_name, star = disposition.removeprefix("attachment; ").split("; ")
    assert ascii_name.isascii()
    assert ascii_name.startswith(f'filename="atlas-places-{version}-')
    hefei = "%E5%90%88%E8%82%A5%E5%B8%82"  # 合肥市, UTF-8 percent-encoded
    assert star == f"filename*=UTF-8''atlas-places-{version}-name_local-{hefei}.csv"
    assert saved_as(response) == f"atlas-places-{version}-name_local-合肥市.csv"
