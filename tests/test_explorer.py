"""The explorer at `/`, in a real headless Chromium against a real server: a person
searches (English and Chinese), opens a city, reads a metric's quote and source, filters a
list and shares its URL; no console error, no request leaves 127.0.0.1, axe-core finds no
serious or critical violation, and the page fits a phone. Screenshots land in
var/screenshots (the API guide, docs/api.md, shows copies from docs/screenshots)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Request, Route, expect

from app.config import PROJECT_ROOT
from app.seeding.pipeline import seed
from harness.node import FRONTEND, run_tool
from harness.server import running_server
from tests.conftest import FULL_SEEDS, documents_dir

pytestmark = pytest.mark.browser
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
BUILT = PROJECT_ROOT / "app" / "static" / "explorer"
AXE = FRONTEND / "node_modules" / "axe-core" / "axe.min.js"


class Visit:
    """A page that may only reach the app, recording every console error, page error and
    attempted foreign request."""

    def __init__(self, browser: Browser, base: str, width: int, height: int) -> None:
        self.base = base
        self.page: Page = browser.new_page(viewport={"width": width, "height": height})
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )
        self.page.route("**/*", self._guard)

    def _guard(self, route: Route, request: Request) -> None:
        if request.url.startswith(self.base + "/") or request.url.startswith("data:"):
            route.continue_()
        else:
            self.foreign.append(request.url)
            route.abort()

    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.page.url).query)

    def axe(self) -> list[str]:
        """axe-core's serious and critical violations on the page as it stands."""
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            # evaluate() runs as the debugger, outside the page's CSP, which stays in force.
            self.page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
        results: dict[str, Any] = self.page.evaluate(
            "async () => { const r = await axe.run(document);"
            " return { passes: r.passes.length, violations: r.violations }; }"
        )
        assert results["passes"] > 10  # axe really looked at the page
        violations: list[dict[str, Any]] = results["violations"]
        return [
            f"{v['id']} ({v['impact']}): {v['help']} x{len(v['nodes'])}"
            for v in violations
            if v["impact"] in ("serious", "critical")
        ]

    def close(self) -> None:
        self.page.close()


