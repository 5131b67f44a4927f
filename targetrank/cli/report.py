"""``targetrank report RUN_DIR``: rebuild a run folder's report.html from its files."""

from __future__ import annotations

import click


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Write the page here instead of RUN_DIR/report.html.",
)
@click.option(
    "--top",
    "top_n",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Targets shown per strategy (the rest stay in ranking.csv).",
)
def report(run_dir: str, out: str | None, top_n: int) -> None:
    """Rebuild RUN_DIR/report.html: one self-contained page (no network) to share or open."""
    from targetrank.report import write_report

    path = write_report(run_dir, out, top_n=top_n)
    click.echo(f"Report: {path} ({path.stat().st_size / 1e6:.2f} MB)")
