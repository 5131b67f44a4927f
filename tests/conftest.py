"""Shared fixtures: the ../shared folder (skip when absent) and a CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from targetrank.paths import shared_dir as find_shared
from tests.support.rankers import TINY


@pytest.fixture(scope="session")
def shared() -> Path:
    """The real ../shared source-data folder; tests needing it skip with a reason when absent."""
    root = find_shared(required=False)
    if root is None:
        pytest.skip(
            "../shared (real source data) is not beside the checkout; set TARGETRANK_SHARED"
        )
    return root


@pytest.fixture(scope="session", autouse=True)
def session_model_cache(tmp_path_factory):
    """One model cache for the session: tests that train the same models train them once.

    Every lookup is still keyed by everything the models depend on, so a test that changes an
    input trains its own models; tests of training itself call ``fit`` (never cached) or pass
    ``--no-cache``. Tests that set TARGETRANK_CACHE_DIR themselves get their own cache.
    """
    folder = tmp_path_factory.mktemp("model-cache")
    before = os.environ.get("TARGETRANK_CACHE_DIR")
    os.environ["TARGETRANK_CACHE_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("TARGETRANK_CACHE_DIR", None)
    else:
        os.environ["TARGETRANK_CACHE_DIR"] = before


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def context():
    """A scoring context over the embedded snapshot (real data)."""
    import targetrank as t
    from targetrank.model.scoring import ScoringContext
    from targetrank.strategy_file import load_strategies

    strategies = load_strategies()
    seeds = t.resolve(list(strategies.seed_panel)).targets["entrez_id"].to_list()
    return ScoringContext(
        t.load_features(), strategies, t.evidence(), t.precedence_labels(), seeds, seed=0
    )


@pytest.fixture(scope="session")
def small() -> dict:
    """A small (fast) ranker configuration for tests."""
    return {"n_repeats": 1, "n_refits": 2, "prior_folds": 3, "n_folds": 4}


@pytest.fixture(scope="session")
def fitted(context, session_model_cache):
    """The default LightGBM ranker, through the session model cache: the default runs of the
    CLI and library tests (test_cli_rank, test_readme, test_ranker_v2) train it once a session
    and every user of this fixture reads it."""
    from targetrank.model.cache import ModelCache, fit_cached
    from targetrank.model.lightgbm_scorer import LightGBMScorer

    scorer = LightGBMScorer()
    fit_cached(scorer, context, ModelCache(session_model_cache / "models"))
    return scorer


@pytest.fixture(scope="session")
def tiny() -> dict:
    """A tiny ranker configuration (seconds to train) for tests that must train themselves
    (determinism, leakage): their claims do not depend on the models' size."""
    return dict(TINY)
