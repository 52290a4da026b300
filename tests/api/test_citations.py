"""The dataset version in every response and in the validators, and ready citations of a
source, over HTTP on both engines."""

import re
from pathlib import Path

from fastapi.testclient import TestClient

from app.api.citations import bibtex
from app.seeding.reader import read_dataset
from app.seeding.version import dataset_hash
from tests.conftest import SEEDS

API = "/api/v1"


def test_every_response_names_the_dataset_version(client: TestClient) -> None:
    version = dataset_hash(read_dataset(SEEDS))
    assert re.fullmatch(r"[0-9a-f]{64}", version)
    for url in (f"{API}/places/hubei", f"{API}/metrics?limit=1", f"{API}/nowhere",
                f"{API}/places?format=csv&limit=1", f"{API}/search?q=hefei"):  # fmt: skip
        assert client.get(url).headers["x-atlas-dataset-version"] == version, url


def test_the_version_is_a_content_hash(tmp_path: Path) -> None:
    copy = tmp_path / "seeds"
    import shutil

    shutil.copytree(SEEDS, copy)
    assert dataset_hash(read_dataset(copy)) == dataset_hash(read_dataset(SEEDS))
    indicators = copy / "indicators.yaml"
    indicators.write_text(
        indicators.read_text().replace("High-tech enterprises", "Hi-tech firms", 1)
    )
    assert dataset_hash(read_dataset(copy)) != dataset_hash(read_dataset(SEEDS))


def test_source_citation_in_csl_json_and_bibtex(client: TestClient) -> None:
    source = client.get(f"{API}/sources/std-2024-03-25-daye").json()
    version = client.get(f"{API}/sources/std-2024-03-25-daye").headers["x-atlas-dataset-version"]
    csl = source["citation"]["csl"]
    assert csl["id"] == "std-2024-03-25-daye"
    assert csl["type"] == "article-newspaper"
    assert csl["title"] == "Sci-tech Innovation Energizes Mining City in Hubei"
    assert csl["container-title"] == "Science and Technology Daily"
    assert csl["issued"] == {"date-parts": [[2024, 3, 25]]}
    assert version[:16] in csl["note"]
    entry = source["citation"]["bibtex"]
    assert entry.startswith("@article{std-2024-03-25-daye,\n")
    assert "  journal = {Science and Technology Daily},\n" in entry
    assert "  author = {{Staff Reporters}},\n" in entry
    assert "  year = {2024},\n" in entry
    assert entry.endswith("}\n")


def test_bibtex_escapes_what_latex_would_read() -> None:
    entry = bibtex(
        {"id": "x 1", "kind": "document", "title": "R&D up 50% {sic} #1_a", "publisher": None,
         "author": None, "published_on": None}, "f" * 64,
    )  # fmt: skip
    assert "@article{x1," in entry
    assert r"title = {R\&D up 50\% \{sic\} \#1\_a}" in entry
