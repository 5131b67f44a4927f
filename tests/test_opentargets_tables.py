"""Parsers and features on recorded SYNTHETIC API responses (offline: no schema, no network)."""

from __future__ import annotations

import json

import polars as pl
import pytest
from support.ot_fake import RECORDED_IDS, recorded_response_path

from targetrank.errors import DataError
from targetrank.features.opentargets import opentargets_features
from targetrank.features.opentargets_columns import (
    OPENTARGETS_FEATURE_COLUMNS,
    OPENTARGETS_LEAKAGE_FEATURES,
)
from targetrank.sources.opentargets import build_tables
from targetrank.sources.opentargets_diseases import disease_specs, resolve_disease_plan
from targetrank.tables.opentargets import CLINICAL_STAGES, ReleaseInfo

TIGIT, SPP1, TNFSF11 = RECORDED_IDS[:3]


def _diseases(**status_override):
    plan = disease_specs()
    mapped = {
        p["name"]: [{"id": p["fallback"], "name": p["name"], "score": 10.0}]
        for key, p in plan.items()
        if key not in status_override
    }
    return resolve_disease_plan(plan, mapped, {}, source="test")[0]


def _records(release):
    return json.loads(recorded_response_path(release).read_text())["response"]["data"]["targets"]


def _tables(release="26.06", records=None, diseases=None):
    warnings: list = []
    api = "26.6.3" if release == "26.06" else "25.12.1"
    tables = build_tables(
        records if records is not None else _records(release),
        diseases if diseases is not None else _diseases(),
        release=ReleaseInfo(api, release, "api", "recorded"),
        requested=list(RECORDED_IDS),
        warnings=warnings,
        source="recorded synthetic response",
    )
    return tables


def _row(df, ensembl_id):
    rows = df.filter(pl.col("ensembl_id") == ensembl_id).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def test_targets_table_holds_returned_targets_with_nulls_kept():
    targets = _tables().targets
    assert targets["ensembl_id"].to_list() == sorted([TIGIT, SPP1, TNFSF11])  # unknown id absent
    tigit = _row(targets, TIGIT)
    assert tigit["lof_oe_upper"] == 1.13 and tigit["is_essential"] is False
    assert tigit["subcellular_locations"] == ["Cell membrane"]  # two sources, one location
    spp1 = _row(targets, SPP1)
    assert spp1["is_essential"] is None and spp1["lof_oe_upper"] is None  # no lof constraint
    assert (spp1["n_chemical_probes"], spp1["n_chemical_probes_hq"], spp1["has_tep"]) == (
        2,
        1,
        True,
    )


def test_tractability_flags_clinical_precedence_buckets():
    tract = _tables().tractability
    tigit = tract.filter(pl.col("ensembl_id") == TIGIT)
    clinical = tigit.filter(pl.col("clinical_precedence"))["label"].unique().sort().to_list()
    assert clinical == ["Advanced Clinical", "Approved Drug", "Phase 1 Clinical"]
    assert tract.schema["modality"] == pl.Enum(["SM", "AB", "PR", "OC"])


def test_safety_and_prioritisation_are_typed():
    tables = _tables()
    safety = tables.safety.filter(pl.col("ensembl_id") == TNFSF11)
    assert safety.height == 2 and safety["event_id"].null_count() == 1
    assert safety.filter(pl.col("event") == "hypocalcaemia")["directions"].to_list() == [
        ["Inhibition/Decrease/Downregulation"]
    ]
    prio = tables.prioritisation.filter(pl.col("ensembl_id") == SPP1)
    assert dict(prio.select("key", "value").iter_rows()) == {
        "isInMembrane": 0.0,
        "isSecreted": 1.0,
        "maxClinicalTrialPhase": 0.0,
    }


def test_clinical_stage_is_an_ordered_category():
    clinical = _tables().clinical_candidates
    assert clinical.schema["max_stage"] == pl.Enum(CLINICAL_STAGES)
    tigit = clinical.filter(pl.col("ensembl_id") == TIGIT).sort("stage_rank")
    assert tigit["max_stage"].cast(pl.String).to_list() == ["PHASE_2", "PHASE_3"]
    assert tigit["stage_rank"].to_list() == [6, 8]
    assert clinical.filter(pl.col("max_stage") > "PHASE_3")["ensembl_id"].to_list() == [TNFSF11]


def test_known_drugs_collapse_per_drug_and_map_phase_to_stage():
    tables = _tables("25.12")
    clinical = tables.clinical_candidates
    assert set(clinical["source_field"].cast(pl.String)) == {"knownDrugs"}
    assert _row(clinical, TNFSF11)["max_stage"] == "APPROVAL"  # phase 4 = approved
    assert clinical.filter(pl.col("ensembl_id") == TIGIT).height == 2  # 3 rows, 2 drugs
    nulls = [w for w in tables.warnings if w.kind == "null_disease"]
    assert [w.subject for w in nulls] == [f"{TIGIT}/CHEMBL9000002"]  # EFO_0000311 is retired


def test_both_releases_parse_to_the_same_tables_apart_from_the_drug_field():
    new, old = _tables("26.06"), _tables("25.12")
    for name in ("targets", "tractability", "safety", "prioritisation", "associations"):
        assert new.frames()[name].equals(old.frames()[name]), name
    strip = pl.col("source_field").cast(pl.String)
    assert new.clinical_candidates.drop("source_field").equals(
        old.clinical_candidates.drop("source_field")
    )
    assert new.clinical_candidates.select(strip.unique()).item() == "drugAndClinicalCandidates"


