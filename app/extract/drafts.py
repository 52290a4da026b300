"""Writing candidates for a curator: JSON lines, or a draft seed document.

The draft is a `documents/<source-id>.yaml` in the seeds' own format plus the source's
entry for `sources.yaml`; `atlas load` checks it like any curated file. Candidates a seed
file cannot hold (an amount in US dollars, no indicator of its unit, no subject) stay in
the JSON output only, and the draft says how many were left out.
"""

import re
from typing import Any

import orjson
import yaml

from ..seeding.quantities import COMPATIBLE_UNITS
from .candidates import Candidate
from .documents import Document


def candidate_json(candidate: Candidate) -> bytes:
    subject = candidate.subject
    return orjson.dumps(
        {
            "value": float(candidate.value),
            "unit": candidate.unit,
            "stated": candidate.stated,
            "qualifier": candidate.qualifier.value,
            "locator": candidate.locator,
            "quote": candidate.quote,
            "subject": {subject.kind: subject.slug} if subject else None,
            "indicator": candidate.indicator,
            "period": candidate.period.label,
            "ambiguity": candidate.period.ambiguity,
            "confidence": candidate.confidence,
        }
    )


def source_id_for(document: Document) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", document.file_name.rsplit(".", 1)[0].lower()).strip("-")
    day = document.published_on.isoformat() if document.published_on else "undated"
    return f"draft-{day}-{stem or 'document'}"[:64].rstrip("-")


def source_entry(document: Document, source_id: str, file_name: str) -> dict[str, Any]:
    return {
        "id": source_id,
        "kind": "document",
        "title": document.title,
        "published_on": document.published_on,
        "date_note": None if document.published_on else "No date found in the capture.",
        "file": file_name,
        "sha256": document.sha256,
        "treatment": (
            "Draft proposed by `atlas extract`: "
            + ("main text taken from the HTML page; " if document.is_html else "")
            + "page chrome left out; every candidate awaits a curator's review."
        ),
    }


def draft(
    document: Document, candidates: list[Candidate], source_id: str, units: dict[str, str]
) -> tuple[dict[str, Any], int]:
    """The draft document file, and how many candidates it could not hold."""
    observations = []
    left_out = 0
    for number, candidate in enumerate(candidates, start=1):
        record = _observation(candidate, f"{source_id}-{number}", units)
        if record is None:
            left_out += 1
        else:
            observations.append(record)
    return {"source": source_id, "observations": observations}, left_out


def _observation(candidate: Candidate, key: str, units: dict[str, str]) -> dict[str, Any] | None:
    subject, indicator = candidate.subject, candidate.indicator
    if subject is None or indicator is None:
        return None
    if candidate.unit not in COMPATIBLE_UNITS.get(units.get(indicator, ""), frozenset()):
        return None
    value = candidate.value
    return {
        "key": key[:120],
        "indicator": indicator,
        "subject": {subject.kind: subject.slug},
        "period": candidate.period.label,
        "value": int(value) if value == value.to_integral_value() else float(value),
        "stated": candidate.stated,
        "qualifier": candidate.qualifier.value,
        "note": f"Proposed with confidence {candidate.confidence}; review before loading.",
        "ambiguity": candidate.period.ambiguity,
        "at": candidate.locator,
        "quote": candidate.quote,
    }


def to_yaml(data: dict[str, Any] | list[Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
