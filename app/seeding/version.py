"""The dataset version: a content hash of the seeds as read (not of their file bytes), so
re-indenting a YAML file keeps the version and changing any fact changes it."""

import hashlib
from dataclasses import astuple

from pydantic import BaseModel
from sqlalchemy import Connection, Select, insert, select, update
from sqlmodel import SQLModel

from app.seeding.reader import Dataset

UNVERSIONED = "unversioned"


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


def store_version(connection: Connection, version: str) -> None:
    """Record `version` (one row), writing only when it changed."""
    table = SQLModel.metadata.tables["dataset_version"]
    current = connection.execute(select(table.c.id, table.c.version)).first()
    if current is None:
        connection.execute(insert(table).values(id=1, version=version))
    elif current.version != version:
        connection.execute(update(table).where(table.c.id == current.id).values(version=version))


def version_statement() -> Select[tuple[str]]:
    """The stored version, by its key: the API's readers price sequential scans out, and a
    scan priced so gets compiled by PostgreSQL's JIT (20 ms for one row)."""
    table = SQLModel.metadata.tables["dataset_version"]
    return select(table.c.version).order_by(table.c.id).limit(1)


def read_version(connection: Connection) -> str:
    version = connection.execute(version_statement()).scalar()
    return str(version) if version else UNVERSIONED
