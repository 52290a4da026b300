"""Hostile requests, generated from the API's own OpenAPI document so that every list
operation and every parameter it declares is covered, and a new one is covered as soon as
it is declared.

Each case says what a correct server answers: a problem document with one of `expect`,
or, where `text_ok`, possibly a 200 whose page is empty (a free-text filter given an
injection string must treat it as text and find nothing; a match would mean the string
was read as SQL or as a pattern).
"""

import base64
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

CONTROLS = ("limit", "cursor", "sort", "fields", "count", "format", "facets")

# Requests made by the adversarial suite: (engine, family, outcome) -> count, for the report.
TALLY: Counter[tuple[str, str, str]] = Counter()

INJECTIONS = (
    "' OR '1'='1",
    "' OR 1=1 --",
    "1; DROP TABLE observation; --",
    "1' UNION SELECT sqlite_version(), 2, 3 --",
    "') UNION SELECT version() --",
    '" OR ""="',
    "1 OR 1=1",
    "' AND (SELECT pg_sleep(3)) IS NULL --",
    "'; ATTACH DATABASE '/tmp/owned.db' AS owned; --",
    "1)) OR ((1=1",
    "%' OR 'a' LIKE '%",
    "\\'; SELECT 1; --",
    "$$; DROP TABLE place; $$",
    "value DESC, (SELECT 1)",
)

NOT_ALLOW_LISTED = (
    "rowid", "oid", "ctid", "source_id", "span_start", "password", "sqlite_master",
    "pg_catalog.pg_user", "1", "(SELECT 1)", "value;drop table x", "value desc", "--value",
    "+value", "-", ",", "value,", "a" * 300,
)  # fmt: skip

UNKNOWN_FILTERS = (
    "rowid", "password", "value__like", "value__regex", "value__eq", "name__gt__lt",
    "year__", "__in", "__", "_", "sort__in", "limit__gt", "a" * 300, "name%00", "data[]",
)  # fmt: skip

LIMITS = (
    "0", "-1", "-0", "501", "1000000", "99999999999999999999", "1e3", "1.5", "abc", "",
    " 5", "5 ", "0x10", "\uff11\uff10", "1_0", "NaN", "Infinity", "+", "--1", "5;", "null",
    "[]", "5 OR 1=1",
)  # fmt: skip

# Already percent-encoded where the bytes are not valid UTF-8 (the `raw` ones).
STRANGE_TEXT = (
    "\x00", "a\x00b", "\x01", "\x1b[31m", "\x7f", "\u0085", "\t", "\r\n",
)  # fmt: skip
STRANGE_BUT_PRINTABLE = (
    "\u202eevil", "\ufeff", "\U0001f600", "\uff21", "a" + "\u0301" * 50, "\u2028", "\u00a0",
)  # fmt: skip
RAW_BYTES = ("%FF%FE", "%ED%A0%80", "%C0%AF", "%E2%82", "%00")

MALFORMED_CURSORS = (
    "", ".", "..", "a.b", "=", "null", "' OR 1=1 --", "x" * 3000, "YWJj", "eyJrIjpbMV19.",
    ".c2ln", "eyJrIjpbMV19.c2ln.c2ln", "%00", "\u00e9.\u00e9",
)  # fmt: skip

METHODS = ("POST", "PUT", "PATCH", "DELETE", "TRACE", "PROPFIND", "FOO")
KNOWN_METHODS = ("POST", "PUT", "PATCH", "DELETE", "TRACE", "PROPFIND")
UNACCEPTABLE = (
    "application/xml", "text/html", "text/tab-separated-values", "image/png",
    "application/json;q=0", "text/csv;q=0",
    "text/*",
)  # fmt: skip


@dataclass(frozen=True)
class Case:
    family: str
    target: str  # path and query, percent-encoded
    expect: frozenset[int]
    text_ok: bool = False
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None

    @property
    def negated(self) -> bool:
        """Whether the case's filter is a `__ne`: a hostile value matches nothing, so its
        negation must match every row (the unfiltered page), not none."""
        query = urlsplit(self.target).query
        return any(name.endswith("__ne") for name, _ in parse_qsl(query, keep_blank_values=True))

    @property
    def path(self) -> str:
        return urlsplit(self.target).path


