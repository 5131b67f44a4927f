"""Step ``targetrank sweep``: the genome validation's headline figures at many seeds.

One seed cannot tell a change from the seed's own spread: a change to one strategy's rows moves
every strategy by about as much as a new seed does. So a change is judged over seeds, paired
seed by seed with a sweep of the version before it (:func:`compare_sweeps`); the README's
*How a change is judged* table is this step's output.

The sweep table is long: one row per (seed, strategy, metric, symbol), with the version, the
strategy file's digest and the feature folder on every row, so a CSV shared on its own still
says what it measured.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from targetrank.__about__ import __version__
from targetrank._atomic import atomic_open
from targetrank._types import NoticeCallback, ProgressCallback, no_progress
from targetrank.assemble import fit_scorer, genome_ranks, genome_validation_of
from targetrank.errors import DataError, UsageError
from targetrank.inputs import file_sha256, load_inputs
from targetrank.model.validation import SWEEP_METRICS, compare_sweeps

__all__ = [
    "DEFAULT_WATCH",
    "SWEEP_COLUMNS",
    "compare_sweeps",
    "default_sweep_path",
    "parse_seeds",
    "read_sweep",
    "sweep",
    "write_sweep",
]

#: Genes whose genome rank is followed at every seed by default: the done-when of the ranking
#: (PD-1, PD-L1 and TIGIT in the checkpoint strategy; RANKL, sclerostin and DKK1 in bone).
#: A pair whose strategy a run does not have is skipped.
DEFAULT_WATCH: tuple[tuple[str, str], ...] = (
    ("checkpoint_combination", "PDCD1"),
    ("checkpoint_combination", "CD274"),
    ("checkpoint_combination", "TIGIT"),
    ("bone_resident", "TNFSF11"),
    ("bone_resident", "SOST"),
    ("bone_resident", "DKK1"),
)

SWEEP_COLUMNS = [
    "seed",
    "strategy",
    "metric",
    "symbol",
    "value",
    "targetrank_version",
    "strategies_sha256",
    "features",
]

#: At most this many seeds per sweep (each fits a model; 30 take about 5 minutes cold).
MAX_SEEDS = 1000


def parse_seeds(text: str) -> list[int]:
    """Seeds from ``"0-29"``, ``"0,3,7"`` or a mix (``"0-4,10"``), in order, without repeats."""
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            chunk = range(int(lo), int(hi) + 1) if sep else [int(part)]
        except ValueError:
            chunk = None
        if chunk is None or (sep and int(hi) < int(lo)):
            raise UsageError(
                f"Cannot read the seed list {text!r}",
                input=f"--seeds {text}",
                done="nothing was computed",
                cause=f"{part!r} is not a seed (a non-negative integer) or a range low-high",
                fix="write seeds as 0-29, 0,3,7 or 0-4,10",
            )
        seeds += [s for s in chunk if s not in seeds]
    if not seeds:
        raise UsageError(
            "No seeds given",
            input=f"--seeds {text!r}",
            done="nothing was computed",
            fix="name at least one seed, e.g. --seeds 0-29",
        )
    if len(seeds) > MAX_SEEDS:
        raise UsageError(
            f"{len(seeds):,} seeds is more than a sweep runs ({MAX_SEEDS:,})",
            input=f"--seeds {text}",
            done="nothing was computed",
            fix="split the seeds over several sweeps and concatenate the CSV files",
        )
    return seeds


def _watch_rows(
    watch: Iterable[tuple[str, str]], strategy_ids: Sequence[str], explicit: bool
) -> list[tuple[str, str, int]]:
    """(strategy, symbol, entrez_id) of each watched gene, resolved like any target name."""
    from targetrank.resolver import resolve

    pairs = list(watch)
    unknown = sorted({s for s, _ in pairs if s not in strategy_ids})
    if unknown and explicit:
        raise UsageError(
            f"--watch names a strategy this sweep does not rank: {', '.join(unknown)}",
            input=", ".join(f"{s}:{g}" for s, g in pairs if s in unknown),
            done="nothing was computed",
            fix=f"use one of {', '.join(strategy_ids)} (or add it with --strategy)",
        )
    pairs = [(s, g) for s, g in pairs if s in strategy_ids]
    if not pairs:
        return []
    result = resolve([g for _, g in pairs])
    result.raise_for_failures(done="nothing was computed")
    by_query = dict(zip(result.table["query"], result.table["entrez_id"], strict=True))
    symbol = dict(zip(result.table["query"], result.table["symbol"], strict=True))
    return [(s, symbol[g], int(by_query[g])) for s, g in pairs]


def sweep(
    seeds: Sequence[int],
    *,
    strategies: Sequence[str] | None = None,
    features: str | Path = "snapshot",
    strategies_file: str | Path | None = None,
    weights: str | Path | dict[str, dict[str, float]] | None = None,
    watch: Iterable[tuple[str, str]] | None = None,
    ranker_options: dict[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    notice: NoticeCallback | None = None,
) -> pl.DataFrame:
    """The model's genome-validation figures at every seed (see :data:`SWEEP_METRICS`).

    Each seed fits the default LightGBM ranker (without bootstrap refits, as ``evaluate`` does;
    ``ranker_options`` override it) through the model cache, so a repeated sweep costs only
    the validation. ``watch``: (strategy, gene name) pairs whose genome rank is recorded too
    (default :data:`DEFAULT_WATCH`). Returns the long table of :data:`SWEEP_COLUMNS`.
    """
    from targetrank.model.lightgbm_scorer import LightGBMScorer

    seeds = [int(s) for s in seeds]
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise UsageError(
            "A sweep needs distinct non-negative seeds",
            input=f"seeds={list(seeds)}",
            done="nothing was computed",
            fix="pass e.g. range(30)",
        )
    report = progress or no_progress
    inputs = load_inputs(
        strategies=strategies, strategies_file=strategies_file, weights=weights, features=features
    )
    ids = inputs.strategies.ids
    watched = _watch_rows(DEFAULT_WATCH if watch is None else watch, ids, watch is not None)
    stamp = {
        "targetrank_version": __version__,
        "strategies_sha256": file_sha256(strategies_file) or "packaged",
        "features": str(features),
    }
    records: list[dict[str, Any]] = []
    for done, seed in enumerate(seeds):
        report(f"seed {seed}", done, len(seeds))
        context = inputs.context(seed)
        model = LightGBMScorer(**{"n_refits": 0, **(ranker_options or {})})
        fit_scorer(model, context, cache=cache, cache_dir=cache_dir, notice=notice)
        genome = genome_ranks(model, context, ids)
        result = genome_validation_of(model, context, ids, seed, genome=genome)
        method = getattr(model, "name", "model")
        for sid in ids:
            figures = result["per_strategy"][sid][method]
            for metric in SWEEP_METRICS:
                if metric in figures:
                    records.append(_record(seed, sid, metric, "", figures[metric]))
        overlaps = result["overlap_top100"][method]
        if overlaps:
            records.append(_record(seed, "", "largest_overlap_top100", "", max(overlaps.values())))
        ranks = genome.filter(
            pl.struct("strategy", "entrez_id").is_in(
                [{"strategy": s, "entrez_id": e} for s, _, e in watched]
            )
        )
        where = {
            (s, e): r for s, e, r in ranks.select("strategy", "entrez_id", "genome_rank").rows()
        }
        for sid, symbol, entrez in watched:
            records.append(_record(seed, sid, "genome_rank", symbol, where.get((sid, entrez))))
    report("done", len(seeds), len(seeds))
    table = pl.DataFrame(
        records,
        schema={"seed": pl.Int64, "strategy": pl.String, "metric": pl.String,
                "symbol": pl.String, "value": pl.Float64},
    )  # fmt: skip
    return table.with_columns(pl.lit(v).alias(k) for k, v in stamp.items()).select(SWEEP_COLUMNS)


def _record(seed: int, strategy: str, metric: str, symbol: str, value: Any) -> dict[str, Any]:
    return {
        "seed": seed,
        "strategy": strategy,
        "metric": metric,
        "symbol": symbol,
        "value": None if value is None else float(value),
    }


def default_sweep_path() -> Path:
    """``outputs/sweep-<UTC>.csv``, where ``targetrank sweep`` writes by default."""
    return Path("outputs") / f"sweep-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.csv"


def write_sweep(table: pl.DataFrame, path: str | Path) -> Path:
    """Write a sweep table as CSV (atomically: temp file then rename)."""
    path = Path(path)
    with atomic_open(path) as fh:
        fh.write(table.write_csv())
    return path


def read_sweep(path: str | Path) -> pl.DataFrame:
    """Read a sweep CSV written by :func:`write_sweep`, checking its columns."""
    path = Path(path)
    try:
        table = pl.read_csv(
            path,
            schema_overrides={"strategy": pl.String, "symbol": pl.String, "value": pl.Float64},
        )
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise DataError(
            f"Cannot read the sweep table {path}",
            input=str(path),
            done="nothing was compared",
            cause=f"{type(exc).__name__}: {exc}".splitlines()[0],
            fix="pass a CSV written by `targetrank sweep --out`",
        ) from exc
    missing = [
        c for c in ("seed", "strategy", "metric", "symbol", "value") if c not in table.columns
    ]
    if missing:
        raise DataError(
            f"{path} is not a sweep table: no column {', '.join(missing)}",
            input=str(path),
            done="nothing was compared",
            cause="another CSV (an evaluation or a ranking?) was given",
            fix="pass a CSV written by `targetrank sweep --out`",
        )
    return table.with_columns(pl.col("strategy", "symbol").fill_null(""))