def test_unexpected_stage_counts_as_unknown_with_a_warning():
    records = _records("26.06")
    records[0]["drugAndClinicalCandidates"]["rows"][0]["maxClinicalStage"] = "PHASE_5"
    tables = _tables(records=records)
    assert "UNKNOWN" in tables.clinical_candidates["max_stage"].cast(pl.String).to_list()
    assert [w.kind for w in tables.warnings] == ["unknown_stage"]


def test_non_numeric_prioritisation_value_is_a_data_error():
    records = _records("26.06")
    records[0]["prioritisation"]["items"][0]["value"] = "high"
    with pytest.raises(DataError, match="prioritisation value is not a number"):
        _tables(records=records)


def test_schema_violation_names_the_table():
    records = _records("26.06")
    records[0]["tractability"][0]["modality"] = "XX"
    with pytest.raises(DataError, match="Open Targets tractability"):
        _tables(records=records)


def test_feature_columns_and_dtypes_are_exactly_the_declared_slots():
    features = opentargets_features(_tables())
    assert features.columns == ["ensembl_id", *OPENTARGETS_FEATURE_COLUMNS]
    for name, dtype in OPENTARGETS_FEATURE_COLUMNS.items():
        assert features.schema[name] == dtype, name
    assert set(OPENTARGETS_LEAKAGE_FEATURES) <= set(OPENTARGETS_FEATURE_COLUMNS)
    assert {"ot_tract_clinical", "ot_max_clinical_stage", "ot_n_clinical_drugs"} <= set(
        OPENTARGETS_LEAKAGE_FEATURES
    )
    assert not any(c.endswith("_nonclinical") for c in OPENTARGETS_LEAKAGE_FEATURES)


def test_features_for_tigit():
    f = _row(opentargets_features(_tables()), TIGIT)
    assert f["ot_tract_ab_nonclinical"] is True
    assert f["ot_tract_sm_nonclinical"] is False and f["ot_tract_pr_nonclinical"] is False
    assert f["ot_tract_oc_nonclinical"] is None  # OC lists only clinical buckets
    assert f["ot_tract_clinical"] is True
    assert (f["ot_safety_event_count"], f["ot_is_essential"], f["ot_lof_oe_upper"]) == (
        1,
        False,
        1.13,
    )
    assert (f["ot_chemical_probes_hq"], f["ot_n_pathways"], f["ot_mouse_phenotype_count"]) == (
        0,
        0,
        2,
    )
    assert f["ot_prio_isInMembrane"] == 1.0 and f["ot_prio_hasPocket"] == 0.0
    assert f["ot_prio_isCancerDriverGene"] is None  # key absent: no value, not 0
    assert (f["ot_max_clinical_stage"], f["ot_n_clinical_drugs"]) == (8, 2)
    assert (f["ot_assoc_cancer"], f["ot_assoc_cancer_nonclinical"]) == (0.62, 0.4)
    assert (f["ot_assoc_lung"], f["ot_assoc_lung_nonclinical"]) == (0.55, 0.12)
    assert f["ot_assoc_breast"] is None and f["ot_assoc_breast_nonclinical"] is None


def test_features_never_invent_zero_for_missing_evidence():
    f = _row(opentargets_features(_tables()), SPP1)
    assert f["ot_is_essential"] is None and f["ot_lof_oe_upper"] is None
    assert f["ot_tract_oc_nonclinical"] is None  # OC not assessed at all
    assert f["ot_max_clinical_stage"] is None and f["ot_n_clinical_drugs"] == 0
    assert f["ot_safety_event_count"] == 0  # a returned target with no liabilities listed
    assert (f["ot_assoc_breast"], f["ot_assoc_breast_nonclinical"]) == (0.31, 0.3)
    assert f["ot_assoc_cancer"] is None


def test_nonclinical_association_leaves_out_clinical_and_known_drug():
    f = _row(opentargets_features(_tables()), TNFSF11)
    assert (f["ot_assoc_cancer"], f["ot_assoc_cancer_nonclinical"]) == (0.7, 0.35)
    assert (f["ot_assoc_prostate"], f["ot_assoc_prostate_nonclinical"]) == (0.41, 0.22)
    assert f["ot_max_clinical_stage"] == CLINICAL_STAGES.index("APPROVAL") == 10


def test_a_retired_disease_slot_gives_null_features_not_zero():
    plan = disease_specs({"cancer": "EFO_0000311"})
    diseases, warnings = resolve_disease_plan(plan, {}, {}, source="test")
    assert [w.kind for w in warnings if w.subject == "EFO_0000311"] == ["null_disease"]
    features = opentargets_features(_tables(diseases=diseases))
    assert features["ot_assoc_cancer"].null_count() == features.height


def test_recorded_responses_match_what_the_fake_answers_now(shared):
    """The committed synthetic responses stay in step with the schema-executing fake."""
    from support.ot_fake import record_responses

    for release in ("26.06", "25.12"):
        recorded = json.loads(recorded_response_path(release).read_text())
        assert recorded == json.loads(json.dumps(record_responses(shared, release))), release


def test_seed_targets_carry_real_ids_and_symbols():
    """Seeds use real Ensembl ids and symbols (only their values are synthetic)."""
    from support.ot_synthetic import SEED_TARGETS

    from targetrank.resolver import resolve

    result = resolve([ensembl_id for ensembl_id, _, _ in SEED_TARGETS])
    assert result.symbols == [symbol for _, symbol, _ in SEED_TARGETS]
