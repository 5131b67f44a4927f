"""Entry point and command registration."""

from __future__ import annotations

import click

from targetrank.__about__ import __version__
from targetrank.cli._common import EXIT_CODES_HELP, TargetRankGroup


@click.group(cls=TargetRankGroup, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="targetrank")
@click.option("--debug", is_flag=True, help="Show the full traceback instead of a one-line error.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Rank therapeutic targets of the bone-metastasis immune microenvironment per strategy."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _register() -> None:
    from targetrank.cli import catalog, fetch_depmap, fetch_opentargets  # noqa: F401  (register subcommands)
    from targetrank.cli import rank as rank_cmd
    from targetrank.cli import report as report_cmd
    from targetrank.cli import resolve as resolve_cmd
    from targetrank.cli import snapshot as snapshot_cmd
    from targetrank.cli import sweep as sweep_cmd
    from targetrank.cli.fetch import fetch

    main.add_command(resolve_cmd.resolve)
    main.add_command(snapshot_cmd.snapshot)
    main.add_command(fetch)
    main.add_command(catalog.strategies)
    main.add_command(catalog.features)
    main.add_command(rank_cmd.rank)
    main.add_command(rank_cmd.evaluate)
    main.add_command(sweep_cmd.sweep)
    main.add_command(rank_cmd.explain)
    main.add_command(rank_cmd.rerun)
    main.add_command(report_cmd.report)


_register()
