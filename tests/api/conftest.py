"""Fixtures of the list tests: data at a scale where a plan's choice shows."""

import pytest

from app.db import build_engine
from app.migrate import upgrade_to_head
from app.synthetic import Shape, generate
from tests.conftest import Backend


@pytest.fixture(scope="module")
def scale_url(backend: Backend) -> str:
    """Synthetic data large enough that a full sort takes milliseconds on either engine."""
    url = backend.new_database()
    upgrade_to_head(url)
    engine = build_engine(url)
    generate(engine, Shape(cities=200, indicators=12, years=12, provinces=6))
    engine.dispose()
    return url
