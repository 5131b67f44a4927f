"""Shared fixtures: the ../shared folder (skip when absent) and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from targetrank.paths import shared_dir as find_shared


@pytest.fixture(scope="session")
def shared() -> Path:
    """The real ../shared source-data folder; tests needing it skip with a reason when absent."""
    root = find_shared(required=False)
    if root is None:
        pytest.skip(
            "../shared (real source data) is not beside the checkout; set TARGETRANK_SHARED"
        )
    return root


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()
