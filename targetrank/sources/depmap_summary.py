"""Readers for per-gene dependency summaries: DepMap's CRISPR/RNAi summary and Project Score.

These are the offline counterparts of the DepMap matrices: one row per gene with the mean,
spread and number of screened models (CRISPR Chronos and DEMETER2 RNAi), and Sanger Project
Score's fitness-gene frequencies. Readers check the layout and type the columns; nothing is
computed here (symbols are mapped to genes in :mod:`targetrank.features.essentiality`).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from targetrank.errors import DataError

#: The per-gene summary layout: gene symbol, then mean/sd/n for CRISPR and for RNAi.
SUMMARY_COLUMNS = {
    "gene": "gene",
    "crispr_26Q1_mean": "crispr_mean",
    "crispr_26Q1_sd": "crispr_sd",
    "crispr_26Q1_n": "crispr_n",
    "rnai_D2v6_mean": "rnai_mean",
    "rnai_D2v6_sd": "rnai_sd",
    "rnai_D2v6_n": "rnai_n",
}

#: Project Score tissues the project uses (the lineages that metastasise to bone, and bone).
PROJECTSCORE_TISSUES = ("Bone", "Breast", "Lung")


def _layout_error(path: Path, missing: list[str], expected: list[str]) -> DataError:
    return DataError(
        f"{path.name} lacks column(s) {', '.join(missing)}",
        input=str(path),
        done="nothing was read",
        cause=f"another layout or a damaged file (expected {', '.join(expected)})",
        fix="use the file described in the folder's PROVENANCE.md",
    )


def _read_csv(path: Path, *, separator: str = ",") -> pl.DataFrame:
    if not path.is_file():
        raise DataError(
            "Summary file is missing",
            input=str(path),
            done="nothing was read",
            fix="point --shared / TARGETRANK_SHARED at the complete shared folder",
        )
    try:
        return pl.read_csv(path, separator=separator, infer_schema=False, null_values=["", "NA"])
    except pl.exceptions.PolarsError as exc:
        raise DataError(
            f"{path.name} cannot be parsed",
            input=str(path),
            done="nothing was read",
            cause=f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}",
            fix="use the file described in the folder's PROVENANCE.md",
        ) from exc


def read_gene_summary(path: str | Path) -> pl.DataFrame:
    """A per-gene CRISPR/RNAi summary: gene, crispr_mean/sd/n, rnai_mean/sd/n (null = absent).

    The release tags in the column names (``26Q1``, ``D2v6``) are part of the layout: a file of
    another release has other names and is refused rather than mislabelled.
    """
    path = Path(path)
    df = _read_csv(path)
    missing = [c for c in SUMMARY_COLUMNS if c not in df.columns]
    if missing:
        raise _layout_error(path, missing, list(SUMMARY_COLUMNS))
    out = df.select(
        pl.col(src).alias(dst) if dst == "gene" else pl.col(src).cast(pl.Float64).alias(dst)
        for src, dst in SUMMARY_COLUMNS.items()
    ).with_columns(pl.col("crispr_n", "rnai_n").round().cast(pl.Int64))
    if out["gene"].is_duplicated().any():
        dup = out.filter(pl.col("gene").is_duplicated())["gene"].unique().sort().head(5)
        raise DataError(
            f"{path.name} lists some genes twice",
            input=", ".join(dup.to_list()),
            done="nothing was read",
            fix="use the file described in the folder's PROVENANCE.md",
        )
    return out


def read_fitness_frequencies(path: str | Path) -> pl.DataFrame:
    """Project Score: % of lines where a gene is a fitness gene, overall and per tissue.

    Columns: symbol, entrez_id, pct_all, pct_bone, pct_breast, pct_lung, adam_core.

    The file lists only genes that were a fitness gene in at least one line; every other gene of
    the screened library was a fitness gene in none (0 %).
    """
    path = Path(path)
    df = _read_csv(path, separator="\t")
    tissue_cols = {f"Vuln_CL_perc.{t}": f"pct_{t.lower()}" for t in PROJECTSCORE_TISSUES}
    wanted = ["Gene", "entrez_id", "Vulnerable_Cell_lines_perc", "ADM_PanCancer_CF", *tissue_cols]
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise _layout_error(path, missing, wanted)
    return df.select(
        pl.col("Gene").alias("symbol"),
        pl.col("entrez_id").cast(pl.Int64, strict=False),
        pl.col("Vulnerable_Cell_lines_perc").cast(pl.Float64).alias("pct_all"),
        *[pl.col(src).cast(pl.Float64).alias(dst) for src, dst in tissue_cols.items()],
        (pl.col("ADM_PanCancer_CF").str.to_uppercase() == "TRUE").alias("adam_core"),
    )


def read_core_fitness(path: str | Path) -> pl.DataFrame:
    """A one-column core-fitness gene list (header line, then one symbol per line)."""
    path = Path(path)
    if not path.is_file():
        raise DataError("Core-fitness list is missing", input=str(path), fix="check --shared")
    lines = path.read_text("utf-8-sig").splitlines()
    if not lines or " " not in lines[0]:
        raise DataError(
            f"{path.name} has an unexpected layout",
            input=str(path),
            cause="expected a header line followed by one gene symbol per line",
            fix="use the file described in the folder's PROVENANCE.md",
        )
    symbols = sorted({s.strip() for s in lines[1:] if s.strip()})
    return pl.DataFrame({"symbol": symbols}, schema={"symbol": pl.String})
