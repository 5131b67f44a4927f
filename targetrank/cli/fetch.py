"""``targetrank fetch``: pull live evidence (Open Targets, DepMap) into feature tables."""

from __future__ import annotations

import click


@click.group()
def fetch() -> None:
    """Fetch live evidence into feature tables under features/ (needs network access)."""
