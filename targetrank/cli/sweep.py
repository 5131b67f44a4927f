"""``targetrank sweep``: the genome validation over many seeds, optionally paired with a baseline."""

from __future__ import annotations

from pathlib import Path

import click

from targetrank.cli._common import (
    cache_options,
    draws_option,
    echo_notice,
    interactive,
    progress_callback,
    render_table,
)
from targetrank.cli.rank import FEATURES_HELP


def _watch(values: tuple[str, ...]) -> list[tuple[str, str]] | None:
    from targetrank.errors import UsageError

    if not values:
        return None
    pairs = []
    for value in values:
        strategy, sep, gene = value.partition(":")
        if not sep or not strategy.strip() or not gene.strip():
            raise UsageError(
                f"Cannot read --watch {value!r}",
                input=f"--watch {value}",
                done="nothing was computed",
                fix="write STRATEGY:GENE, e.g. --watch checkpoint_combination:PD-L1",
            )
        pairs.append((strategy.strip(), gene.strip()))
    return pairs


def _fmt(value: float | None, metric: str) -> str:
    from targetrank.model.validation import RANK_METRICS

    if value is None:
        return ""
    if metric in ("recall_top100", "external_recall_top100", "spearman_pubmed"):
        return f"{value:.2f}"
    if metric in RANK_METRICS:
        return f"{value:,.0f}"
    return f"{value:.1f}"


@click.command()
@click.option("--seeds", "seed_text", default="0-9", show_default=True,
              help="Seeds to run: a range 0-29, a list 0,3,7 or both (0-4,10).")  # fmt: skip
@click.option("--strategy", "strategies", multiple=True, help="Strategy id (repeatable).")
@click.option(
    "--strategies", "strategies_file", type=click.Path(dir_okay=False),
    help="Alternative strategy file (the change to judge, for instance).",
)  # fmt: skip
@click.option(
    "--weights", type=click.Path(dir_okay=False), help="Weights file overriding the strategy file."
)
@click.option("--features", default="snapshot", show_default=True, help=FEATURES_HELP)
@click.option("--watch", "watch", multiple=True, metavar="STRATEGY:GENE",
              help="Follow this gene's genome rank in this strategy at every seed (repeatable; "
              "default: PD-1, PD-L1, TIGIT in checkpoint_combination and RANKL, SOST, DKK1 "
              "in bone_resident).")  # fmt: skip
@click.option("--baseline", type=click.Path(dir_okay=False, exists=True),
              help="A sweep CSV of the version before (same seeds): print the paired "
              "comparison instead of the summary.")  # fmt: skip
@click.option("--out", type=click.Path(dir_okay=False),
              help="CSV file (default: outputs/sweep-<UTC>.csv).")  # fmt: skip
@click.option("--quiet", is_flag=True, help="No progress bar.")
@draws_option
@cache_options
def sweep(
    seed_text: str,
    strategies: tuple[str, ...],
    strategies_file: str | None,
    weights: str | None,
    features: str,
    watch: tuple[str, ...],
    baseline: str | None,
    out: str | None,
    quiet: bool,
    draws: int | None,
    cache_dir: str | None,
    no_cache: bool,
) -> None:
    """Run the genome validation at many seeds: judge a change beyond one seed's spread.

    One seed cannot tell a change from seed noise. Run the sweep once for the current version
    (--out base.csv), then for the change (--strategies my.toml --baseline base.csv): each
    figure is compared seed by seed (ratio of geometric means for ranks, < 1 is better, with a
    ±2 SE interval; seeds better / worse). A checkout holds the release's own sweep of seeds
    0-29 as bench/baselines/sweep-<version>-seeds0-29.csv. Each seed trains a model (about
    10 s; the model cache makes repeats fast). --draws judges a ranker setting the same way.
    """
    from targetrank.model.validation import summarise_sweep
    from targetrank.runfolder import probe_writable
    from targetrank.steps.sweep import (
        compare_sweeps,
        default_sweep_path,
        parse_seeds,
        read_sweep,
        write_sweep,
    )
    from targetrank.steps.sweep import sweep as run_sweep

    seeds = parse_seeds(seed_text)
    pairs = _watch(watch)
    base = read_sweep(baseline) if baseline else None  # a bad baseline fails before the fits
    path = Path(out) if out else default_sweep_path()
    probe_writable(path)
    with progress_callback("sweep", interactive() and not quiet) as progress:
        table = run_sweep(
            seeds,
            strategies=list(strategies) or None,
            features=features,
            strategies_file=strategies_file,
            weights=weights,
            watch=pairs,
            ranker_options={"n_repeats": draws} if draws else None,
            progress=progress,
            cache=not no_cache,
            cache_dir=cache_dir,
            notice=echo_notice,
        )
    write_sweep(table, path)
    if base is None:
        summary = summarise_sweep(table)
        rows = [
            {
                "strategy": r["strategy"] or "(all)",
                "metric": r["metric"],
                "gene": r["symbol"],
                "seeds": r["n_seeds"],
                r["centre"]: _fmt(r["value"], r["metric"]),
                "range": f"{_fmt(r['min'], r['metric'])} to {_fmt(r['max'], r['metric'])}",
                "top-50 share": "" if r["top50_share"] is None else f"{r['top50_share']:.2f}",
            }
            for r in summary.iter_rows(named=True)
        ]
        columns = ["strategy", "metric", "gene", "seeds", "geometric mean", "mean", "range",
                   "top-50 share"]  # fmt: skip
        click.echo(f"Model figures over seeds {seed_text} (genome universe, out-of-fold):")
        click.echo(render_table(rows, columns, max_width=28))
    else:
        paired = compare_sweeps(base, table)
        rows = [
            {
                "strategy": r["strategy"] or "(all)",
                "metric": r["metric"],
                "gene": r["symbol"],
                "seeds": r["n_seeds"],
                "baseline": _fmt(r["base"], r["metric"]),
                "new": _fmt(r["new"], r["metric"]),
                r["effect"]: f"{r['value']:.2f} [{r['lo']:.2f}, {r['hi']:.2f}]"
                if r["n_seeds"] > 1
                else f"{r['value']:.2f} (one seed)",
                "better/worse": f"{r['better_seeds']}/{r['worse_seeds']}",
            }
            for r in paired.iter_rows(named=True)
        ]
        columns = ["strategy", "metric", "gene", "seeds", "baseline", "new", "ratio",
                   "difference", "better/worse"]  # fmt: skip
        click.echo(
            f"Paired with {baseline} (ranks: ratio of geometric means, < 1 is better; shares: "
            "difference of means; ±2 SE over seeds):"
        )
        click.echo(render_table(rows, columns, max_width=28))
    click.echo(f"\nSweep table: {path}")
