"""The one manifest stamp every writer uses (issue 16: one timestamp convention, version everywhere)."""

from __future__ import annotations

import re
from typing import Any

from targetrank import __version__

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def assert_stamped(manifest: dict[str, Any]) -> None:
    """The manifest names this targetrank version and its UTC creation time, spelled one way."""
    assert manifest["targetrank_version"] == __version__
    assert STAMP.fullmatch(manifest["created_utc"]), manifest["created_utc"]
    assert "created" not in manifest and "finished" not in manifest  # the old spellings
