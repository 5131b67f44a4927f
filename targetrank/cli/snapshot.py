"""``targetrank snapshot``: build the embedded offline snapshot from ../shared."""

from __future__ import annotations

import click

from targetrank.cli._common import interactive, progress_callback


@click.group()
def snapshot() -> None:
    """Build or inspect the embedded feature snapshot."""


@snapshot.command("build")
@click.option(
    "--shared",
    type=click.Path(file_okay=False),
    default=None,
    help="The shared source-data folder (default: ../shared, or TARGETRANK_SHARED).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Where to write the snapshot (default: features/snapshot in the checkout).",
)
def build(shared: str | None, out: str | None) -> None:
    """Build the snapshot (gene index, features, labels, manifest) from real source files."""
    from targetrank.steps.snapshot import build_snapshot

    with progress_callback("snapshot", interactive()) as progress:
        manifest = build_snapshot(shared, out, progress=progress)
    for name, info in sorted(manifest["files"].items()):
        click.echo(f"{name}: {info['rows']} rows")
