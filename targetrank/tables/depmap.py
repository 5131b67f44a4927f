"""DepMap tables and parsers: the release listing, model metadata and wide gene matrices.

DepMap files change name and layout between releases (``sample_info.csv`` became ``Model.csv``;
the expression matrix gained one row per profile in 25Q2). The parsers here read every layout by
column *name*, normalise it to one shape, and fail with a message that names the file, the
release, the expected and the found columns, so a user knows to try another ``--release``.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import dataframely as dy
import polars as pl

from targetrank.errors import DataError, UpstreamError
from targetrank.tables import validate

RELEASE_PREFIX = "DepMap Public "

#: Gene columns are ``SYMBOL (ENTREZ)``; the portal's own code parses them with this pattern.
GENE_LABEL = re.compile(r"^(.*?)\s*\((\d+)\)$")

_RELEASE_FIX = "try another release with --release (e.g. --release 24Q4)"


def _found(columns: Sequence[str], limit: int = 12) -> str:
    shown = [repr(c) for c in columns[:limit]]
    more = f" … (+{len(columns) - limit} more)" if len(columns) > limit else ""
    return ", ".join(shown) + more


def _where(path: str | Path, release: str | None) -> str:
    return f"{path} ({release})" if release else str(path)


# --------------------------------------------------------------------------------------------
# Release listing: GET /portal/api/download/files
# --------------------------------------------------------------------------------------------

LISTING_COLUMNS = ("release", "release_date", "filename", "url", "md5_hash")


class DepMapListing(dy.Schema):
    """One row per file per release, as the portal's download API lists them."""

    release = dy.String(min_length=1)
    release_date = dy.Date()
    filename = dy.String(min_length=1)
    url = dy.String(min_length=1)
    # empty for some old releases (e.g. 18Q1-19Q3 sample_info.csv): those files are unverifiable
    md5_hash = dy.String(nullable=True, regex=r"^[0-9a-f]{32}$")


def parse_listing(data: bytes | str, *, source: str) -> pl.DataFrame:
    """Parse the portal's file listing by column name (a ``taiga_id`` column may appear).

    Raises:
        UpstreamError: the response is not the expected CSV (an HTML error page, a changed API).
    """
    raw = data.encode() if isinstance(data, str) else data
    try:
        df = pl.read_csv(raw, infer_schema=False, null_values=[""], truncate_ragged_lines=True)
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise UpstreamError(
            "The DepMap file listing is not a readable CSV",
            input=source,
            done="nothing was downloaded",
            cause=f"the portal answered something else ({' '.join(str(exc).split())[:120]})",
            fix="check --endpoint (or TARGETRANK_DEPMAP_ENDPOINT) points at the portal's /api/download/files",
        ) from exc
    missing = [c for c in LISTING_COLUMNS if c not in df.columns]
    if missing:
        raise UpstreamError(
            f"The DepMap file listing lacks column(s) {', '.join(missing)}",
            input=f"{source}; expected {', '.join(LISTING_COLUMNS)}; found {_found(df.columns)}",
            done="nothing was downloaded",
            cause="the endpoint is not the DepMap download API or its layout changed",
            fix="check --endpoint (or TARGETRANK_DEPMAP_ENDPOINT); the default is https://depmap.org/portal/api/download/files",
        )
    df = df.select(
        pl.col("release").str.strip_chars(),
        pl.col("release_date").str.strip_chars().str.to_date("%Y-%m-%d", strict=False),
        pl.col("filename").str.strip_chars(),
        pl.col("url").str.strip_chars(),
        pl.col("md5_hash").str.strip_chars().str.to_lowercase(),
    ).filter(pl.col("release").is_not_null() & pl.col("filename").is_not_null())
    return validate(
        df,
        DepMapListing,
        table="DepMap file listing",
        source=source,
        fix="check --endpoint; if the portal changed its API, report it",
    )


def normalise_release(name: str) -> str:
    """``24Q4``, ``24q4`` or ``DepMap Public 24Q4`` → ``DepMap Public 24Q4``."""
    text = " ".join(name.split())
    if text.lower().startswith(RELEASE_PREFIX.lower()):
        text = text[len(RELEASE_PREFIX) :]
    text = re.sub(r"^(\d\d)q(\d)", lambda m: f"{m[1]}Q{m[2]}", text, flags=re.IGNORECASE)
    return RELEASE_PREFIX + text


def release_tag(release: str) -> str:
    """Short, path-safe tag of a release: ``DepMap Public 20Q4 v2`` → ``20Q4_v2``."""
    short = release[len(RELEASE_PREFIX) :] if release.startswith(RELEASE_PREFIX) else release
    return re.sub(r"[^A-Za-z0-9.-]+", "_", short).strip("_")


