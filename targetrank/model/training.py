"""Level-2 training table: per strategy, its evidence targets, the seed panel and negatives.

Rows are (target, strategy); query groups are the strategies, in file order; labels are the
evidence base's graded relevance (0 for seed-panel genes without evidence in that strategy and
for every negative). Negatives are chosen so that fame cannot separate them from the positives:

- **popularity-matched background**: genes in no strategy's evidence base that pass the
  strategy's reach gates (``Gate.background``: can the modality act on the gene at all; the
  list gates ``not_housekeeping`` and ``dense_antigen`` do not decide the pool), sampled so
  that their literature volume (focused PubMed articles, in genome-wide deciles) has the same
  distribution as the strategy's positives. A model cannot
  then learn "much written about = target"; it has to learn what sets targets apart among
  equally studied, equally reachable genes;
- **known non-targets**: a sample of core-essential, ribosomal and mitochondrially encoded genes
  (the ``not_housekeeping`` gate's genes), which no strategy here targets;
- **other strategies' targets** (label 0 here), so the model learns what is specific to this
  strategy, not only "clinical target or not".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
    n_housekeeping: int = 20,
    match_on: str | None = "pubmed_count_focused",
    draw: int = 0,
) -> TrainingTable:
    """Assemble the level-2 training rows of one background draw.

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
        n_housekeeping: Known non-targets (core-essential, ribosomal, mitochondrially encoded)
            per strategy.
        match_on: Column whose distribution the background matches to the positives' (None:
            uniform sampling).
        draw: Which background draw (0, 1, ...): the ranker trains one model set per draw and
            averages them (positive-unlabelled bagging), so no single sample of unlabelled genes
            decides a ranking.
    """
    return build_training_tables(
        evidence,
        strategies,
        universe,
        seed_entrez,
        n_background=n_background,
        seed=seed,
        cross_negatives=cross_negatives,
        n_housekeeping=n_housekeeping,
        match_on=match_on,
        draws=[draw],
    )[0]


def build_training_tables(
    evidence: pl.DataFrame,
    strategies: StrategySet,
    universe: pl.DataFrame,
    seed_entrez: Sequence[int],
    *,
    n_background: int = 200,
    seed: int = 0,
    cross_negatives: bool = True,
    n_housekeeping: int = 20,
    match_on: str | None = "pubmed_count_focused",
    draws: Iterable[int] = (0,),
) -> list[TrainingTable]:
    """:func:`build_training_table` for several draws at once (one table per draw, in order).

    What does not depend on the draw (pools, literature bins, gates, labelled rows) is computed
    once; each draw only samples its background and known non-targets.
    """
    from targetrank.features.gates import GATES, HOUSEKEEPING, gate_frame

    draws = list(draws)
    if not any(s.learn for s in strategies):
        raise ModelError(
            "No strategy for the ranker to learn: every strategy sets learn = false",
            input=f"strategies {', '.join(strategies.ids)}",
            done="the ranker was not trained",
            cause="learn = false ranks a strategy by its weights; the model needs at least one",
            fix="remove learn = false from one strategy, or rank with --scorer weighted",
        )
    evidence_ids = set(evidence["entrez_id"].to_list())
    excluded = evidence_ids | set(seed_entrez)
    pool = np.sort(np.array([e for e in universe["entrez_id"].to_list() if e not in excluded]))
    housekeeping = np.sort(
        universe.filter(HOUSEKEEPING & ~pl.col("entrez_id").is_in(list(evidence_ids)))[
            "entrez_id"
        ].to_numpy()
    )
    bins = _bins(universe, match_on)
    frames: list[list[pl.DataFrame]] = [[] for _ in draws]
    groups: list[list[int]] = [[] for _ in draws]
    for i, strategy in enumerate(strategies):
        if not strategy.learn:  # ranked by its strategy file: no rows in the shared trees
            continue  # (i stays the strategy's position: the others' draws do not move)
        ev = evidence.filter(pl.col("strategy") == strategy.id).select(
            "entrez_id", pl.col("grade").alias("label"), pl.lit("evidence").alias("role")
        )
        if ev.filter(pl.col("label") > 0).height == 0:
            raise ModelError(
                f"Strategy '{strategy.id}' has no evidence target with a grade above 0",
                input=f"{ev.height} evidence rows, none graded above 0",
                done="the ranker was not trained",
                cause="the evidence base has no row for this strategy",
                fix="add evidence rows for it, set learn = false in its strategy-file entry "
                "(ranked by its weights, the others by the model), or rank all with "
                "--scorer weighted",
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
        reachable = [g for g in strategy.gates if GATES[g].background]
        passing = gate_frame(universe, tuple(reachable)).filter(pl.col("gate") == "")
        strategy_pool = pool[np.isin(pool, passing["entrez_id"].to_numpy())]
        positives = ev.filter(pl.col("label") > 0)["entrez_id"].to_numpy()
        labelled = set(ev["entrez_id"].to_list())
        for d, draw in enumerate(draws):
            rng = np.random.default_rng([seed, i] if draw == 0 else [seed, i, draw])
            drawn = _matched_sample(strategy_pool, positives, bins, n_background, rng)
            background = pl.DataFrame({"entrez_id": drawn}, schema={"entrez_id": pl.Int64})
            taken = set(drawn.tolist()) | labelled
            hk_pool = np.array([g for g in housekeeping if g not in taken], dtype=np.int64)
            hk = np.sort(rng.choice(hk_pool, min(n_housekeeping, len(hk_pool)), False))
            group = pl.concat(
                [
                    ev,
                    seeds,
                    others,
                    background.select(
                        "entrez_id",
                        pl.lit(0, pl.Int64).alias("label"),
                        pl.lit("background").alias("role"),
                    ),
                    pl.DataFrame({"entrez_id": hk}, schema={"entrez_id": pl.Int64}).select(
                        "entrez_id",
                        pl.lit(0, pl.Int64).alias("label"),
                        pl.lit("non_target").alias("role"),
                    ),
                ]
            ).with_columns(pl.lit(strategy.id).alias("strategy"))
            group = group.unique("entrez_id", keep="first", maintain_order=True)
            frames[d].append(group.select("strategy", "entrez_id", "label", "role"))
            groups[d].append(group.height)
    ids = [s.id for s in strategies if s.learn]
    return [TrainingTable(pl.concat(f), g, ids) for f, g in zip(frames, groups, strict=True)]


def _bins(universe: pl.DataFrame, column: str | None, n: int = 10) -> dict[int, int]:
    """Entrez id -> genome-wide decile of ``column`` (log scale); {} without matching."""
    if column is None or column not in universe.columns:
        return {}
    values = np.log1p(universe[column].fill_null(0).cast(pl.Float64).to_numpy())
    edges = np.unique(np.quantile(values, np.linspace(0, 1, n + 1)[1:-1]))
    codes = np.searchsorted(edges, values, side="right")
    return dict(zip(universe["entrez_id"].to_list(), codes.tolist(), strict=True))


def _matched_sample(
    pool: np.ndarray,
    positives: np.ndarray,
    bins: dict[int, int],
    size: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``size`` genes of ``pool`` whose bin distribution follows the positives' (sorted ids).

    Each positive's bin gets an equal share of the sample; a bin with too few pool genes gives
    all it has and the rest is drawn from the neighbouring bins, nearest first.
    """
    size = min(size, len(pool))
    if not bins or len(positives) == 0:
        return np.sort(rng.choice(pool, size=size, replace=False))
    pool_bins = np.array([bins.get(int(g), 0) for g in pool])
    wanted = np.bincount([bins.get(int(p), 0) for p in positives], minlength=pool_bins.max() + 1)
    quota = np.floor(wanted / wanted.sum() * size).astype(int)
    quota[np.argmax(wanted)] += size - quota.sum()
    chosen: list[int] = []
    left = set(range(len(pool)))
    for b in np.argsort(-wanted, kind="stable"):
        need = int(quota[b])
        for d in range(len(quota)):
            if need <= 0:
                break
            for nb in sorted({b - d, b + d}):
                if nb < 0 or need <= 0:
                    continue
                idx = [i for i in np.flatnonzero(pool_bins == nb) if i in left]
                take = rng.choice(idx, size=min(need, len(idx)), replace=False) if idx else []
                for i in take:
                    left.discard(int(i))
                    chosen.append(int(pool[i]))
                need -= len(take)
    return np.sort(np.array(chosen, dtype=np.int64))
