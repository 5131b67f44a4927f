"""Open Targets Platform bulk mode: the Platform's parquet downloads, read lazily with polars.

For genome-wide runs the Platform asks users to download its datasets rather than crawl the
API. This source reads a local folder of those downloads (one sub-folder of parquet part files
per dataset, as on the FTP site, or a single ``<dataset>.parquet``) and yields exactly the tables
the API path yields, so features do not depend on how the data arrived.

Datasets and columns read (the Platform's documented names; only these columns are touched):

============================== ============================================================
dataset                        columns
============================== ============================================================
target                         id, approvedSymbol, approvedName, biotype, tractability
                               (list of {modality, id, value}), safetyLiabilities,
                               subcellularLocations, targetClass, constraint, chemicalProbes,
                               pathways, tep
target_essentiality            id, geneEssentiality (list of {isEssential, depMapEssentiality})
target_prioritisation          targetId plus one column per prioritisation factor
mouse_phenotype                targetFromSourceId, modelPhenotypeId
disease                        id, name
association_overall_direct     diseaseId, targetId, score
association_by_datatype_direct diseaseId, targetId, datatypeId, score
clinical_target (26.03+)       targetId, drugId, maxClinicalStage   (layout not yet verified
                               against a real 26.03 download: see README)
drug_molecule                  id, name, drugType
known_drug (before 26.03)      targetId, drugId, prefName, drugType, phase, diseaseId
============================== ============================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from targetrank._types import ProgressCallback, no_progress
from targetrank.errors import DataError, UsageError
from targetrank.sources.opentargets_diseases import disease_specs, resolve_disease_plan
from targetrank.sources.opentargets_ids import normalise_ids
from targetrank.tables.opentargets import (
    CLINICAL_BUCKETS,
    OpenTargetsTables,
    ReleaseInfo,
    SourceWarning,
    best_per_drug,
    candidate_rows,
    finish_table,
    phase_to_stage,
    stage_or_unknown,
)

BULK_COLUMNS: dict[str, tuple[str, ...]] = {
    "target": (
        "id",
        "approvedSymbol",
        "approvedName",
        "biotype",
        "tractability",
        "safetyLiabilities",
        "subcellularLocations",
        "targetClass",
        "constraint",
        "chemicalProbes",
        "pathways",
        "tep",
    ),
    "target_essentiality": ("id", "geneEssentiality"),
    "target_prioritisation": ("targetId",),
    "mouse_phenotype": ("targetFromSourceId", "modelPhenotypeId"),
    "disease": ("id", "name"),
    "association_overall_direct": ("diseaseId", "targetId", "score"),
    "association_by_datatype_direct": ("diseaseId", "targetId", "datatypeId", "score"),
    "clinical_target": ("targetId", "drugId", "maxClinicalStage"),
    "drug_molecule": ("id", "name", "drugType"),
    "known_drug": ("targetId", "drugId", "prefName", "drugType", "phase", "diseaseId"),
}

_EMPTY_STRINGS = pl.lit([], dtype=pl.List(pl.String))

__all__ = ["BULK_COLUMNS", "OpenTargetsBulk"]


def _labels(column: str, field: str) -> pl.Expr:
    """Sorted distinct non-null ``field`` values of a list-of-struct column ([] when null)."""
    return (
        pl.col(column)
        .list.eval(pl.element().struct.field(field).drop_nulls())
        .list.unique()
        .list.sort()
        .fill_null(_EMPTY_STRINGS)
    )


class OpenTargetsBulk:
    """Read the connector's tables from a folder of Platform parquet downloads (no network).

    Args:
        folder: The download folder (e.g. ``.../26.06/output``), with one entry per dataset.
        release: The data release of the files ("26.06"). When the folder path names another
            release, that is an error; when neither names one, the release is "unknown".
    """

    def __init__(self, folder: str | Path, *, release: str | None = None) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise UsageError(
                "The Open Targets bulk folder does not exist",
                input=str(self.folder),
                done="nothing was read",
                fix="pass --bulk DIR with the Platform's parquet downloads (target, disease, "
                "association_by_datatype_direct, ...)",
            )
        self.pinned = release
        self.datasets: dict[str, str] = {}  # dataset -> path read, for the manifest

    @property
    def location(self) -> str:
        """The folder, for messages and manifests."""
        return str(self.folder)

    def release(self) -> ReleaseInfo:
        """The release of the files: ``--release``, else a ``YY.MM`` in the folder path."""
        found = re.findall(r"(?<!\d)(\d{2}\.\d{2})(?!\d)", str(self.folder.resolve()))
        inferred = found[-1] if found else None
        if self.pinned and inferred and inferred != self.pinned:
            raise UsageError(
                f"The bulk folder looks like release {inferred}, not the pinned {self.pinned}",
                input=str(self.folder),
                done="nothing was read",
                fix=f"pass --release {inferred}, or point --bulk at the {self.pinned} downloads",
            )
        return ReleaseInfo("bulk", self.pinned or inferred or "unknown", "bulk", str(self.folder))

    def has(self, dataset: str) -> bool:
        """Whether the folder holds ``dataset``."""
        return (self.folder / dataset).is_dir() or (self.folder / f"{dataset}.parquet").is_file()

    def scan(self, dataset: str) -> pl.LazyFrame:
        """Lazily scan ``dataset``, checking that the columns this module reads are there."""
        path = self.folder / dataset
        if path.is_dir():
            pattern = str(path / "**" / "*.parquet")
        elif (self.folder / f"{dataset}.parquet").is_file():
            pattern = str(self.folder / f"{dataset}.parquet")
        else:
            raise DataError(
                f"Open Targets bulk dataset '{dataset}' is missing",
                input=str(self.folder),
                done="nothing was read",
                cause="the download is incomplete or from a release with other dataset names",
                fix=f"download the '{dataset}' parquet dataset into {self.folder} "
                "(see the Platform's downloads page), or use the API (drop --bulk)",
            )
        lf = pl.scan_parquet(pattern)
        try:
            names = lf.collect_schema().names()
        except Exception as exc:  # polars raises several error types for corrupt parquet
            raise DataError(
                f"Open Targets bulk dataset '{dataset}' cannot be read",
                input=_first_part(path, pattern),
                done="nothing was read or written",
                cause=f"a corrupt or truncated parquet file ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:160]})",
                fix="download the dataset again (compare its size with the FTP listing), or "
                "remove it from the folder to run without it",
            ) from exc
        missing = [c for c in BULK_COLUMNS.get(dataset, ()) if c not in names]
        if missing:
            raise DataError(
                f"Open Targets bulk dataset '{dataset}' lacks column(s) {', '.join(missing)}",
                input=pattern,
                done="nothing was read",
                cause="a release with another layout",
                fix="use downloads of a supported release (--release), or the API (drop --bulk)",
            )
        self.datasets[dataset] = pattern
        return lf

    # -- diseases ---------------------------------------------------------------------------
    def resolve_diseases(
        self, specs: Mapping[str, str] | None = None
    ) -> tuple[pl.DataFrame, list[SourceWarning]]:
        """Resolve disease slots against the ``disease`` dataset (exact name, case-insensitive)."""
        plan = disease_specs(specs)
        if not self.has("disease"):
            return self._no_diseases(plan)
        names = {str(p["name"]).casefold(): str(p["name"]) for p in plan.values() if p["name"]}
        ids = [str(i) for p in plan.values() for i in (p["explicit"], p["fallback"]) if i]
        found = (
            self.scan("disease")
            .select("id", "name")
            .filter(pl.col("id").is_in(ids) | pl.col("name").str.to_lowercase().is_in(list(names)))
            .collect()
        )
        mapped: dict[str, list[dict[str, Any]]] = {}
        for did, name in found.iter_rows():
            key = str(name).casefold()
            if key in names:
                mapped.setdefault(names[key], []).append({"id": did, "name": name, "score": 1.0})
        known = {did: name for did, name in found.iter_rows() if did in ids}
        return resolve_disease_plan(plan, mapped, known, source=self.location)

    def _no_diseases(
        self, plan: Mapping[str, Mapping[str, str | None]]
    ) -> tuple[pl.DataFrame, list[SourceWarning]]:
        """Disease slots of a folder without the ``disease`` dataset: all unavailable."""
        from targetrank.tables.opentargets import diseases_table

        rows = [
            {
                "key": key,
                "query": str(p["query"]),
                "disease_id": p["explicit"] or p["fallback"],
                "disease_name": None,
                "status": "unavailable",
                "note": "the bulk folder has no 'disease' dataset",
            }
            for key, p in plan.items()
        ]
        return diseases_table(rows, source=self.location), []

    def missing(self, datasets: Sequence[str]) -> list[str]:
        """The datasets of ``datasets`` this folder does not hold."""
        return [d for d in datasets if not self.has(d)]

    # -- targets ----------------------------------------------------------------------------
    def fetch(
        self,
        ensembl_ids: Sequence[str],
        diseases: pl.DataFrame,
        *,
        with_screens: bool = False,
        with_expression: bool = False,
        progress: ProgressCallback = no_progress,
    ) -> OpenTargetsTables:
        """Build every table for ``ensembl_ids`` from the downloads.

        A partial download (say, only ``target_prioritisation``) is fine: every table whose
        dataset is absent comes back empty, the dataset is listed in ``absent_datasets`` and
        one warning names it, so the features derived from it stay null. Nothing is invented.
        """
        release = self.release()
        ids, warnings = normalise_ids(ensembl_ids)
        source = f"{self.location} (data {release.data_version})"
        steps = 6 + int(with_screens)
        absent = self.missing(
            ["target", "target_essentiality", "target_prioritisation", "mouse_phenotype"]
        )
        if not self.has("clinical_target") and not self.has("known_drug"):
            absent.append("clinical_target")
        elif self.has("clinical_target") and not self.has("drug_molecule"):
            absent.append("drug_molecule")
        absent += self.missing(
            ["disease", "association_overall_direct", "association_by_datatype_direct"]
        )
        if len(absent) == len(_OPTIONAL_DATASETS):
            raise DataError(
                "The Open Targets bulk folder holds none of the datasets targetrank reads",
                input=self.location,
                done="nothing was read",
                cause="the folder is not a Platform download (expected one sub-folder of parquet "
                "files per dataset, e.g. target_prioritisation/part-*.parquet)",
                fix="point --bulk at the release folder (e.g. .../25.12 or .../26.06/output)",
            )
        for dataset in absent:
            warnings.append(
                SourceWarning(
                    "absent_dataset",
                    dataset,
                    f"the bulk folder has no '{dataset}' dataset; the features derived from it "
                    "are null",
                )
            )
        present_ids: set[str] = set()
        if "target" not in absent:
            target = self.scan("target").filter(pl.col("id").is_in(ids))
            present_ids |= set(target.select("id").collect()["id"].to_list())
        if "target_prioritisation" not in absent:
            present_ids |= set(
                self.scan("target_prioritisation")
                .filter(pl.col("targetId").is_in(ids))
                .select("targetId")
                .collect()["targetId"]
                .to_list()
            )
        for missing in ids:
            if missing not in present_ids:
                warnings.append(
                    SourceWarning(
                        "dropped_id",
                        missing,
                        f"the bulk datasets have no {missing} (unknown, retired or not in "
                        f"data release {release.data_version}); its features are null",
                    )
                )
        progress("Open Targets bulk", 1, steps)
        if "target" in absent:
            targets = _schema_frame("targets")
            tractability = _schema_frame("tractability")
            safety = _schema_frame("safety")
        else:
            targets = self._targets(target, ids, source, absent)
            progress("Open Targets bulk", 2, steps)
            tractability = (
                target.select(pl.col("id").alias("ensembl_id"), "tractability")
                .explode("tractability")
                .drop_nulls("tractability")
                .select(
                    "ensembl_id",
                    pl.col("tractability").struct.field("modality").alias("modality"),
                    pl.col("tractability").struct.field("id").alias("label"),
                    pl.col("tractability").struct.field("value").alias("value"),
                )
                .with_columns(
                    pl.col("label").is_in(sorted(CLINICAL_BUCKETS)).alias("clinical_precedence")
                )
                .collect()
            )
            safety = (
                target.select(pl.col("id").alias("ensembl_id"), "safetyLiabilities")
                .explode("safetyLiabilities")
                .drop_nulls("safetyLiabilities")
                .select(
                    "ensembl_id",
                    pl.col("safetyLiabilities").struct.field("event").alias("event"),
                    pl.col("safetyLiabilities").struct.field("eventId").alias("event_id"),
                    pl.col("safetyLiabilities").struct.field("datasource").alias("datasource"),
                    pl.col("safetyLiabilities").struct.field("effects").alias("effects"),
                )
                .with_columns(_labels("effects", "direction").alias("directions"))
                .collect()
            )
        progress("Open Targets bulk", 3, steps)
        if "target_prioritisation" in absent:
            prioritisation = _schema_frame("prioritisation")
        else:
            prioritisation = (
                self.scan("target_prioritisation")
                .filter(pl.col("targetId").is_in(ids))
                .unpivot(index="targetId", variable_name="key", value_name="value")
                .drop_nulls("value")
                .select(
                    pl.col("targetId").alias("ensembl_id"), "key", pl.col("value").cast(pl.Float64)
                )
                .collect()
            )
        if "clinical_target" in absent or "drug_molecule" in absent:
            clinical = _schema_frame("clinical_candidates")
        else:
            clinical = self._clinical(ids, warnings, source)
        progress("Open Targets bulk", 4, steps)
        disease_ids = [d for d in diseases["disease_id"].to_list() if d]
        if {"disease", "association_overall_direct"} & set(absent):
            associations = _schema_frame("associations")
        else:
            names = self.scan("disease").select(
                pl.col("id").alias("disease_id"), pl.col("name").alias("disease_name")
            )
            associations = (
                self.scan("association_overall_direct")
                .filter(pl.col("targetId").is_in(ids) & pl.col("diseaseId").is_in(disease_ids))
                .select(
                    pl.col("targetId").alias("ensembl_id"),
                    pl.col("diseaseId").alias("disease_id"),
                    pl.col("score").cast(pl.Float64),
                )
                .join(names, on="disease_id", how="left", maintain_order="left")
                .collect()
            )
        if {"disease", "association_by_datatype_direct"} & set(absent):
            datatypes = _schema_frame("association_datatypes")
        else:
            datatypes = (
                self.scan("association_by_datatype_direct")
                .filter(pl.col("targetId").is_in(ids) & pl.col("diseaseId").is_in(disease_ids))
                .select(
                    pl.col("targetId").alias("ensembl_id"),
                    pl.col("diseaseId").alias("disease_id"),
                    pl.col("datatypeId").alias("datatype_id"),
                    pl.col("score").cast(pl.Float64),
                )
                .collect()
            )
        progress("Open Targets bulk", 5, steps)
        tables = OpenTargetsTables(
            targets=targets,
            tractability=finish_table(tractability, "tractability", source=source),
            safety=finish_table(safety, "safety", source=source),
            prioritisation=finish_table(prioritisation, "prioritisation", source=source),
            clinical_candidates=clinical,
            diseases=diseases,
            associations=finish_table(associations, "associations", source=source),
            association_datatypes=finish_table(datatypes, "association_datatypes", source=source),
            release=release,
            requested=ids,
            warnings=warnings,
            absent_datasets=absent,
        )
        if with_screens and "target_essentiality" not in absent:
            tables.essentiality_screens = self._screens(ids, source)
        if with_expression:
            warnings.append(
                SourceWarning(
                    "release",
                    "expression",
                    "baseline expression is read from the API only; bulk mode skipped it",
                )
            )
        progress("Open Targets bulk", steps, steps)
        return tables

    def _targets(
        self, target: pl.LazyFrame, ids: list[str], source: str, absent: Sequence[str] = ()
    ) -> pl.DataFrame:
        lof = (
            pl.col("constraint")
            .list.eval(pl.element().filter(pl.element().struct.field("constraintType") == "lof"))
            .list.first()
        )
        no_ids = pl.LazyFrame(schema={"ensembl_id": pl.String})
        essential = (
            no_ids.with_columns(pl.lit(None, pl.Boolean).alias("is_essential"))
            if "target_essentiality" in absent
            else self.scan("target_essentiality")
            .filter(pl.col("id").is_in(ids))
            .select(
                pl.col("id").alias("ensembl_id"),
                pl.col("geneEssentiality")
                .list.first()
                .struct.field("isEssential")
                .alias("is_essential"),
            )
        )
        mouse = (
            no_ids.with_columns(pl.lit(None, pl.UInt32).alias("n_mouse_phenotypes"))
            if "mouse_phenotype" in absent
            else self.scan("mouse_phenotype")
            .filter(pl.col("targetFromSourceId").is_in(ids))
            .group_by(pl.col("targetFromSourceId").alias("ensembl_id"))
            .agg(pl.col("modelPhenotypeId").drop_nulls().n_unique().alias("n_mouse_phenotypes"))
        )
        hq = (
            pl.col("chemicalProbes")
            .list.eval(
                pl.element()
                .filter(pl.element().struct.field("isHighQuality"))
                .struct.field("id")
                .drop_nulls()
            )
            .list.unique()
            .list.len()
            .fill_null(0)
        )
        df = (
            target.select(
                pl.col("id").alias("ensembl_id"),
                pl.col("approvedSymbol").alias("symbol"),
                pl.col("approvedName").alias("name"),
                "biotype",
                lof.struct.field("oe").cast(pl.Float64).alias("lof_oe"),
                lof.struct.field("oeUpper").cast(pl.Float64).alias("lof_oe_upper"),
                _labels("subcellularLocations", "location").alias("subcellular_locations"),
                _labels("targetClass", "label").alias("target_classes"),
                _labels("pathways", "pathwayId").list.len().alias("n_pathways"),
                _labels("chemicalProbes", "id").list.len().alias("n_chemical_probes"),
                hq.alias("n_chemical_probes_hq"),
                pl.col("tep").is_not_null().alias("has_tep"),
            )
            .join(essential, on="ensembl_id", how="left", maintain_order="left")
            .join(mouse, on="ensembl_id", how="left", maintain_order="left")
            .with_columns(
                pl.col("n_mouse_phenotypes").fill_null(0).cast(pl.Int64),
                pl.col("n_pathways", "n_chemical_probes", "n_chemical_probes_hq").cast(pl.Int64),
            )
            .collect()
        )
        return finish_table(df, "targets", source=source)

    def _clinical(self, ids: list[str], warnings: list[SourceWarning], source: str) -> pl.DataFrame:
        rows: list[dict[str, Any]] = []
        if self.has("clinical_target"):
            drugs = self.scan("drug_molecule").select(
                pl.col("id").alias("drugId"), "name", "drugType"
            )
            found = (
                self.scan("clinical_target")
                .filter(pl.col("targetId").is_in(ids))
                .select("targetId", "drugId", "maxClinicalStage")
                .join(drugs, on="drugId", how="left", maintain_order="left")
                .collect()
            )
            for r in found.iter_rows(named=True):
                stage = stage_or_unknown(
                    r["maxClinicalStage"], f"{r['targetId']}/{r['drugId']}", warnings
                )
                rows.append(
                    candidate_rows(
                        r["targetId"],
                        r["drugId"],
                        r["name"],
                        r["drugType"],
                        stage,
                        "drugAndClinicalCandidates",
                    )
                )
        else:
            diseases = self.scan("disease").select(pl.col("id").alias("diseaseId"), "name")
            found = (
                self.scan("known_drug")
                .filter(pl.col("targetId").is_in(ids))
                .select("targetId", "drugId", "prefName", "drugType", "phase", "diseaseId")
                .join(diseases, on="diseaseId", how="left", maintain_order="left")
                .collect()
            )
            for r in found.iter_rows(named=True):
                if r["name"] is None:
                    warnings.append(
                        SourceWarning(
                            "null_disease",
                            f"{r['targetId']}/{r['drugId']}",
                            "a knownDrugs indication has disease: null (retired id); "
                            "the drug is counted, the indication is not",
                        )
                    )
                rows.append(
                    candidate_rows(
                        r["targetId"],
                        r["drugId"],
                        r["prefName"],
                        r["drugType"],
                        phase_to_stage(r["phase"]),
                        "knownDrugs",
                    )
                )
        df = pl.DataFrame(best_per_drug(rows), schema=_schema("clinical_candidates"))
        return finish_table(df, "clinical_candidates", source=source)

    def _screens(self, ids: list[str], source: str) -> pl.DataFrame:
        lf = (
            self.scan("target_essentiality")
            .filter(pl.col("id").is_in(ids))
            .select(pl.col("id").alias("ensembl_id"), "geneEssentiality")
            .explode("geneEssentiality")
            .drop_nulls("geneEssentiality")
            .select(
                "ensembl_id",
                pl.col("geneEssentiality").struct.field("depMapEssentiality").alias("tissue"),
            )
            .explode("tissue")
            .drop_nulls("tissue")
            .select(
                "ensembl_id",
                pl.col("tissue").struct.field("tissueId").alias("tissue_id"),
                pl.col("tissue").struct.field("tissueName").alias("tissue_name"),
                pl.col("tissue").struct.field("screens").alias("screen"),
            )
            .explode("screen")
            .drop_nulls("screen")
            .select(
                "ensembl_id",
                "tissue_id",
                "tissue_name",
                pl.col("screen").struct.field("depmapId").alias("depmap_id"),
                pl.col("screen").struct.field("cellLineName").alias("cell_line_name"),
                pl.col("screen").struct.field("diseaseFromSource").alias("disease_from_source"),
                pl.col("screen").struct.field("geneEffect").cast(pl.Float64).alias("gene_effect"),
                pl.col("screen").struct.field("expression").cast(pl.Float64).alias("expression"),
            )
        )
        return finish_table(lf.collect(), "essentiality_screens", source=source)


#: Every dataset :meth:`OpenTargetsBulk.fetch` can use (clinical_target stands for the pair
#: of drug datasets of either layout).
_OPTIONAL_DATASETS = (
    "target",
    "target_essentiality",
    "target_prioritisation",
    "mouse_phenotype",
    "clinical_target",
    "disease",
    "association_overall_direct",
    "association_by_datatype_direct",
)


def _first_part(path: Path, pattern: str) -> str:
    """The first parquet file of a dataset (for messages), else the pattern."""
    parts = sorted(path.rglob("*.parquet")) if path.is_dir() else [Path(pattern)]
    return str(parts[0]) if parts else pattern


def _schema_frame(name: str) -> pl.DataFrame:
    from targetrank.tables.opentargets import empty_table

    return empty_table(name)


def _schema(name: str) -> pl.Schema:
    from targetrank.tables.opentargets import empty_table

    return empty_table(name).schema