def depmap_releases(listing: pl.DataFrame) -> pl.DataFrame:
    """DepMap Public releases with their date (first date listed), newest first.

    The date is the earliest ``release_date`` of the release's files: late additions (19Q4 has
    files re-issued in 2020-05) must not make an old release look newer. Ordering is by date,
    never by name, because labels such as ``20Q4 v2`` do not sort.
    """
    return (
        listing.filter(pl.col("release").str.starts_with(RELEASE_PREFIX))
        .group_by("release")
        .agg(
            pl.col("release_date").min().alias("release_date"),
            pl.col("release_date").max().alias("last_file_date"),
            pl.len().alias("n_files"),
        )
        .sort(["release_date", "last_file_date", "release"], descending=True)
    )


# --------------------------------------------------------------------------------------------
# Model metadata: Model.csv (22Q4+) or sample_info.csv (until 22Q2)
# --------------------------------------------------------------------------------------------

#: Model.csv columns targetrank keeps; present in every Model.csv version (24Q2, 24Q4, 25Q2).
MODEL_COLUMNS = (
    "ModelID",
    "CellLineName",
    "OncotreeLineage",
    "OncotreePrimaryDisease",
    "OncotreeSubtype",
    "OncotreeCode",
    "PrimaryOrMetastasis",
    "SampleCollectionSite",
)
_MODEL_REQUIRED = (
    "ModelID",
    "OncotreeLineage",
    "OncotreePrimaryDisease",
    "OncotreeSubtype",
    "OncotreeCode",
    "PrimaryOrMetastasis",
    "SampleCollectionSite",
)
#: sample_info.csv (19Q4 and other pre-Model releases) → Model.csv names. Values keep their
#: legacy spelling (``breast``, ``multiple_myeloma``); contexts match case-insensitively and
#: list the legacy values they need.
LEGACY_MODEL_COLUMNS = {
    "DepMap_ID": "ModelID",
    "stripped_cell_line_name": "CellLineName",
    "lineage": "OncotreeLineage",
    "disease": "OncotreePrimaryDisease",
    "lineage_subtype": "OncotreeSubtype",
    "primary_or_metastasis": "PrimaryOrMetastasis",
    "sample_collection_site": "SampleCollectionSite",
}
_LEGACY_REQUIRED = ("DepMap_ID", "lineage", "lineage_subtype", "sample_collection_site")


class DepMapModels(dy.Schema):
    """Model metadata in Model.csv names, one row per model."""

    ModelID = dy.String(primary_key=True, regex=r"^\S+$")
    CellLineName = dy.String(nullable=True)
    OncotreeLineage = dy.String(nullable=True)
    OncotreePrimaryDisease = dy.String(nullable=True)
    OncotreeSubtype = dy.String(nullable=True)
    OncotreeCode = dy.String(nullable=True)
    PrimaryOrMetastasis = dy.String(nullable=True)
    SampleCollectionSite = dy.String(nullable=True)


def read_models(path: str | Path, *, release: str | None = None) -> pl.DataFrame:
    """Read Model.csv (any version) or a legacy sample_info.csv into :class:`DepMapModels`.

    Raises:
        DataError: the file has neither layout; the message lists expected and found columns.
    """
    path = Path(path)
    where = _where(path, release)
    try:
        df = pl.read_csv(path, infer_schema=False, null_values=[""])
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise DataError(
            "Cannot read the DepMap model table",
            input=where,
            done="no model was assigned to a context",
            cause=" ".join(str(exc).split())[:160],
            fix=_RELEASE_FIX,
        ) from exc
    cols = df.columns
    expected: tuple[str, ...]
    if "ModelID" in cols:
        missing = [c for c in _MODEL_REQUIRED if c not in cols]
        expected = _MODEL_REQUIRED
    elif "DepMap_ID" in cols:
        missing = [c for c in _LEGACY_REQUIRED if c not in cols]
        expected = _LEGACY_REQUIRED
        df = df.rename({k: v for k, v in LEGACY_MODEL_COLUMNS.items() if k in cols})
    else:
        missing, expected = ["ModelID (or DepMap_ID)"], _MODEL_REQUIRED
    if missing:
        raise DataError(
            f"DepMap model table lacks column(s) {', '.join(missing)}",
            input=f"{where}; expected {', '.join(expected)}; found {_found(cols)}",
            done="no model was assigned to a context",
            cause="the file is not Model.csv/sample_info.csv or its layout changed in this release",
            fix=_RELEASE_FIX,
        )
    df = df.with_columns(
        [pl.lit(None, pl.String).alias(c) for c in MODEL_COLUMNS if c not in df.columns]
    ).select(MODEL_COLUMNS)
    df = df.with_columns(pl.col(MODEL_COLUMNS).str.strip_chars()).filter(
        pl.col("ModelID").is_not_null()
    )
    return validate(df, DepMapModels, table="DepMap model", source=where, fix=_RELEASE_FIX)


