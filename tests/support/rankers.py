"""Ranker settings shared by tests (not fixtures: plain data a module may import)."""

#: A tiny ranker (seconds to train) for tests that must train their own models (determinism,
#: leakage, cache faults): their claims do not depend on the models' size.
TINY = {
    "n_repeats": 1,
    "n_refits": 2,
    "n_folds": 3,
    "prior_folds": 2,
    "n_background": 60,
    "prior_params": {"n_estimators": 25},
    "ranker_params": {"n_estimators": 25},
}