@dataclass(frozen=True)
class ListOperation:
    path: str  # with path parameters filled in
    parameters: dict[str, dict[str, Any]]  # query parameter name -> schema

    def is_text(self, name: str) -> bool:
        """A free-text filter: any printable string is a value to compare, not an error."""
        schema = self.parameters[name]
        return (
            name not in CONTROLS
            and "enum" not in schema
            and "format" not in schema
            and "[^\\x00-" in schema.get("pattern", "")
        )

    def filters(self) -> list[str]:
        return [name for name in self.parameters if name not in CONTROLS]

    def text_filters(self) -> list[str]:
        return [name for name in self.filters() if self.is_text(name)]

    def typed_filters(self) -> list[str]:
        return [name for name in self.filters() if not self.is_text(name)]


def q(text: str) -> str:
    return quote(text, safe="")


def _expect(*statuses: int) -> frozenset[int]:
    return frozenset(statuses)


def control_expectation(name: str) -> frozenset[int]:
    return _expect(400) if name == "cursor" else _expect(422)


def injection_cases(op: ListOperation) -> Iterator[Case]:
    for name in op.parameters:
        text = op.is_text(name)
        expect = control_expectation(name) if name in CONTROLS else _expect(422)
        for payload in INJECTIONS:
            yield Case("injection", f"{op.path}?{q(name)}={q(payload)}", expect, text_ok=text)


def not_allow_listed_cases(op: ListOperation) -> Iterator[Case]:
    for name in NOT_ALLOW_LISTED:
        for control in ("sort", "fields"):
            yield Case("not-allow-listed", f"{op.path}?{control}={q(name)}", _expect(422))
    for name in UNKNOWN_FILTERS:
        yield Case("not-allow-listed", f"{op.path}?{q(name)}=1", _expect(400))


def limit_cases(op: ListOperation) -> Iterator[Case]:
    for limit in LIMITS:
        yield Case("limit", f"{op.path}?limit={q(limit)}", _expect(422))