# --------------------------------------------------------------------------------------------
# One-column gene lists: CRISPRInferredCommonEssentials.csv, Achilles*Controls.csv
# --------------------------------------------------------------------------------------------


class DepMapGeneList(dy.Schema):
    """A DepMap gene list (e.g. the release's common essentials) as symbol + Entrez id."""

    symbol = dy.String(min_length=1)
    entrez_id = dy.Int64(nullable=True)


def check_gene_list(df: pl.DataFrame, *, source: str) -> pl.DataFrame:
    """Validate a parsed one-column gene list; every entry must read ``SYMBOL (ENTREZ)``."""
    return validate(
        df,
        DepMapGeneList,
        table="DepMap gene list",
        source=source,
        fix="check the file comes from a DepMap Public release (entries read 'SYMBOL (ENTREZ)')",
    )


# --------------------------------------------------------------------------------------------
# Wide gene matrices: CRISPRGeneEffect, CRISPRGeneDependency, OmicsExpression*
# --------------------------------------------------------------------------------------------

#: Names the model-id column has had: unnamed (pandas index), ``ModelID``, ``DepMap_ID``.
_ID_COLUMN_NAMES = ("ModelID", "DepMap_ID", "", "Unnamed: 0")
#: Metadata columns of profile-level expression files (25Q2+, 26Q1).
PROFILE_METADATA = (
    "ProfileID",
    "SequencingID",
    "ModelConditionID",
    "ModelID",
    "is_default_entry",
    "IsDefaultEntryForModel",
    "IsDefaultEntryForMC",
)
#: Flags marking the profile DepMap uses for a model, best first.
DEFAULT_ENTRY_FLAGS = ("IsDefaultEntryForModel", "is_default_entry")
_TRUE_VALUES = ("true", "yes", "1")


def gene_label_table(labels: Iterable[str]) -> pl.DataFrame:
    """Split gene column labels into ``column, symbol, entrez_id`` (null id for bare symbols)."""
    labels = list(labels)
    return pl.DataFrame({"column": labels}, schema={"column": pl.String}).with_columns(
        pl.col("column")
        .str.extract(GENE_LABEL.pattern, 1)
        .fill_null(pl.col("column"))
        .str.strip_chars()
        .alias("symbol"),
        pl.col("column").str.extract(GENE_LABEL.pattern, 2).cast(pl.Int64).alias("entrez_id"),
    )


@dataclass(frozen=True)
class MatrixLayout:
    """What the header of a wide DepMap matrix says: id column, gene columns, metadata."""

    path: Path
    release: str | None
    columns: tuple[str, ...]
    id_column: str
    gene_columns: tuple[str, ...]
    metadata_columns: tuple[str, ...]
    default_flag: str | None

    @property
    def where(self) -> str:
        """File and release, for messages."""
        return _where(self.path, self.release)

    @property
    def profile_level(self) -> bool:
        """True for files with one row per profile (25Q2+ expression)."""
        return self.default_flag is not None


def read_matrix_layout(
    path: str | Path, *, release: str | None = None, what: str = "gene matrix"
) -> MatrixLayout:
    """Read only the header line of a wide matrix and classify its columns.

    Gene columns are those reading ``SYMBOL (ENTREZ)``; when none does (third-party extracts
    with bare symbols), every column except the id and known metadata columns is a gene.

    Raises:
        DataError: no model-id column, no gene column, or duplicated column names.
    """
    path = Path(path)
    where = _where(path, release)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
    except OSError as exc:
        raise DataError(
            f"Cannot read the DepMap {what}",
            input=where,
            cause=exc.strerror or str(exc),
            fix="delete the cached file (TARGETRANK_CACHE_DIR) and rerun to download it again",
        ) from exc
    columns = tuple(header)
    duplicated = sorted(c for c, n in Counter(columns).items() if n > 1)
    if duplicated:
        raise DataError(
            f"DepMap {what} has duplicated column names",
            input=f"{where}; duplicated: {_found(duplicated)}",
            done="the matrix was not used",
            cause="the file is corrupt or not a DepMap release matrix",
            fix=_RELEASE_FIX,
        )
    if "ModelID" in columns:
        id_column = "ModelID"
    elif columns and columns[0] in _ID_COLUMN_NAMES:
        id_column = columns[0]
    else:
        raise DataError(
            f"DepMap {what} has no model-id column",
            input=f"{where}; expected an unnamed first column or 'ModelID'; found {_found(columns)}",
            done="the matrix was not used",
            cause="the file is not a DepMap model × gene matrix or its layout changed",
            fix=_RELEASE_FIX,
        )
    # headers reading SYMBOL (ENTREZ) name the genes; bare-symbol extracts: all but metadata
    genes = [c for c in columns if c != id_column and GENE_LABEL.match(c)] or [
        c for c in columns if c != id_column and c not in PROFILE_METADATA
    ]
    gene_set = set(genes)
    metadata = tuple(c for c in columns if c != id_column and c not in gene_set)
    if not genes:
        raise DataError(
            f"DepMap {what} has no gene column",
            input=f"{where}; expected columns named 'SYMBOL (ENTREZ)'; found {_found(columns)}",
            done="the matrix was not used",
            cause="the file is empty, truncated or not a gene matrix",
            fix=_RELEASE_FIX,
        )
    flag = next((f for f in DEFAULT_ENTRY_FLAGS if f in metadata), None)
    if id_column != "ModelID" or flag is None:
        flag = None
    return MatrixLayout(path, release, columns, id_column, tuple(genes), metadata, flag)


