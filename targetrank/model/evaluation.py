"""Evaluation: NDCG@5/10 per strategy for the ranker and its baselines, with bootstrap CIs.

All model scores are out-of-fold (a target is scored by models that never saw its labels). Two
settings per strategy:

* ``curated``: only the strategy's evidence-base targets (how well curated targets are ordered
  by how far they went);
* ``background``: every evidence-base target and the seed panel (label = grade in this strategy,
  else 0) plus the strategy's background sample (label 0): can the strategy's targets be found
  among other strategies' targets and random genes?

Baselines on the same rows: PubMed popularity, the transparent weighted score of the strategy
file, and random ordering (its expected value by Monte Carlo).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

SETTINGS = ("curated", "background")
KS = (5, 10)


def _dcg_rows(labels: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """DCG@k of every row of ``labels``/``scores`` (2-D), tie groups averaged, no Python loop.

    Rows are sorted by score (stable); each run of equal scores is a tie group whose members
    share the group's mean gain over the group's discounts (as sklearn). Group sums come from
    one ``np.add.reduceat`` over the flattened rows (a group never crosses a row boundary), so
    a bootstrap of hundreds of resamples costs a few array operations instead of a Python
    iteration per tie group.
    """
    n_rows, n = labels.shape
    if n == 0:
        return np.zeros(n_rows)
    order = np.argsort(-scores, axis=1, kind="stable")
    s = np.take_along_axis(scores, order, axis=1)
    g = np.take_along_axis(labels, order, axis=1).astype(float)
    discounts = 1.0 / np.log2(np.arange(2, n + 2))
    discounts[k:] = 0.0
    new_group = np.ones((n_rows, n), dtype=bool)
    new_group[:, 1:] = s[:, 1:] != s[:, :-1]
    starts = np.flatnonzero(new_group.ravel())
    sizes = np.diff(np.r_[starts, n_rows * n])
    gain = np.add.reduceat(g.ravel(), starts) / sizes
    discount = np.add.reduceat(np.tile(discounts, n_rows), starts)
    per_group = gain * discount
    # sum each row's groups in order, as the definition does: only the first k groups can
    # have a non-zero discount, so k vectorised additions do it (reduceat would sum pairwise)
    groups = new_group.sum(axis=1)
    first = np.r_[0, np.cumsum(groups)[:-1]]
    total = np.zeros(n_rows)
    for j in range(min(k, n)):
        at = np.minimum(first + j, per_group.size - 1)
        total = total + np.where(groups > j, per_group[at], 0.0)
    return total


def _dcg(labels: np.ndarray, scores: np.ndarray, k: int) -> float:
    """DCG@k with linear gains; tied scores share their positions' discounts (as sklearn)."""
    return float(_dcg_rows(labels[None, :], np.asarray(scores)[None, :], k)[0])


def ndcg_at(labels: np.ndarray, scores: np.ndarray, k: int) -> float:
    """NDCG@k with linear gains (the ranker's label gains); ties averaged; NaN without positives."""
    if labels.size < 2 or labels.max() <= 0:
        return float("nan")
    ideal = _dcg(labels, labels.astype(float), k)
    return _dcg(labels, scores.astype(float), k) / ideal


def _bootstrap(
    labels: np.ndarray, scores: np.ndarray, k: int, rng: np.random.Generator, n: int
) -> np.ndarray:
    """NDCG@k of ``n`` bootstrap resamples, all at once (same draws as one resample per call)."""
    if n == 0:
        return np.empty(0)
    idx = np.vstack([rng.integers(0, labels.size, labels.size) for _ in range(n)])
    lab = labels[idx]
    if labels.size < 2:
        return np.full(n, np.nan)
    ideal = _dcg_rows(lab, lab.astype(float), k)
    dcg = _dcg_rows(lab, scores[idx].astype(float), k)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = dcg / ideal
    out[lab.max(axis=1) <= 0] = np.nan
    return out


def _random_expected(labels: np.ndarray, k: int, rng: np.random.Generator, n: int) -> np.ndarray:
    """NDCG@k of ``n`` random orderings, all at once.

    Same draws and the same floating-point sums as ``ndcg_at`` on each permutation (a
    permutation has no ties, so its DCG is the sequential sum of gain x discount over the top
    k), without a Python call per permutation: 1,000 permutations x 20 cells made
    ``evaluate()`` spend 80 % of its time here.
    """
    perms = np.array([rng.permutation(labels.size) for _ in range(n)], dtype=float)
    if labels.size < 2 or labels.max() <= 0:  # after the draws: the stream is consumed as before
        return np.full(n, np.nan)
    order = np.argsort(-perms, axis=1, kind="stable")
    top = min(k, labels.size)
    gains = labels[order[:, :top]]
    discounts = 1.0 / np.log2(np.arange(2, labels.size + 2))
    dcg = np.zeros(n)
    for r in range(top):
        dcg = dcg + gains[:, r] * discounts[r]
    return dcg / _dcg(labels, labels.astype(float), k)


