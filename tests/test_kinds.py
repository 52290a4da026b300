"""The table of record kinds leaves no kind unchecked: each one's duplicates and each of
its references are refused, every field that names another record is a declared
reference, and every table of facts is written by a kind."""

from dataclasses import replace
from typing import Any

import pytest
from pydantic import BaseModel

from app.models.tables import FACT_TABLES
from app.seeding.checks import check_dataset
from app.seeding.errors import SeedError, SeedProblem
from app.seeding.kinds import KINDS, Kind, Reference
from app.seeding.reader import Dataset, read_dataset
from tests.conftest import SEEDS

MISSING = "no-such-record"
KIND_NAMES = {kind.name for kind in KINDS} | {"place", "indicator", "source"}


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return read_dataset(SEEDS)


def problems_of(dataset: Dataset) -> list[SeedProblem]:
    with pytest.raises(SeedError) as raised:
        check_dataset(dataset, None)
    return raised.value.problems


def edited(dataset: Dataset, kind: Kind, change: Any) -> tuple[Dataset, str, Any]:
    """The dataset with the first document holding a `kind` record changed by `change`
    (its list of records in, the new list out)."""
    name, document = next(
        (name, document) for name, document in dataset.documents.items() if kind.records(document)
    )
    records = change(kind.records(document))
    documents = {**dataset.documents, name: document.model_copy(update={kind.section: records})}
    return replace(dataset, documents=documents), name, records


def test_the_seeds_pass(dataset: Dataset) -> None:
    assert check_dataset(dataset, None).documents == 0


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_a_duplicate_of_every_kind_is_refused(dataset: Dataset, kind: Kind) -> None:
    broken, name, records = edited(dataset, kind, lambda records: [*records, records[0]])
    problems = problems_of(broken)
    assert [(p.file, p.record) for p in problems] == [(name, kind.label(records[0]))]
    assert "is already defined in" in problems[0].message


def _dangling(reference: Reference, kind_name: str, value: Any) -> Any:
    """The field's value changed to name a record that does not exist."""
    if len(reference.kinds) > 1:
        return type(value)(**{kind_name: MISSING})
    return f"{{{MISSING}}} * 2" if reference.names else MISSING


REFERENCES = [
    pytest.param(kind, reference, target, id=f"{kind.name}.{reference.field}.{target}")
    for kind in KINDS
    for reference in kind.references
    for target in reference.kinds
]


@pytest.mark.parametrize(("kind", "reference", "target"), REFERENCES)
def test_every_reference_of_every_kind_is_checked(
    dataset: Dataset, kind: Kind, reference: Reference, target: str
) -> None:
    def break_first(records: list[Any]) -> list[Any]:
        first = next(r for r in records if getattr(r, reference.field) is not None)
        value = _dangling(reference, target, getattr(first, reference.field))
        return [r.model_copy(update={reference.field: value}) if r is first else r for r in records]

    broken, name, _ = edited(dataset, kind, break_first)
    field = f"{reference.field}.{target}" if len(reference.kinds) > 1 else reference.field
    messages = {(p.file, p.field, p.message) for p in problems_of(broken)}
    assert (name, field, f"unknown {target} {MISSING!r}") in messages


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_every_field_naming_a_record_is_a_declared_reference(kind: Kind) -> None:
    """A field named for a kind, or a choice among kinds, must be checked: a new field
    `organization` on a kind without a Reference fails here."""
    declared = {reference.field for reference in kind.references}
    naming = {
        name
        for name, info in kind.record.model_fields.items()
        if name in KIND_NAMES
        or (isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel))
    }
    assert naming <= declared


def test_every_table_of_facts_is_written_by_a_kind() -> None:
    """Places come from places.yaml and their former codes from the official tables' code
    cells (app.seeding.codes) and the history of the codes (app.seeding.history); every other
    table that cites a source is a kind's."""
    from_elsewhere = {"place", "former_code"}
    assert {kind.table for kind in KINDS} | from_elsewhere == {t.name for t in FACT_TABLES.values()}
