"""Genome-wide precedence labels."""

from __future__ import annotations

import polars as pl

import targetrank as t


def test_known_positives_and_negatives():
    labels = t.precedence_labels()
    by = {r["symbol"]: r for r in labels.iter_rows(named=True)}
    assert by["PDCD1"]["approved_drug_target"] and by["PDCD1"]["precedence"]
    assert by["TNFSF11"]["approved_drug_target"]  # denosumab
    assert by["CXCR4"]["approved_drug_target"]  # plerixafor
    assert not by["TIGIT"]["precedence"]  # no approved drug, not in the druggable genome
    assert "denosumab" in by["TNFSF11"]["approved_drugs_2016"]


def test_label_counts_are_plausible():
    labels = t.precedence_labels()
    positives = labels["precedence"].sum()
    assert 1_000 < positives < 3_000
    assert labels.filter(pl.col("approved_drug_target"))["precedence"].all()
    assert labels["entrez_id"].is_unique().all()
