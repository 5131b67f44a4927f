"""Run folders translational teams can open: CSV, XLSX, heatmap, manifest and model card.

The whole folder is built in a hidden temporary sibling and renamed into place when complete, so
an interrupted run leaves no half-written file; an existing folder is never replaced without
``force``. Cells are plain text (no nested objects), UTF-8, no index column.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import polars as pl

from targetrank._atomic import atomic_dir
from targetrank.errors import OutputError, UsageError
from targetrank.runfolder import (
    check_replaceable,
    explain_os_error,
    probe_writable,
    run_folder_lock,
    unique_run_name,
)

if TYPE_CHECKING:
    import numpy as np


@runtime_checkable
class RankingForExport(Protocol):
    """What writing a run folder reads of a ranking (:class:`targetrank.results.Ranking`).

    A protocol, not the class: ``Ranking.write`` calls this module, so it must not import the
    results back (not even for type checking: that would be an import cycle).
    """

    table: pl.DataFrame
    manifest: dict[str, Any]
    model_card: dict[str, Any]
    rows: pl.DataFrame
    contributions: np.ndarray | None
    feature_names: list[str]
    evidence: pl.DataFrame | None
    universe: str

    def matrix(self) -> pl.DataFrame:
        """Targets x strategies ranks."""
        ...

    def novel_candidates(self, n: int = 20) -> pl.DataFrame:
        """Top ``n`` per strategy among genes outside the evidence base."""
        ...


FORMATS = ("csv", "xlsx")
HEATMAP_SIZE_IN = (40 / 3, 7.5)  # a 16:9 slide: 2000 x 1125 px at 150 dpi
HEATMAP_DPI = 150

COLUMN_DOCS = {
    "strategy": "strategy category id (see `targetrank strategies`)",
    "rank": "rank within the strategy (1 = best); ties broken by symbol",
    "symbol": "HGNC/NCBI approved symbol",
    "ensembl_id": "Ensembl gene id",
    "score": "scorer output; comparable within a strategy only",
    "rank_low": "5th percentile of the rank over the bootstrap ensemble",
    "rank_high": "95th percentile of the rank over the bootstrap ensemble",
    "p_top10": "share of bootstrap replicates ranking the target in the top 10 (empty: no ensemble)",
    "evidence_stage": "highest clinical stage in the evidence base for this strategy; empty "
    "means no clinical evidence (no entry, or an entry recording that none was found); never "
    "NONE",
    "failed_phase3": "yes if a phase 3 of this mechanism failed (evidence base)",
    "top_drivers": "features pushing the score up (+) and down (-), with contributions",
    "citations": "citations of the evidence-base entry",
    "query": "the name you gave for the target",
}


def default_out_dir() -> Path:
    """``outputs/<UTC timestamp>-<4 hex>/``: unique even for runs started in the same second."""
    return Path("outputs") / unique_run_name()


def check_out_dir(out: Path, *, force: bool) -> None:
    """Fail before any computing when the run folder cannot (or must not) be written."""
    if out.exists() and not force:
        raise OutputError(
            "The output folder already exists",
            input=str(out),
            done="nothing was computed or overwritten",
            fix="pass --force to replace it, or choose another --out",
        )
    if out.exists() and not out.is_dir():
        raise OutputError(
            "The output path is a file, not a folder",
            input=str(out),
            done="nothing was written",
            fix="choose a folder path for --out",
        )
    if out.exists():
        check_replaceable(out)  # --force replaces only a run folder, and only its own files
    probe_writable(out)


def check_formats(formats: Sequence[str]) -> list[str]:
    """Validate export formats (csv is always written)."""
    chosen = [f.strip().lower() for f in formats if f.strip()]
    bad = [f for f in chosen if f not in FORMATS]
    if bad:
        raise UsageError(
            f"Unknown export format '{bad[0]}'",
            fix=f"use --format with {', '.join(FORMATS)} (comma-separated)",
        )
    return sorted(set(chosen) | {"csv"})


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_run(
    ranking: RankingForExport,
    out: str | Path | None = None,
    *,
    formats: Sequence[str] = ("csv",),
    force: bool = False,
    top: int = 20,
) -> Path:
    """Write the run folder and return its path.

    Files: ranking.csv, matrix.csv, manifest.json, model_card.md/.json, heatmap.png,
    explanations.parquet, ranking.xlsx (with ``xlsx``), novel_candidates.csv (genome universe),
    report.html (built last, from the other files).
    """
    target = Path(out) if out is not None else default_out_dir()
    chosen = check_formats(formats)
    check_out_dir(target, force=force)
    try:
        with run_folder_lock(target), atomic_dir(target, overwrite=force) as tmp:
            ranking.table.write_csv(tmp / "ranking.csv")
            ranking.matrix().write_csv(tmp / "matrix.csv")
            if ranking.universe == "genome":
                ranking.novel_candidates(top).write_csv(tmp / "novel_candidates.csv")
            _write_explanations(ranking, tmp / "explanations.parquet")
            (tmp / "model_card.json").write_text(
                json.dumps(ranking.model_card, indent=2, default=str) + "\n", encoding="utf-8"
            )
            (tmp / "model_card.md").write_text(model_card_markdown(ranking.model_card), "utf-8")
            write_heatmap(ranking, tmp / "heatmap.png")
            if "xlsx" in chosen:
                write_xlsx(ranking, tmp / "ranking.xlsx")
            manifest = dict(ranking.manifest)
            manifest["files"] = {p.name: _sha256(p) for p in sorted(tmp.iterdir())}
            manifest["formats"] = chosen
            (tmp / "manifest.json").write_text(
                json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8"
            )
            from targetrank.report import REPORT_FILE, build_report

            # from the folder's own files, so `targetrank report` rebuilds the same page
            (tmp / REPORT_FILE).write_text(build_report(tmp, folder=target), encoding="utf-8")
    except FileExistsError as exc:
        raise OutputError(
            "The output folder appeared while the run was being written",
            input=str(target),
            done="the new results were discarded; the existing folder is untouched",
            fix="rerun with another --out, or --force",
        ) from exc
    except PermissionError as exc:
        cause, fix = explain_os_error(exc, target.parent)
        raise OutputError(
            "Cannot write the output folder",
            input=str(target),
            done="nothing was kept",
            cause=cause,
            fix=fix,
        ) from exc
    except OSError as exc:
        cause, fix = explain_os_error(exc, target.parent)
        raise OutputError(
            "Writing the run folder failed",
            input=str(target),
            done="the partial folder was removed; nothing half-written remains",
            cause=cause,
            fix=fix,
        ) from exc
    return target


#: Drivers kept each way per row in explanations.parquet: `explain --run` shows the same card as
#: a live `explain` for any --n up to this (the largest by size alone could leave the pushes-down
#: list short of a gene with many positive drivers).
STORED_DRIVERS = 25


def _write_explanations(ranking: RankingForExport, path: Path) -> None:
    """Long table of the largest contributions per row, read back by `targetrank explain --run`.

    The ``STORED_DRIVERS`` largest pushes up, as many of the largest pushes down, and the bias.
    """
    import numpy as np

    if ranking.contributions is None:
        pl.DataFrame(
            schema={
                "strategy": pl.String,
                "symbol": pl.String,
                "feature": pl.String,
                "value": pl.String,
                "contribution": pl.Float64,
            }
        ).write_parquet(path)
        return
    keep_rank = ranking.table.select("strategy", "symbol", "rank")
    rows = ranking.rows.select("strategy", "symbol").join(
        keep_rank, on=["strategy", "symbol"], how="left", maintain_order="left"
    )
    evidence_symbols = (
        set(ranking.evidence["symbol"].to_list()) if ranking.evidence is not None else set()
    )
    records: dict[str, list[Any]] = {
        k: [] for k in ["strategy", "symbol", "feature", "value", "contribution"]
    }
    names = ranking.feature_names
    for i, (strategy, symbol, rank) in enumerate(rows.iter_rows()):
        if ranking.universe == "genome" and rank > 200 and symbol not in evidence_symbols:
            continue
        contrib = ranking.contributions[i]
        order = np.argsort(-contrib[:-1], kind="stable")
        ups = [j for j in order[:STORED_DRIVERS] if contrib[j] > 0]
        downs = [j for j in order[::-1][:STORED_DRIVERS] if contrib[j] < 0]
        for j in [*ups, *downs, len(names)]:
            feature = names[j] if j < len(names) else "(bias)"
            value = None
            if j < len(names) and feature in ranking.rows.columns:
                value = ranking.rows[feature][i]
            records["strategy"].append(strategy)
            records["symbol"].append(symbol)
            records["feature"].append(feature)
            records["value"].append(None if value is None else str(value))
            records["contribution"].append(float(contrib[j]))
    pl.DataFrame(records).write_parquet(path)


def model_card_markdown(card: dict[str, Any]) -> str:
    """A short human-readable model card."""
    lines = ["# Model card", ""]
    lines.append(
        f"- targetrank {card.get('targetrank_version')}; scorer: {card.get('scorer')}; seed: {card.get('seed')}"
    )
    lines.append(
        f"- feature source: {card.get('feature_source')}; strategies: {', '.join(card.get('strategies', []))}"
    )
    lines.append(f"- ties: {card.get('tie_break')}")
    if "note" in card:
        lines += ["", card["note"]]
    prior = card.get("level1_prior")
    if prior:
        m = prior["metrics"]
        lines += [
            "",
            "## Level 1: genome-wide precedence prior",
            f"{prior['model']}; {m['genes']} genes, {m['positives']} positives, {m['folds']} folds.",
            "",
            "| method | ROC-AUC | average precision |",
            "|---|---|---|",
            f"| LightGBM (out-of-fold) | {m['model']['roc_auc']:.3f} [{m['model']['roc_auc_ci95'][0]:.3f}, {m['model']['roc_auc_ci95'][1]:.3f}] | {m['model']['average_precision']:.3f} [{m['model']['average_precision_ci95'][0]:.3f}, {m['model']['average_precision_ci95'][1]:.3f}] |",
        ]
        if "pubmed_popularity" in m:
            lines.append(
                f"| PubMed popularity | {m['pubmed_popularity']['roc_auc']:.3f} | {m['pubmed_popularity']['average_precision']:.3f} |"
            )
        lines.append(f"| random | 0.500 | {m['random']['average_precision']:.3f} |")
    level2 = card.get("level2_ranker")
    if level2:
        lines += [
            "",
            "## Level 2: strategy ranker",
            f"{level2['model']}; {level2['folds']}-fold x {level2['repeats']} repeats, fold unit: {level2['fold_unit']}; "
            f"{level2['background_per_strategy']} background genes per strategy; "
            f"{level2['bootstrap_replicates']} bootstrap replicates for rank intervals.",
            "",
            "| strategy | rows | rows per grade | own trees |",
            "|---|---|---|---|",
        ]
        own = level2.get("own_trees") or {}
        for sid, counts in level2["label_counts"].items():
            per = ", ".join(f"{g}: {n}" for g, n in sorted(counts.items(), key=lambda x: int(x[0])))
            size = level2["group_sizes"].get(sid, "")
            lines.append(f"| {sid} | {size} | {per} | {own.get(sid, 0)} |")
        if level2.get("strategy_file_only"):
            lines += [
                "",
                "Ranked by their strategy-file score alone (no labels learnt, no rows in the "
                "shared trees): " + ", ".join(level2["strategy_file_only"]),
            ]
    evaluation = card.get("evaluation")
    if evaluation:
        lines += [
            "",
            "## Out-of-fold evaluation (NDCG@10, mean over strategies)",
            "",
            "| setting | method | NDCG@10 [95% CI] |",
            "|---|---|---|",
        ]
        for row in evaluation["mean_ndcg10"]:
            lines.append(
                f"| {row['setting']} | {row['method']} | {row['ndcg']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}] |"
            )
    genome = card.get("genome_validation")
    if genome:
        lines += _genome_validation_markdown(genome)
    features = card.get("features")
    if features:
        refused = features.get("refused", {})
        reasons: dict[str, list[str]] = {}
        for name, why in refused.items():
            reasons.setdefault(why, []).append(name)
        lines += [
            "",
            "## Features",
            f"{len(features.get('used', []))} used; {len(refused)} refused:",
        ]
        for why, names in reasons.items():
            shown = ", ".join(names[:12]) + (
                f", ... ({len(names)} in all)" if len(names) > 12 else ""
            )
            lines.append(f"- {why}: {shown}")
        typical = features.get("missing_read_as_typical") or {}
        if typical:

            def value(by: object) -> str:
                if isinstance(by, dict):  # a strategy-conditioned column: per strategy
                    return "; ".join(f"{s} {x:.3g}" for s, x in by.items())
                return f"{by:.3g}"

            lines.append(
                "- missing values read as a typical gene (genome median; per strategy for a "
                "strategy-conditioned column), not as a signal: "
                + ", ".join(f"{name} ({value(by)})" for name, by in typical.items())
            )
    return "\n".join(lines) + "\n"


def _genome_validation_markdown(genome: dict[str, Any]) -> list[str]:
    """The genome-wide validation of a ``--universe genome`` run, for every method compared."""

    def num(value: Any, digits: int = 0) -> str:
        if value is None:
            return "–"
        if not digits and value != int(value):
            digits = 1  # a median of an even count (763.5)
        return f"{value + 0.0:,.{digits}f}".replace("-0.00", "0.00")

    def ci(low_high: Any, digits: int) -> str:
        return f" [{num(low_high[0], digits)}, {num(low_high[1], digits)}]" if low_high else ""

    lines = [
        "",
        "## Genome-wide validation (out-of-fold for evidence targets; 95% bootstrap CIs)",
        "",
        "Median genome rank of the strategy's grade >= 5 targets; recall of its evidence targets "
        f"in the top {genome.get('top', 100)}; external: published targets outside the evidence "
        "base; temporal: phase 2+ targets with no approved drug in DrugCentral 2016-05; "
        "Spearman of the score with focused PubMed counts; housekeeping genes in the top 100.",
        "",
        "| strategy | method | median rank (n) | recall top 100 | external recall (n) | "
        "temporal median (n) | Spearman PubMed | housekeeping |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for sid, methods in genome["per_strategy"].items():
        for method, v in methods.items():
            n5 = v["n_grade5"]
            median = (
                f"{num(v['median_rank_grade5'])}{ci(v.get('median_rank_grade5_ci95'), 0)} ({n5})"
                if n5
                else "–"
            )
            recall = f"{num(v['recall_top100'], 2)}{ci(v.get('recall_top100_ci95'), 2)}"
            external = (
                f"{num(v['external_recall_top100'], 2)} ({v['n_external']})"
                if v.get("n_external")
                else "–"
            )
            temporal = (
                f"{num(v['temporal_median_rank'])} ({v['n_temporal']})"
                if v.get("n_temporal")
                else "–"
            )
            lines.append(
                f"| {sid} | {method} | {median} | {recall} | {external} | {temporal} | "
                f"{num(v['spearman_pubmed'], 2)} | {v['housekeeping_in_top100']} |"
            )
    overlap = genome.get("overlap_top100") or {}
    if overlap:
        lines += ["", "Largest top-100 overlap between two strategies:"]
        for method, pairs in overlap.items():
            pair, most = max(pairs.items(), key=lambda kv: kv[1])
            lines.append(f"- {method}: {most} ({pair})")
    return lines


def heatmap_targets(ranking: RankingForExport, max_targets: int = 40) -> list[str]:
    """Symbols for the heatmap: the seed panel, then each strategy's best in turn (round robin).

    Taking the best of every strategy in turn keeps a genome-wide run readable (the top 40 by
    best rank of ~20k genes would be one strategy's list) and the seed panel is always there.
    """
    table = ranking.table
    seeds = [s for s in ranking.manifest.get("seed_panel") or [] if s in set(table["symbol"])]
    chosen = list(dict.fromkeys(seeds))
    per = [
        table.filter(pl.col("strategy") == s).sort("rank")["symbol"].to_list()
        for s in table["strategy"].unique(maintain_order=True)
    ]
    depth = 0
    while len(chosen) < max_targets and any(depth < len(p) for p in per):
        for ranked in per:
            if depth < len(ranked) and ranked[depth] not in chosen and len(chosen) < max_targets:
                chosen.append(ranked[depth])
        depth += 1
    best = dict(table.group_by("symbol").agg(pl.col("rank").min()).iter_rows())
    return sorted(chosen, key=lambda s: (best[s], s))


def _short_rank(rank: int) -> str:
    """``7``, ``812``, ``4.6k``: ranks that fit a heatmap cell."""
    return str(rank) if rank < 1000 else f"{rank / 1000:.1f}k"


def write_heatmap(ranking: RankingForExport, path: Path, max_targets: int = 40) -> None:
    """Targets × strategies heatmap: colour = how high the target ranks, number = rank.

    Columns carry the name the user typed (``PD-1 (PDCD1)``). The colour is the rank percentile
    within the strategy, on a log scale for the genome universe so that ranks 1, 10 and 100 of
    20k genes do not all look the same.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    genome = ranking.universe == "genome"
    size = pl.len().over("strategy")
    colour = (
        1 - pl.col("rank").log() / size.log().clip(lower_bound=1e-9)
        if genome
        else 1 - (pl.col("rank") - 1) / size
    )
    table = ranking.table.with_columns(colour.alias("percentile"))
    strategies = table["strategy"].unique(maintain_order=True).to_list()
    symbols = heatmap_targets(ranking, max_targets)
    typed = dict(table.select("symbol", "query").unique("symbol").iter_rows())
    labels = [f"{typed[s]} ({s})" if typed.get(s) and typed[s] != s else s for s in symbols]
    grid = np.full((len(symbols), len(strategies)), np.nan)
    ranks = np.zeros_like(grid, dtype=object)
    index = {s: i for i, s in enumerate(symbols)}
    for row in table.filter(pl.col("symbol").is_in(symbols)).iter_rows(named=True):
        i, j = index[row["symbol"]], strategies.index(row["strategy"])
        grid[i, j] = row["percentile"]
        ranks[i, j] = _short_rank(row["rank"])
    fig, ax = plt.subplots(figsize=HEATMAP_SIZE_IN, dpi=HEATMAP_DPI)
    im = ax.imshow(grid.T, aspect="auto", cmap="viridis", vmin=0, vmax=1)
    ax.set_yticks(range(len(strategies)), [s.replace("_", " ") for s in strategies], fontsize=10)
    ax.set_xticks(range(len(symbols)), labels, rotation=90, fontsize=8)
    fontsize = 7 if len(symbols) > 30 else 9
    for i in range(len(symbols)):
        for j in range(len(strategies)):
            if not np.isnan(grid[i, j]):
                ax.text(i, j, str(ranks[i, j]), ha="center", va="center", fontsize=fontsize,
                        color="white" if grid[i, j] < 0.6 else "black")  # fmt: skip
    label = "1 - log(rank) / log(genes): rank on a log scale" if genome else (
        "rank percentile within strategy")  # fmt: skip
    fig.colorbar(im, ax=ax, label=label, fraction=0.03, pad=0.01)
    what = "seed panel + best of each strategy in turn" if genome else "seed panel + best ranks"
    ax.set_title(
        f"targetrank: {len(symbols)} targets ({what}; numbers = rank in strategy, "
        f"k = thousands); scorer {ranking.manifest.get('scorer')}, seed "
        f"{ranking.manifest.get('seed')}",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=HEATMAP_DPI)
    plt.close(fig)


def sheet_names(strategy_ids: Sequence[str]) -> list[str]:
    """Excel-safe, unique worksheet names for strategy ids (in order).

    Excel refuses names longer than 31 characters, holding any of ``[]:*?/``, a backslash or a
    control character, starting or ending with an apostrophe, equal to "History" or to another
    sheet's name (case-insensitively); a custom strategy file may hold any such id. The full id
    is always in the sheet's ``strategy`` column.
    """
    import re

    taken = {"readme"}
    names = []
    for sid in strategy_ids:
        base = re.sub(r"[\[\]:*?/\\\x00-\x1f\x7f]", "_", sid).strip("'").strip() or "strategy"
        if base.lower() == "history":
            base = "History_"
        name, n = base[:31].rstrip("'"), 1
        while name.lower() in taken:
            n += 1
            suffix = f" ({n})"
            name = base[: 31 - len(suffix)] + suffix
        taken.add(name.lower())
        names.append(name)
    return names


def write_xlsx(ranking: RankingForExport, path: Path) -> None:
    """One sheet per strategy plus a README sheet carrying the manifest and column meanings.

    Every text cell is written as text: a value starting with ``=`` is never turned into a
    formula (spreadsheet formula injection) and URLs are not turned into links.
    """
    import xlsxwriter

    from targetrank.legend import legend

    options = {"strings_to_formulas": False, "strings_to_urls": False}
    with xlsxwriter.Workbook(str(path), options) as workbook:
        readme = [
            {"key": "what", "value": "targetrank ranking: one sheet per strategy"},
            *[{"key": f"legend: {term}", "value": text} for term, text in legend(ranking)],
            *[
                {"key": k, "value": json.dumps(v, default=str) if not isinstance(v, str) else v}
                for k, v in ranking.manifest.items()
            ],
            *[{"key": f"column: {k}", "value": v} for k, v in COLUMN_DOCS.items()],
        ]
        pl.DataFrame(readme).write_excel(workbook, worksheet="README", autofit=True)
        strategies = ranking.table["strategy"].unique(maintain_order=True).to_list()
        for strategy, sheet in zip(strategies, sheet_names(strategies), strict=True):
            part = ranking.table.filter(pl.col("strategy") == strategy)
            part.write_excel(workbook, worksheet=sheet, autofit=True, freeze_panes=(1, 0))
