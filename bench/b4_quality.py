"""B4 ranking quality: ``targetrank.evaluate()`` — the ranker against its baselines.

The baselines (weighted strategy file, PubMed popularity, random) are scored on the same
out-of-fold rows in the same call, so the ratio ranker / best baseline is side by side. The
figures are the mean over strategies of NDCG@5 and NDCG@10 with 95 % bootstrap CIs, in the two
settings of the README (among each strategy's curated targets; curated targets among all).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from bench.timing import timed


@dataclass
class B4Config:
    """Bootstrap resamples of the NDCG CIs, ranker options, feature source."""

    n_bootstrap: int = 500
    ranker: dict[str, Any] = field(default_factory=dict)
    features: str = "snapshot"


def run(cfg: B4Config, *, log: Any = print) -> dict[str, Any]:
    """Evaluate, print the mean-over-strategies table and ranker / best-baseline ratios."""
    import targetrank

    result = timed(
        lambda: targetrank.evaluate(
            seed=0,
            n_resamples=cfg.n_bootstrap,
            features=cfg.features,
            ranker_options=cfg.ranker or None,
        )
    )
    ev = result.value
    mean = ev.table.filter(pl.col("strategy") == "mean").select(
        "setting", "method", "k", "ndcg", "ci_low", "ci_high"
    )
    rows = mean.to_dicts()
    log(
        f"B4 ranking quality: targetrank.evaluate() in {result.wall:.1f} s (features {cfg.features})"
    )
    ratios: dict[str, dict[str, Any]] = {}
    for (setting, k), part in mean.group_by("setting", "k", maintain_order=True):
        by = {r["method"]: r for r in part.to_dicts()}
        cells = "  ".join(
            f"{m} {r['ndcg']:.3f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]" for m, r in by.items()
        )
        log(f"  {setting:<9} NDCG@{k:<2} {cells}")
        baselines = {m: r["ndcg"] for m, r in by.items() if m != "lightgbm"}
        best = max(baselines, key=lambda m: baselines[m])
        if "lightgbm" in by and baselines[best] > 0:
            value = by["lightgbm"]["ndcg"] / baselines[best]
            ratios[f"ndcg{k}_{setting}_vs_best_baseline"] = {
                "value": value,
                "target": None,
                "at_most": False,
                "verdict": "context (no target)",
                "what": f"LightGBM NDCG@{k} / best baseline ({best}), {setting} setting",
            }
            log(f"    ratio LightGBM / {best}: {value:.2f}")
    prior = ev.prior.get("model", {})
    log(
        f"  level-1 prior: ROC-AUC {prior.get('roc_auc', float('nan')):.3f} "
        f"{[round(x, 3) for x in prior.get('roc_auc_ci95') or []]}, "
        f"AP {prior.get('average_precision', float('nan')):.3f}"
    )
    return {
        "name": "B4 ranking quality",
        "wall_s": result.wall,
        "n_bootstrap": cfg.n_bootstrap,
        "features": cfg.features,
        "mean": rows,
        "prior": ev.prior,
        "ratios": ratios,
    }