def evaluation_rows(
    training: pl.DataFrame, evidence: pl.DataFrame, seed_entrez: list[int]
) -> pl.DataFrame:
    """Evaluation rows per strategy: keys, label and setting membership.

    Args:
        training: Level-2 training rows (strategy, entrez_id, label, role).
        evidence: Evidence base (strategy, entrez_id, grade, stage).
        seed_entrez: Seed panel Entrez ids.
    """
    strategies = training["strategy"].unique(maintain_order=True).to_list()
    universe = sorted(set(evidence["entrez_id"].to_list()) | set(seed_entrez))
    frames = []
    for sid in strategies:
        ev = evidence.filter(pl.col("strategy") == sid).select(
            "entrez_id", pl.col("grade").alias("label"), "stage"
        )
        uni = pl.DataFrame({"entrez_id": universe}, schema={"entrez_id": pl.Int64}).join(
            ev, on="entrez_id", how="left", maintain_order="left"
        )
        bg = training.filter((pl.col("strategy") == sid) & (pl.col("role") == "background"))
        bg = bg.select("entrez_id", "label").with_columns(pl.lit(None, pl.String).alias("stage"))
        rows = pl.concat([uni, bg.select(uni.columns)]).unique(
            "entrez_id", keep="first", maintain_order=True
        )
        frames.append(
            rows.with_columns(
                pl.lit(sid).alias("strategy"),
                pl.col("label").fill_null(0),
                pl.col("stage").is_not_null().alias("curated"),
            )
        )
    return pl.concat(frames).select("strategy", "entrez_id", "label", "stage", "curated")


def evaluate_scores(
    rows: pl.DataFrame,
    scores: Mapping[str, np.ndarray],
    *,
    seed: int = 0,
    n_resamples: int = 500,
    n_random: int = 1000,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """NDCG@5/10 (with 95 % bootstrap CIs) per strategy, setting and method, plus recall@10.

    Args:
        rows: :func:`evaluation_rows` output.
        scores: Method name → one score per row of ``rows``.
        seed: Bootstrap seed.
        n_resamples: Bootstrap resamples of the targets per strategy (the confidence intervals).
        n_random: Random permutations for the random baseline.

    Returns:
        ``(table, summary)``: long table with columns strategy, setting, method, k, ndcg,
        ci_low, ci_high, n_targets; and recall of approved targets in the top 10 per method.
    """
    records = []
    recall: dict[str, dict[str, float]] = {}
    per_method_boot: dict[tuple[str, str, int], list[np.ndarray]] = {}
    strategies = rows["strategy"].unique(maintain_order=True).to_list()
    methods = [*scores, "random"]
    for si, sid in enumerate(strategies):
        mask_s = (rows["strategy"] == sid).to_numpy()
        for setting in SETTINGS:
            mask = mask_s & (rows["curated"].to_numpy() if setting == "curated" else True)
            labels = rows["label"].to_numpy()[mask].astype(float)
            for k in KS:
                for mi, method in enumerate(methods):
                    rng = np.random.default_rng([seed, si, k, mi, SETTINGS.index(setting)])
                    if method == "random":
                        boot = _random_expected(labels, k, rng, n_random)
                        point = float(np.nanmean(boot))
                    else:
                        s = np.asarray(scores[method])[mask]
                        point = ndcg_at(labels, s, k)
                        boot = _bootstrap(labels, s, k, rng, n_resamples)
                    per_method_boot.setdefault((setting, method, k), []).append(boot)
                    records.append(
                        {
                            "strategy": sid,
                            "setting": setting,
                            "method": method,
                            "k": k,
                            "ndcg": point,
                            "ci_low": float(np.nanpercentile(boot, 2.5)),
                            "ci_high": float(np.nanpercentile(boot, 97.5)),
                            "n_targets": int(mask.sum()),
                            "n_relevant": int((labels > 0).sum()),
                        }
                    )
        # recall of approved targets in the top 10 (background setting)
        stage = rows["stage"].to_numpy()[mask_s]
        approved = np.array([s is not None and str(s).startswith("APPROVED") for s in stage])
        for method in scores:
            s = np.asarray(scores[method])[mask_s]
            top = np.argsort(-s, kind="stable")[:10]
            hit = approved[top].sum()
            recall.setdefault(method, {})[sid] = (
                float(hit / approved.sum()) if approved.sum() else float("nan")
            )
        rng = np.random.default_rng([seed, si, 777])
        hits = [approved[rng.permutation(approved.size)[:10]].sum() for _ in range(n_random)]
        recall.setdefault("random", {})[sid] = (
            float(np.mean(hits) / approved.sum()) if approved.sum() else float("nan")
        )
    # mean over strategies, CI from the per-strategy bootstrap distributions
    for (setting, method, k), boots in per_method_boot.items():
        points = [
            r["ndcg"]
            for r in records
            if r["setting"] == setting and r["method"] == method and r["k"] == k
        ]
        stacked = np.nanmean(np.vstack(boots), axis=0)
        records.append(
            {
                "strategy": "mean",
                "setting": setting,
                "method": method,
                "k": k,
                "ndcg": float(np.nanmean(points)),
                "ci_low": float(np.nanpercentile(stacked, 2.5)),
                "ci_high": float(np.nanpercentile(stacked, 97.5)),
                "n_targets": 0,
                "n_relevant": 0,
            }
        )
    for per in recall.values():
        vals = [v for v in per.values() if not np.isnan(v)]
        per["mean"] = float(np.mean(vals)) if vals else float("nan")
    return pl.DataFrame(records), {"recall_approved_top10": recall}


def wide_table(long: pl.DataFrame) -> pl.DataFrame:
    """One row per (strategy, setting, k), one 'ndcg [ci]' column per method, for printing."""
    cell = pl.format(
        "{} [{}, {}]",
        pl.col("ndcg").round(3),
        pl.col("ci_low").round(3),
        pl.col("ci_high").round(3),
    )
    methods = long["method"].unique(maintain_order=True).to_list()
    wide = long.with_columns(cell.alias("cell")).pivot(
        on="method", index=["strategy", "setting", "k"], values="cell"
    )
    return wide.select("strategy", "setting", "k", *methods)