@pytest.fixture(scope="module")
def full_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The explorer as people use it: on the whole dataset, official tables included."""
    folder = tmp_path_factory.mktemp("explorer")
    url = f"sqlite:///{folder / 'full.db'}"
    seed(url, FULL_SEEDS, documents_dir(), releases=folder / "releases")
    with running_server(url, ATLAS_RELEASES_DIR=str(folder / "releases")) as base:
        yield base


def api(server: str, path: str, **params: Any) -> Any:
    response = httpx.get(f"{server}/api/v1{path}", params=params)
    response.raise_for_status()
    return response.json()


def test_the_explorer_type_checks_and_rebuilds_to_the_committed_assets(tmp_path: Path) -> None:
    """`make run` serves the committed build; it must be what the sources build to (run
    `npm run build` in frontend/ after changing them)."""
    checked = run_tool("tsc", "-p", ".")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    built = run_tool("vite", "build", env={"ATLAS_EXPLORER_OUT": str(tmp_path)})
    assert built.returncode == 0, built.stdout + built.stderr

    def tree(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    fresh, committed = tree(tmp_path), tree(BUILT)
    assert sorted(fresh) == sorted(committed)
    assert [name for name in fresh if fresh[name] != committed[name]] == []


def test_browsers_get_the_explorer_and_clients_the_index(server: str) -> None:
    browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = httpx.get(server + "/", headers={"Accept": browser_accept})
    assert page.headers["content-type"].startswith("text/html")
    assert "/static/explorer/assets/" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "Accept" in page.headers["vary"]
    assert httpx.get(server + "/", headers={"Accept": "text/html"}).status_code == 200
    for accept in ("*/*", "application/json", "application/json, text/html"):
        index = httpx.get(server + "/", headers={"Accept": accept})
        assert index.headers["content-type"] == "application/json", accept
        assert index.json()["resources"]["cities"] == "/api/v1/cities"
    refused = httpx.get(server + "/", headers={"Accept": "image/png"})
    assert refused.status_code == 406


def _name(ranked: list[dict[str, Any]], slug: str) -> str:
    return next(str(e["place"]["name"]) for e in ranked if e["place"]["slug"] == slug)


def expect_charts(page: Page, server: str, slug: str) -> None:
    """The line chart has a point per dated value of the place's series, and the bar chart
    a bar for each of the first 20 places ranked in the series' last year (China's total
    left out), and one more for the place itself when it ranks below them."""
    facet = api(server, f"/places/{slug}/metrics", facets="indicator", limit=1)
    codes = [v["value"] for v in facet["meta"]["facets"]["counts"]["indicator"]["values"]]
    code = "rd_expenditure" if "rd_expenditure" in codes else codes[0]
    expect(page.locator("#chart-indicator")).to_have_value(code)
    points = api(server, "/series", indicator=code, places=slug)["data"][0]["points"]
    assert points
    expect(page.locator("svg.line-chart circle.point")).to_have_count(len(points))
    year = points[-1]["period"]["year"]
    ranked = api(server, "/rankings", indicator=code, year=year, limit=500)["data"]
    peers = [entry["place"]["slug"] for entry in ranked if entry["place"]["level"] != "country"]
    position = peers.index(slug)
    expect(page.locator("svg.bar-chart rect.bar")).to_have_count(
        min(len(peers), 20) + (position >= 20)
    )
    own = page.locator("svg.bar-chart rect.bar.own")
    expect(own).to_have_count(1)
    expect(page.locator("svg.bar-chart text.axis").nth(min(position, 20))).to_have_text(
        f"{position + 1}. {_name(ranked, slug)}"
    )


def test_a_province_shows_its_series_and_an_indicator_ranks_every_province(
    browser: Browser, full_server: str
) -> None:
    visit = Visit(browser, full_server, 1280, 900)
    page = visit.page
    page.goto(full_server + "/?place=anhui")
    expect(page.locator("h1")).to_have_text("Anhui 安徽省")
    expect_charts(page, full_server, "anhui")
    expect(page.locator("svg.line-chart circle.point")).to_have_count(14)  # 2010-2023
    assert visit.axe() == []
    page.screenshot(path=SCREENSHOTS / "explorer-province.png", full_page=True)

    page.goto(full_server + "/?indicator=rd_expenditure&year=2020")
    ranked = api(full_server, "/rankings", indicator="rd_expenditure", year=2020, limit=500)
    provinces = [e for e in ranked["data"] if e["place"]["level"] != "country"]
    assert len(provinces) == 31
    expect(page.locator("h2", has_text="Ranking in 2020 (31 places)")).to_be_visible()
    expect(page.locator(".ranking svg.bar-chart rect.bar")).to_have_count(31)
    # The map colours each province by its value: the top band holds the largest.
    expect(page.locator("svg.dot-map circle.spot")).to_have_count(31)
    top = page.locator("svg.dot-map circle.spot.bin-4 title").all_text_contents()
    assert any(t.startswith(provinces[0]["place"]["name"] + ":") for t in top)
    bottom = page.locator("svg.dot-map circle.spot.bin-0 title").all_text_contents()
    assert any(t.startswith(provinces[-1]["place"]["name"] + ":") for t in bottom)
    assert visit.axe() == []
    page.screenshot(path=SCREENSHOTS / "explorer-indicator.png", full_page=True)
    assert visit.foreign == []
    assert visit.errors == []
    visit.close()


def test_a_person_finds_a_city_reads_a_metric_and_filters_a_list(
    browser: Browser, full_server: str
) -> None:
    server = full_server
    visit = Visit(browser, server, 1280, 900)
    page = visit.page
    violations: dict[str, list[str]] = {}

    # The start page: provinces to browse, reached with the browser's own Accept header.
    page.goto(server + "/")
    expect(page.locator("h1")).to_have_text("China's regional innovation, sourced")
    expect(page.get_by_role("link", name="Anhui 安徽省")).to_be_visible()
    violations["home"] = visit.axe()

    # Search by English name, from the keyboard: skip link, brand, then the search box.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "q"
    page.keyboard.type("hefei")
    page.keyboard.press("Enter")
    hefei = page.get_by_role("link", name="Hefei 合肥市")
    expect(hefei).to_be_visible()
    assert visit.query() == {"q": ["hefei"]}
    violations["search"] = visit.axe()

    # And by its Chinese name.
    page.fill("#q", "合肥")
    page.press("#q", "Enter")
    expect(page.locator("h1")).to_have_text("Results for “合肥”")
    expect(hefei).to_be_visible()

    # The city: its metrics, its series of the indicator it has most values of, where it
    # stands among every place in the latest year, and the places inside it.
    hefei.focus()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Hefei 合肥市")
    assert visit.query() == {"place": ["hefei"]}
    metrics = api(server, "/places/hefei/metrics", limit=100)["data"]
    assert metrics
    expect(page.locator("table.metrics tbody tr")).to_have_count(len(metrics))
    expect_charts(page, server, "hefei")
    inside = api(server, "/places", parent="hefei", limit=500)["data"]
    located = [place for place in inside if place["coordinates"] is not None]
    assert len(located) >= 2
    expect(page.locator("svg.dot-map circle.spot")).to_have_count(len(located))
    violations["city"] = visit.axe()
    page.screenshot(path=SCREENSHOTS / "explorer-desktop.png", full_page=True)

    # A metric: period, qualifier, the quoted sentence and its source.
    first = metrics[0]
    page.get_by_role("link", name=first["indicator"]["name"]).first.click()
    assert visit.query() == {"metric": [first["key"]]}
    source = first["provenance"]["source"]
    expect(page.locator("blockquote.quote")).to_have_text(first["provenance"]["quote"])
    expect(page.locator('[data-field="title"]')).to_have_text(source["title"])
    expect(page.locator('[data-field="publisher"]')).to_have_text(source["publisher"])
    expect(page.locator('[data-field="locator"]')).to_have_text(first["provenance"]["locator"])
    expect(page.locator('[data-field="qualifier"]')).to_have_text(
        first["qualifier"].replace("_", " ")
    )
    expect(page.locator('[data-field="period"]')).to_contain_text(first["period"]["label"])
    violations["metric"] = visit.axe()

    # A filtered list: changing a filter changes the rows and the URL, which can be shared.
    page.goto(server + "/?indicator=high_tech_enterprises")
    everything = api(server, "/metrics", indicator="high_tech_enterprises", limit=100)["data"]
    expect(page.locator("table.metrics tbody tr")).to_have_count(len(everything))
    page.fill("#f-year", "2023")
    page.press("#f-year", "Enter")
    in_2023 = api(server, "/metrics", indicator="high_tech_enterprises", year=2023)["data"]
    assert 0 < len(in_2023) < len(everything)
    expect(page.locator("table.metrics tbody tr")).to_have_count(len(in_2023))
    assert visit.query() == {"indicator": ["high_tech_enterprises"], "year": ["2023"]}
    page.select_option("#f-sort", "value")
    expect(page.locator("p.count")).to_have_text(
        f"{len(in_2023)} metric" + "s" * (len(in_2023) != 1)
    )
    assert visit.query()["sort"] == ["value"]
    violations["indicator"] = visit.axe()
    shared = page.url
    page.goto(shared)
    expect(page.locator("table.metrics tbody tr")).to_have_count(len(in_2023))
    assert page.input_value("#f-year") == "2023"

    # Back goes back.
    page.go_back()
    assert visit.query() == {"indicator": ["high_tech_enterprises"], "year": ["2023"]}

    assert visit.foreign == []
    assert visit.errors == []
    assert {view: found for view, found in violations.items() if found} == {}
    visit.close()


def test_the_explorer_fits_a_phone(browser: Browser, full_server: str) -> None:
    server = full_server
    visit = Visit(browser, server, 390, 844)
    page = visit.page
    page.goto(server + "/?place=hefei")
    expect(page.locator("h1")).to_have_text("Hefei 合肥市")
    expect(page.locator("svg.bar-chart")).to_be_visible()
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= 390
    assert visit.axe() == []
    page.screenshot(path=SCREENSHOTS / "explorer-phone.png", full_page=True)
    assert visit.foreign == []
    assert visit.errors == []
    visit.close()


def test_ranks_say_what_they_compare_and_programs_how_they_cover(
    browser: Browser, full_server: str
) -> None:
    """A ranking shows whether its ranks compare like with like (a group of one says so),
    a place shows its rank among places of its level with the same flag, its Programs
    section lists each program covering it once, with how (`via`), and a search lists the
    metrics quoting the words."""
    server = full_server
    visit = Visit(browser, server, 1280, 900)
    page = visit.page

    # An indicator ranked in a year only one place has a value for.
    page.goto(server + "/?indicator=high_tech_enterprises&year=2023")
    alone = api(server, "/rankings", indicator="high_tech_enterprises", year=2023, limit=500)
    assert alone["meta"]["comparable"] is False
    flag = page.locator("div.comparability")
    expect(flag).to_have_attribute("data-comparable", "false")
    expect(flag).to_contain_text("Not comparable: " + alone["meta"]["comparability"])
    expect(flag).to_contain_text("a group of one")
    expect(flag.locator("ul.differs li")).to_have_count(0)  # said once, for the group
    assert visit.axe() == []

    # One whose peers share period and level says so, and flags nothing.
    page.goto(server + "/?indicator=rd_expenditure&year=2020")
    ranked = api(server, "/rankings", indicator="rd_expenditure", year=2020, limit=500)
    expected = "true" if ranked["meta"]["comparable"] else "false"
    shown = [e for e in ranked["data"] if e["place"]["level"] != "country"]  # as the chart
    flagged = [e for e in shown if not e["comparable"]] if len(shown) > 1 else []
    expect(page.locator("div.comparability")).to_have_attribute("data-comparable", expected)
    expect(page.locator("div.comparability")).to_contain_text(ranked["meta"]["comparability"])
    expect(page.locator("div.comparability ul.differs li")).to_have_count(len(flagged))

    # A place's rank among the places of its level: Daye is alone at its level.
    page.goto(server + "/?place=daye&chart=high_tech_enterprises")
    expect(page.locator("h1")).to_contain_text("Daye")
    standing = page.locator("p.standing")
    expect(standing).to_have_attribute("data-comparable", "false")
    expect(standing).to_contain_text("rank 1 of 1")
    expect(standing).to_contain_text("a group of one")

    # Programs covering Changzhi, each once, with how: the national innovative-city
    # program both at a place Changzhi lies in and as a candidate.
    page.goto(server + "/?place=changzhi")
    expect(page.locator("h1")).to_contain_text("Changzhi")
    covering = api(server, "/programs", covers="changzhi", limit=100)["data"]
    assert len(covering) == len({p["slug"] for p in covering}) > 0
    expect(page.locator("h2", has_text=f"Programs ({len(covering)})")).to_be_visible()
    items = page.locator("span.program")
    expect(items).to_have_count(len(covering))
    for index, program in enumerate(covering):
        expect(items.nth(index)).to_contain_text(program["name"])
        expect(items.nth(index).locator(".via")).to_have_attribute(
            "data-via", " ".join(program["via"])
        )
    candidate = items.filter(has_text="National innovative city")
    expect(candidate.locator(".via")).to_contain_text("a candidate")
    assert any("candidate" in p["via"] for p in covering)
    assert visit.axe() == []

    # A search lists the metrics whose source's sentence holds the words.
    page.goto(server + "/?q=new%20energy")
    quoting = api(server, "/metrics", q="new energy", limit=50)["data"]
    assert quoting
    expect(page.locator("h2", has_text=f"Metrics quoting it ({len(quoting)})")).to_be_visible()
    expect(page.locator("table.metrics tbody tr")).to_have_count(len(quoting))
    assert visit.axe() == []
    assert visit.foreign == []
    assert visit.errors == []
    visit.close()


def test_the_start_page_offers_the_whole_release_as_files(
    browser: Browser, full_server: str
) -> None:
    visit = Visit(browser, full_server, 1280, 900)
    page = visit.page
    page.goto(full_server + "/")
    listed = api(full_server, "/releases", limit=1)["data"][0]
    files = api(full_server, f"/releases/{listed['version']}/download")["files"]
    names = {f["name"] for f in files}
    assert {"atlas.sqlite", "atlas-csv.zip", "datapackage.json", "observation.parquet"} <= names
    section = page.locator("section", has=page.locator("h2", has_text="The whole dataset"))
    expect(section).to_contain_text(listed["version"][:12])
    links = section.locator("a[download]")
    expect(links).to_have_count(len(files))
    sqlite = section.locator("a[download='atlas.sqlite']")
    href = sqlite.get_attribute("href")
    assert href is not None
    (described,) = [f for f in files if f["name"] == "atlas.sqlite"]
    response = httpx.get(full_server + href)
    assert response.status_code == 200
    assert len(response.content) == described["bytes"]
    assert response.content.startswith(b"SQLite format 3\x00")
    assert visit.axe() == []
    assert visit.foreign == []
    assert visit.errors == []
    visit.close()
