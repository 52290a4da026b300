"""The project as a user installs it: the wheel built from this checkout, installed with its
runtime dependencies only into a fresh venv (nothing downloaded, see harness.installs),
then `atlas load`, `atlas serve` and `atlas extract` run from a folder that is not the
checkout, with the database in the per-user data directory."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.config import PROJECT_ROOT
from harness.installs import build_wheel, offline_install
from harness.postgres import free_port
from harness.server import stop

pytestmark = pytest.mark.server

ARTICLE = PROJECT_ROOT / "tests" / "data" / "extract-article.html"


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    folder: Path  # where the commands run: neither the checkout nor the venv
    data_home: Path  # XDG_DATA_HOME, so the per-user data directory is in the test's folder

    @property
    def env(self) -> dict[str, str]:
        """Nothing of the checkout's environment: no DATABASE_URL, ATLAS_* or PYTHONPATH."""
        return {
            "PATH": f"{self.venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(self.folder),
            "XDG_DATA_HOME": str(self.data_home),
            "LANG": "C.UTF-8",
        }

    def atlas(self, *arguments: str) -> "subprocess.CompletedProcess[str]":
        return subprocess.run(
            [str(self.venv / "bin" / "atlas"), *arguments], cwd=self.folder, env=self.env,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("package")
    wheel = build_wheel(root / "dist")
    (root / "wheels").mkdir()
    offline_install(wheel, root / "venv", root / "wheels")
    (root / "elsewhere").mkdir()
    return Installed(wheel, root / "venv", root / "elsewhere", root / "data")


@pytest.fixture(scope="module")
def loaded(installed: Installed) -> Installed:
    done = installed.atlas("load")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "raw documents not found" in done.stderr  # they are never beside a package
    return installed


def test_the_wheel_carries_seeds_migrations_and_static_files(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    for shipped in ("seeds", "migrations"):
        in_checkout = {
            path.relative_to(PROJECT_ROOT).as_posix()
            for path in (PROJECT_ROOT / shipped).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        }
        assert in_checkout
        assert {f"innovation_atlas/bundled/{name}" for name in in_checkout} <= names, shipped
    static = {
        "innovation_atlas/" + path.relative_to(PROJECT_ROOT / "app").as_posix()
        for path in (PROJECT_ROOT / "app" / "static").rglob("*")
        if path.is_file()
    }
    assert "innovation_atlas/static/explorer/index.html" in static
    assert static <= names
    assert not any("__pycache__" in name for name in names)
    # the package has an import name of its own: nothing installs as the generic `app`
    assert not any(name.startswith("app/") for name in names)
    assert "innovation_atlas/cli.py" in names


def test_load_from_another_folder_writes_to_the_user_data_directory(loaded: Installed) -> None:
    assert (loaded.data_home / "innovation-atlas" / "atlas.db").is_file()
    assert not (loaded.folder / "var").exists()
    python = str(loaded.venv / "bin" / "python")
    where = subprocess.run(
        [python, "-c", "import innovation_atlas; print(innovation_atlas.__file__)"],
        cwd=loaded.folder, env=loaded.env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(loaded.venv)
    generic = subprocess.run(
        [python, "-c", "import app"],
        cwd=loaded.folder, env=loaded.env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "No module named 'app'" in generic.stderr


@pytest.fixture(scope="module")
def served(loaded: Installed) -> Iterator[str]:
    port = free_port()
    log = loaded.folder / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(loaded.venv / "bin" / "atlas"), "serve", "--port", str(port)],
            cwd=loaded.folder, env=loaded.env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while not _ready(base):
                assert process.poll() is None, log.read_text(errors="replace")[-3000:]
                assert time.monotonic() < deadline, "not ready in 30 s"
                time.sleep(0.1)
            yield base
        finally:
            stop(process)


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_serve_answers_the_api_the_docs_and_the_explorer(served: str) -> None:
    places = httpx.get(f"{served}/api/v1/places", params={"limit": 1}, timeout=10)
    assert places.status_code == 200
    assert len(places.json()["data"]) == 1
    docs = httpx.get(f"{served}/docs", timeout=10)
    assert docs.status_code == 200
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', docs.text):
        assert httpx.get(f"{served}{asset}", timeout=10).status_code == 200, asset
    page = httpx.get(served, headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="(/static/explorer/[^"]+)"', page.text)
    assert assets
    for asset in assets:
        assert httpx.get(f"{served}{asset}", timeout=10).status_code == 200, asset


def test_extract_reads_an_html_page(loaded: Installed) -> None:
    """It crashed here: jusText imports lxml.html.clean, which lxml no longer carries."""
    shutil.copy(ARTICLE, loaded.folder / "page.html")
    done = loaded.atlas("extract", "--json", "page.html")
    assert done.returncode == 0, done.stderr[-3000:]
    stated = {json.loads(line)["stated"] for line in done.stdout.splitlines()}
    assert "356.4 billion yuan" in stated


def test_the_image_builds_the_same_wheel_from_what_it_copies(
    installed: Installed, tmp_path: Path
) -> None:
    """The Dockerfile's first stage copies some files of the checkout and builds the wheel
    there: those files are enough for the wheel a checkout builds."""
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    build_stage = dockerfile.split("\nFROM ")[1]
    copied = [
        source
        for line in build_stage.splitlines()
        if line.startswith("COPY ") and "--from" not in line
        for source in line.split()[1:-1]
    ]
    assert "setup.py" in copied
    for source in copied:
        if (PROJECT_ROOT / source).is_dir():
            shutil.copytree(
                PROJECT_ROOT / source,
                tmp_path / "src" / source,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        else:
            (tmp_path / "src").mkdir(exist_ok=True)
            shutil.copy(PROJECT_ROOT / source, tmp_path / "src" / source)
    built = subprocess.run(
        [
            str(Path(sys.executable).parent / "pip"), "wheel", "--no-deps", "--no-build-isolation",
            "--no-index", "--wheel-dir", str(tmp_path / "dist"), ".",
        ],
        cwd=tmp_path / "src", capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as image, zipfile.ZipFile(installed.wheel) as checkout:
        assert sorted(image.namelist()) == sorted(checkout.namelist())
