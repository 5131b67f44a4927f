"""Strategy-conditioned features: how a gene relates to one strategy's compartments and modalities.

These turn the gene-level feature table into (gene, strategy) rows for the ranker: the same gene
gets a high ``sc_marker`` in the Treg-targeting strategy if it marks Tregs, and a low one in the
bone-resident strategy.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from targetrank.features.registry import REGISTRY, FeatureSpec

if TYPE_CHECKING:
    from targetrank.strategies import Strategy

SC_FEATURES: tuple[FeatureSpec, ...] = (
    FeatureSpec(
        "sc_marker",
        pl.Boolean,
        "PanglaoDB marker of any of the strategy's cell compartments",
        family="immune",
        label="marker of the strategy's cell types",
    ),
    FeatureSpec(
        "sc_marker_count",
        pl.Int64,
        "number of the strategy's marker lists the gene is on",
        family="immune",
        label="number of the strategy's cell types marked",
    ),
    FeatureSpec(
        "sc_expression",
        pl.Float64,
        "highest HPA expression across the strategy's blood cell types and tissues",
        family="immune",
        label="expression in the strategy's cells (HPA)",
    ),
    FeatureSpec(
        "sc_expression_specificity",
        pl.Float64,
        "that highest expression divided by (mean expression over all 18 blood cell types + 1)",
        family="immune",
        label="specificity for the strategy's cells (HPA)",
    ),
    FeatureSpec(
        "sc_process",
        pl.Boolean,
        "takes part in a GO process of the strategy's compartments",
        family="process",
        label="GO process of the strategy's cells",
    ),
    FeatureSpec(
        "sc_ligand_receptor",
        pl.Boolean,
        "in a ligand-receptor pair with the strategy's cells: the gene has a LIANA consensus "
        "partner, and it or a partner marks or takes part in a process of one of the "
        "strategy's compartments (IL6 with IL6R on myeloid cells, CSF1 with CSF1R on "
        "macrophages); False for a gene without a partner",
        family="immune",
        label="ligand-receptor pair with the strategy's cells",
        model=False,
        model_refusal=(
            "read through the strategy file's weights only: as a direct model feature the trees "
            "carried it into every strategy (TIGIT's checkpoint rank fell 11 -> 20, geometric "
            "mean over seeds 0-29)"
        ),
    ),
    FeatureSpec(
        "sc_network",
        pl.Float64,
        "share of the gene's STRING v12 neighbours (no text-mining, combined score >= 700) that "
        "mark or take part in a process of one of the strategy's compartments (DKK1 and "
        "sclerostin through LRP5/6 on osteoblasts); null for a gene without a neighbour, and in "
        "a strategy whose file does not set network = true",
        family="process",
        label="network neighbours in the strategy's cells (STRING)",
    ),
    FeatureSpec(
        "sc_modality_fit",
        pl.Boolean,
        "suits one of the strategy's modalities (antibody: surface or secreted; small molecule: "
        "tractable family; cell therapy: surface; conjugate: either)",
        family="localisation",
        label="fits the strategy's modality",
    ),
    FeatureSpec(
        "sc_strategy_score",
        pl.Float64,
        "the strategy file's transparent weighted score of the gene (its [strategy.weights], "
        "rank-normalised genome-wide; leaky and literature terms left out)",
        family="immune",
        label="strategy-file score",
    ),
)
SC_NAMES = [s.name for s in SC_FEATURES]
REGISTRY.add_conditioned(SC_FEATURES)

_BLOOD_CELLS = [
    "hpa_blood_basophil",
    "hpa_blood_classical_monocyte",
    "hpa_blood_eosinophil",
    "hpa_blood_gdt_cell",
    "hpa_blood_intermediate_monocyte",
    "hpa_blood_mait_t_cell",
    "hpa_blood_memory_b_cell",
    "hpa_blood_memory_cd4_t_cell",
    "hpa_blood_memory_cd8_t_cell",
    "hpa_blood_myeloid_dc",
    "hpa_blood_naive_b_cell",
    "hpa_blood_naive_cd4_t_cell",
    "hpa_blood_naive_cd8_t_cell",
    "hpa_blood_neutrophil",
    "hpa_blood_nk_cell",
    "hpa_blood_non_classical_monocyte",
    "hpa_blood_plasmacytoid_dc",
    "hpa_blood_t_reg",
]


def _any(cols: list[str]) -> pl.Expr:
    """True if any column is true; null only when every column is null."""
    if not cols:
        return pl.lit(None, pl.Boolean)
    return (
        pl.when(pl.all_horizontal(pl.col(c).is_null() for c in cols))
        .then(None)
        .otherwise(pl.any_horizontal(pl.col(c).fill_null(False) for c in cols))
    )


def _fits(modality: str) -> pl.Expr:
    """Whether a gene suits ``modality``, on the curated calls only.

    Narrower than the reach gates for small molecules: enzymes outside the GO families (FDPS,
    PTGS2, IDO1) pass the gate on Open Targets' binder, pocket or ligand evidence but do not
    "fit". Reading that evidence here too lifted FDPS 1,693 -> 311 but cost the external
    checkpoint recall (0.71 -> 0.58) and the CAR median (1.33x), and filled the delivery list
    with chromatin enzymes (docs/experiments.md, after 0.12.0).
    """
    surface = pl.col("is_surface")
    secreted = pl.col("is_secreted")
    small = pl.col("druggable_family_sm")
    if modality == "antibody":
        return _any_expr([surface, secreted])
    if modality == "small_molecule":
        return small
    if modality == "cell_therapy":
        return surface
    return _any_expr([surface, secreted, small])  # conjugate


def _mean_in_order(columns: list[str]) -> pl.Expr:
    """Row mean of the non-null values, summed left to right.

    ``pl.mean_horizontal`` sums in a thread-dependent order, so the same table gave values one
    ulp apart from run to run (seen with polars 2.1), which moved rank-normalised weighted
    scores and tree splits; a fixed order makes every run, cached or not, bit-identical.
    """
    total = pl.lit(0.0, pl.Float64)
    count = pl.lit(0, pl.Int64)
    for c in columns:
        total = total + pl.col(c).cast(pl.Float64).fill_null(0.0)
        count = count + pl.col(c).is_not_null().cast(pl.Int64)
    return pl.when(count > 0).then(total / count)


def _any_expr(exprs: list[pl.Expr]) -> pl.Expr:
    return (
        pl.when(pl.all_horizontal(e.is_null() for e in exprs))
        .then(None)
        .otherwise(pl.any_horizontal(e.fill_null(False) for e in exprs))
    )


def _members(strategy: Strategy) -> tuple[list[str], list[str], list[str]]:
    """Marker, expression (blood and tissue) and process columns of the strategy's compartments."""
    markers = sorted({c for comp in strategy.compartments for c in comp.markers})
    cells = sorted({c for comp in strategy.compartments for c in (*comp.blood, *comp.tissue)})
    processes = sorted({c for comp in strategy.compartments for c in comp.processes})
    return markers, cells, processes