def cursor_cases(op: ListOperation, cursors: dict[str, str], own_sort: str) -> Iterator[Case]:
    """Malformed, truncated and tampered cursors, and cursors issued by other lists or for
    another sort of this one. `cursors` maps each list path to a cursor it issued."""
    for token in MALFORMED_CURSORS:
        yield Case("cursor", f"{op.path}?cursor={q(token)}", _expect(400))
    own = cursors.get(op.path)
    if own is not None:
        for cut in (1, 2, len(own) // 2, len(own) - 2, len(own) - 1):
            yield Case("cursor", f"{op.path}?cursor={q(own[:cut])}", _expect(400))
        for token in tampered(own):
            yield Case("cursor", f"{op.path}?cursor={q(token)}", _expect(400))
        yield Case("cursor", f"{op.path}?sort={q(own_sort)}&cursor={q(own)}", _expect(400))
    for path, foreign in cursors.items():
        if path != op.path:
            yield Case("cursor", f"{op.path}?cursor={q(foreign)}", _expect(400))


def tampered(token: str) -> Iterator[str]:
    """The token with one character changed at positions across its payload and signature,
    and with a payload re-encoded to claim a different position."""
    for position in range(0, len(token), max(1, len(token) // 12)):
        if token[position] == ".":
            continue
        replacement = "A" if token[position] != "A" else "B"
        yield token[:position] + replacement + token[position + 1 :]
    payload, _, signature = token.partition(".")
    try:
        decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    except ValueError:
        return
    forged = base64.urlsafe_b64encode(decoded.replace(b"1", b"2")).rstrip(b"=").decode()
    if forged != payload:
        yield f"{forged}.{signature}"


def repeated_cases(op: ListOperation) -> Iterator[Case]:
    for name, first, second in (
        ("limit", "5", "6"), ("sort", "-id", "id"), ("count", "true", "true"),
        ("cursor", "a.b", "c.d"), ("fields", "url", "url"),
    ):  # fmt: skip
        yield Case("repeated", f"{op.path}?{name}={first}&{name}={second}", _expect(400, 422))
    for name in op.filters()[:6]:
        yield Case("repeated", f"{op.path}?{q(name)}=1&{q(name)}=2", _expect(400, 422))


def strange_character_cases(op: ListOperation) -> Iterator[Case]:
    texts, typed = op.text_filters()[:4], op.typed_filters()[:4]
    for value in STRANGE_TEXT:
        for name in [*texts, *typed, "limit", "sort", "fields", "count"]:
            yield Case("unicode-control", f"{op.path}?{q(name)}={q(value)}", _expect(422))
        yield Case("unicode-control", f"{op.path}?{q('name' + value)}=1", _expect(400))
    for value in STRANGE_BUT_PRINTABLE:
        for name in texts:
            target = f"{op.path}?{q(name)}={q(value)}"
            yield Case("unicode-control", target, _expect(422), text_ok=True)
        for name in [*typed, "limit", "sort"]:
            yield Case("unicode-control", f"{op.path}?{q(name)}={q(value)}", _expect(422))
    for raw in RAW_BYTES:
        for name in [*texts, *typed, "limit"]:
            # invalid UTF-8 decodes to U+FFFD or NUL: text or a refusal, never a crash
            yield Case("unicode-control", f"{op.path}?{q(name)}={raw}", _expect(422), text_ok=True)
        yield Case("unicode-control", f"{op.path}?{raw}=1", _expect(400))


def oversized_cases(op: ListOperation) -> Iterator[Case]:
    """Query strings of tens of kilobytes: refused by the server before the app (414)."""
    name = (op.text_filters() or ["limit"])[0]
    for size in (10_000, 20_000, 50_000, 100_000):
        yield Case("oversized", f"{op.path}?{q(name)}={'a' * size}", _expect(414))
        many = "&".join(f"p{n}=1" for n in range(size // 6))
        yield Case("oversized", f"{op.path}?{many}", _expect(414))
    # long but under the cap: the app's own verdict
    yield Case("oversized", f"{op.path}?{q(name)}={'a' * 7000}", _expect(422))
    many = "&".join(f"p{n}=1" for n in range(1000))
    yield Case("oversized", f"{op.path}?{many}", _expect(400))


def method_cases(path: str) -> Iterator[Case]:
    for method in METHODS:
        # A method HTTP does not define is refused by the server's parser as malformed (400).
        expect = _expect(405) if method in KNOWN_METHODS else _expect(400, 405)
        yield Case("method", path, expect, method=method)
    yield Case(
        "media-type", path, _expect(405), method="POST",
        headers={"content-type": "application/xml"}, content=b"<a/>",
    )  # fmt: skip


def media_type_cases(path: str) -> Iterator[Case]:
    for accept in UNACCEPTABLE:
        if path == "/" and accept == "text/html":
            continue  # the explorer's page (tests/test_explorer.py)
        yield Case("media-type", path, _expect(406), headers={"accept": accept})
    for content_type, content in (
        ("application/json", b"{}"), ("application/x-www-form-urlencoded", b"limit=1"),
        ("multipart/form-data; boundary=x", b"--x--"), ("text/plain", b"\x00" * 100),
    ):  # fmt: skip
        headers = {"content-type": content_type}
        yield Case("media-type", path, _expect(415), headers=headers, content=content)


def path_injection_cases(template: str, fill: str) -> Iterator[Case]:
    """Injection strings where a path parameter goes: 404 or 422, never anything else."""
    for payload in (*INJECTIONS, "\u00e9"):
        yield Case("path", template.replace(fill, q(payload)), _expect(404, 422))
    for encoded in ("daye%00", "%FF", "%C0%AF"):
        yield Case("path", template.replace(fill, encoded), _expect(404, 422))


def report(tally: Counter[tuple[str, str, str]]) -> list[str]:
    """Lines for the end of the test run: requests per engine and family, by outcome."""
    lines = []
    for engine in sorted({engine for engine, _, _ in tally}):
        rows = {(f, o): n for (e, f, o), n in tally.items() if e == engine}
        total = sum(rows.values())
        lines.append(f"hostile requests on {engine}: {total:,}")
        for family in sorted({f for f, _ in rows}):
            outcomes = {o: n for (f, o), n in rows.items() if f == family}
            detail = ", ".join(f"{o}: {n:,}" for o, n in sorted(outcomes.items()))
            lines.append(f"  {family:<17} {sum(outcomes.values()):>6,}  ({detail})")
    return lines
