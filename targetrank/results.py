"""What a run returns: the ranking (with its explanations) and the evaluation.

Objects only; writing a run folder is :mod:`targetrank.export`, printing is the CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from targetrank.display import fmt_value as _fmt
from targetrank.display import plain_name as _plain
from targetrank.display import shown_value
from targetrank.errors import ModelError, UsageError
from targetrank.strategies import StrategySet

RANKING_COLUMNS = [
    "strategy",
    "rank",
    "symbol",
    "ensembl_id",
    "score",
    "rank_low",
    "rank_high",
    "p_top10",
    "evidence_stage",
    "failed_phase3",
    "top_drivers",
    "citations",
    "query",
    "genome_rank",
    "gate",
]
TIE_BREAK = "genes passing the strategy's gates first, then score (descending), then symbol (A-Z)"
Universe = Literal["evidence", "genome"]


# ------------------------------------------------------------------------------------------
# Ranking result
# ------------------------------------------------------------------------------------------


@dataclass
class Explanation:
    """Why a target ranks where it does in one strategy."""

    symbol: str
    strategy: str
    rank: int
    score: float
    drivers: pl.DataFrame  # feature, label, value, contribution (sorted by |contribution|)
    bias: float
    evidence: dict[str, Any] | None
    genome_rank: int | None = None
    genes: int | None = None
    gate: str = ""

    def text(self, n: int = 3) -> str:
        """A short plain-text card (CLI output)."""
        where = (
            f"rank {self.genome_rank} of {self.genes:,} genes"
            if self.genome_rank is not None and self.genes
            else f"rank {self.rank}"
        )
        lines = [f"{self.symbol} in {self.strategy}: {where}, score {self.score:.3f}"]
        if self.gate:
            lines.append(f"  gated out (ranks after every gene that passes): {self.gate}")
        pos = self.drivers.filter(pl.col("contribution") > 0).head(n)
        neg = self.drivers.filter(pl.col("contribution") < 0).head(n)
        lines.append("  pushes up:")
        lines += [
            f"    + {r['label']} = {_fmt(r['value'])} ({r['contribution']:+.3f})"
            for r in pos.iter_rows(named=True)
        ] or ["    (none)"]
        lines.append("  pushes down:")
        lines += [
            f"    - {r['label']} = {_fmt(r['value'])} ({r['contribution']:+.3f})"
            for r in neg.iter_rows(named=True)
        ] or ["    (none)"]
        lines.append(f"  baseline (bias): {self.bias:+.3f}")
        if self.evidence:
            e = self.evidence
            lines.append("  evidence card:")
            lines.append(
                f"    stage: {e['stage']} (oncology/bone: {e['onc_bone_stage']}; grade {e['grade']})"
            )
            lines.append(f"    agents: {e['agents'] or '-'}")
            if e["failed_phase3"]:
                lines.append(f"    failed phase 3: {e['failed_phase3_trials']}")
            lines.append(f"    fact: {e['fact']}")
            lines.append(f"    citations: {e['citations'] or '-'} ({e['verification']})")
        else:
            lines.append("  evidence card: no evidence-base entry for this target and strategy")
        return "\n".join(lines)


@dataclass
class Ranking:
    """A ranked, explained list of targets per strategy.

    Attributes:
        table: One row per (strategy, target), the columns of ``ranking.csv``.
        manifest: What the run was computed from (versions, releases, seed, scorer, inputs).
        model_card: Features used and refused, labels, folds, metrics.
    """

    table: pl.DataFrame
    manifest: dict[str, Any]
    model_card: dict[str, Any]
    rows: pl.DataFrame = field(repr=False)  # strategy, entrez_id, symbol + feature values
    contributions: np.ndarray | None = field(default=None, repr=False)
    feature_names: list[str] = field(default_factory=list, repr=False)
    evidence: pl.DataFrame | None = field(default=None, repr=False)
    strategies: StrategySet | None = field(default=None, repr=False)
    universe: str = "evidence"

    def top(self, n: int = 10) -> pl.DataFrame:
        """The first ``n`` targets of each strategy."""
        return self.table.filter(pl.col("rank") <= n)

    def matrix(self) -> pl.DataFrame:
        """Targets × strategies ranks (for a slide)."""
        wide = self.table.pivot(on="strategy", index=["symbol", "query"], values="rank")
        order = [s for s in self.table["strategy"].unique(maintain_order=True)]
        return wide.select("symbol", "query", *order).sort(pl.mean_horizontal(order))

    def novel_candidates(self, n: int = 20) -> pl.DataFrame:
        """Top ``n`` per strategy among genes that are not in the evidence base at all."""
        known = set(self.evidence["symbol"].to_list()) if self.evidence is not None else set()
        return (
            self.table.filter(~pl.col("symbol").is_in(list(known)))
            .with_columns(
                pl.col("rank").rank("ordinal").over("strategy").cast(pl.Int64).alias("novel_rank")
            )
            .filter(pl.col("novel_rank") <= n)
            .select(
                "strategy",
                "novel_rank",
                "rank",
                "symbol",
                "ensembl_id",
                "score",
                "p_top10",
                "top_drivers",
            )
        )

    def explain(self, symbol: str, strategy: str) -> Explanation:
        """Feature contributions (top drivers) and the evidence card of one target in one strategy."""
        from targetrank.resolver import resolve

        resolved = resolve([symbol])
        if not resolved.ok:
            resolved.raise_for_failures(done="nothing was explained")
        gene = resolved.symbols[0]
        if self.strategies is not None:
            self.strategies.get(strategy)
        mask = (self.rows["symbol"] == gene) & (self.rows["strategy"] == strategy)
        idx = np.flatnonzero(mask.to_numpy())
        if idx.size == 0:
            raise UsageError(
                f"{gene} is not in this ranking for strategy '{strategy}'",
                fix="rank it first (--targets) or use --universe genome",
            )
        if self.contributions is None:
            raise ModelError(
                f"The scorer '{self.manifest.get('scorer')}' gives no per-feature contributions",
                fix="use --scorer lightgbm or weighted for explanations",
            )
        i = int(idx[0])
        from targetrank.features import REGISTRY

        specs = REGISTRY.all_specs()
        contrib = self.contributions[i]
        values = [self.rows[f][i] if f in self.rows.columns else None for f in self.feature_names]
        # a missing value the model read as the genome median says so, with the value used
        typical = (self.model_card.get("features") or {}).get("missing_read_as_typical") or {}
        network = self.strategies.get(strategy).network if self.strategies is not None else None

        def read_as(f: str) -> object:
            """The value a missing ``f`` was read as for this strategy (None: kept missing)."""
            by = typical.get(f)
            return by.get(strategy) if isinstance(by, dict) else by

        shown = [
            f"missing (read as typical: {_fmt(read_as(f))})"
            if read_as(f) is not None and _fmt(v) == "missing"
            else shown_value(f, v, network=network)
            for f, v in zip(self.feature_names, values, strict=True)
        ]
        drivers = pl.DataFrame(
            {
                "feature": self.feature_names,
                "label": [_plain(f, specs) for f in self.feature_names],
                "value": shown,
                "contribution": contrib[:-1],
            }
        ).sort(pl.col("contribution").abs(), descending=True)
        row = self.table.filter((pl.col("symbol") == gene) & (pl.col("strategy") == strategy)).row(
            0, named=True
        )
        card = None
        if self.evidence is not None:
            ev = self.evidence.filter((pl.col("symbol") == gene) & (pl.col("strategy") == strategy))
            card = ev.row(0, named=True) if ev.height else None
        genes = int(self.manifest.get("genes") or 0) or None
        return Explanation(
            gene,
            strategy,
            row["rank"],
            row["score"],
            drivers,
            float(contrib[-1]),
            card,
            genome_rank=row.get("genome_rank"),
            genes=genes,
            gate=row.get("gate") or "",
        )

    def write(
        self,
        out: str | Path | None = None,
        formats: Sequence[str] = ("csv",),
        *,
        force: bool = False,
        top: int = 20,
    ) -> Path:
        """Write the run folder atomically (see :func:`targetrank.export.write_run`)."""
        from targetrank.export import write_run

        return write_run(self, out, formats=formats, force=force, top=top)


@dataclass
class Evaluation:
    """Model vs baselines: level-1 AUC/AP and level-2 NDCG@5/10 with CIs."""

    table: pl.DataFrame  # long: strategy, setting, method, k, ndcg, ci_low, ci_high, ...
    prior: dict[str, Any]
    recall: dict[str, dict[str, float]]
    model_card: dict[str, Any]

    def wide(self) -> pl.DataFrame:
        """One row per (strategy, setting, k), one column per method."""
        from targetrank.model.evaluation import wide_table

        return wide_table(self.table)