def _links(genome: pl.DataFrame, strategy: Strategy) -> pl.DataFrame:
    """How each gene of ``genome`` links to the strategy's cells through other genes.

    ``entrez_id``, ``in_pair`` (in a ligand-receptor pair with the cells) and ``share`` (the
    share of its STRING neighbours in the cells; null unless the strategy sets ``network``).
    Computed over the whole ``genome``: a gene's partners are looked up among all genes.
    """
    from targetrank.features.partners import pairs_with

    markers, _, processes = _members(strategy)
    member = _any_expr([_any(markers), _any(processes)])
    links = pairs_with(genome, member)
    if strategy.network:
        from targetrank.features.network import neighbour_share

        share = neighbour_share(genome, member)
        return links.join(share, on="entrez_id", how="left", maintain_order="left")
    return links.with_columns(pl.lit(None, pl.Float64).alias("share"))


def _conditioned(features: pl.DataFrame, strategy: Strategy, links: pl.DataFrame) -> pl.DataFrame:
    """The sc_* columns except the strategy score, for every row (same order, plus keys).

    ``links`` is :func:`_links` over the whole gene table a gene's ligand-receptor partners and
    network neighbours are looked up in.
    """
    markers, cells, processes = _members(strategy)
    blood_mean = _mean_in_order(_BLOOD_CELLS)
    expression = pl.max_horizontal(cells) if cells else pl.lit(None, pl.Float64)
    return (
        features.select(
            "entrez_id",
            _any(markers).alias("sc_marker"),
            (
                pl.sum_horizontal(pl.col(c).fill_null(False).cast(pl.Int64) for c in markers)
                if markers
                else pl.lit(None, pl.Int64)
            ).alias("sc_marker_count"),
            expression.cast(pl.Float64).alias("sc_expression"),
            (expression / (blood_mean + 1)).cast(pl.Float64).alias("sc_expression_specificity"),
            _any(processes).alias("sc_process"),
            _any_expr([_fits(m) for m in strategy.modalities]).alias("sc_modality_fit"),
        )
        .join(
            links.rename({"in_pair": "sc_ligand_receptor", "share": "sc_network"}),
            on="entrez_id",
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col("sc_ligand_receptor").fill_null(False))
        .select("entrez_id", *[n for n in SC_NAMES if n != STRATEGY_SCORE])
    )


