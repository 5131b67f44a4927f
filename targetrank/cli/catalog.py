"""``targetrank strategies`` and ``targetrank features``: what the engine ranks with."""

from __future__ import annotations

import click

from targetrank.cli._common import render_table


@click.command()
@click.option("--strategies", "path", type=click.Path(dir_okay=False), help="A strategy file.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table")
def strategies(path: str | None, fmt: str) -> None:
    """List the five strategy categories of the review, with compartments and weights."""
    from targetrank.strategy_file import strategies as load

    table = load(path)
    if fmt == "csv":
        click.echo(table.write_csv(), nl=False)
        return
    for row in table.iter_rows(named=True):
        click.echo(f"{row['number']}. {row['id']}: {row['title']}")
        click.echo(f"   {row['description']}")
        click.echo(f"   compartments: {row['compartments']}; modalities: {row['modalities']}")
        network = "read (sc_network)" if row["network"] else "not read"
        click.echo(f"   gates: {row['gates'] or 'none'}; STRING neighbours: {network}")
        click.echo(f"   weights: {row['weights']}\n")


@click.group()
def features() -> None:
    """The feature columns (list) and feature folders (merge).

    A feature folder (features.parquet + manifest.json) is what --features names: the
    embedded snapshot or one written by `features merge`.
    """


@features.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table")
def list_features(fmt: str) -> None:
    """List every registered feature column and whether the default ranker learns from it."""
    import polars as pl

    from targetrank.features import REGISTRY
    from targetrank.model.lightgbm_scorer import default_refusal

    def row(spec, group: str, offline: bool) -> dict[str, object]:
        why = default_refusal(spec.name)
        return {
            "name": spec.name,
            "family": spec.family,
            "group": group,
            "offline": offline,
            "leakage": spec.leakage,
            "model": "no" if why else "yes",
            "description": spec.description,
            "model_refusal": why,
        }

    rows = [row(s, g.key, g.offline) for g in REGISTRY.groups.values() for s in g.specs]
    rows += [row(s, "strategy", True) for s in REGISTRY.conditioned.values()]
    if fmt == "csv":
        click.echo(pl.DataFrame(rows).write_csv(), nl=False)
    else:
        cols = ["name", "family", "group", "offline", "leakage", "model", "description"]
        click.echo(render_table(rows, cols, max_width=70))


@features.command("merge")
@click.option("--with", "overlays", multiple=True, required=True, type=click.Path(file_okay=False),
              help="A folder written by `targetrank fetch ...` (repeatable).")  # fmt: skip
@click.option(
    "--base",
    default="snapshot",
    show_default=True,
    help="Base feature folder: 'snapshot' or a folder.",
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="New feature folder.")
@click.option("--force", is_flag=True, help="Replace an existing --out folder.")
def merge(overlays: tuple[str, ...], base: str, out: str, force: bool) -> None:
    """Overlay live Open Targets / DepMap tables on the snapshot into a feature folder."""
    from targetrank.steps.merge import merge_features

    manifest = merge_features(list(overlays), out, base=base, force=force)
    for overlay in manifest["merged"]["overlays"]:
        click.echo(
            f"{overlay['file']}: {len(overlay['columns'])} columns for {overlay['genes_covered']} genes"
        )
    click.echo(f"Feature folder: {out} (use --features {out})")
