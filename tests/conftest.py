"""Shared fixtures: where the steering repo's shared/ reference data lives."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REFERENCE = SHARED / "reference-data"


@pytest.fixture(scope="session")
def reference() -> Path:
    """The shared reference data directory (skips when the checkout has no ../shared)."""
    if not REFERENCE.is_dir():
        pytest.skip(f"reference data not found at {REFERENCE} (clone with ../shared beside it)")
    return REFERENCE
