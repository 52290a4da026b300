"""Two datasets to load in turn, as `atlas load` would: the seeds, and the seeds with one
source retitled (another dataset version). For the tests and benchmarks of versions."""

import dataclasses

from app.db import build_engine
from app.seeding.loader import load_dataset
from app.seeding.reader import Dataset
from app.seeding.version import dataset_hash

SOURCE = "std-2024-03-25-daye"
ORIGINAL_TITLE = "Sci-tech Innovation Energizes Mining City in Hubei"
CHANGED_TITLE = "Retitled"


def retitled(dataset: Dataset, title: str = CHANGED_TITLE) -> Dataset:
    """`dataset` with the first source's title changed: another dataset version."""
    sources = dataset.sources.sources
    changed = [sources[0].model_copy(update={"title": title}), *sources[1:]]
    return dataclasses.replace(
        dataset, sources=dataset.sources.model_copy(update={"sources": changed})
    )


@dataclasses.dataclass
class Loads:
    """A database the caller loads one of two datasets into."""

    url: str
    original: Dataset
    changed: Dataset

    @classmethod
    def of(cls, url: str, original: Dataset) -> "Loads":
        return cls(url, original, retitled(original))

    def load(self, dataset: Dataset) -> str:
        engine = build_engine(self.url)
        try:
            load_dataset(engine, dataset)
        finally:
            engine.dispose()
        return dataset_hash(dataset)

    def title(self, version: str) -> str | None:
        """The source's title in the dataset of `version`."""
        return {
            dataset_hash(self.original): ORIGINAL_TITLE,
            dataset_hash(self.changed): CHANGED_TITLE,
        }.get(version)
