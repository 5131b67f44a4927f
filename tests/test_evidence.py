"""The evidence base and its graded relevance scale."""

from __future__ import annotations

import polars as pl
import pytest

import targetrank as t
from targetrank.errors import DataError
from targetrank.evidence import CURATION, build_evidence, relevance_grade
from targetrank.strategies import STRATEGY_IDS


@pytest.fixture(scope="module")
def ev() -> pl.DataFrame:
    return t.evidence()


def test_rows_in_all_five_strategies(ev):
    assert set(ev["strategy"]) == set(STRATEGY_IDS)


def test_has_approved_failed_and_preclinical_targets(ev):
    assert (ev["grade"] >= 6).any()
    assert ev["failed_phase3"].any()
    assert (ev["stage"] == "PRECLINICAL").any()


def test_every_row_is_a_resolved_gene_with_citations_column(ev):
    assert ev["entrez_id"].null_count() == 0
    assert ev["ensembl_id"].null_count() == 0
    assert ev.select(pl.struct("symbol", "strategy").is_unique().all()).item()


def test_grade_scale_orders_stages():
    g = relevance_grade
    assert g("APPROVED_BONE", "APPROVED_BONE", False) == 7
    assert g("APPROVED_ONCOLOGY", "APPROVED_ONCOLOGY", False) == 6
    # a failed phase 3 is graded below an ongoing phase 2, above phase 1
    assert g("PHASE_3", "PHASE_3", True) < g("PHASE_2", "PHASE_2", False)
    assert g("PHASE_3", "PHASE_3", True) > g("PHASE_1", "PHASE_1", False)
    assert g("PHASE_3", "PHASE_3", False) > g("PHASE_2", "PHASE_2", False)
    # approval for a bone indication is highest; approval elsewhere lifts an early programme
    assert g("APPROVED_OTHER", "PHASE_2", False) == 5
    assert g("APPROVED_BONE", "APPROVED_BONE", True) == 7
    assert g("NONE", "NONE", False) == 0


def test_grade_rejects_unknown_stage():
    with pytest.raises(DataError, match="Unknown clinical stage"):
        relevance_grade("PHASE_9", "PHASE_2", False)


def test_seed_panel_facts(ev):
    def grade(symbol, strategy):
        return ev.filter((pl.col("symbol") == symbol) & (pl.col("strategy") == strategy))["grade"][
            0
        ]

    assert grade("TNFSF11", "bone_resident") == 7  # denosumab, skeletal events
    assert grade("TIGIT", "checkpoint_combination") == 3  # repeated phase 3 failures
    assert grade("DKK1", "bone_resident") == 4  # DKN-01 phase 2
    assert grade("SPP1", "bone_resident") == 1  # preclinical in oncology


def test_edited_grade_inconsistent_with_stage_is_refused(tmp_path):
    from importlib import resources

    src = resources.files("targetrank.data").joinpath("evidence.tsv").read_text("utf-8")
    lines = src.splitlines()
    header = lines[0].split("\t")
    cells = lines[1].split("\t")
    cells[header.index("grade")] = "6"
    path = tmp_path / "evidence.tsv"
    path.write_text("\n".join([lines[0], "\t".join(cells), *lines[2:]]) + "\n")
    with pytest.raises(DataError, match="grade does not match"):
        t.evidence(path)


@pytest.mark.shared
def test_rebuild_from_kb_matches_packaged_file(shared):
    from importlib import resources

    from targetrank.sources.local import read_evidence_kb

    rebuilt, log = build_evidence(read_evidence_kb(shared))
    packaged = resources.files("targetrank.data").joinpath("evidence.tsv").read_text("utf-8")
    assert rebuilt.write_csv(separator="\t") == packaged
    assert len(log) == len(CURATION)
    kb_rows = read_evidence_kb(shared).height
    dropped = sum(c.action == "drop" for c in CURATION)
    assert rebuilt.height == kb_rows - dropped
