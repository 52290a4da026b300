"""The OpenAPI document as frontends meet it, with tools nobody here wrote, against a real
server: Spectral and Redocly find nothing; openapi-typescript's types are the committed
ones; a TypeScript client on them compiles under --strict and reads what Python reads;
links follow the scheme a trusted proxy reports."""

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.node import FRONTEND, run_node, run_tool
from harness.server import running_server


@pytest.fixture(scope="module")
def live_spec(server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("openapi") / "openapi.json"
    path.write_bytes(httpx.get(f"{server}/openapi.json").content)
    return path


def test_spectral_oas_finds_nothing(live_spec: Path) -> None:
    result = run_tool(
        "spectral", "lint", "--ruleset", ".spectral.yaml", "--format", "json",
        "--fail-severity", "hint", live_spec,
    )  # fmt: skip
    problems = json.JSONDecoder().raw_decode(result.stdout)[0]
    assert problems == [], "\n".join(
        f"{p['code']}: {p['message']} at {p['path']}" for p in problems
    )
    assert result.returncode == 0, result.stderr


def test_redocly_recommended_finds_nothing(live_spec: Path) -> None:
    result = run_tool("redocly", "lint", "--config", "redocly.yaml", "--format", "json", live_spec)
    # The JSON report comes first; Redocly may print notices after it.
    report: dict[str, Any] = json.JSONDecoder().raw_decode(result.stdout)[0]
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, [
        f"{p['ruleId']}: {p['message']}" for p in report["problems"]
    ]
    assert result.returncode == 0, result.stderr


def test_generated_types_are_the_committed_ones(live_spec: Path, tmp_path: Path) -> None:
    """The explorer and the client compile against src/api.d.ts: a contract change that
    is not regenerated (`npm run gen` in frontend/) fails here."""
    generated = tmp_path / "api.d.ts"
    result = run_tool("openapi-typescript", live_spec, "-o", generated)
    assert result.returncode == 0, result.stderr
    committed = (FRONTEND / "src" / "api.d.ts").read_text(encoding="utf-8")
    assert generated.read_text(encoding="utf-8") == committed


def test_typescript_client_compiles_strict_and_reads_the_api(server: str, tmp_path: Path) -> None:
    # Built inside frontend/ so that Node resolves openapi-fetch from its node_modules.
    out = FRONTEND / "build" / tmp_path.name
    try:
        compiled = run_tool("tsc", "-p", "client", "--outDir", out)
        assert compiled.returncode == 0, compiled.stdout + compiled.stderr
        ran = run_node(out / "client" / "check.js", server)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    assert ran.returncode == 0, ran.stderr
    seen = json.loads(ran.stdout)

    api = f"{server}/api/v1"
    cities = httpx.get(f"{api}/cities?province=hubei&level=county_city&count=true").json()
    assert seen["cities"] == {"total": cities["meta"]["total"], "returned": len(cities["data"])}
    assert seen["daye"] == {"code": "420281", "level": "county_city", "province": "hubei"}
    provinces = httpx.get(f"{api}/places?level=province&limit=500&sort=name").json()["data"]
    assert seen["provinces"]["names"] == [p["name"] for p in provinces]
    assert seen["provinces"]["pages"] == -(-len(provinces) // 10) >= 2
    top = httpx.get(f"{api}/cities/daye/metrics?sort=-value&limit=1").json()["data"][0]
    assert seen["metric"] == {
        "key": top["key"],
        "value": top["value"],
        "qualifier": top["qualifier"],
        "period": top["period"]["label"],
        "quote": top["provenance"]["quote"],
        "locator": top["provenance"]["locator"],
        "source": top["provenance"]["source"]["title"],
    }
    assert seen["metric"]["quote"]
    assert seen["subset"] == {
        "fields": ["key", "value"],
        "items": [["key", "value"]] * 3,
    }
    assert seen["refusal"] == {
        "status": 422,
        "type": "/problems/invalid-parameter",
        "parameter": "limit",
        "in": "query",
    }


def test_links_follow_a_trusted_proxy_only(reader_url: str, server: str) -> None:
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    url = "/api/v1/places?level=province&limit=2"
    ignored = httpx.get(server + url, headers=forwarded).json()["links"]
    assert ignored["next"].startswith("http://127.0.0.1:")
    with running_server(reader_url, ATLAS_TRUSTED_PROXIES="127.0.0.1") as behind_proxy:
        links = httpx.get(behind_proxy + url, headers=forwarded).json()["links"]
        assert links["self"].startswith("https://127.0.0.1:")
        assert links["next"].startswith("https://127.0.0.1:")
        direct = httpx.get(behind_proxy + url).json()["links"]
        assert direct["next"].startswith("http://127.0.0.1:")
