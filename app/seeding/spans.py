"""The curated facts against the raw documents they are read from: each document file has
its recorded checksum, and each locator covers exactly its quote."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SeedProblem, checksum_problem
from .kinds import KINDS
from .reader import SOURCES_FILE, Dataset
from .records import Evidenced


@dataclass(frozen=True)
class Verification:
    """What the checks compared: documents read and spans compared with them, tables read
    and cells compared with their facts."""

    documents: int
    spans: int
    tables: int = 0
    cells: int = 0


def document_problems(
    dataset: Dataset, documents_dir: Path | None
) -> tuple[Verification, list[SeedProblem]]:
    """Compare every span with the raw document it points into."""
    if documents_dir is None:
        return Verification(0, 0), []
    problems: list[SeedProblem] = []
    sources = {s.id: s for s in dataset.sources.sources}
    documents = spans = 0
    for name, document in dataset.documents.items():
        source = sources.get(document.source)
        if source is None or source.file is None:
            continue
        path = documents_dir / source.file
        try:
            raw = path.read_bytes()
        except OSError as exc:
            problems.append(
                SeedProblem(name, None, "source", f"cannot read {path}: {exc.strerror}")
            )
            continue
        where = (SOURCES_FILE, f"source {source.id}")
        changed = checksum_problem(raw, source.sha256, where, path.name)
        if changed is not None:
            problems.append(changed)
            continue
        documents += 1
        text = raw.decode("utf-8")
        for label, record in _spans_of(document):
            if record.span is None:
                continue  # a derived value: nothing in the document to compare
            spans += 1
            problem = _span_problem(text, record)
            if problem is not None:
                problems.append(SeedProblem(name, label, "at", problem))
    return Verification(documents, spans), problems


def _spans_of(document: Any) -> Iterator[tuple[str, Evidenced]]:
    for kind in KINDS:
        for record in kind.records(document):
            yield kind.label(record), record


def _span_problem(text: str, record: Evidenced) -> str | None:
    span = record.span
    if span is None:
        return None
    start, end = span
    if end > len(text):
        return f"{record.at} runs past the end of the document ({len(text)} characters)"
    found = text[start:end]
    if found != record.quote:
        return f"{record.at} reads {found!r}, not the quote {record.quote!r}"
    return None
