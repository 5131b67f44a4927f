"""Step ``targetrank explain --run``: the explanations read back from a run folder."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from targetrank.errors import DataError, UsageError


def explain_from_run(run_dir: str | Path, target: str, strategy: str, *, n: int = 3) -> str:
    """The drivers and evidence card of ``target`` in ``strategy`` as stored in a run folder."""
    from targetrank.evidence import evidence
    from targetrank.resolver import resolve
    from targetrank.results import Explanation

    folder = Path(run_dir)
    ranking_path, expl_path = folder / "ranking.csv", folder / "explanations.parquet"
    if not ranking_path.is_file() or not expl_path.is_file():
        raise DataError(
            "Not a targetrank run folder",
            input=str(folder),
            cause="ranking.csv or explanations.parquet is missing",
            fix="point --run at a folder written by `targetrank rank`",
        )
    resolved = resolve([target])
    resolved.raise_for_failures(done="nothing was explained")
    symbol = resolved.symbols[0]
    ranking = pl.read_csv(ranking_path, infer_schema_length=0)
    row = ranking.filter((pl.col("symbol") == symbol) & (pl.col("strategy") == strategy))
    if row.height == 0:
        strategies = ranking["strategy"].unique(maintain_order=True).to_list()
        if strategy not in strategies:
            raise UsageError(
                f"Strategy '{strategy}' is not in this run",
                input=str(folder),
                fix=f"use one of: {', '.join(strategies)}",
            )
        raise UsageError(
            f"{symbol} is not in this run for '{strategy}'",
            input=str(folder),
            fix=f"run `targetrank explain {target} --strategy {strategy}` without --run",
        )
    drivers = pl.read_parquet(expl_path).filter(
        (pl.col("symbol") == symbol) & (pl.col("strategy") == strategy)
    )
    if drivers.height == 0:
        raise UsageError(
            f"This run stored no contributions for {symbol} in '{strategy}'",
            input=str(folder),
            cause="its scorer gives no per-feature contributions, or the gene ranked below the "
            "stored top of a genome-wide run",
            fix=f"run `targetrank explain {target} --strategy {strategy}` without --run",
        )
    bias = drivers.filter(pl.col("feature") == "(bias)")["contribution"]
    import json

    from targetrank.display import plain_name as _plain
    from targetrank.display import shown_value
    from targetrank.features import REGISTRY

    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8")) if manifest_path.is_file() else {}
    info = (manifest.get("strategy_info") or {}).get(strategy) or {}
    network = info.get("network")  # None in runs written before 0.6.0

    specs = REGISTRY.all_specs()
    table = (
        drivers.filter(pl.col("feature") != "(bias)")
        .with_columns(
            pl.col("feature")
            .map_elements(lambda f: _plain(f, specs), return_dtype=pl.String)
            .alias("label"),
            pl.struct("feature", "value")
            .map_elements(
                lambda r: shown_value(r["feature"], r["value"], network=network),
                return_dtype=pl.String,
            )
            .alias("value"),
        )
        .sort(pl.col("contribution").abs(), descending=True)
        .select("feature", "label", "value", "contribution")
    )
    ev = evidence().filter((pl.col("symbol") == symbol) & (pl.col("strategy") == strategy))
    r = row.row(0, named=True)
    genes = manifest.get("genes")
    explanation = Explanation(
        symbol,
        strategy,
        int(r["rank"]),
        float(r["score"]),
        table,
        float(bias[0]) if bias.len() else 0.0,
        ev.row(0, named=True) if ev.height else None,
        genome_rank=int(r["genome_rank"]) if r.get("genome_rank") else None,
        genes=int(genes) if genes else None,
        gate=r.get("gate") or "",
    )
    return explanation.text(n)
