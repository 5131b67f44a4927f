"""Open Targets Platform tables: one typed, validated table per concern.

The API path (GraphQL records) and the bulk path (the Platform's parquet downloads) both end in
these builders, so the two yield identical tables for the same data. Each table is sorted on its
key and checked against a dataframely schema when it is built, so a silent upstream change shows
up here as a :class:`~targetrank.errors.DataError` instead of as empty features downstream.

Tables (all keyed by ``ensembl_id``, the stable id without a version suffix):

* ``targets``: one row per target the Platform returned, with scalar annotations.
* ``tractability``: one row per (target, modality, bucket label) with its boolean value.
* ``safety``: one row per reported safety liability.
* ``prioritisation``: long (target, key, value) prioritisation factors in [-1, 1].
* ``clinical_candidates``: one row per (target, drug) with the highest clinical stage as an
  ordered category (``UNKNOWN`` < ... < ``WITHDRAWAL``).
* ``diseases``: how each disease slot (cancer, breast, ...) was resolved to a current id.
* ``associations`` / ``association_datatypes``: overall and per-datatype association scores.
* ``essentiality_screens`` and ``expression``: optional, large, fetched only on request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import dataframely as dy
import polars as pl

from targetrank.tables import validate

#: Clinical stages in order (ot-ui-apps ``clinicalStageCategories``): the enum order is the ordinal.
CLINICAL_STAGES: tuple[str, ...] = (
    "UNKNOWN",
    "PRECLINICAL",
    "IND",
    "EARLY_PHASE_1",
    "PHASE_1",
    "PHASE_1_2",
    "PHASE_2",
    "PHASE_2_3",
    "PHASE_3",
    "PREAPPROVAL",
    "APPROVAL",
    "PHASE_4",
    "WITHDRAWAL",
)
STAGE_RANK: dict[str, int] = {stage: rank for rank, stage in enumerate(CLINICAL_STAGES)}

#: Pre-26.03 ``knownDrugs.phase`` (ChEMBL max phase) to the nearest 26.03 stage. Phase 4 in
#: ChEMBL means "approved", so it maps to APPROVAL, not to the post-approval PHASE_4 trials.
PHASE_TO_STAGE: dict[float, str] = {
    0.0: "PRECLINICAL",
    0.5: "EARLY_PHASE_1",
    1.0: "PHASE_1",
    2.0: "PHASE_2",
    3.0: "PHASE_3",
    4.0: "APPROVAL",
}

MODALITIES: tuple[str, ...] = ("SM", "AB", "PR", "OC")

#: Tractability buckets that encode clinical precedence (a drug already exists): leakage for a
#: model that predicts which targets become drug targets.
CLINICAL_BUCKETS: frozenset[str] = frozenset(
    {"Approved Drug", "Advanced Clinical", "Phase 1 Clinical"}
)

#: Association datatypes that come from drugs and trials (leakage); the rest are "non-clinical".
CLINICAL_DATATYPES: frozenset[str] = frozenset({"clinical", "known_drug"})

DISEASE_STATUSES: tuple[str, ...] = (
    "mapped",
    "explicit",
    "fallback",
    "retired",
    "unresolved",
    "unavailable",  # a bulk folder without the disease dataset: nothing to resolve against
)

_ENSG = r"^ENSG\d{11}$"


@dataclass(frozen=True)
class ReleaseInfo:
    """Which Platform release the tables come from (``meta`` for the API, the folder for bulk)."""

    api_version: str
    data_version: str
    source: str  # "api" or "bulk"
    location: str  # the endpoint URL or the bulk folder

    @property
    def api_tuple(self) -> tuple[int, int, int] | None:
        """``(26, 6, 3)`` for "26.6.3"; None when the version is not numeric (e.g. bulk)."""
        parts = re.findall(r"\d+", self.api_version)
        if len(parts) < 2:
            return None
        nums = [int(p) for p in parts[:3]] + [0] * (3 - len(parts[:3]))
        return (nums[0], nums[1], nums[2])

    def as_dict(self) -> dict[str, str]:
        """Plain dict for manifests."""
        return asdict(self)


@dataclass(frozen=True)
class SourceWarning:
    """Something the user should know that did not stop the run (a dropped id, a retired disease).

    ``kind`` is one of: dropped_id, null_disease, retired_disease, partial_error, unknown_stage,
    version_suffix, release.
    """

    kind: str
    subject: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """Plain dict for manifests."""
        return asdict(self)


# --------------------------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------------------------


class TargetSchema(dy.Schema):
    """One row per target returned by the Platform."""

    ensembl_id = dy.String(primary_key=True, regex=_ENSG)
    symbol = dy.String()
    name = dy.String(nullable=True)
    biotype = dy.String(nullable=True)
    is_essential = dy.Bool(nullable=True)
    lof_oe = dy.Float64(nullable=True)
    lof_oe_upper = dy.Float64(nullable=True)
    subcellular_locations = dy.List(dy.String())
    target_classes = dy.List(dy.String())
    n_pathways = dy.Int64(min=0)
    n_mouse_phenotypes = dy.Int64(min=0)
    n_chemical_probes = dy.Int64(min=0)
    n_chemical_probes_hq = dy.Int64(min=0)
    has_tep = dy.Bool()


class TractabilitySchema(dy.Schema):
    """One row per (target, modality, bucket)."""

    ensembl_id = dy.String(primary_key=True, regex=_ENSG)
    modality = dy.Enum(MODALITIES, primary_key=True)
    label = dy.String(primary_key=True)
    value = dy.Bool()
    clinical_precedence = dy.Bool()


class SafetySchema(dy.Schema):
    """One row per safety liability (event and datasource), with its effect directions."""

    ensembl_id = dy.String(regex=_ENSG)
    event = dy.String(nullable=True)
    event_id = dy.String(nullable=True)
    datasource = dy.String()
    directions = dy.List(dy.String())


class PrioritisationSchema(dy.Schema):
    """Prioritisation factors, long: a missing key means the Platform gives no value."""

    ensembl_id = dy.String(primary_key=True, regex=_ENSG)
    key = dy.String(primary_key=True)
    value = dy.Float64(min=-1.0, max=1.0)


class ClinicalCandidateSchema(dy.Schema):
    """One row per (target, drug) at its highest clinical stage."""

    ensembl_id = dy.String(primary_key=True, regex=_ENSG)
    drug_id = dy.String(primary_key=True)
    drug_name = dy.String(nullable=True)
    drug_type = dy.String(nullable=True)
    max_stage = dy.Enum(CLINICAL_STAGES)
    stage_rank = dy.Int64(min=0, max=len(CLINICAL_STAGES) - 1)
    source_field = dy.Enum(["drugAndClinicalCandidates", "knownDrugs"])


class DiseaseSchema(dy.Schema):
    """How each disease slot was resolved; ``disease_id`` is null when it could not be."""

    key = dy.String(primary_key=True)
    query = dy.String()
    disease_id = dy.String(nullable=True)
    disease_name = dy.String(nullable=True)
    status = dy.Enum(DISEASE_STATUSES)
    note = dy.String(nullable=True)


class AssociationSchema(dy.Schema):
    """Overall direct association score per (target, disease)."""

    ensembl_id = dy.String(primary_key=True, regex=_ENSG)
    disease_id = dy.String(primary_key=True)
    disease_name = dy.String(nullable=True)
    score = dy.Float64(min=0.0, max=1.0)


class AssociationDatatypeSchema(dy.Schema):
    """Direct association score per (target, disease, datatype)."""

    ensembl_id = dy.String(primary_key=True, regex=_ENSG)
    disease_id = dy.String(primary_key=True)
    datatype_id = dy.String(primary_key=True)
    score = dy.Float64(min=0.0, max=1.0)


class EssentialityScreenSchema(dy.Schema):
    """One DepMap CRISPR screen of a target (gene effect below -1: a dependency)."""

    ensembl_id = dy.String(regex=_ENSG)
    tissue_id = dy.String(nullable=True)
    tissue_name = dy.String(nullable=True)
    depmap_id = dy.String(nullable=True)
    cell_line_name = dy.String(nullable=True)
    disease_from_source = dy.String(nullable=True)
    gene_effect = dy.Float64(nullable=True)
    expression = dy.Float64(nullable=True)


class ExpressionSchema(dy.Schema):
    """Baseline expression per (target, tissue, datasource)."""

    ensembl_id = dy.String(regex=_ENSG)
    tissue_id = dy.String(nullable=True)
    tissue_name = dy.String(nullable=True)
    datasource = dy.String()
    value = dy.Float64(nullable=True)
    unit = dy.String(nullable=True)


#: table name -> (schema, sort key); the order here is the order tables are written in.
TABLE_SCHEMAS: dict[str, tuple[type[dy.Schema], tuple[str, ...]]] = {
    "targets": (TargetSchema, ("ensembl_id",)),
    "tractability": (TractabilitySchema, ("ensembl_id", "modality", "label")),
    "safety": (SafetySchema, ("ensembl_id", "datasource", "event", "event_id", "directions")),
    "prioritisation": (PrioritisationSchema, ("ensembl_id", "key")),
    "clinical_candidates": (ClinicalCandidateSchema, ("ensembl_id", "drug_id")),
    "diseases": (DiseaseSchema, ("key",)),
    "associations": (AssociationSchema, ("ensembl_id", "disease_id")),
    "association_datatypes": (
        AssociationDatatypeSchema,
        ("ensembl_id", "disease_id", "datatype_id"),
    ),
    "essentiality_screens": (
        EssentialityScreenSchema,
        ("ensembl_id", "tissue_name", "depmap_id", "cell_line_name"),
    ),
    "expression": (ExpressionSchema, ("ensembl_id", "datasource", "tissue_id", "tissue_name")),
}


def finish_table(df: pl.DataFrame, name: str, *, source: str | None = None) -> pl.DataFrame:
    """Select, cast, sort and validate a table by its registered schema.

    Sorting on the key (nulls first, lists compared element-wise) makes the API and bulk paths
    byte-comparable.
    """
    schema, key = TABLE_SCHEMAS[name]
    checked = validate(
        df,
        schema,
        table=f"Open Targets {name.replace('_', ' ')}",
        source=source,
        fix="check the release (--release) or report the change; rerun with --debug",
    )
    sort_cols = [c for c in key if c in checked.columns]
    sortable = [
        pl.col(c).list.join("|") if isinstance(checked.schema[c], pl.List) else pl.col(c)
        for c in sort_cols
    ]
    return checked.sort(sortable, nulls_last=False, maintain_order=True)


def empty_table(name: str) -> pl.DataFrame:
    """A validated, zero-row table with the schema's columns and dtypes."""
    schema, _ = TABLE_SCHEMAS[name]
    return schema.create_empty()


