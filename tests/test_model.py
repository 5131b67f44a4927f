"""The LightGBM ranker: leakage-free out-of-fold scores, explanations, determinism."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from targetrank.errors import ModelError
from targetrank.model.leakage import LeakageError, check_no_leakage, leakage_features
from targetrank.model.lightgbm_scorer import LightGBMScorer
from targetrank.model.precedence_classifier import PrecedenceClassifier
from targetrank.model.prior import fit_prior
from targetrank.model.strategy_ranker import StrategyRanker


# -------------------------------------------------------------------------- leakage guard
@pytest.mark.parametrize(
    "feature",
    [
        "ot_max_clinical_stage",
        "ot_tract_clinical",
        "ot_prio_maxClinicalTrialPhase",
        "ot_n_clinical_drugs",
        "ot_assoc_cancer",
        "drugcentral_member",
        "druggable_tier1",
        "my_max_clinical_phase",
        "tract_Advanced_Clinical",
    ],
)
def test_leaky_features_are_refused_by_name(feature):
    with pytest.raises(LeakageError) as err:
        check_no_leakage(["is_surface", feature], labels="clinical-evidence")
    assert f"'{feature}'" in err.value.message
    assert err.value.exit_code == 6


def test_non_clinical_features_pass():
    check_no_leakage(["is_surface", "gnomad_pli", "ot_assoc_cancer_nonclinical"], labels="x")
    assert leakage_features(["ot_tract_sm_nonclinical", "hpa_blood_t_reg"]) == []


def test_ranker_refuses_a_requested_leaky_feature(context, small):
    with pytest.raises(LeakageError, match="ot_max_clinical_stage"):
        LightGBMScorer(**small, features=["is_surface", "ot_max_clinical_stage"]).fit(context)


def test_prior_refuses_a_requested_leaky_feature(context):
    with pytest.raises(LeakageError, match="ot_tract_clinical"):
        fit_prior(context.features, context.labels, requested=["is_surface", "ot_tract_clinical"])


def test_leaky_columns_never_reach_the_model_even_with_values(context):
    # a feature table that does carry a clinical column: it must be refused, not used
    features = context.features.with_columns(
        pl.col("entrez_id")
        .is_in(context.labels.filter("precedence")["entrez_id"].implode())
        .cast(pl.Int64)
        .alias("ot_max_clinical_stage")
    )
    # 30 trees: a used leak would still give ~1.0, and the refusal happens before fitting
    result = fit_prior(features, context.labels, n_folds=3, params={"n_estimators": 30})
    assert "ot_max_clinical_stage" not in result.selection.used
    assert "leakage" in result.selection.refused["ot_max_clinical_stage"]
    assert result.metrics["model"]["roc_auc"] < 0.99  # a leak would make it ~1.0


# ------------------------------------------------------------------- estimator conventions
def test_estimators_follow_sklearn_conventions():
    for est in (PrecedenceClassifier(n_estimators=7), StrategyRanker(n_estimators=7)):
        params = est.get_params()
        assert clone(est).get_params() == params
        with pytest.raises(NotFittedError):
            est.predict_proba(np.zeros((2, 3))) if isinstance(
                est, PrecedenceClassifier
            ) else est.predict(np.zeros((2, 3)))
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 4)), rng.integers(0, 3, 60)
    ranker = StrategyRanker(n_estimators=10, min_child_samples=2)
    assert ranker.fit(X, y, group=[30, 30]) is ranker
    assert ranker.n_features_in_ == 4 and hasattr(ranker, "model_")


def test_ranker_is_deterministic_for_a_seed():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(80, 5)), rng.integers(0, 4, 80)
    a = StrategyRanker(n_estimators=20, random_state=3).fit(X, y, group=[40, 40]).predict(X)
    b = StrategyRanker(n_estimators=20, random_state=3).fit(X, y, group=[40, 40]).predict(X)
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    ("group", "labels", "message"),
    [
        ([30, 20], None, "groups do not match"),
        ([59, 1], None, "fewer than 2 rows"),
        ([30, 30], "negative", "non-negative integers"),
        ([30, 30], "huge", "has no gain"),
    ],
)
def test_ranker_checks_groups_and_labels_up_front(group, labels, message):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), rng.integers(0, 3, 60)
    if labels == "negative":
        y[0] = -1
    if labels == "huge":
        y[0] = 40
    with pytest.raises(ModelError, match=message):
        StrategyRanker(n_estimators=5, label_gain=list(range(8))).fit(X, y, group=group)


def test_rankers_fitted_at_once_with_different_top_grades_agree_with_one_by_one():
    """LightGBM keeps lambdarank's label gains in one process-wide table: rankers trained two at
    a time must not step on each other's gains when one sees grades up to 7 and another (a
    bootstrap sample without a grade-7 target) only up to 6 ("Label 7 is not less than the
    number of label mappings" before the default gain table had one length)."""
    from targetrank.evidence import MAX_GRADE
    from targetrank.model.lightgbm_runtime import fit_in_threads
    from targetrank.model.strategy_ranker import GAIN_LEVELS

    assert GAIN_LEVELS == MAX_GRADE + 1
    rng = np.random.default_rng(3)
    data = []
    for top in [7, 6] * 12:
        X = rng.normal(size=(400, 6))
        y = np.minimum((X[:, 0] * 2 + 3 + rng.normal(size=400)).astype(int).clip(0), top)
        y[0] = top
        data.append((X, y))

    def fit(X, y):
        return StrategyRanker(n_estimators=30).fit(X, y, group=[200, 200]).to_string()

    together = fit_in_threads([lambda X=X, y=y: fit(X, y) for X, y in data])
    assert together == [fit(X, y) for X, y in data]


def _two_strategies(seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Synthetic rows of two strategies (A, B): four features and the two indicator columns.

    A's labels rise with feature 0 and B's fall with it: shared trees too small to split on
    the indicators cannot serve both, so a strategy's own trees have something to learn."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(240, 6))
    X[:, 4], X[:, 5] = np.repeat([1.0, 0.0], 120), np.repeat([0.0, 1.0], 120)
    y = np.where(X[:, 4] == 1, X[:, 0] > 1.0, X[:, 0] < -1.0).astype(np.int64) * 3
    names = ["f0", "f1", "f2", "f3", "strategy_is_A", "strategy_is_B"]
    return X, y, names


def test_a_strategys_own_trees_move_its_rows_only():
    """The point of own trees: what one strategy's labels add never moves another strategy."""
    X, y, names = _two_strategies()
    small = {"n_estimators": 5, "num_leaves": 2}
    shared = StrategyRanker(**small).fit(X, y, group=[120, 120], feature_names=names)
    own = StrategyRanker(**small, own_trees={"strategy_is_A": 15}).fit(
        X, y, group=[120, 120], feature_names=names
    )
    a, b = X[:, 4] == 1, X[:, 5] == 1
    assert set(own.own_boosters_) == {"strategy_is_A"}
    assert np.array_equal(own.predict(X)[b], shared.predict(X)[b])
    assert not np.allclose(own.predict(X)[a], shared.predict(X)[a])

    # and they learn A's own signal: on new rows, A's positives rank higher among A's rows
    X_new, y_new, _ = _two_strategies(7)
    a_new = X_new[:, 4] == 1

    def positives_mean_rank(model):
        scores = model.predict(X_new)[a_new]
        return (-scores).argsort().argsort()[y_new[a_new] > 0].mean()

    assert positives_mean_rank(own) < positives_mean_rank(shared)


def test_own_trees_survive_the_text_format_and_sum_into_contributions():
    X, y, names = _two_strategies(1)
    params = {"n_estimators": 20, "own_trees": {"strategy_is_A": 10, "strategy_is_B": 10}}
    ranker = StrategyRanker(**params).fit(X, y, group=[120, 120], feature_names=names)
    assert set(ranker.own_boosters_) == {"strategy_is_A", "strategy_is_B"}
    again = StrategyRanker.from_string(ranker.to_string(), feature_names=names, params=params)
    assert np.array_equal(again.predict(X), ranker.predict(X))
    assert again.to_string() == ranker.to_string()
    assert np.allclose(ranker.explain(X).sum(axis=1), ranker.predict(X), atol=1e-9)


def test_own_trees_for_a_strategy_the_rows_do_not_flag_are_refused():
    X, y, names = _two_strategies()
    ranker = StrategyRanker(n_estimators=5, own_trees={"strategy_is_C": 5})
    with pytest.raises(ModelError, match="strategy_is_C"):
        ranker.fit(X, y, group=[120, 120], feature_names=names)


def test_changing_one_strategys_own_trees_leaves_the_others_scores(context, tiny):
    """Through the whole scorer (folds, draws, refits): a strategy file that changes one
    strategy's own trees changes that strategy's scores and no other's."""
    from dataclasses import replace

    def with_own(trees: int):
        strategies = replace(
            context.strategies,
            strategies=tuple(
                replace(s, own_trees=trees) if s.id == "bone_resident" else s
                for s in context.strategies
            ),
        )
        return replace(context, strategies=strategies)

    genes = context.evidence["entrez_id"].unique().to_list()[:40]
    scores = {}
    for trees in (0, 20):
        ctx = with_own(trees)
        rows = ctx.rows(genes)
        scores[trees] = (rows["strategy"], LightGBMScorer(**tiny).fit(ctx).score(rows).scores)
    strategy = scores[0][0].to_numpy()
    bone = strategy == "bone_resident"
    assert np.array_equal(scores[0][1][~bone], scores[20][1][~bone])
    assert not np.allclose(scores[0][1][bone], scores[20][1][bone])


def test_a_strategy_the_ranker_does_not_learn_is_ranked_by_its_strategy_file(context, tiny):
    """``learn = false``: the strategy's rows stay out of the training tables (the others keep
    their own draws), its genes are scored by their strategy-file score, which is the whole of
    their contribution, and no model saw any of its labels."""
    from dataclasses import replace

    from targetrank.features.strategy import STRATEGY_SCORE
    from targetrank.model.training import build_training_tables

    off = "bone_targeted_delivery"
    strategies = replace(
        context.strategies,
        strategies=tuple(replace(s, learn=False) if s.id == off else s for s in context.strategies),
    )
    ctx = replace(context, strategies=strategies)
    args = (context.evidence, context.features, context.seed_entrez)
    before = build_training_tables(args[0], context.strategies, *args[1:], seed=0)[0]
    after = build_training_tables(args[0], strategies, *args[1:], seed=0)[0]
    assert off not in after.strategies and off not in after.rows["strategy"].to_list()
    same = before.rows.filter(pl.col("strategy") != off)
    assert after.rows.equals(same)  # every other strategy keeps its draw, row for row
    scorer = LightGBMScorer(**tiny).fit(ctx)
    genes = context.evidence["entrez_id"].unique().to_list()[:30]
    rows = ctx.rows(genes)
    result = scorer.score(rows)
    mine = (rows["strategy"] == off).to_numpy()
    expected = rows[STRATEGY_SCORE].fill_null(0.0).to_numpy()
    assert np.array_equal(result.scores[mine], expected[mine])
    assert np.allclose(result.contributions.sum(axis=1), result.scores, atol=1e-6)
    k = result.feature_names.index(STRATEGY_SCORE)
    assert np.array_equal(result.contributions[mine, k], expected[mine])
    assert result.out_of_fold[mine].all()
    assert np.array_equal(scorer.point_scores(rows)[mine], expected[mine])
    assert not np.array_equal(result.scores[~mine], expected[~mine])  # the others: the model
    assert scorer.card()["level2_ranker"]["strategy_file_only"] == [off]


def test_a_strategy_without_evidence_can_be_ranked_by_its_file_beside_the_model(context, tiny):
    """A user's new strategy has no evidence yet: the ranker refuses to learn it and says how
    to rank it anyway; with learn = false it is ranked by its weights and the others by the
    model."""
    from dataclasses import replace

    off = "bone_targeted_delivery"
    bare = replace(context, evidence=context.evidence.filter(pl.col("strategy") != off))
    with pytest.raises(ModelError) as err:
        LightGBMScorer(**tiny).fit(bare)
    assert off in err.value.message and "learn = false" in str(err.value)
    strategies = replace(
        bare.strategies,
        strategies=tuple(replace(s, learn=False) if s.id == off else s for s in bare.strategies),
    )
    scorer = LightGBMScorer(**tiny).fit(replace(bare, strategies=strategies))
    rows = replace(bare, strategies=strategies).rows(context.seed_entrez)
    assert np.isfinite(scorer.score(rows).scores).all()
    # with nothing left to learn the ranker says so rather than failing inside polars
    none = replace(
        bare.strategies, strategies=tuple(replace(s, learn=False) for s in bare.strategies)
    )
    with pytest.raises(ModelError, match="every strategy sets learn = false"):
        LightGBMScorer(**tiny).fit(replace(bare, strategies=none))


# ----------------------------------------------------------------------- out-of-fold scores
def test_contributions_sum_to_scores(fitted, context):
    rows = context.rows(context.evidence["entrez_id"].unique().to_list()[:20])
    result = fitted.score(rows)
    assert np.allclose(result.contributions.sum(axis=1), result.scores, atol=1e-6)
    assert result.contributions.shape[1] == len(result.feature_names) + 1


def test_evidence_targets_are_scored_out_of_fold(fitted, context):
    rows = context.rows(context.evidence["entrez_id"].unique().to_list())
    assert fitted.score(rows).out_of_fold.all()
    # genes in no background draw's training table are scored by whole-table models only
    trained = set().union(*fitted.fold_of_)
    outside = context.features.filter(~pl.col("entrez_id").is_in(list(trained))).head(5)
    assert not fitted.score(context.rows(outside["entrez_id"].to_list())).out_of_fold.any()
    drawn_later = sorted(trained - set(fitted.training_.rows["entrez_id"]))[:5]
    assert drawn_later  # background of draws 1.. only: out-of-fold there
    assert fitted.score(context.rows(drawn_later)).out_of_fold.all()


@pytest.fixture(scope="module")
def trained(context, tiny):
    """A tiny ranker trained here (never from a cache): the determinism and leakage tests
    compare fresh fits."""
    return LightGBMScorer(**tiny).fit(context)


def test_same_seed_same_scores(trained, context, tiny):
    again = LightGBMScorer(**tiny).fit(context)
    rows = context.rows(context.evidence["entrez_id"].unique().to_list()[:15])
    a, b = trained.score(rows), again.score(rows)
    assert np.array_equal(a.scores, b.scores)
    assert np.array_equal(a.replicates, b.replicates)


def test_flipping_a_targets_labels_does_not_move_its_own_scores(trained, context, tiny):
    """The core leakage test: a target's reported scores never used its own labels."""
    from dataclasses import replace

    target = context.evidence.filter(pl.col("symbol") == "TNFSF11")["entrez_id"][0]
    flipped_evidence = context.evidence.with_columns(
        pl.when(pl.col("entrez_id") == target).then(1).otherwise(pl.col("grade")).alias("grade")
    )
    assert not flipped_evidence.equals(context.evidence)
    flipped = LightGBMScorer(**tiny).fit(replace(context, evidence=flipped_evidence))
    own = context.rows([target])
    assert np.array_equal(trained.score(own).scores, flipped.score(own).scores)
    # ...while other targets' scores do move (the labels were really used)
    others = context.rows(context.evidence["entrez_id"].unique().to_list())
    assert not np.array_equal(trained.score(others).scores, flipped.score(others).scores)


def test_fitting_and_scoring_do_not_fit_the_unused_prior(context, tiny, monkeypatch):
    """The level-1 prior only feeds the model card when level 2 does not use it (the
    default): fitting and scoring skip it, the card fits it on first use."""
    import targetrank.model.lightgbm_scorer as ranker

    fits = []
    real = ranker.plan_prior
    monkeypatch.setattr(ranker, "plan_prior", lambda *a, **k: fits.append(1) or real(*a, **k))
    scorer = LightGBMScorer(**{**tiny, "n_refits": 0}).fit(context)
    scorer.score(context.rows(context.seed_entrez))
    assert fits == []
    assert scorer.card()["level1_prior"]["metrics"]["genes"] == context.features.height
    assert fits == [1]


def test_models_fitted_in_threads_equal_models_fitted_one_by_one(context, tiny, monkeypatch):
    """Fits run two at a time (and the prior's folds beside the level-2 models when a run
    writes a model card): every model, and the prior, is the one a sequential fit gives."""
    import targetrank.model.lightgbm_runtime as runtime

    settings = {**tiny, "n_refits": 1}
    threaded = LightGBMScorer(**settings).fit(context, with_prior=True)
    monkeypatch.setattr(runtime, "_cores", lambda: 1)
    sequential = LightGBMScorer(**settings).fit(context)
    assert threaded.to_state() == sequential.to_state()
    assert threaded.prior_.table.equals(sequential.prior_.table)  # lazily fitted, one by one
    assert threaded.prior_.metrics == sequential.prior_.metrics


def test_training_table_groups(fitted):
    table = fitted.training_
    assert table.strategies == [
        "immune_subset",
        "checkpoint_combination",
        "bone_resident",
        "bone_targeted_delivery",
        "engineered_cell_therapy",
    ]
    assert sum(table.groups) == table.rows.height
    order = table.rows["strategy"].to_list()
    assert order == sorted(order, key=table.strategies.index)  # sorted by group
    assert table.rows["label"].min() >= 0 and table.rows["label"].max() <= 7
    roles = set(table.rows["role"])
    assert {"evidence", "seed", "background", "other_strategy"} <= roles


def test_prior_metrics_beat_random(fitted):
    m = fitted.prior_.metrics
    assert m["model"]["roc_auc"] > 0.8
    assert m["model"]["average_precision"] > m["random"]["average_precision"]
    assert m["positives"] > 1000


@pytest.mark.slow
def test_whole_genome_is_scored_in_one_run(trained, context):
    rows = context.rows()
    assert rows.height == context.features.height * 5
    result = trained.score(rows)
    assert result.scores.shape == (rows.height,)
    assert np.isfinite(result.scores).all()


def test_no_evidence_target_is_raised_before_the_prior_is_fitted(context, monkeypatch):
    """Input checks come before any model is fitted: no ~30 s prior fit before the error."""
    from dataclasses import replace

    import targetrank.model.lightgbm_scorer as ranker

    def never(*args, **kwargs):
        raise AssertionError("the level-1 prior was fitted before the inputs were checked")

    monkeypatch.setattr(ranker, "plan_prior", never)
    empty = context.strategies.ids[0]
    no_evidence = replace(context, evidence=context.evidence.filter(pl.col("strategy") != empty))
    with pytest.raises(ModelError, match="no evidence target"):
        ranker.LightGBMScorer(n_refits=0).fit(no_evidence, with_prior=True)


def test_n_bootstrap_is_a_deprecated_name_of_n_refits():
    """The ranker's bootstrap refits are ``n_refits``; the old name still works, with a warning."""
    from targetrank.model.lightgbm_scorer import RankerConfig

    with pytest.warns(DeprecationWarning, match="n_refits"):
        scorer = LightGBMScorer(n_bootstrap=3)
    assert scorer.config.n_refits == 3
    with pytest.warns(DeprecationWarning, match="n_refits"):
        assert RankerConfig(n_refits=4).n_bootstrap == 4
    assert "n_bootstrap" not in {f for f in vars(RankerConfig())}  # not a second setting
    with pytest.raises(ModelError, match="Unknown ranker option 'bootstrap'"):
        LightGBMScorer(bootstrap=3)
