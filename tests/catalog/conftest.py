"""Catalog test fixtures: the hand-written official-layout files in tests/fixtures/fma/."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.catalog.services import ImportReport, catalog_import_fma

FMA_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fma"


@pytest.fixture
def fma_dir() -> Path:
    return FMA_FIXTURES


@pytest.fixture
def catalog(db: None) -> ImportReport:
    """The fixture catalog imported through the real importer (search index included)."""
    return catalog_import_fma(path=FMA_FIXTURES)