@dataclass
class OpenTargetsTables:
    """Everything one fetch produced: the tables, where they came from, and the warnings."""

    targets: pl.DataFrame
    tractability: pl.DataFrame
    safety: pl.DataFrame
    prioritisation: pl.DataFrame
    clinical_candidates: pl.DataFrame
    diseases: pl.DataFrame
    associations: pl.DataFrame
    association_datatypes: pl.DataFrame
    release: ReleaseInfo
    requested: list[str] = field(default_factory=list)
    warnings: list[SourceWarning] = field(default_factory=list)
    essentiality_screens: pl.DataFrame | None = None
    expression: pl.DataFrame | None = None
    #: Bulk datasets absent from a partial download (empty for the API and complete
    #: downloads); the features derived from them stay null (see
    #: ``targetrank.features.opentargets.DATASET_COLUMNS``).
    absent_datasets: list[str] = field(default_factory=list)

    def frames(self) -> dict[str, pl.DataFrame]:
        """The tables present, by name, in the registered order."""
        out = {}
        for name in TABLE_SCHEMAS:
            df = getattr(self, name)
            if df is not None:
                out[name] = df
        return out


# --------------------------------------------------------------------------------------------
# API records -> tables
# --------------------------------------------------------------------------------------------


def _labels(items: Iterable[Mapping[str, Any]] | None, key: str) -> list[str]:
    return sorted({str(i[key]) for i in items or [] if i.get(key) is not None})


