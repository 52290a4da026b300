"""The dataset version: a content hash of the seeds as read (not of their file bytes), so
re-indenting a YAML file keeps the version and changing any fact changes it."""

import hashlib
from dataclasses import astuple

from pydantic import BaseModel

from .reader import Dataset


def dataset_hash(dataset: Dataset) -> str:
    digest = hashlib.sha256()
    parts: list[tuple[str, BaseModel]] = [
        ("sources", dataset.sources),
        ("places", dataset.places),
        ("indicators", dataset.indicators),
        *sorted(dataset.documents.items()),
    ]
    for name, part in parts:
        digest.update(name.encode() + b"\0" + part.model_dump_json().encode() + b"\0")
    for table in dataset.tables:  # the table's bytes are its recorded checksum
        digest.update(table.source.model_dump_json().encode() + b"\0")
        for fact in table.facts:
            digest.update("\x1f".join(astuple(fact)[1:]).encode() + b"\0")
    for place in dataset.all_places:  # the curated places and China's divisions
        record = place.record.model_dump_json().encode()
        digest.update(f"{place.source}\0{place.longitude}\0{place.latitude}\0".encode() + record)
    return digest.hexdigest()