def select_gene_columns(
    layout: MatrixLayout,
    *,
    entrez_ids: Iterable[int] = (),
    symbols: Iterable[str] = (),
) -> list[str]:
    """Gene columns of ``layout`` matching any Entrez id (or, for bare labels, any symbol)."""
    ids = {int(i) for i in entrez_ids}
    names = {s.upper() for s in symbols}
    table = gene_label_table(layout.gene_columns)
    hit = table.filter(
        pl.col("entrez_id").is_in(list(ids))
        | (pl.col("entrez_id").is_null() & pl.col("symbol").str.to_uppercase().is_in(list(names)))
    )
    return hit["column"].to_list()


def read_gene_matrix(
    layout: MatrixLayout,
    *,
    columns: Sequence[str] | None = None,
    what: str = "gene matrix",
) -> pl.DataFrame:
    """Parse a wide matrix into ``ModelID`` + Float64 gene columns, one row per model.

    Only the requested gene ``columns`` are parsed (projection: the other columns are skipped
    without converting their numbers). Profile-level files keep each model's default profile.

    Raises:
        DataError: non-numeric values, a missing default-entry flag where models repeat, or
            requested columns absent from the file.
    """
    genes = list(layout.gene_columns) if columns is None else list(columns)
    absent = sorted(set(genes) - set(layout.gene_columns))
    if absent:
        raise DataError(
            f"DepMap {what} lacks requested gene column(s)",
            input=f"{layout.where}; missing {_found(absent)}",
            done="the matrix was not used",
            cause="the genes are not screened in this release",
            fix="drop them from --targets or try another --release",
        )
    schema: dict[str, type[pl.DataType]] = {c: pl.String for c in layout.columns}
    schema.update({c: pl.Float64 for c in layout.gene_columns})
    keep = [layout.id_column]
    if layout.default_flag:
        keep.append(layout.default_flag)
    wanted = [*keep, *genes]
    try:
        # eager read_csv: for 18,000 columns it is faster than scan + select (query planning)
        df = pl.read_csv(
            layout.path,
            schema=schema,
            columns=None if wanted == list(layout.columns) else wanted,
            null_values=["", "NA", "nan", "NaN"],
        )
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise DataError(
            f"Cannot parse the DepMap {what}",
            input=layout.where,
            done="the matrix was not used",
            cause=f"a value is not a number or the file is truncated ({' '.join(str(exc).split())[:160]})",
            fix="delete the cached file (TARGETRANK_CACHE_DIR) and rerun, or try another --release",
        ) from exc
    if layout.default_flag:
        flag = pl.col(layout.default_flag).str.strip_chars().str.to_lowercase()
        df = df.filter(flag.is_in(_TRUE_VALUES))
    ids = df.get_column(layout.id_column).alias("ModelID")
    by_name = dict(zip(df.columns, df.get_columns(), strict=True))
    df = pl.DataFrame([ids, *(by_name[g] for g in genes)])  # cheap: no query planning
    if ids.null_count():
        df = df.filter(pl.col("ModelID").is_not_null())
    n_dup = df.height - df["ModelID"].n_unique()
    if n_dup:
        raise DataError(
            f"DepMap {what} has {n_dup} repeated model row(s)",
            input=f"{layout.where}; metadata columns: {_found(layout.metadata_columns) or 'none'}",
            done="the matrix was not used",
            cause="a profile-level file without a default-entry flag (IsDefaultEntryForModel / is_default_entry)",
            fix="use the model-level file of the release, or try another --release",
        )
    return df