def _lof(constraints: Iterable[Mapping[str, Any]] | None) -> Mapping[str, Any]:
    for c in constraints or []:
        if c.get("constraintType") == "lof":
            return c
    return {}


def targets_from_records(records: Sequence[Mapping[str, Any]], *, source: str) -> pl.DataFrame:
    """Scalar annotations of each returned target (``targets`` table)."""
    rows = []
    for r in records:
        lof = _lof(r.get("geneticConstraint"))
        probes = r.get("chemicalProbes") or []
        rows.append(
            {
                "ensembl_id": r["id"],
                "symbol": r["approvedSymbol"],
                "name": r.get("approvedName"),
                "biotype": r.get("biotype"),
                "is_essential": r.get("isEssential"),
                "lof_oe": lof.get("oe"),
                "lof_oe_upper": lof.get("oeUpper"),
                "subcellular_locations": _labels(r.get("subcellularLocations"), "location"),
                "target_classes": _labels(r.get("targetClass"), "label"),
                "n_pathways": len(_labels(r.get("pathways"), "pathwayId")),
                "n_mouse_phenotypes": len(_labels(r.get("mousePhenotypes"), "modelPhenotypeId")),
                "n_chemical_probes": len(_labels(probes, "id")),
                "n_chemical_probes_hq": len(
                    {p["id"] for p in probes if p.get("isHighQuality") is True}
                ),
                "has_tep": r.get("tep") is not None,
            }
        )
    return _frame(rows, "targets", source)


