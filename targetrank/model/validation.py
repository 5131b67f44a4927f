"""Genome-wide validation: where do held-out targets land among all ~20,000 genes?

What a user of a genome ranking relies on, measured for the model and three baselines (the
transparent weighted score, PubMed popularity and random order), every model score out-of-fold
for evidence-base targets (scored by models that never saw the target's labels in any strategy):

- median genome rank of each strategy's approved / phase-3 targets (grade >= 5), and recall of
  all its evidence targets in the top 100, with 95 % bootstrap CIs over targets;
- an **external** check on targets named by published sources that are not the evidence base
  (``targetrank/data/external_validation.tsv``), counting only those the evidence base does not
  already hold for the strategy;
- a **temporal** check: evidence targets at phase 2 or later (grade >= 4) that had no approved
  drug in DrugCentral's May 2016 release, i.e. targets whose clinical success came after the
  literature of that time had made other targets famous (``recent``);
- Spearman correlation between score and focused PubMed count (a fame detector scores high);
- top-100 overlap between strategies and the number of housekeeping genes in each top 100.

Ranks follow the run's rule: genes passing the strategy's gates first, then score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

EXTERNAL_FILE = Path(__file__).resolve().parent.parent / "data" / "external_validation.tsv"
TOP = 100


def external_targets(path: str | Path = EXTERNAL_FILE) -> pl.DataFrame:
    """The external validation list: strategy, symbol, source."""
    return pl.read_csv(path, separator="\t", comment_prefix="#", has_header=False,
                       new_columns=["strategy", "symbol", "source"])  # fmt: skip


def _genome_ranks(keys: pl.DataFrame, scores: np.ndarray) -> np.ndarray:
    """Ranks within strategy: gate-passing first, then score (descending), then symbol."""
    order = (
        keys.with_row_index("_i")
        .with_columns(pl.Series("_s", scores))
        .sort("strategy", "gated", pl.col("_s").neg(), "symbol")
        .with_columns(pl.int_range(1, pl.len() + 1).over("strategy").alias("_r"))
        .sort("_i")
    )
    return order["_r"].to_numpy()


def _ci(values: np.ndarray, stat: Any, rng: np.random.Generator, n: int = 1000) -> list[float]:
    """95 % bootstrap interval of ``stat`` (``np.median`` or ``np.mean``) over ``values``.

    One ``rng.integers`` call per resample, as the definition draws them (one call for all
    would consume the generator differently), then the statistic of every resample at once.
    """
    if values.size == 0:
        return [float("nan"), float("nan")]
    idx = np.stack([rng.integers(0, values.size, values.size) for _ in range(n)])
    draws = stat(values[idx], axis=1)
    return [float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))]


def genome_validation(
    keys: pl.DataFrame,
    scores: Mapping[str, np.ndarray],
    evidence: pl.DataFrame,
    *,
    external: pl.DataFrame | None = None,
    recent: Sequence[int] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Genome-wide metrics per strategy and method.

    Args:
        keys: One row per (strategy, gene): strategy, entrez_id, symbol, gated (Boolean),
            housekeeping (Boolean), pubmed_count_focused.
        scores: Method -> one score per row of ``keys`` ("random" is added here).
        evidence: The evidence base (strategy, entrez_id, grade).
        external: The external list (default: the shipped file).
        recent: Entrez ids without an approved drug in 2016 (the temporal check; None: skipped).
        seed: Seed of the random baseline and the bootstrap.
    """
    external = external_targets() if external is None else external
    rng = np.random.default_rng(seed)
    methods = {**scores, "random": rng.permutation(keys.height).astype(float)}
    strategies = keys["strategy"].unique(maintain_order=True).to_list()
    out: dict[str, Any] = {"per_strategy": {}, "overlap_top100": {}, "top": TOP}
    tops: dict[str, dict[str, set[str]]] = {}
    for method, values in methods.items():
        ranks = _genome_ranks(keys, np.asarray(values, dtype=float))
        frame = keys.with_columns(pl.Series("rank", ranks), pl.Series("score", values))
        tops[method] = {}
        for sid in strategies:
            part = frame.filter(pl.col("strategy") == sid)
            ev = evidence.filter(pl.col("strategy") == sid).select("entrez_id", "grade")
            hit = part.join(ev, on="entrez_id")
            high = hit.filter(pl.col("grade") >= 5)["rank"].to_numpy().astype(float)
            positives = hit.filter(pl.col("grade") > 0)["rank"].to_numpy()
            ext = (
                external.filter(pl.col("strategy") == sid)
                .join(part.select("symbol", "entrez_id", "rank"), on="symbol")
                .join(ev, on="entrez_id", how="anti")["rank"]
                .to_numpy()
            )
            late = (
                hit.filter((pl.col("grade") >= 4) & pl.col("entrez_id").is_in(list(recent)))[
                    "rank"
                ].to_numpy()
                if recent is not None
                else np.array([])
            )
            top = part.filter(pl.col("rank") <= TOP)
            tops[method][sid] = set(top["symbol"].to_list())
            rho = part.select(pl.corr("score", "pubmed_count_focused", method="spearman")).item()
            boot = np.random.default_rng([seed, len(out["per_strategy"])])
            record = {
                "median_rank_grade5": float(np.median(high)) if high.size else None,
                "median_rank_grade5_ci95": _ci(high, np.median, boot),
                "n_grade5": int(high.size),
                "recall_top100": float((positives <= TOP).mean()) if positives.size else None,
                "recall_top100_ci95": _ci((positives <= TOP).astype(float), np.mean, boot),
                "n_evidence": int(positives.size),
                "external_recall_top100": float((ext <= TOP).mean()) if ext.size else None,
                "external_median_rank": float(np.median(ext)) if ext.size else None,
                "n_external": int(ext.size),
                "temporal_median_rank": float(np.median(late)) if late.size else None,
                "temporal_recall_top100": float((late <= TOP).mean()) if late.size else None,
                "n_temporal": int(late.size),
                "spearman_pubmed": float(rho) if rho is not None else None,
                "housekeeping_in_top100": int(top["housekeeping"].sum()),
                "gated_in_top100": int(top["gated"].sum()),
            }
            out["per_strategy"].setdefault(sid, {})[method] = record
        pairs = {}
        for i, a in enumerate(strategies):
            for b in strategies[i + 1 :]:
                pairs[f"{a} / {b}"] = len(tops[method][a] & tops[method][b])
        out["overlap_top100"][method] = pairs
    return out


def validation_table(result: Mapping[str, Any]) -> pl.DataFrame:
    """One row per (strategy, method) for printing and CSV."""
    rows = []
    for sid, per in result["per_strategy"].items():
        for method, r in per.items():
            lo, hi = r["median_rank_grade5_ci95"]
            rows.append(
                {
                    "strategy": sid,
                    "method": method,
                    "median_rank_grade5": r["median_rank_grade5"],
                    "ci": f"[{lo:.0f}, {hi:.0f}]" if r["n_grade5"] else "",
                    "n_grade5": r["n_grade5"],
                    "recall_top100": r["recall_top100"],
                    "external_recall_top100": r["external_recall_top100"],
                    "external_median_rank": r["external_median_rank"],
                    "n_external": r["n_external"],
                    "temporal_median_rank": r.get("temporal_median_rank"),
                    "n_temporal": r.get("n_temporal", 0),
                    "spearman_pubmed": r["spearman_pubmed"],
                    "housekeeping_in_top100": r["housekeeping_in_top100"],
                }
            )
    return pl.DataFrame(rows)
