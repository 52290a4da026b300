"""The adversarial suite: hostile requests against a real `atlas serve` on each engine.

Every list operation and every parameter in the OpenAPI document gets SQL injection
strings; sorts, fields and filters outside the allow-lists; broken limits; malformed,
truncated, tampered and foreign cursors; repeated parameters; control characters, NUL,
odd Unicode and invalid UTF-8; query strings of tens of kilobytes; unsupported methods
and media types; injection in path parameters. Each answer must be a problem document
with the expected status (or, for free text, an empty page), nothing may leak, the server
must log no error, and the database must be unchanged afterwards.
"""

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.api.export_twins import SUFFIX
from harness import hostile
from harness.hostile import Case, ListOperation
from harness.server import running_server, send_raw
from harness.state import dump
from tests.conftest import Backend

LEAKS = (
    "Traceback", 'File "/', "site-packages", "sqlite3.", "psycopg", "sqlalchemy",
    "OperationalError", "ProgrammingError", "SELECT observation", "FROM observation",
)  # fmt: skip
TALLY = hostile.TALLY


@dataclass
class Served:
    http: httpx.Client
    log: Path
    operations: list[ListOperation]
    cursors: dict[str, str]  # list path -> a cursor it issued (default sort)
    detail_paths: list[str]
    templates: list[tuple[str, str]]  # path with one parameter replaced, and that value
    before: dict[str, list[tuple[Any, ...]]]  # the database's state before any request

    def cases(self, family: str) -> Iterator[Case]:
        if family == "cursor":
            for op in self.operations:
                yield from hostile.cursor_cases(op, self.cursors, other_sort(op))
        elif family in PER_LIST:
            for op in self.operations:
                yield from PER_LIST[family](op)
        elif family in PER_PATH:
            for path in [op.path for op in self.operations] + self.detail_paths:
                yield from PER_PATH[family](path)
        elif family == "path":
            for template, value in self.templates:
                yield from hostile.path_injection_cases(template, value)


PER_LIST: dict[str, Callable[[ListOperation], Iterator[Case]]] = {
    "injection": hostile.injection_cases,
    "not-allow-listed": hostile.not_allow_listed_cases,
    "limit": hostile.limit_cases,
    "repeated": hostile.repeated_cases,
    "unicode-control": hostile.strange_character_cases,
    "oversized": hostile.oversized_cases,
}
PER_PATH: dict[str, Callable[[str], Iterator[Case]]] = {
    "method": hostile.method_cases,
    "media-type": hostile.media_type_cases,
}


def other_sort(op: ListOperation) -> str:
    """A valid sort other than the default, to present a cursor issued for the default."""
    schema = op.parameters["sort"]
    first = re.search(r"\(([a-z_]+)[|)]", schema["pattern"])
    assert first is not None, schema["pattern"]
    key = first.group(1)
    # one key (a release's number): the other direction than the default's
    return key if str(schema.get("default", "")).startswith(f"-{key}") else f"-{key}"


# Path parameters named otherwise than the field they hold: `/releases/{release}` is a
# release's version (`{version}` would clash with the `version=` pin in generated clients).
KEY_FIELDS = {"release": "version"}


def _fill(http: httpx.Client, path: str) -> tuple[str, str] | None:
    """The path with its parameter replaced by a real key: the first item of its collection."""
    match = re.fullmatch(r"(/api/v1/[a-z]+)/\{([a-z_]+)\}(/[a-z]+)?(\.csv)?", path)
    if match is None:
        return None
    collection, name = match.group(1, 2)
    key = name.rsplit("_", 1)[-1]  # `city_slug` names the city's `slug`
    key = KEY_FIELDS.get(key, key)
    value = str(http.get(f"{collection}?limit=1").json()["data"][0][key])
    return path.replace("{" + name + "}", value), value


def discover(http: httpx.Client) -> tuple[list[ListOperation], list[str], list[tuple[str, str]]]:
    spec: dict[str, Any] = http.get("/openapi.json").json()
    operations, details, templates = [], [], []
    for documented, item in spec["paths"].items():
        parameters = {
            p["name"]: p["schema"] for p in item["get"].get("parameters", []) if p["in"] == "query"
        }
        twin = documented.endswith(SUFFIX)  # a list's export twin: asked for its CSV
        template = documented.replace(SUFFIX, ".csv")
        filled = _fill(http, template)
        path = filled[0] if filled else template
        if filled:
            templates.append(filled)
        if "cursor" in parameters and not twin:  # a paged list (search, series: no cursor)
            operations.append(ListOperation(path, parameters))
        else:
            details.append(path)
    return operations, details, templates


