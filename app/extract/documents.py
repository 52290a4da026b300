"""Reading a capture: refusing what is not an article, stripping page chrome, finding its date.

Locators point into `Document.text`: for plain text that is the file itself (as for the
seeds); for HTML it is the main text a maintained extractor (trafilatura) takes from the
page, which a draft saves beside itself so `atlas load` can check spans against it.
"""

import hashlib
import re
import stat
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

MAX_BYTES = 5 * 1024 * 1024  # news articles are tens of kilobytes; refuse what is not one
_HTML = re.compile(r"^\s*(?:<!doctype\s+html|<html|<head|<body|<meta|<title|<!--)", re.I)
_TAGS = re.compile(r"</?(?:p|div|span|a|script|br|li|td|article|section)\b", re.I)

# Lines that end the article: what follows belongs to other articles or to the page.
_END_MARKERS = re.compile(
    r"^\s*(?:top news|related (?:news|stories|articles)|more news|most (?:popular|read)"
    r"|recommended(?: for you)?|read more|you may also like|editors?\s*[:\uff1a].*"
    r"|copyright\b.*|©.*)\s*$",
    re.I,
)
# Lines that are page chrome, not article text.
_CHROME = (
    re.compile(r"\s>\s"),  # breadcrumbs
    re.compile(r"^\s*(?:source|updated|by|author)\s*:.*\|", re.I),  # metadata line
    re.compile(r"^\s*(?:updated|published)\s*:", re.I),
    re.compile(r"^\s*share\s*[-\u2013:]", re.I),
    re.compile(r"^\s*<?\s*\d(?:\s+\d)+\s*>?\s*$"),  # pagination "< 1 2 3"
    re.compile(r"^\s*[\w.-]+\.(?:com|cn|org|net)(?:\.\w+)?\s*$", re.I),  # a bare domain
    re.compile(r"\((?:photo|image)\s*[:\uff1a].*\)\s*$|\[photo\b.*\]\s*$|provided to\b", re.I),
    re.compile(r"ICP|公网安备|all rights reserved", re.I),
)
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
_LATIN = re.compile(r"[A-Za-z]")
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_ISO_DATE = re.compile(r"\b(20\d{2}|19\d{2})-(\d{2})-(\d{2})\b")
_TEXT_DATE = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2}),\s*(\d{4})\b", re.I
)


class DocumentError(ValueError):
    """The file is not an article the extractor can read; the message says why, in one line."""


@dataclass
class Document:
    file_name: str
    text: str
    sha256: str
    is_html: bool
    title: str | None = None
    published_on: date | None = None
    body: list[tuple[int, int]] = field(default_factory=list)  # spans of article text
    lowercased: bool = False

    def in_body(self, start: int, end: int) -> bool:
        return any(s <= start and end <= e for s, e in self.body)


def read_document(path: Path) -> Document:
    """Read and clean a capture; raise DocumentError for what cannot be an article.

    Only a regular file is read (or standard input, for `-`), and never more than
    MAX_BYTES of it: a device or a pipe reports a size of 0 and `/dev/zero` would be read
    until the memory ran out."""
    if str(path) == "-":
        return parse_document("stdin", _bounded(sys.stdin.buffer, "standard input"))
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            raise DocumentError(
                f"{path} is not a regular file (a device, pipe or directory); save the article"
                " to a file, or pipe it to `atlas extract -`"
            )
        if status.st_size > MAX_BYTES:
            raise DocumentError(
                f"{path.name} is {status.st_size / 1024 / 1024:.1f} MB; an article is at most"
                f" {MAX_BYTES // 1024 // 1024} MB"
            )
        with path.open("rb") as handle:
            raw = _bounded(handle, path.name)
    except OSError as exc:
        raise DocumentError(f"cannot read {path}: {exc.strerror}") from exc
    return parse_document(path.name, raw)


