"""Installing the project as a user would, into a fresh venv, with nothing downloaded.

The runtime dependencies come from this environment: each installed distribution the
project's requirements reach is packed back into a wheel from the files its RECORD lists,
and pip, offline, resolves the project's wheel against those. pip only installs what the
wheel's own metadata asks for, so a dependency missing from pyproject.toml is missing from
the venv as well, exactly as in an install from an index."""

import base64
import csv
import hashlib
import io
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterable
from importlib.metadata import Distribution, PackageNotFoundError, distribution
from pathlib import Path, PurePosixPath

from packaging.requirements import Requirement

from app.config import PROJECT_ROOT

# Files of an installed .dist-info that the installer wrote, not the wheel.
_WRITTEN_BY_INSTALLER = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def canonical(name: str) -> str:
    """A distribution or extra name as PEP 503 and PEP 685 compare them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_requirements() -> list[Requirement]:
    """pyproject.toml's `dependencies`: what a plain install of the project asks for."""
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [Requirement(line) for line in project["project"]["dependencies"]]


def _applies(requirement: Requirement, extras: Iterable[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in ["", *extras])


def runtime_closure(requirements: list[Requirement]) -> dict[str, Distribution]:
    """The installed distributions `requirements` reach, following each one's own
    requirements with the extras asked of it, by canonical name. Extras are compared by
    their normalised names, more generously than some pip versions do: this is the set of
    candidates offered, and pip still chooses among them."""
    found: dict[str, Distribution] = {}
    extras: dict[str, set[str]] = {}
    todo = [r for r in requirements if _applies(r, ())]
    while todo:
        requirement = todo.pop()
        name = canonical(requirement.name)
        wanted = {canonical(extra) for extra in requirement.extras}
        if name in found and wanted <= extras[name]:
            continue
        try:
            dist = found.get(name) or distribution(requirement.name)
        except PackageNotFoundError:
            continue  # pip reports it when it resolves; nothing to offer it here
        found[name] = dist
        extras[name] = extras.get(name, set()) | wanted
        for line in dist.requires or []:
            nested = Requirement(line)
            if _applies(nested, extras[name]):
                todo.append(nested)
    return found


def _wheel_tag(dist: Distribution) -> str:
    """The compressed tag set (PEP 425) of the wheel the distribution was installed from."""
    lines = (dist.read_text("WHEEL") or "").splitlines()
    tags = [line.split(":", 1)[1].strip().split("-") for line in lines if line.startswith("Tag:")]
    if not tags:
        return "py3-none-any"
    return "-".join(".".join(dict.fromkeys(tag[i] for tag in tags)) for i in range(3))


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def repack(dist: Distribution, into: Path) -> Path:
    """A wheel of an installed distribution, made of the files its RECORD lists (less
    byte code, scripts outside site-packages and what the installer added), with a RECORD
    of its own. Stored, not compressed: it is unpacked once, moments later."""
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    path = into / f"{name}-{dist.version}-{_wheel_tag(dist)}.whl"
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    info_dir = ""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as wheel:
        for entry in dist.files or []:
            relative = PurePosixPath(entry.as_posix())
            if relative.parts[0] == ".." or "__pycache__" in relative.parts:
                continue
            if relative.parent.name.endswith(".dist-info"):
                info_dir = str(relative.parent)
                if relative.name in _WRITTEN_BY_INSTALLER:
                    continue
            data = Path(str(dist.locate_file(entry))).read_bytes()
            wheel.writestr(str(relative), data)
            writer.writerow([str(relative), _record_hash(data), len(data)])
        writer.writerow([f"{info_dir}/RECORD", "", ""])
        wheel.writestr(f"{info_dir}/RECORD", record.getvalue())
    return path


def build_wheel(out: Path) -> Path:
    """The project's wheel, built as a release is (an sdist, then the wheel from it) with the
    build tools already installed here: no isolated environment, nothing downloaded."""
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(PROJECT_ROOT)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    (wheel,) = out.glob("*.whl")
    return wheel


def offline_install(wheel: Path, venv: Path, wheels: Path) -> None:
    """A fresh venv with `wheel` installed by the venv's own pip (the one `python -m venv`
    bundles, as a user's would be), its dependencies resolved from the repacked wheels in
    `wheels` only: no index, no configuration file, no PIP_* variable."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    for dist in runtime_closure(runtime_requirements()).values():
        if canonical(dist.metadata["Name"]) != "innovation-atlas":
            repack(dist, wheels)
    # No configuration file either: a machine's pip.conf may name local wheel directories.
    quiet = {"PATH": os.environ["PATH"], "PIP_CONFIG_FILE": os.devnull}
    done = subprocess.run(
        [
            str(venv / "bin" / "python"), "-m", "pip", "--isolated", "install", "--no-index",
            "--find-links", str(wheels), "--no-compile", "--disable-pip-version-check",
            "--no-input", str(wheel),
        ],
        env=quiet, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"pip install failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
