"""``targetrank resolve``: show how names, aliases and ids map to human genes."""

from __future__ import annotations

import json

import click

from targetrank.cli._common import render_table
from targetrank.errors import ExitCode


@click.command()
@click.argument("queries", nargs=-1)
@click.option(
    "--targets-file",
    type=click.Path(dir_okay=False, exists=True),
    help="A file of targets: one per line or comma-separated; '#' starts a comment.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="Output format on stdout.",
)
def resolve(queries: tuple[str, ...], targets_file: str | None, fmt: str) -> None:
    """Resolve target names (symbols, aliases, Ensembl or Entrez ids) to human genes.

    Exits 0 only when every query resolved to exactly one human gene, 3 otherwise
    (ambiguous, unknown or non-human queries are listed with candidates).

    Example: targetrank resolve OPN RANKL PD-1 ENSG00000181847.11 6696
    """
    from targetrank.steps.resolve import resolve_names

    result = resolve_names(queries, targets_file)
    table = result.table
    if fmt == "csv":
        click.echo(table.write_csv(), nl=False)
    elif fmt == "json":
        click.echo(json.dumps(table.with_columns(table["status"].cast(str)).to_dicts(), indent=2))
    else:
        click.echo(
            render_table(
                table.to_dicts(),
                ["query", "status", "symbol", "ensembl_id", "entrez_id", "candidates", "note"],
                max_width=80,
            )
        )
    if not result.ok:
        n = result.failures.height
        click.echo(
            f"{n} of {table.height} target(s) did not resolve to exactly one human gene "
            "(see status and note).",
            err=True,
        )
        raise SystemExit(int(ExitCode.RESOLUTION))
