"""DepMap per-gene features for the lineages and sites of bone metastasis (pure; no I/O).

Question answered per gene: do cancer cells of the lineages that metastasise to bone (breast,
prostate, lung), lines sampled from bone, and myeloma depend on it or express it, and is it
common-essential (an on-target toxicity warning)? The definitions follow the DepMap portal:

- dependent line: dependency probability > 0.5 (portal "Dependent Cell Lines");
- common essential: listed in the release's CRISPRInferredCommonEssentials.csv;
- strongly selective: skewness × excess kurtosis of the gene effect < −0.86 (pandas-style
  bias-corrected moments, missing values skipped) with at least one dependent line.

Contexts and columns are declared once, in :mod:`targetrank.features.depmap_columns`.
The statistics are column-wise over the whole model × gene matrix, done in blocks of genes with
numpy (masked sums as matrix products), so 18,000 genes × 1,150 models take a fraction of the
time needed to parse the CSV.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

import dataframely as dy
import numpy as np
import polars as pl

from targetrank.errors import DataError
from targetrank.features.depmap_columns import (
    CONTEXT_NAMES,
    DEPMAP_CONTEXTS,
    DEPMAP_FEATURE_COLUMNS,
    DEPMAP_OUTPUT_SCHEMA,
)
from targetrank.tables import validate
from targetrank.tables.depmap import gene_label_table

DEPENDENT_PROBABILITY = 0.5
STRONGLY_SELECTIVE_MAX = -0.86

_DY = {pl.Float64: dy.Float64, pl.Int64: dy.Int64, pl.Boolean: dy.Bool, pl.String: dy.String}


def _unique_gene(cls: type[dy.Schema]) -> pl.Expr:
    return pl.struct("entrez_id", "symbol").is_unique()


#: dataframely schema of the output: every feature nullable, counts ≥ 0, fractions in [0, 1].
DepMapGeneFeatures: type[dy.Schema] = type(
    "DepMapGeneFeatures",
    (dy.Schema,),
    {
        "entrez_id": dy.Int64(nullable=True),
        "symbol": dy.String(),
        "ensembl_id": dy.String(nullable=True, regex=r"^ENSG\d{11}$"),
        **{
            name: (
                dy.Int64(nullable=True, min=0)
                if name.startswith("depmap_n_models")
                else dy.Float64(nullable=True, min=0.0, max=1.0)
                if name.startswith("depmap_frac_dependent")
                else _DY[type(dtype)](nullable=True)
            )
            for name, dtype in DEPMAP_FEATURE_COLUMNS.items()
        },
        "unique_gene": dy.rule()(_unique_gene),
    },
)


def _clause(clause: Mapping[str, tuple[str, ...]], columns: list[str]) -> pl.Expr:
    expr = pl.lit(True)
    for column, values in clause.items():
        if column not in columns:
            return pl.lit(False)
        wanted = [v.strip().lower() for v in values]
        expr = expr & pl.col(column).str.strip_chars().str.to_lowercase().is_in(wanted)
    return expr.fill_null(False)


def model_contexts(models: pl.DataFrame) -> pl.DataFrame:
    """``ModelID`` plus one Boolean column per context (from :data:`DEPMAP_CONTEXTS`)."""
    if "ModelID" not in models.columns:
        raise DataError(
            "The DepMap model table has no ModelID column",
            input=f"columns: {', '.join(models.columns)}",
            fix="read it with targetrank.tables.depmap.read_models",
        )
    exprs = []
    for name, ctx in DEPMAP_CONTEXTS.items():
        expr = pl.lit(False)
        for clause in ctx.any_of:
            expr = expr | _clause(clause, models.columns)
        for clause in ctx.none_of:
            expr = expr & ~_clause(clause, models.columns)
        exprs.append(expr.alias(name))
    return models.select(pl.col("ModelID"), *exprs).unique("ModelID", keep="first")


def context_model_counts(
    models: pl.DataFrame, model_ids: list[str] | pl.Series | None = None
) -> dict[str, int]:
    """Models per context (``all`` first); restricted to ``model_ids`` (e.g. screened models)."""
    table = model_contexts(models)
    if model_ids is not None:
        table = pl.DataFrame({"ModelID": list(model_ids)}, schema={"ModelID": pl.String}).join(
            table, on="ModelID", how="left", maintain_order="left"
        )
    counts = {"all": table.height}
    counts |= {c: int(table[c].fill_null(False).sum()) for c in CONTEXT_NAMES}
    return counts


# --------------------------------------------------------------------------------------------
# Common-essential flags: usable offline, without matrices
# --------------------------------------------------------------------------------------------


def common_essential_flags(gene_list_df: pl.DataFrame, genes_df: pl.DataFrame) -> pl.DataFrame:
    """Flag the genes of ``genes_df`` listed in a release's CRISPRInferredCommonEssentials.

    Args:
        gene_list_df: The list as ``symbol, entrez_id`` (``read_depmap_gene_list`` output).
        genes_df: Any gene table with ``entrez_id`` and/or ``symbol`` (e.g. the gene index).

    Returns:
        ``genes_df`` with a Boolean ``depmap_common_essential``: True when listed (matched by
        Entrez id, or by symbol for rows without one), False otherwise; the portal treats every
        unlisted gene as not common-essential.
    """
    ids = gene_list_df["entrez_id"].drop_nulls().unique().to_list()
    symbols = gene_list_df["symbol"].drop_nulls().str.to_uppercase().unique().to_list()
    listed = pl.lit(False)
    if "entrez_id" in genes_df.columns:
        listed = pl.col("entrez_id").is_in(ids).fill_null(False)
    if "symbol" in genes_df.columns:
        by_symbol = pl.col("symbol").str.to_uppercase().is_in(symbols).fill_null(False)
        if "entrez_id" in genes_df.columns:
            by_symbol = by_symbol & pl.col("entrez_id").is_null()
        listed = listed | by_symbol
    return genes_df.with_columns(listed.alias("depmap_common_essential"))


# --------------------------------------------------------------------------------------------
# Column statistics over a wide matrix
# --------------------------------------------------------------------------------------------

_BLOCK = 2048  # genes per block: bounds temporary memory to a few × 1,150 × 2,048 floats


def _gene_keys(labels: list[str], genes: pl.DataFrame | None) -> pl.DataFrame:
    """Column label → (key, symbol, entrez_id), filling missing Entrez ids by symbol."""
    table = gene_label_table(labels)
    if genes is not None and table["entrez_id"].null_count():
        by_symbol = (
            genes.select(
                pl.col("symbol").str.to_uppercase().alias("_sym"),
                pl.col("entrez_id").cast(pl.Int64).alias("_eid"),
            )
            .unique("_sym", keep="none")
            .drop_nulls()
        )
        table = (
            table.with_columns(pl.col("symbol").str.to_uppercase().alias("_sym"))
            .join(by_symbol, on="_sym", how="left", maintain_order="left")
            .with_columns(pl.coalesce("entrez_id", "_eid").alias("entrez_id"))
            .drop("_sym", "_eid")
        )
    return table.with_columns(_key_expr().alias("key"))


def _key_expr() -> pl.Expr:
    return (
        pl.when(pl.col("entrez_id").is_not_null())
        .then(pl.col("entrez_id").cast(pl.String))
        .otherwise(pl.lit("symbol:") + pl.col("symbol").str.to_uppercase())
    )


def _masks(model_ids: pl.Series, contexts: pl.DataFrame) -> np.ndarray:
    """(1 + n_contexts) × n_models float matrix: all models, then one row per context."""
    joined = pl.DataFrame({"ModelID": model_ids}).join(
        contexts, on="ModelID", how="left", maintain_order="left"
    )
    rows = [np.ones(len(model_ids))]
    rows += [joined[c].fill_null(False).to_numpy().astype(np.float64) for c in CONTEXT_NAMES]
    return np.vstack(rows)


def _workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _map_blocks(
    frame: pl.DataFrame,
    labels: list[str],
    fn: Callable[[np.ndarray], dict[str, np.ndarray]],
) -> dict[str, np.ndarray]:
    """Apply ``fn`` to column-major float64 blocks of genes; concatenate results on genes.

    Each block is converted from its polars Series (``frame.select`` of 18,000 names costs
    more in query planning than the arithmetic) and processed in a thread pool: polars and
    numpy release the GIL, so blocks run in parallel and memory stays bounded per block.
    """
    by_name = dict(zip(frame.columns, frame.get_columns(), strict=True))

    def run(start: int) -> dict[str, np.ndarray]:
        block = pl.DataFrame([by_name[name] for name in labels[start : start + _BLOCK]])
        values = block.to_numpy(order="fortran")
        if values.dtype != np.float64:
            values = values.astype(np.float64, order="F")
        return fn(values)

    starts = range(0, len(labels), _BLOCK)
    if len(starts) <= 1 or _workers() == 1:
        parts = [run(s) for s in starts]
    else:
        with ThreadPoolExecutor(_workers()) as pool:
            parts = list(pool.map(run, starts))
    if not parts:
        return {}
    return {key: np.concatenate([p[key] for p in parts], axis=-1) for key in parts[0]}


def _masked_sum(masks: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per-row-set column sums, ``masks @ values``; einsum beats BLAS for this 6-row shape."""
    return np.einsum("kn,ng->kg", masks, values)