def tractability_from_records(records: Sequence[Mapping[str, Any]], *, source: str) -> pl.DataFrame:
    """Tractability buckets, with clinical-precedence buckets flagged (``tractability`` table)."""
    rows = [
        {
            "ensembl_id": r["id"],
            "modality": t["modality"],
            "label": t["label"],
            "value": t["value"],
            "clinical_precedence": t["label"] in CLINICAL_BUCKETS,
        }
        for r in records
        for t in r.get("tractability") or []
    ]
    return _frame(rows, "tractability", source)


def safety_from_records(records: Sequence[Mapping[str, Any]], *, source: str) -> pl.DataFrame:
    """Safety liabilities (``safety`` table)."""
    rows = [
        {
            "ensembl_id": r["id"],
            "event": s.get("event"),
            "event_id": s.get("eventId"),
            "datasource": s["datasource"],
            "directions": sorted({e["direction"] for e in s.get("effects") or []}),
        }
        for r in records
        for s in r.get("safetyLiabilities") or []
    ]
    return _frame(rows, "safety", source)


def prioritisation_from_records(
    records: Sequence[Mapping[str, Any]], *, source: str
) -> pl.DataFrame:
    """Prioritisation factors; the API sends the values as strings holding numbers."""
    rows = []
    for r in records:
        for item in (r.get("prioritisation") or {}).get("items") or []:
            rows.append({"ensembl_id": r["id"], "key": item["key"], "value": item["value"]})
    df = pl.DataFrame(rows, schema={"ensembl_id": pl.String, "key": pl.String, "value": pl.String})
    parsed = df.with_columns(pl.col("value").cast(pl.Float64, strict=False).alias("number"))
    bad = parsed.filter(pl.col("number").is_null() & pl.col("value").is_not_null())
    if bad.height:
        from targetrank.errors import DataError

        first = bad.row(0, named=True)
        raise DataError(
            f"Open Targets prioritisation value is not a number for {bad.height} item(s), "
            f"e.g. {first['ensembl_id']} {first['key']}={first['value']!r}",
            input=source,
            done="the table was not used",
            cause="the API changed the value format",
            fix="report it; use --bulk DIR meanwhile",
        )
    return _frame(
        parsed.select("ensembl_id", "key", pl.col("number").alias("value")).to_dicts(),
        "prioritisation",
        source,
    )


def stage_or_unknown(stage: str | None, subject: str, warnings: list[SourceWarning]) -> str:
    """Map an unexpected stage string to UNKNOWN, with a warning (new stages do appear)."""
    if stage in STAGE_RANK:
        return stage  # type: ignore[return-value]
    warnings.append(
        SourceWarning(
            "unknown_stage",
            subject,
            f"clinical stage {stage!r} is not one of {', '.join(CLINICAL_STAGES)}; counted as UNKNOWN",
        )
    )
    return "UNKNOWN"


def phase_to_stage(phase: float | None) -> str:
    """Nearest 26.03 stage for a pre-26.03 ``knownDrugs.phase`` (rounded down to a known step)."""
    if phase is None:
        return "UNKNOWN"
    steps = [p for p in PHASE_TO_STAGE if p <= phase]
    return PHASE_TO_STAGE[max(steps)] if steps else "UNKNOWN"


def candidate_rows(
    target_id: str,
    drug_id: str,
    name: str | None,
    drug_type: str | None,
    stage: str,
    source_field: str,
) -> dict[str, Any]:
    """One ``clinical_candidates`` row (shared by the API and bulk paths)."""
    return {
        "ensembl_id": target_id,
        "drug_id": drug_id,
        "drug_name": name,
        "drug_type": drug_type,
        "max_stage": stage,
        "stage_rank": STAGE_RANK[stage],
        "source_field": source_field,
    }