@pytest.fixture(scope="module")
def served(
    reader_url: str, loaded_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    before = dump(loaded_url)
    log = tmp_path_factory.mktemp("adversarial") / "server.log"
    with (
        running_server(reader_url, log_path=log) as base,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        operations, details, templates = discover(http)
        cursors = {}
        for op in operations:
            issued = http.get(f"{op.path}?limit=1").json()["links"]["next"]
            if issued:
                cursors[op.path] = httpx.URL(issued).params["cursor"]
        yield Served(http, log, operations, cursors, details, templates, before)


FAMILIES = {  # family -> the least number of requests it must make (guards the generator)
    "injection": 7000, "not-allow-listed": 1000, "limit": 400, "cursor": 400,
    "repeated": 200, "unicode-control": 2000, "oversized": 200, "method": 200,
    "media-type": 300, "path": 150,
}  # fmt: skip


@pytest.mark.parametrize("family", FAMILIES)
def test_hostile_requests_get_problem_details(
    served: Served, backend: Backend, family: str
) -> None:
    failures: list[str] = []
    outcomes: Counter[str] = Counter()
    unfiltered: dict[str, Any] = {}
    for case in served.cases(family):
        if case.negated and case.path not in unfiltered:
            unfiltered[case.path] = served.http.get(case.path).json()["data"]
        if len(case.target) > 60_000:  # beyond what httpx builds
            response = send_raw(str(served.http.base_url), case.method, case.target, case.headers)
        else:
            response = served.http.request(
                case.method, case.target, headers=case.headers, content=case.content
            )
        outcome, failure = judge(case, response, unfiltered.get(case.path))
        outcomes[outcome] += 1
        if failure:
            failures.append(f"{case.method} {case.target[:160]}: {failure}")
    for outcome, count in outcomes.items():
        TALLY[(backend.name, family, outcome)] += count
    total = sum(outcomes.values())
    assert not failures, f"{len(failures)} of {total} failed:\n" + "\n".join(failures[:25])
    assert total >= FAMILIES[family]


def judge(case: Case, response: httpx.Response, unfiltered: Any = None) -> tuple[str, str | None]:
    """Classify an answer and say what, if anything, is wrong with it. `unfiltered` is the
    list's first page without filters, which a `__ne` of a hostile value must equal."""
    status = response.status_code
    text = response.text
    leaked = [marker for marker in LEAKS if marker.lower() in text.lower()]
    if leaked:
        return f"{status}", f"leaks {leaked}"
    if status == 200 and case.text_ok and case.negated:
        data = response.json()["data"]
        return "200 every row", None if data == unfiltered else f"differs from no filter: {data}"
    if status == 200 and case.text_ok:
        data = response.json()["data"]
        return "200 empty page", None if data == [] else f"matched {len(data)} rows"
    if status not in case.expect:
        return f"{status}", f"status {status}, expected {sorted(case.expect)}: {text[:200]}"
    if response.headers.get("content-type") != "application/problem+json":
        return f"{status}", f"content-type {response.headers.get('content-type')}"
    body = response.json()
    if body.get("status") != status or not {"type", "title", "detail"} <= set(body):
        return f"{status}", f"not a problem document: {body}"
    if status in (400, 422) and body["type"] != "/problems/malformed-request":
        errors = body.get("errors") or []
        if not errors or not all(error.get("parameter") for error in errors):
            return f"{status}", f"does not name the parameter: {body}"
    if status == 405 and "GET" not in response.headers.get("allow", ""):
        return f"{status}", "405 without Allow"
    return f"{status} problem", None


def test_nothing_changed_and_nothing_logged_as_an_error(
    served: Served, loaded_url: str, backend: Backend
) -> None:
    """Runs after the families (file order): the data is as loaded, the server is healthy,
    and its log holds no error or traceback."""
    assert sum(n for (engine, _, _), n in TALLY.items() if engine == backend.name) > 0
    assert served.http.get("/healthz").status_code == 200
    assert dump(loaded_url) == served.before
    log = served.log.read_text(errors="replace")
    assert "Traceback" not in log
    assert not re.search(r"^ERROR", log, re.MULTILINE)
    assert '" 500 ' not in log