def _zero_fperr(x: np.ndarray) -> np.ndarray:
    # pandas.core.nanops._zero_out_fperr: rounding noise of exact zeros must stay zero
    return np.where(np.abs(x) < 1e-14, 0.0, x)


def _skew_kurt(
    values: np.ndarray, valid: np.ndarray, n: np.ndarray, mean: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Bias-corrected skewness and excess kurtosis per column, as pandas ``skew``/``kurt``."""
    centred = np.where(valid, values - mean, 0.0)
    c2 = centred * centred
    m2 = _zero_fperr(c2.sum(axis=0))
    m3 = _zero_fperr(np.einsum("ij,ij->j", c2, centred))
    m4 = np.einsum("ij,ij->j", c2, c2)
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = (n * np.sqrt(n - 1) / (n - 2)) * (m3 / m2**1.5)
        skew = np.where(m2 == 0, 0.0, skew)
        skew = np.where(n < 3, np.nan, skew)
        adj = 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))
        num = _zero_fperr(n * (n + 1) * (n - 1) * m4)
        den = _zero_fperr((n - 2) * (n - 3) * m2**2)
        kurt = np.where(den == 0, 0.0, num / den - adj)
        kurt = np.where(n < 4, np.nan, kurt)
    return skew, kurt


def _effect_stats(frame: pl.DataFrame, labels: list[str], masks: np.ndarray) -> dict:
    def block(values: np.ndarray) -> dict[str, np.ndarray]:
        valid = ~np.isnan(values)
        n = _masked_sum(masks, valid.astype(np.float64))
        sums = _masked_sum(masks, np.where(valid, values, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = sums / n
        skew, kurt = _skew_kurt(values, valid, n[0], mean[0])
        centred = np.where(valid, values - mean[0], 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            sd = np.sqrt((centred * centred).sum(axis=0) / (n[0] - 1))
        return {
            "n": n,
            "mean": np.where(n > 0, mean, np.nan),
            "sd": np.where(n[0] > 1, sd, np.nan),
            "skew": skew,
            "kurt": kurt,
        }

    return _map_blocks(frame, labels, block)


def _dependency_stats(frame: pl.DataFrame, labels: list[str], masks: np.ndarray) -> dict:
    def block(values: np.ndarray) -> dict[str, np.ndarray]:
        valid = ~np.isnan(values)
        lo, hi = np.min(values, initial=0.0, where=valid), np.max(values, initial=1.0, where=valid)
        if lo < 0 or hi > 1:
            raise DataError(
                "DepMap dependency values are not probabilities",
                input=f"values range from {lo:.3g} to {hi:.3g}",
                done="no feature was computed",
                cause="a gene-effect file was given as the dependency file",
                fix="pass CRISPRGeneDependency.csv as the dependency matrix",
            )
        n = _masked_sum(masks, valid.astype(np.float64))
        dep = _masked_sum(masks, (values > DEPENDENT_PROBABILITY).astype(np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(n > 0, dep / n, np.nan)
        return {"n": n, "dependent": dep, "frac": frac}

    return _map_blocks(frame, labels, block)


def _mean_stats(frame: pl.DataFrame, labels: list[str], masks: np.ndarray) -> np.ndarray:
    def block(values: np.ndarray) -> dict[str, np.ndarray]:
        valid = ~np.isnan(values)
        n = _masked_sum(masks, valid.astype(np.float64))
        sums = _masked_sum(masks, np.where(valid, values, 0.0))
        with np.errstate(divide="ignore", invalid="ignore"):
            return {"mean": np.where(n > 0, sums / n, np.nan)}

    return _map_blocks(frame, labels, block)["mean"]


def _matrix_parts(
    frame: pl.DataFrame, what: str, genes: pl.DataFrame | None
) -> tuple[list[str], pl.DataFrame]:
    if "ModelID" not in frame.columns:
        raise DataError(
            f"The DepMap {what} matrix has no ModelID column",
            input=f"columns: {', '.join(frame.columns[:5])} …",
            fix="read it with targetrank.tables.depmap.read_gene_matrix",
        )
    schema = frame.schema  # build once: 18,000 columns
    labels = [c for c in schema.names() if c != "ModelID"]
    bad = [c for c in labels if not schema[c].is_numeric()]
    if bad:
        raise DataError(
            f"The DepMap {what} matrix has non-numeric gene column(s)",
            input=", ".join(bad[:5]),
            fix="read it with targetrank.tables.depmap.read_gene_matrix",
        )
    keys = _gene_keys(labels, genes)
    dup = keys.filter(pl.col("key").is_duplicated())
    if dup.height:
        raise DataError(
            f"The DepMap {what} matrix has several columns for the same gene",
            input=", ".join(dup["column"].head(5).to_list()),
            cause="repeated Entrez ids in the header",
            fix="check the file comes from a DepMap Public release",
        )
    return labels, keys


def _series(name: str, values: np.ndarray, dtype: pl.DataType | type[pl.DataType]) -> pl.Series:
    if dtype == pl.Int64:
        return pl.Series(name, np.rint(values).astype(np.int64), dtype=pl.Int64)
    return pl.Series(name, values, dtype=pl.Float64, nan_to_null=True)


def depmap_gene_features(
    gene_effect: pl.DataFrame,
    models: pl.DataFrame,
    *,
    dependency: pl.DataFrame | None = None,
    common_essentials: pl.DataFrame | None = None,
    expression: pl.DataFrame | None = None,
    genes: pl.DataFrame | None = None,
    targets: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per-gene DepMap features: one row per gene, columns :data:`DEPMAP_OUTPUT_SCHEMA`.

    Args:
        gene_effect: ``ModelID`` + one Float64 column per gene (``SYMBOL (ENTREZ)``), e.g.
            CRISPRGeneEffect.csv as read by ``read_gene_matrix``; may be a panel of columns.
        models: Model metadata in Model.csv names (``read_models``); defines the contexts.
        dependency: CRISPRGeneDependency in the same layout; without it the dependent
            fractions are null and strongly-selective is only decided when it is False.
        common_essentials: The release's common-essential list (``symbol, entrez_id``); without
            it ``depmap_common_essential`` is null.
        expression: Model-level log2(TPM+1) in the same layout; without it the expression
            columns are null.
        genes: The resolver's gene index (``entrez_id, symbol, ensembl_id``) to map Entrez →
            Ensembl (and Entrez for bare-symbol headers); without it ``ensembl_id`` is null.
        targets: Optional ``entrez_id, symbol`` rows: the output then has exactly one row per
            target, in that order, with nulls for targets DepMap did not screen.

    Returns:
        Counts (``depmap_n_models*``) are null for genes absent from the gene-effect matrix;
        other features are null wherever the data give no value (never 0).
    """
    contexts = model_contexts(models)
    ge_labels, ge_keys = _matrix_parts(gene_effect, "gene effect", genes)
    masks = _masks(gene_effect["ModelID"], contexts)
    eff = _effect_stats(gene_effect, ge_labels, masks)
    names = ("", *(f"_{c}" for c in CONTEXT_NAMES))
    cols: list[pl.Series] = [pl.Series("key", ge_keys["key"])]
    for i, suffix in enumerate(names):
        cols.append(_series(f"depmap_mean_effect{suffix}", eff["mean"][i], pl.Float64))
        cols.append(_series(f"depmap_n_models{suffix}", eff["n"][i], pl.Int64))
    cols.append(_series("depmap_sd_effect", eff["sd"], pl.Float64))
    with np.errstate(invalid="ignore"):
        cols.append(_series("_skew_kurt", eff["skew"] * eff["kurt"], pl.Float64))
    effect_table = pl.DataFrame(cols)

    gene_rows = ge_keys.select("key", "symbol", "entrez_id")
    dep_table = None
    if dependency is not None:
        dep_labels, dep_keys = _matrix_parts(dependency, "dependency", genes)
        dep = _dependency_stats(dependency, dep_labels, _masks(dependency["ModelID"], contexts))
        dcols = [pl.Series("key", dep_keys["key"])]
        dcols += [
            _series(f"depmap_frac_dependent{s}", dep["frac"][i], pl.Float64)
            for i, s in enumerate(names)
        ]
        dcols.append(
            pl.Series("_n_dependent", np.where(dep["n"][0] > 0, dep["dependent"][0], np.nan))
        )
        dep_table = pl.DataFrame(dcols).with_columns(pl.col("_n_dependent").fill_nan(None))
        extra = dep_keys.select("key", "symbol", "entrez_id").join(gene_rows, on="key", how="anti")
        gene_rows = pl.concat([gene_rows, extra])

    expr_table = None
    if expression is not None:
        ex_labels, ex_keys = _matrix_parts(expression, "expression", genes)
        ex = _mean_stats(expression, ex_labels, _masks(expression["ModelID"], contexts))
        ecols = [pl.Series("key", ex_keys["key"])]
        ecols += [
            _series(f"depmap_mean_expression_{c}", ex[i + 1], pl.Float64)
            for i, c in enumerate(CONTEXT_NAMES)
        ]
        expr_table = pl.DataFrame(ecols)

    if targets is not None:
        gene_rows = (
            targets.select(pl.col("entrez_id").cast(pl.Int64), pl.col("symbol").cast(pl.String))
            .with_columns(_key_expr().alias("key"))
            .join(
                gene_rows.select("key", pl.col("symbol").alias("_dm_symbol")),
                on="key",
                how="left",
                maintain_order="left",
            )
            .select("key", pl.coalesce("_dm_symbol", "symbol").alias("symbol"), "entrez_id")
            .unique("key", keep="first", maintain_order=True)
        )

    out = gene_rows.join(effect_table, on="key", how="left", maintain_order="left")
    for table in (dep_table, expr_table):
        if table is not None:
            out = out.join(table, on="key", how="left", maintain_order="left")
    selective = pl.col("_skew_kurt") < STRONGLY_SELECTIVE_MAX
    if dep_table is not None:
        selective = selective & (pl.col("_n_dependent") >= 1)
    else:
        selective = pl.when(selective.not_()).then(False).otherwise(None)
    out = out.with_columns(selective.alias("depmap_strongly_selective"))

    if common_essentials is not None:
        out = common_essential_flags(common_essentials, out)
    if genes is not None:
        ens = genes.select(pl.col("entrez_id").cast(pl.Int64), pl.col("ensembl_id")).unique(
            "entrez_id", keep="first"
        )
        out = out.join(ens, on="entrez_id", how="left", maintain_order="left")
    missing = {
        name: dtype for name, dtype in DEPMAP_OUTPUT_SCHEMA.items() if name not in out.columns
    }
    out = out.with_columns([pl.lit(None, dtype).alias(n) for n, dtype in missing.items()])
    out = out.select([pl.col(n).cast(dtype) for n, dtype in DEPMAP_OUTPUT_SCHEMA.items()])
    return validate(
        out,
        DepMapGeneFeatures,
        table="DepMap gene features",
        source="computed from the DepMap matrices",
        fix="report this as a bug with the release and the --targets used",
    )
