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


def test_weighted_contributions_match_an_independent_computation(context, rows):
    """Each contribution is weight x normalised value / (sum of the weights with a value).

    Recomputed here from the raw genome-wide feature table (mid-rank percentile for numbers, the
    value itself for flags, 1 - percentile for prefer="low"), not from the scorer's own numbers.
    """
    from targetrank.strategies import Weight

    spec = {
        "gnomad_pli": 0.8,
        "is_surface": 0.5,
        "hpa_blood_t_reg": Weight("hpa_blood_t_reg", 0.3, "low"),
    }
    strategy = context.strategies.ids[0]
    scorer = WeightedScorer({s: spec for s in context.strategies.ids}).fit(context)
    part = rows.filter(pl.col("strategy") == strategy)
    result = scorer.score(part)
    genome = context.features
    expected = {}
    for feature, w in spec.items():
        weight, low = (w.weight, w.prefer == "low") if isinstance(w, Weight) else (w, False)
        ref = genome[feature].cast(pl.Float64).drop_nulls().to_numpy()
        raw = part[feature].cast(pl.Float64).to_numpy()
        if set(np.unique(ref)) <= {0.0, 1.0}:
            norm = raw.copy()
        else:
            norm = np.array([((ref < v).sum() + (ref <= v).sum()) / 2 / ref.size for v in raw])
            norm[np.isnan(raw)] = np.nan
        expected[feature] = (weight, 1 - norm if low else norm)
    present = sum(np.where(np.isnan(n), 0.0, w) for w, n in expected.values())
    total = np.zeros(part.height)
    for feature, (weight, norm) in expected.items():
        want = np.where(np.isnan(norm), 0.0, weight * norm / present)
        got = result.contributions[:, result.feature_names.index(feature)]
        assert np.allclose(got, want), feature
        total += want
    assert np.allclose(result.scores, total)
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