def best_per_drug(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the highest stage per (target, drug); ties keep the first row seen."""
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["ensembl_id"], row["drug_id"])
        if key not in best or row["stage_rank"] > best[key]["stage_rank"]:
            best[key] = row
    return list(best.values())


def clinical_from_records(
    records: Sequence[Mapping[str, Any]],
    *,
    source: str,
    warnings: list[SourceWarning],
) -> pl.DataFrame:
    """Clinical candidates from ``drugAndClinicalCandidates`` (26.03+) or ``knownDrugs`` (older).

    ``knownDrugs`` rows are (drug, indication) pairs: they collapse to one row per drug at its
    highest phase, mapped to the nearest stage. A row whose indication is a retired disease id
    (``disease: null``) still counts as a drug, and is reported.
    """
    rows: list[dict[str, Any]] = []
    for r in records:
        tid = r["id"]
        if r.get("drugAndClinicalCandidates") is not None:
            for c in r["drugAndClinicalCandidates"].get("rows") or []:
                drug = c.get("drug") or {}
                drug_id = drug.get("id") or c["id"]
                stage = stage_or_unknown(c.get("maxClinicalStage"), f"{tid}/{drug_id}", warnings)
                rows.append(
                    candidate_rows(
                        tid,
                        drug_id,
                        drug.get("name"),
                        drug.get("drugType"),
                        stage,
                        "drugAndClinicalCandidates",
                    )
                )
        if r.get("knownDrugs") is not None:
            for k in r["knownDrugs"].get("rows") or []:
                if k.get("disease") is None:
                    warnings.append(
                        SourceWarning(
                            "null_disease",
                            f"{tid}/{k['drugId']}",
                            "a knownDrugs indication has disease: null (retired id); "
                            "the drug is counted, the indication is not",
                        )
                    )
                rows.append(
                    candidate_rows(
                        tid,
                        k["drugId"],
                        k.get("prefName"),
                        k.get("drugType"),
                        phase_to_stage(k.get("phase")),
                        "knownDrugs",
                    )
                )
    return _frame(best_per_drug(rows), "clinical_candidates", source)


def associations_from_records(
    records: Sequence[Mapping[str, Any]], *, source: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Overall and per-datatype association scores (``associations``, ``association_datatypes``)."""
    overall, by_type = [], []
    for r in records:
        for a in (r.get("associatedDiseases") or {}).get("rows") or []:
            disease = a["disease"]
            overall.append(
                {
                    "ensembl_id": r["id"],
                    "disease_id": disease["id"],
                    "disease_name": disease.get("name"),
                    "score": a["score"],
                }
            )
            for d in a.get("datatypeScores") or []:
                by_type.append(
                    {
                        "ensembl_id": r["id"],
                        "disease_id": disease["id"],
                        "datatype_id": d["id"],
                        "score": d["score"],
                    }
                )
    return (
        _frame(overall, "associations", source),
        _frame(by_type, "association_datatypes", source),
    )


def screens_from_records(records: Sequence[Mapping[str, Any]], *, source: str) -> pl.DataFrame:
    """DepMap screens per target (``essentiality_screens`` table)."""
    rows = [
        {
            "ensembl_id": r["id"],
            "tissue_id": t.get("tissueId"),
            "tissue_name": t.get("tissueName"),
            "depmap_id": s.get("depmapId"),
            "cell_line_name": s.get("cellLineName"),
            "disease_from_source": s.get("diseaseFromSource"),
            "gene_effect": s.get("geneEffect"),
            "expression": s.get("expression"),
        }
        for r in records
        for t in r.get("depMapEssentiality") or []
        for s in t.get("screens") or []
    ]
    return _frame(rows, "essentiality_screens", source)


def expression_from_records(records: Sequence[Mapping[str, Any]], *, source: str) -> pl.DataFrame:
    """Baseline expression (26.6.1+ ``baselineExpression``) or RNA ``expressions`` (older)."""
    rows = []
    for r in records:
        for e in (r.get("baselineExpression") or {}).get("rows") or []:
            tissue = e.get("tissueBiosample") or {}
            rows.append(
                {
                    "ensembl_id": r["id"],
                    "tissue_id": tissue.get("biosampleId"),
                    "tissue_name": tissue.get("biosampleName"),
                    "datasource": e["datasourceId"],
                    "value": e.get("median"),
                    "unit": e.get("unit"),
                }
            )
        for e in r.get("expressions") or []:
            rows.append(
                {
                    "ensembl_id": r["id"],
                    "tissue_id": e["tissue"]["id"],
                    "tissue_name": e["tissue"]["label"],
                    "datasource": "expressions.rna",
                    "value": e["rna"]["value"],
                    "unit": e["rna"]["unit"],
                }
            )
    return _frame(rows, "expression", source)


def diseases_table(rows: Sequence[Mapping[str, Any]], *, source: str) -> pl.DataFrame:
    """The ``diseases`` table from resolution rows (key, query, disease_id, name, status, note)."""
    return _frame([dict(r) for r in rows], "diseases", source)


def _frame(rows: list[dict[str, Any]], name: str, source: str | None) -> pl.DataFrame:
    return finish_table(pl.DataFrame(rows, schema=empty_table(name).schema), name, source=source)