def strategy_features(
    features: pl.DataFrame,
    strategy: Strategy,
    reference: pl.DataFrame | None = None,
    skip: Collection[str] = (),
) -> pl.DataFrame:
    """The sc_* columns of ``strategy`` for every row of ``features`` (same order, plus keys).

    ``reference`` is the gene table ``sc_strategy_score`` is normalised against (default:
    ``features`` itself; the ranker passes the whole genome); ``skip`` names weighted columns the
    score must not read (the ranker passes leaky and literature columns).
    """
    links = _links(features if reference is None else reference, strategy)
    sc = _conditioned(features, strategy, links)
    if reference is None:
        ref = pl.concat([features, sc.drop("entrez_id")], how="horizontal")
    else:
        ref_sc = _conditioned(reference, strategy, links)
        ref = pl.concat([reference, ref_sc.drop("entrez_id")], how="horizontal")
    own = pl.concat([features, sc.drop("entrez_id")], how="horizontal")
    score = strategy_score(own, ref, strategy, skip=skip)
    return sc.with_columns(pl.Series(STRATEGY_SCORE, score, dtype=pl.Float64).fill_nan(None))


STRATEGY_SCORE = "sc_strategy_score"
#: The STRING-neighbour share: null on every row of a strategy whose file leaves network off.
NETWORK_SHARE = "sc_network"


def percentiles(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mid-rank percentile of ``values`` in the sorted ``reference`` (0/1 kept for flags, NaN kept).

    Shared by the weighted scorer and ``sc_strategy_score`` so both read a weight the same way.
    """
    if reference.size == 0:
        return np.full(values.shape, np.nan)
    if np.isin(reference, [0.0, 1.0]).all():  # Boolean: the value itself
        pct = values.astype(np.float64, copy=True)
    else:
        lo = np.searchsorted(reference, values, side="left")
        hi = np.searchsorted(reference, values, side="right")
        pct = (lo + hi) / 2 / reference.size
    pct[np.isnan(values)] = np.nan
    return pct


def strategy_score(
    rows: pl.DataFrame, reference: pl.DataFrame, strategy: Strategy, skip: Collection[str] = ()
) -> np.ndarray:
    """The strategy file's weighted score for ``rows``, normalised against ``reference``.

    Both frames hold the gene features plus this strategy's ``sc_*`` columns; ``reference`` is
    the whole genome, so a gene's value does not depend on which other genes were asked for.
    Gives the learned ranker each strategy's own definition (what the strategy file says a
    target of it looks like), which gene-level features alone cannot say per strategy. Terms in
    ``skip`` (leaky or literature columns a user's weights might name) are left out.
    """
    num = np.zeros(rows.height)
    den = np.zeros(rows.height)
    for w in strategy.weights:
        if w.feature in skip or w.feature == STRATEGY_SCORE or w.feature not in rows.columns:
            continue
        ref = reference[w.feature].cast(pl.Float64).drop_nulls().to_numpy()
        pct = percentiles(np.sort(ref), rows[w.feature].cast(pl.Float64).to_numpy())
        if w.prefer == "low":
            pct = 1 - pct
        ok = ~np.isnan(pct)
        num[ok] += w.weight * pct[ok]
        den[ok] += w.weight
    out = np.full(rows.height, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out
