"""``targetrank rank``, ``evaluate``, ``explain`` and ``rerun``: the main job."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from targetrank._types import MIN_RESAMPLES
from targetrank.cli._common import (
    cache_options,
    draws_option,
    echo_notice,
    interactive,
    progress_callback,
    ranker_choice,
    render_table,
)

FEATURES_HELP = (
    "Feature folder to read the feature table from: 'snapshot' (the embedded, offline one) or a "
    "folder written by `targetrank features merge` (features.parquet + manifest.json)."
)


def _targets(targets: tuple[str, ...], targets_file: str | None) -> list[str] | None:
    from targetrank.errors import UsageError
    from targetrank.targets import read_targets_file, split_targets

    names = split_targets(targets)
    if targets and not names:  # never fall back to the default panel behind the user's back
        raise UsageError(
            "--targets was given but lists no targets",
            input="--targets " + " ".join(repr(t) for t in targets),
            done="nothing was computed",
            cause="an empty value (an unset shell variable?) or only separators",
            fix="name at least one target (--targets TIGIT,DKK1), or drop --targets for the "
            "default panel",
        )
    if targets_file:
        names += read_targets_file(targets_file)
    return names or None


def _print_top(ranking, top: int) -> None:
    """The top ``top`` of each strategy, then the seed panel's rows outside it, then a legend."""
    import polars as pl

    from targetrank.legend import legend_text

    table = ranking.table
    seeds = list(ranking.manifest.get("seed_panel") or [])
    for strategy in table["strategy"].unique(maintain_order=True).to_list():
        part = table.filter(pl.col("strategy") == strategy)
        shown = part.filter(pl.col("rank") <= top)
        extra = part.filter((pl.col("rank") > top) & pl.col("symbol").is_in(seeds))
        title = f"\n{strategy} (top {top}) of {part.height:,} targets"
        click.echo(title + ("; then the seed panel" if extra.height else ""))
        rows = [_row(r) for r in shown.iter_rows(named=True)]
        if extra.height:
            rows.append({"rank": "…"})
            rows += [_row(r) for r in extra.iter_rows(named=True)]
        click.echo(render_table(rows, _COLUMNS, max_width=60))
    click.echo("\n" + legend_text(ranking))


_COLUMNS = ["rank", "symbol", "query", "score", "rank 5-95%", "P(top10)", "genome rank", "gate",
            "evidence", "top drivers"]  # fmt: skip


def _row(r: dict) -> dict:
    genome = r.get("genome_rank")
    return {
        "rank": r["rank"],
        "symbol": r["symbol"],
        "query": r["query"] if r["query"] != r["symbol"] else "",
        "score": f"{r['score']:.3f}",
        "rank 5-95%": f"{r['rank_low']}-{r['rank_high']}",
        "P(top10)": "" if r["p_top10"] is None else f"{r['p_top10']:.2f}",
        "genome rank": "" if genome is None else f"{genome:,}",
        "gate": "gated" if r.get("gate") else "",
        "evidence": r["evidence_stage"] or "",
        "top drivers": (r["top_drivers"] or "").split("; ")[0],
    }


@click.command()
@click.option(
    "--targets",
    multiple=True,
    help="Targets, comma-separated (default: seed panel + evidence base).",
)
@click.option(
    "--targets-file", type=click.Path(dir_okay=False), help="File of targets, one per line."
)
@click.option(
    "--skip-unresolved", is_flag=True, help="Rank the targets that resolved; report the rest."
)
@click.option("--universe", type=click.Choice(["evidence", "genome"]), default="evidence", show_default=True,
              help="'genome' ranks all ~20k genes and writes novel_candidates.csv.")  # fmt: skip
@click.option(
    "--strategy", "strategies", multiple=True, help="Strategy id (repeatable; default: all five)."
)
@click.option(
    "--strategies",
    "strategies_file",
    type=click.Path(dir_okay=False),
    help="Alternative strategy file.",
)
@click.option(
    "--scorer",
    default="lightgbm",
    show_default=True,
    help="lightgbm, weighted, or module:function.",
)
@click.option(
    "--weights", type=click.Path(dir_okay=False), help="Weights file overriding the strategy file."
)
@click.option("--features", default="snapshot", show_default=True, help=FEATURES_HELP)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Run folder (default: outputs/<UTC timestamp>/).",
)
@click.option("--force", is_flag=True, help="Replace an existing --out folder.")
@click.option(
    "--format", "formats", default="csv", show_default=True, help="Export formats: csv,xlsx."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random choice.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="Targets shown per strategy (at least 1).")  # fmt: skip
