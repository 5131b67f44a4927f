"""Level-2 training table: per strategy, its evidence targets, the seed panel and a background.

Rows are (target, strategy); query groups are the strategies, in file order; labels are the
evidence base's graded relevance (0 for seed-panel genes without evidence in that strategy and for
the background sample). The background is a fixed-seed sample of genes that are in no strategy's
evidence base, so the model also learns what separates strategy-relevant targets from the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from targetrank.errors import ModelError
from targetrank.strategies import StrategySet


@dataclass
class TrainingTable:
    """Training rows sorted by strategy, with labels and group sizes."""

    rows: pl.DataFrame  # strategy, entrez_id, label, role (evidence | seed | background)
    groups: list[int]
    strategies: list[str]

    @property
    def targets(self) -> np.ndarray:
        """Distinct training targets (entrez ids), sorted."""
        return np.sort(self.rows["entrez_id"].unique().to_numpy())

    def label_counts(self) -> dict[str, dict[int, int]]:
        """Rows per grade per strategy, for the model card."""
        out: dict[str, dict[int, int]] = {}
        for sid, label, n in (
            self.rows.group_by("strategy", "label").len().sort("strategy", "label").iter_rows()
        ):
            out.setdefault(sid, {})[int(label)] = int(n)
        return out


def build_training_table(
    evidence: pl.DataFrame,
    strategies: StrategySet,
    universe: pl.DataFrame,
    seed_entrez: Sequence[int],
    *,
    n_background: int = 200,
    seed: int = 0,
    cross_negatives: bool = True,
) -> TrainingTable:
    """Assemble the level-2 training rows.

    Args:
        evidence: The evidence base (strategy, entrez_id, grade).
        strategies: Strategies to train on (their order defines the groups).
        universe: Genes that may be sampled as background (``entrez_id`` column), i.e. the
            feature table.
        seed_entrez: The seed panel's Entrez ids (present in every group).
        n_background: Background genes per strategy.
        seed: Background sampling seed.
        cross_negatives: Also add the other strategies' evidence targets (label 0 here), so the
            model learns what sets this strategy's targets apart, not only "clinical target or
            not".
    """
    evidence_ids = set(evidence["entrez_id"].to_list())
    pool = np.sort(
        np.array(
            [
                e
                for e in universe["entrez_id"].to_list()
                if e not in evidence_ids and e not in set(seed_entrez)
            ]
        )
    )
    frames = []
    groups = []
    for i, strategy in enumerate(strategies):
        ev = evidence.filter(pl.col("strategy") == strategy.id).select(
            "entrez_id", pl.col("grade").alias("label"), pl.lit("evidence").alias("role")
        )
        seeds = pl.DataFrame({"entrez_id": list(seed_entrez)}, schema={"entrez_id": pl.Int64})
        seeds = seeds.join(ev.select("entrez_id"), on="entrez_id", how="anti").select(
            "entrez_id", pl.lit(0, pl.Int64).alias("label"), pl.lit("seed").alias("role")
        )
        others = pl.DataFrame(schema={"entrez_id": pl.Int64, "label": pl.Int64, "role": pl.String})
        if cross_negatives:
            others = (
                evidence.filter(pl.col("strategy") != strategy.id)
                .select("entrez_id")
                .unique(maintain_order=True)
                .join(ev.select("entrez_id"), on="entrez_id", how="anti")
                .join(seeds.select("entrez_id"), on="entrez_id", how="anti")
                .filter(~pl.col("entrez_id").is_in(list(seed_entrez)))
                .sort("entrez_id")
                .select(
                    "entrez_id",
                    pl.lit(0, pl.Int64).alias("label"),
                    pl.lit("other_strategy").alias("role"),
                )
            )
        rng = np.random.default_rng([seed, i])
        take = min(n_background, len(pool))
        background = pl.DataFrame(
            {"entrez_id": np.sort(rng.choice(pool, size=take, replace=False))},
            schema={"entrez_id": pl.Int64},
        ).select(
            "entrez_id", pl.lit(0, pl.Int64).alias("label"), pl.lit("background").alias("role")
        )
        group = pl.concat([ev, seeds, others, background]).with_columns(
            pl.lit(strategy.id).alias("strategy")
        )
        if group.filter(pl.col("label") > 0).height == 0:
            raise ModelError(
                f"Strategy '{strategy.id}' has no evidence target with a grade above 0",
                input=f"{group.height} rows, all label 0",
                done="the ranker was not trained",
                cause="the evidence base has no row for this strategy",
                fix="add evidence rows for it, or rank it with --scorer weighted",
            )
        frames.append(group.select("strategy", "entrez_id", "label", "role"))
        groups.append(group.height)
    rows = pl.concat(frames)
    return TrainingTable(rows, groups, [s.id for s in strategies])