def _bounded(stream: BinaryIO, name: str) -> bytes:
    """At most MAX_BYTES of `stream`; one byte more is a refusal, not a longer read."""
    raw = stream.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise DocumentError(f"{name} is larger than {MAX_BYTES // 1024 // 1024} MB")
    return raw


def parse_document(file_name: str, raw: bytes) -> Document:
    if len(raw) > MAX_BYTES:
        raise DocumentError(f"{file_name} is larger than {MAX_BYTES // 1024 // 1024} MB")
    if b"\x00" in raw[:65536]:
        raise DocumentError(f"{file_name} is binary, not text (it contains NUL bytes)")
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{file_name} is not UTF-8 text: invalid byte 0x{raw[exc.start]:02x} at offset"
            f" {exc.start}"
        ) from None
    decoded = decoded.removeprefix("\ufeff")
    if _looks_like_html(decoded):
        return _html_document(file_name, decoded)
    text = decoded
    document = Document(file_name, text, hashlib.sha256(raw).hexdigest(), is_html=False)
    document.published_on = find_date(text)
    document.body, document.title = _body_and_title(text)
    document.lowercased = not re.search(r"[A-Z]", text) and bool(_LATIN.search(text))
    return document


def _looks_like_html(text: str) -> bool:
    head = text[:4096]
    return bool(_HTML.match(head)) or len(_TAGS.findall(head)) >= 5


def _html_document(file_name: str, html: str) -> Document:
    import trafilatura  # imported here: only HTML needs it, and it takes a while to load

    main = trafilatura.extract(
        html, include_comments=False, include_tables=False, favor_precision=True
    )
    metadata = trafilatura.extract_metadata(html)
    text = (main or "").strip()
    if text:
        text += "\n"
    document = Document(
        file_name,
        text,
        hashlib.sha256(text.encode("utf-8")).hexdigest(),
        is_html=True,
        title=metadata.title if metadata is not None and metadata.title else None,
    )
    if metadata is not None and metadata.date:
        try:
            document.published_on = datetime.strptime(metadata.date[:10], "%Y-%m-%d").date()
        except ValueError:
            document.published_on = None
    document.published_on = document.published_on or find_date(html)
    document.body, _ = _body_and_title(text)
    document.lowercased = not re.search(r"[A-Z]", text) and bool(_LATIN.search(text))
    return document


def find_date(text: str) -> date | None:
    """The first date the capture's head states (its dateline), if any."""
    head = text[:3000]
    found: list[tuple[int, date]] = []
    for match in _ISO_DATE.finditer(head):
        try:
            found.append((match.start(), date(*(int(g) for g in match.groups()))))
        except ValueError:
            continue
    for match in _TEXT_DATE.finditer(head):
        month = _MONTHS[match.group(1).lower()[:3]]
        try:
            found.append((match.start(), date(int(match.group(3)), month, int(match.group(2)))))
        except ValueError:
            continue
    return min(found)[1] if found else None


def _body_and_title(text: str) -> tuple[list[tuple[int, int]], str | None]:
    """Spans of the lines that are article text, and the headline if one stands alone."""
    body: list[tuple[int, int]] = []
    title: str | None = None
    offset = 0
    for line in text.split("\n"):
        start, end = offset, offset + len(line)
        offset = end + 1
        stripped = line.strip()
        if not stripped:
            continue
        if _END_MARKERS.match(stripped):
            break
        if _is_chrome(stripped):
            continue
        if _is_headline(stripped):
            title = title or stripped
            continue
        body.append((start, end))
    return body, title


def _is_chrome(line: str) -> bool:
    if len(_CJK.findall(line)) > len(_LATIN.findall(line)):
        return True  # a notice in another script than the article's
    return any(pattern.search(line) for pattern in _CHROME)


def _is_headline(line: str) -> bool:
    """A short line without a sentence's closing punctuation: a headline or section title."""
    return len(line) < 100 and not re.search(r"[.!?\"”')]$", line)