@click.option("--quiet", is_flag=True, help="No progress bar.")
@draws_option
@click.option("--refits", type=click.IntRange(min=0), default=None,
              help="Bootstrap refits behind the rank intervals and P(top 10) (default 20; 0: "
              "none, faster). LightGBM ranker only.")  # fmt: skip
@cache_options
def rank(
    targets: tuple[str, ...],
    targets_file: str | None,
    skip_unresolved: bool,
    universe: str,
    strategies: tuple[str, ...],
    strategies_file: str | None,
    scorer: str,
    weights: str | None,
    features: str,
    out: str | None,
    force: bool,
    formats: str,
    seed: int,
    top: int,
    quiet: bool,
    draws: int | None,
    refits: int | None,
    cache_dir: str | None,
    no_cache: bool,
) -> None:
    """Rank targets per strategy and write a run folder (CSV, matrix, heatmap, manifest, model card).

    With no arguments: the seed panel (TIGIT, DKK1, OPN, RANKL) plus the evidence-base targets,
    all five strategies, the embedded snapshot and the LightGBM ranker.
    """
    from targetrank.export import check_formats, check_out_dir, default_out_dir
    from targetrank.pipeline import rank as run_rank
    from targetrank.runfolder import run_folder_lock

    chosen = check_formats(formats.split(","))
    the_scorer = ranker_choice(scorer, draws=draws, refits=refits)  # a bad mix fails first
    out_dir = Path(out) if out else default_out_dir()
    check_out_dir(out_dir, force=force)  # fail before computing
    with (
        run_folder_lock(out_dir),  # one writer per folder, from before computing to the rename
        progress_callback("ranking", interactive() and not quiet) as progress,
    ):
        check_out_dir(out_dir, force=force)  # again, now that no other run can write there
        ranking = run_rank(
            targets=_targets(targets, targets_file),
            strategies=list(strategies) or None,
            scorer=the_scorer,
            features=features,
            seed=seed,
            universe=universe,  # type: ignore[arg-type]
            weights=weights,
            strategies_file=strategies_file,
            skip_unresolved=skip_unresolved,
            progress=progress,
            command=["targetrank", *sys.argv[1:]],
            cache=not no_cache,
            cache_dir=cache_dir,
            notice=echo_notice,
        )
        written = ranking.write(out_dir, formats=chosen, force=force, top=max(top, 20))
    _print_top(ranking, top)
    click.echo(f"\nRun folder: {written}")
    click.echo(f"Report: {written / 'report.html'} (open in any browser)")


