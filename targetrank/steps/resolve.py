"""Step ``targetrank resolve``: read the names as people write them and resolve them."""

from __future__ import annotations

from collections.abc import Sequence

from targetrank.resolution import Resolution
from targetrank.resolver import resolve
from targetrank.targets import read_targets_file, split_targets


def resolve_names(queries: Sequence[str], targets_file: str | None = None) -> Resolution:
    """Split ``queries`` (commas, semicolons, spaces), add ``targets_file``'s names, resolve all."""
    names = split_targets(queries)
    if targets_file:
        names += read_targets_file(targets_file)
    return resolve(names)
