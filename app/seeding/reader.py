"""Reading the seed directory into validated records, remembering where each came from."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .cells import TABLES_FILE, Table, read_tables
from .divisions import DIVISIONS_SOURCE, ReferencePlace, added_divisions, merge_places
from .errors import SeedError, SeedProblem
from .history import HISTORY_SOURCE, CodeHistory, in_use, read_history
from .kinds import DocumentFile
from .records import IndicatorsFile, PlacesFile, SourcesFile, TablesFile

FileModel = TypeVar("FileModel", bound=BaseModel)

SOURCES_FILE = "sources.yaml"
PLACES_FILE = "places.yaml"
INDICATORS_FILE = "indicators.yaml"
DOCUMENTS_DIR = "documents"


@dataclass
class Dataset:
    root: Path
    sources: SourcesFile
    places: PlacesFile
    indicators: IndicatorsFile
    documents: dict[str, Any] = field(default_factory=dict)  # DocumentFile by file name
    all_places: list[ReferencePlace] = field(default_factory=list)
    """The curated places, and China's divisions when the sources list them."""
    tables: list[Table] = field(default_factory=list)
    """Published statistical tables with the facts read from their cells (tables.yaml)."""
    history: CodeHistory | None = None
    """The history of the division codes, when the sources list it."""


def read_dataset(root: Path) -> Dataset:
    """Read and validate every seed file under `root`; raise SeedError listing all problems."""
    problems: list[SeedProblem] = []
    sources = _read(root, SOURCES_FILE, SourcesFile, problems)
    places = _read(root, PLACES_FILE, PlacesFile, problems)
    indicators = _read(root, INDICATORS_FILE, IndicatorsFile, problems)
    documents: dict[str, Any] = {}
    for path in sorted((root / DOCUMENTS_DIR).glob("*.yaml")):
        name = f"{DOCUMENTS_DIR}/{path.name}"
        document = _read(root, name, DocumentFile, problems)
        if document is not None:
            documents[name] = document
    tables: list[Table] = []
    if (root / TABLES_FILE).exists():
        manifest = _read(root, TABLES_FILE, TablesFile, problems)
        if manifest is not None:
            tables, table_problems = read_tables(root, manifest.tables)
            problems.extend(table_problems)
    history = None
    listed = {s.id: s for s in sources.sources} if sources is not None else {}
    if HISTORY_SOURCE in listed:
        history, history_problems = read_history(root, listed[HISTORY_SOURCE].sha256, SOURCES_FILE)
        problems.extend(history_problems)
    if problems or sources is None or places is None or indicators is None:
        raise SeedError(problems)
    if any(s.id == DIVISIONS_SOURCE for s in sources.sources):
        added = added_divisions(in_use(history)) if history is not None else ()
        all_places = merge_places(places.places, places.source, added, HISTORY_SOURCE)
    else:
        all_places = [ReferencePlace(p, places.source, None, None) for p in places.places]
    return Dataset(root, sources, places, indicators, documents, all_places, tables, history)


def _read(
    root: Path, name: str, model: type[FileModel], problems: list[SeedProblem]
) -> FileModel | None:
    path = root / name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(SeedProblem(name, None, None, "file is missing"))
        return None
    except yaml.YAMLError as exc:
        problems.append(SeedProblem(name, None, None, f"not valid YAML: {_yaml_position(exc)}"))
        return None
    except UnicodeDecodeError as exc:
        problems.append(SeedProblem(name, None, None, f"not UTF-8 text: {exc.reason}"))
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_validation_problems(name, raw, exc))
        return None


def _yaml_position(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is None:
        return str(problem)
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def _validation_problems(name: str, raw: Any, exc: ValidationError) -> list[SeedProblem]:
    """Turn pydantic's error locations into (record, field): `observations.3.value` becomes
    record `observations[3] (key ...)` and field `value`."""
    problems = []
    for error in exc.errors():
        loc = list(error["loc"])
        record: str | None = None
        if len(loc) >= 2 and isinstance(loc[0], str) and isinstance(loc[1], int):
            section, index = loc[0], loc[1]
            record = f"{section}[{index}]{_record_label(raw, section, index)}"
            loc = loc[2:]
        # pydantic names the branch of a union (`int`, `float`); it says nothing to an editor.
        path = [str(part) for part in loc if part not in ("int", "float", "str")]
        field_name = ".".join(path) or None
        problems.append(SeedProblem(name, record, field_name, error["msg"]))
    return problems


def _record_label(raw: Any, section: str, index: int) -> str:
    try:
        item = raw[section][index]
    except (KeyError, IndexError, TypeError):
        return ""
    if isinstance(item, dict):
        for key in ("key", "slug", "code", "id"):
            if isinstance(item.get(key), str):
                return f" ({key} {item[key]})"
    return ""