@click.command()
@click.option("--strategy", "strategies", multiple=True, help="Strategy id (repeatable).")
@click.option("--features", default="snapshot", show_default=True, help=FEATURES_HELP)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--resamples", "--bootstrap", "n_resamples", type=click.IntRange(min=MIN_RESAMPLES),
              default=500, show_default=True, help=f"Bootstrap resamples of the evaluated targets "
              f"for the 95% confidence intervals (at least {MIN_RESAMPLES}; --bootstrap is its "
              "old name). Not the ranker's refits: the model is evaluated out-of-fold without "
              "them.")  # fmt: skip
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="CSV file (default: outputs/evaluation-<UTC>.csv).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@draws_option
@cache_options
def evaluate(
    strategies: tuple[str, ...],
    features: str,
    seed: int,
    n_resamples: int,
    out: str | None,
    quiet: bool,
    draws: int | None,
    cache_dir: str | None,
    no_cache: bool,
) -> None:
    """Evaluate the ranker out-of-fold against PubMed, weighted and random baselines."""
    from targetrank.runfolder import probe_writable
    from targetrank.steps.evaluate import default_evaluation_path, write_evaluation
    from targetrank.steps.evaluate import evaluate as run_evaluate

    path = Path(out) if out else default_evaluation_path()
    probe_writable(path)  # an unwritable --out fails now, not after minutes of evaluating
    with progress_callback("evaluating", interactive() and not quiet) as progress:
        result = run_evaluate(
            strategies=list(strategies) or None,
            features=features,
            seed=seed,
            n_resamples=n_resamples,
            progress=progress,
            ranker_options={"n_repeats": draws} if draws else None,
            cache=not no_cache,
            cache_dir=cache_dir,
            notice=echo_notice,
        )
    m = result.prior["model"]
    click.echo(
        "Level 1 (genome-wide precedence prior, out-of-fold; context only: "
        "the default ranker does not use it):"
    )
    click.echo(
        f"  LightGBM ROC-AUC {m['roc_auc']:.3f} [{m['roc_auc_ci95'][0]:.3f}, {m['roc_auc_ci95'][1]:.3f}], "
        f"AP {m['average_precision']:.3f} [{m['average_precision_ci95'][0]:.3f}, {m['average_precision_ci95'][1]:.3f}]"
    )
    if "pubmed_popularity" in result.prior:
        p = result.prior["pubmed_popularity"]
        click.echo(
            f"  PubMed popularity ROC-AUC {p['roc_auc']:.3f}, AP {p['average_precision']:.3f}"
        )
    click.echo(f"  random ROC-AUC 0.500, AP {result.prior['random']['average_precision']:.3f}")
    click.echo("\nLevel 2 (strategy ranker, NDCG with 95% bootstrap CI, out-of-fold):")
    wide = result.wide()
    click.echo(render_table(wide.to_dicts(), wide.columns, max_width=24))
    import polars as pl

    from targetrank.model.validation import validation_table

    genome = result.model_card.get("genome_validation")
    if genome:
        click.echo(
            "\nGenome-wide validation (all genes; gates first; model scores out-of-fold for "
            "evidence targets; external = published lists outside the evidence base; temporal = "
            "phase 2+ targets with no approved drug in DrugCentral 2016-05):"
        )
        vt = validation_table(genome).with_columns(pl.col(pl.Float64).round(2))
        click.echo(render_table(vt.to_dicts(), vt.columns, max_width=14))
        worst = {m: max(p.values()) for m, p in genome["overlap_top100"].items()}
        click.echo("  largest top-100 overlap between two strategies: " + ", ".join(
            f"{m} {v}" for m, v in worst.items()))  # fmt: skip
    click.echo("\nRecall of approved targets in the top 10:")
    for method, per in result.recall.items():
        click.echo(f"  {method}: " + ", ".join(f"{k} {v:.2f}" for k, v in per.items()))
    write_evaluation(result, path)
    click.echo(f"\nEvaluation table: {path}")


@click.command()
@click.argument("target")
@click.option("--strategy", required=True, help="Strategy id.")
@click.option(
    "--run",
    "run_dir",
    type=click.Path(file_okay=False),
    help="Read a run folder instead of recomputing.",
)
@click.option("--features", default="snapshot", show_default=True, help=FEATURES_HELP)
@click.option("--scorer", default="lightgbm", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--n", "n_drivers", type=int, default=3, show_default=True, help="Drivers shown each way."
)
@draws_option
@cache_options
def explain(
    target: str,
    strategy: str,
    run_dir: str | None,
    features: str,
    scorer: str,
    seed: int,
    n_drivers: int,
    draws: int | None,
    cache_dir: str | None,
    no_cache: bool,
) -> None:
    """Why TARGET ranks where it does in a strategy: top drivers and its evidence card."""
    the_scorer = ranker_choice(scorer, draws=draws)
    if run_dir and draws:
        from targetrank.errors import UsageError

        raise UsageError(
            "--draws has no effect with --run: a run folder is explained with its own ranker",
            input=f"--run {run_dir} --draws {draws}",
            done="nothing was explained",
            fix="drop --draws (the run's settings are in its manifest), or drop --run to "
            "recompute with --draws",
        )
    if run_dir:
        from targetrank.steps.explain import explain_from_run

        click.echo(explain_from_run(run_dir, target, strategy, n=n_drivers))
        return
    from targetrank.steps.rank import rank as run_rank

    ranking = run_rank(targets=[target], strategies=[strategy], scorer=the_scorer, features=features,
                       seed=seed, evaluate_model=False, cache=not no_cache, cache_dir=cache_dir,
                       notice=echo_notice)  # fmt: skip
    click.echo(ranking.explain(target, strategy).text(n_drivers))


@click.command()
@click.argument("manifest", type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--out", type=click.Path(file_okay=False), help="Also write the reproduced run folder here."
)
@cache_options
def rerun(manifest: str, out: str | None, cache_dir: str | None, no_cache: bool) -> None:
    """Reproduce a run from its manifest.json and say whether the ranks match."""
    from targetrank.steps.rerun import rerun as run_rerun

    report = run_rerun(
        manifest, out=out, cache=not no_cache, cache_dir=cache_dir, notice=echo_notice
    )
    click.echo(report.summary())
    if not report.identical:
        raise SystemExit(int(report.exit_code))
