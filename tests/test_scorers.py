"""Scorers share one protocol: LightGBM, weighted, popularity and custom callables."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from targetrank.errors import ModelError, UsageError
from targetrank.model.scoring import (
    CallableScorer,
    PopularityScorer,
    Scorer,
    WeightedScorer,
    as_scorer,
)


@pytest.fixture(scope="module")
def rows(context):
    return context.rows(context.evidence["entrez_id"].unique().to_list())


def test_weighted_contributions_sum_to_score(context, rows):
    result = WeightedScorer().fit(context).score(rows)
    assert np.allclose(result.contributions.sum(axis=1), result.scores)
    assert ((result.scores >= 0) & (result.scores <= 1)).all()


def test_weighted_prefer_low_flips_the_direction(context, rows):
    high = WeightedScorer({s: {"gnomad_pli": 1.0} for s in context.strategies.ids}).fit(context)
    from targetrank.strategies import Weight

    low = WeightedScorer(
        {s: {"gnomad_pli": Weight("gnomad_pli", 1.0, "low")} for s in context.strategies.ids}
    ).fit(context)
    a, b = high.score(rows).scores, low.score(rows).scores
    known = rows["gnomad_pli"].is_not_null().to_numpy()
    assert np.allclose(a[known] + b[known], 1.0)


def test_weighted_leaves_missing_values_out(context):
    # a gene with no HPA data: its score is the mean over the features it does have
    features = context.features
    missing = features.filter(pl.col("hpa_blood_t_reg").is_null()).head(1)
    rows = context.rows(missing["entrez_id"].to_list())
    scorer = WeightedScorer(
        {s: {"hpa_blood_t_reg": 1.0, "is_surface": 1.0} for s in context.strategies.ids}
    ).fit(context)
    result = scorer.score(rows)
    surface = float(rows["is_surface"][0])
    assert np.allclose(result.scores, surface)


def test_weighted_rejects_out_of_range_weights(context):
    with pytest.raises(UsageError, match="outside"):
        WeightedScorer({"immune_subset": {"is_surface": 1.5}}).fit(context)


def test_callable_scorer(context, rows):
    def surface_first(frame: pl.DataFrame) -> pl.Series:
        return frame["is_surface"].cast(pl.Float64)

    scorer = as_scorer(surface_first)
    assert isinstance(scorer, Scorer) and scorer.name == "surface_first"
    result = scorer.fit(context).score(rows)
    assert result.scores.tolist() == rows["is_surface"].cast(pl.Float64).to_list()


def test_callable_scorer_bad_output_is_a_model_error(rows):
    with pytest.raises(ModelError, match="unusable"):
        CallableScorer(lambda frame: [1.0]).score(rows)
    with pytest.raises(ModelError, match="failed"):
        CallableScorer(lambda frame: 1 / 0).score(rows)


def test_module_function_scorer_spec(tmp_path, monkeypatch, context, rows):
    (tmp_path / "my_scoring.py").write_text(
        "def by_pli(rows):\n    return rows['gnomad_pli'].fill_null(0.0)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    scorer = as_scorer("my_scoring:by_pli")
    assert scorer.score(rows).scores.shape == (rows.height,)


@pytest.mark.parametrize("spec", ["nonsense", "no_such_module:f", "targetrank:no_such"])
def test_unknown_scorer_specs(spec):
    with pytest.raises(UsageError):
        as_scorer(spec)


def test_popularity_scorer(rows):
    scores = PopularityScorer().score(rows).scores
    assert scores.tolist() == rows["pubmed_count_focused"].fill_null(0).cast(float).to_list()
