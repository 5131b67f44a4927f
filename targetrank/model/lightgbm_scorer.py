"""``LightGBMScorer``, the default scorer: leakage-free out-of-fold scores and bootstrap rank intervals.

It fits the level-2 :class:`~targetrank.model.strategy_ranker.StrategyRanker` many times (and,
when asked, the level-1 prior of :mod:`.prior`).

Fitting does, in order:

1. **Level 1** (:mod:`.prior`): an out-of-fold genome-wide precedence probability per gene.
2. **Level 2 training tables** (:mod:`.training`): per strategy, its evidence targets (graded),
   the seed panel, other strategies' targets, known non-targets and a literature-matched
   background sample (label 0) — one table per background draw (positive-unlabelled bagging).
3. **Out-of-fold model sets**, one per repeat r = 1..R, each on its own background draw: the
   draw's targets are split into K folds *by target* (all of a target's rows, in every strategy,
   share a fold), plus a model on the draw's whole table. A row's score is the mean over the R
   sets of the one model that never saw its target: the fold model that left it out where the
   draw holds it, else the whole-table model. So no score reported for an evidence-base target
   used that target's labels in any strategy, and no single background sample decides a ranking.
4. **Bootstrap refits** (``n_refits`` = B): B replicates re-run step 3 once, each with its own
   background draw, shuffle and bootstrap-resampled training targets, giving each row B scores,
   hence rank intervals and P(top 10). (The evaluation's ``n_resamples`` is another bootstrap:
   of the evaluated targets.)

Contributions are LightGBM's exact TreeSHAP (``pred_contrib``), averaged over the same models as
the score, so they sum to it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from targetrank.errors import ModelError
from targetrank.features.strategy import NETWORK_SHARE, STRATEGY_SCORE
from targetrank.model.leakage import check_no_leakage
from targetrank.model.lightgbm_runtime import fit_in_threads
from targetrank.model.matrix import (
    MISSING_AS_TYPICAL,
    SELECTIVITY_REFUSAL,
    TUMOUR_SELECTIVITY,
    FeatureSelection,
    Fill,
    declared_refusal,
    select_model_features,
    to_matrix,
    typical_values,
)
from targetrank.model.prior import PRIOR_COLUMN, PriorPlan, PriorResult, plan_prior
from targetrank.model.protocol import ScoreResult, ScoringContext
from targetrank.model.rows import indicator_name
from targetrank.model.training import TrainingTable, build_training_tables

if TYPE_CHECKING:
    from targetrank.model.cache import ModelCache
    from targetrank.model.strategy_ranker import StrategyRanker


class StoredRanker:
    """A level-2 model read from the model cache, loaded into LightGBM on first use.

    A warm run reads every row it shows from the cached scored rows, so it never predicts: it
    then skips importing LightGBM and scikit-learn (~2.5 s of a ~8 s run) and parsing 138 model
    texts. Predictions, once loaded, are the stored model's bit for bit.
    """

    def __init__(self, text: str, feature_names: list[str], params: dict[str, Any]) -> None:
        self._text = text
        self._names = feature_names
        self._params = dict(params)
        self._model: StrategyRanker | None = None

    def loaded(self) -> StrategyRanker:
        """The :class:`~targetrank.model.strategy_ranker.StrategyRanker` (parsed once)."""
        if self._model is None:
            from targetrank.model.strategy_ranker import StrategyRanker

            self._model = StrategyRanker.from_string(
                self._text, feature_names=self._names, params=self._params
            )
        return self._model

    def predict(self, X: np.ndarray) -> np.ndarray:
        """See :meth:`StrategyRanker.predict`."""
        return self.loaded().predict(X)

    def explain(self, X: np.ndarray) -> np.ndarray:
        """See :meth:`StrategyRanker.explain`."""
        return self.loaded().explain(X)

    def to_string(self) -> str:
        """The stored model text (unchanged)."""
        return self._text

    def get_params(self) -> dict[str, Any]:
        """The stored hyper-parameters."""
        return dict(self._params)


if TYPE_CHECKING:
    #: A level-2 model: freshly fitted, or read from the model cache.
    Level2Model = StrategyRanker | StoredRanker


@dataclass
class RankerConfig:
    """Hyper-parameters of the whole procedure (recorded in the model card)."""

    n_folds: int = 5
    n_repeats: int = 6  # six draws: steadier lists, measured better over seeds 0-29 (0.9.0)
    n_refits: int = 20  # bootstrap refits: the rank intervals and P(top 10) (was n_bootstrap)
    n_background: int = 200
    prior_folds: int = 5
    cross_negatives: bool = True
    n_housekeeping: int = 20  # known non-targets per strategy (core-essential, ribosomal, MT)
    match_popularity: bool = True  # background matched to the positives' literature volume
    # positive-unlabelled bagging: each repeat and each bootstrap replicate trains on its own
    # background draw, and a gene's score averages the draws (less dependence on one sample)
    bag_background: bool = True
    # feed the level-1 precedence prior to level 2: off by default, because "looks like a 2016
    # drug target" carries the literature's fame into the ranking (see README, Ranker v2)
    use_prior: bool = False
    ranker_params: dict[str, Any] = field(default_factory=dict)
    prior_params: dict[str, Any] = field(default_factory=dict)
    features: list[str] | None = None  # restrict level-2 gene features (leaky ones refused)
    # gene features level 2 never reads, listed as refused in the model card: by default
    # DepMap's tumour-selectivity columns (see targetrank.model.matrix.TUMOUR_SELECTIVITY)
    exclude_features: list[str] = field(default_factory=lambda: list(TUMOUR_SELECTIVITY))
    # gene features whose missing values level 2 reads as the genome median instead of as a
    # gap the trees may route anywhere (see targetrank.model.matrix.MISSING_AS_TYPICAL)
    missing_as_typical: list[str] = field(default_factory=lambda: list(MISSING_AS_TYPICAL))

    @property
    def n_bootstrap(self) -> int:
        """Deprecated name of :attr:`n_refits` (the evaluation's resamples are another thing)."""
        warnings.warn(_RENAMED_MESSAGE, DeprecationWarning, stacklevel=2)
        return self.n_refits

    @n_bootstrap.setter
    def n_bootstrap(self, value: int) -> None:
        warnings.warn(_RENAMED_MESSAGE, DeprecationWarning, stacklevel=2)
        self.n_refits = value


EXCLUDED_REFUSAL = "left out by the ranker option exclude_features"


def exclusion_reason(column: str) -> str:
    """The model card's reason for a column the ranker option ``exclude_features`` leaves out."""
    return SELECTIVITY_REFUSAL if column in TUMOUR_SELECTIVITY else EXCLUDED_REFUSAL


def default_refusal(column: str) -> str:
    """Why the default ranker never learns from ``column`` ('' when it may, data permitting).

    The same order as the model's feature selection: the ranker's own exclusions, then what is
    declared (leakage guard, literature, ``model=False`` columns).
    """
    if column in RankerConfig().exclude_features:
        return exclusion_reason(column)
    return declared_refusal(column)


#: Ranker options renamed, old -> new: the old name still works, with a DeprecationWarning.
RENAMED_OPTIONS = {"n_bootstrap": "n_refits"}
_RENAMED_MESSAGE = (
    "the ranker option 'n_bootstrap' is now 'n_refits' (bootstrap refits of the ranker); "
    "'n_bootstrap' will be removed"
)


def _fold_lookup(fold_of: dict[int, int], target: np.ndarray) -> np.ndarray:
    """Fold of each row's target, -1 for targets outside the training set (vectorised)."""
    target = np.asarray(target, dtype=np.int64)
    if not fold_of:
        return np.full(len(target), -1, dtype=np.int64)
    keys = np.fromiter(fold_of.keys(), dtype=np.int64, count=len(fold_of))
    values = np.fromiter(fold_of.values(), dtype=np.int64, count=len(fold_of))
    order = np.argsort(keys)
    keys, values = keys[order], values[order]
    pos = np.minimum(np.searchsorted(keys, target), len(keys) - 1)
    return np.where(keys[pos] == target, values[pos], -1)


def _prior_state(prior: PriorResult) -> dict[str, Any]:
    from targetrank.model.cache import frame_to_text

    return {
        "table": frame_to_text(prior.table),
        "selection": prior.selection.as_dict(),
        "metrics": prior.metrics,
    }


def _prior_from_state(state: Mapping[str, Any]) -> PriorResult:
    from targetrank.model.cache import frame_from_text

    selection = state["selection"]
    return PriorResult(
        frame_from_text(state["table"]),
        FeatureSelection(list(selection["used"]), dict(selection["refused"])),
        state["metrics"],
    )


class LightGBMScorer:
    """Level 1 prior + level 2 lambdarank, scored out-of-fold (see the module docstring)."""

    name = "lightgbm"

    def __init__(self, config: RankerConfig | None = None, **overrides: Any) -> None:
        self.config = config or RankerConfig()
        for key, value in overrides.items():
            if key in RENAMED_OPTIONS:
                warnings.warn(
                    f"the ranker option '{key}' is now '{RENAMED_OPTIONS[key]}'; "
                    f"'{key}' will be removed",
                    DeprecationWarning,
                    stacklevel=2,
                )
                key = RENAMED_OPTIONS[key]
            if key not in {f.name for f in fields(self.config)}:
                raise ModelError(f"Unknown ranker option '{key}'", fix="see RankerConfig")
            setattr(self.config, key, value)

    def options(self) -> dict[str, Any]:
        """The settings that differ from the defaults, as JSON values (empty for the default).

        Recorded in a run's manifest (``scorer_options``) so that ``rerun`` rebuilds this
        ranker, not the default one.
        """
        default = asdict(RankerConfig())
        return {k: v for k, v in asdict(self.config).items() if v != default[k]}

    # ------------------------------------------------------------------------------ fitting
    def fit(
        self,
        context: ScoringContext,
        *,
        cache: ModelCache | None = None,
        with_prior: bool = False,
    ) -> LightGBMScorer:
        """Fit the prior, the out-of-fold models, the full model and the bootstrap ensemble.

        ``cache``: reuse (or store) the level-1 prior, which depends only on the feature table,
        the labels, the seed and the prior settings, so a changed strategy file keeps it.

        The prior is fitted here only when it feeds level 2 (``use_prior``); otherwise (the
        default) the model card's context metrics are its only use, and it is fitted the first
        time ``prior_`` is read (the card, the model cache, ``evaluate``): same numbers, and
        fitting and scoring alone skip it. ``with_prior=True`` (a run that writes a model card)
        fits it now, its folds in the same threads as the level-2 models, which keeps both
        cores busy to the end (a cold default run ~9 s faster here; same numbers).
        """
        cfg = self.config
        report = context.progress
        self.seed_ = context.seed
        self._context = context
        self.strategy_ids_ = context.strategies.ids
        from targetrank.features import REGISTRY

        if cfg.features is not None:
            check_no_leakage(cfg.features, labels="clinical-evidence (level 2)")
        defaults = {
            "exclude_features": TUMOUR_SELECTIVITY,
            "missing_as_typical": MISSING_AS_TYPICAL,
        }
        for option, exempt in defaults.items():
            names = list(getattr(cfg, option))
            known = {*context.features.columns, *REGISTRY.conditioned, *exempt}
            unknown = [c for c in names if c not in known]
            if unknown:
                raise ModelError(
                    f"Unknown feature in the ranker option {option}: {', '.join(unknown)}",
                    input=f"{option}={names}",
                    done="the ranker was not trained",
                    cause="a misspelt column name would otherwise be a silent no-op",
                    fix="use column names listed by `targetrank features list`",
                )

        # the training tables first: their checks (e.g. a strategy without evidence) fail in
        # milliseconds, before the genome-wide prior is fitted. One table per background draw:
        # repeat r trains on draw r, bootstrap replicate b on draw n_repeats + b
        n_draws = cfg.n_repeats + cfg.n_refits
        draws = range(n_draws) if cfg.bag_background else [0] * n_draws
        tables = build_training_tables(
            context.evidence,
            context.strategies,
            context.features,
            context.seed_entrez,
            n_background=cfg.n_background,
            seed=context.seed,
            cross_negatives=cfg.cross_negatives,
            n_housekeeping=cfg.n_housekeeping,
            match_on="pubmed_count_focused" if cfg.match_popularity else None,
            draws=draws,
        )
        self.training_: TrainingTable = tables[0]
        self._prior: PriorResult | None = None
        self._prior_cache = cache
        if cfg.use_prior:
            self._prior = self._fit_prior(context, cache)
        prior_plan = None
        if with_prior and self._prior is None:
            self._prior = self._cached_prior(context, cache)
            if self._prior is None:
                prior_plan = self._prior_plan(context)

        union = pl.concat([t.rows.select("strategy", "entrez_id") for t in tables]).unique(
            maintain_order=True
        )
        union_rows = self.rows_for(context, union)
        requested = None
        if cfg.features is not None:
            requested = [
                *cfg.features,
                *REGISTRY.conditioned,
                PRIOR_COLUMN,
                *[indicator_name(s) for s in self.strategy_ids_],
            ]
        exclude = ("strategy",) if cfg.use_prior else ("strategy", PRIOR_COLUMN)
        refuse = {c: exclusion_reason(c) for c in cfg.exclude_features}
        self.selection_: FeatureSelection = select_model_features(
            union_rows, requested=requested, exclude=exclude, refuse=refuse
        )
        self.feature_names_ = self.selection_.used
        unused = [
            c
            for c in cfg.missing_as_typical
            if c not in self.feature_names_ and c not in MISSING_AS_TYPICAL
        ]
        if unused:  # a refused column's gaps mean nothing to the model: say so, do not ignore
            why = [f"{c} ({self.selection_.refused.get(c, 'not selected')})" for c in unused]
            raise ModelError(
                "The ranker option missing_as_typical names features the model does not read: "
                + ", ".join(why),
                input=f"missing_as_typical={list(cfg.missing_as_typical)}",
                done="the ranker was not trained",
                cause="only a feature the model learns from has missing values to read",
                fix="name model features (the model card lists them under features.used)",
            )
        # medians over the whole feature table, so a gene's reading never depends on the sample
        typical = [c for c in cfg.missing_as_typical if c in self.feature_names_]
        conditioned = any(c not in context.features.columns for c in typical)
        self.fill_values_: dict[str, Fill] = typical_values(
            context.features, typical, context.rows() if conditioned else None
        )
        union_X = to_matrix(union_rows, self.feature_names_, self.fill_values_)
        position = {key: i for i, key in enumerate(union.iter_rows())}

        def arrays(table: TrainingTable) -> tuple[np.ndarray, ...]:
            rows = table.rows
            idx = [position[key] for key in rows.select("strategy", "entrez_id").iter_rows()]
            return (
                union_X[idx],
                rows["label"].to_numpy().astype(np.int64),
                rows["strategy"].to_numpy(),
                rows["entrez_id"].to_numpy(),
            )

        n_fits = (cfg.n_repeats + cfg.n_refits) * (cfg.n_folds + 1)
        # every fit's rows and seed are drawn first, in a fixed order (the random generators
        # are consumed exactly as one fit after another would); the fits then run in threads
        # (table arrays, row indices, model seed) per fit
        jobs: list[tuple[tuple[np.ndarray, ...], np.ndarray, tuple[int, ...]]] = []

        # out-of-fold model sets, one per background draw (repeat): K fold models grouped by
        # target, and a model on the whole table for the genes outside it
        self.fold_of_: list[dict[int, int]] = []
        for r in range(cfg.n_repeats):
            data = arrays(tables[r])
            target = data[3]
            fold_of = self._assign_folds(
                tables[r].targets, np.random.default_rng([context.seed, 1, r])
            )
            for k in range(cfg.n_folds):
                keep = np.flatnonzero([fold_of[t] != k for t in target])
                jobs.append((data, keep, (context.seed, r, k)))
            jobs.append((data, np.arange(len(target)), (context.seed, 99, r)))
            self.fold_of_.append(fold_of)

        # bootstrap refits: a new background draw, shuffle and resampled targets per replicate
        boot_folds: list[dict[int, int]] = []
        for b in range(cfg.n_refits):
            data = arrays(tables[cfg.n_repeats + b])
            target = data[3]
            targets = tables[cfg.n_repeats + b].targets
            rng = np.random.default_rng([context.seed, 2, b])
            fold_of = self._assign_folds(targets, rng)
            for k in range(cfg.n_folds):
                pool = np.array([t for t in targets if fold_of[t] != k])
                jobs.append((data, self._resample(target, pool, rng), (context.seed, 3, b, k)))
            jobs.append((data, self._resample(target, targets, rng), (context.seed, 4, b)))
            boot_folds.append(fold_of)

        def fit_one(
            data: tuple[np.ndarray, ...], idx: np.ndarray, seed: tuple[int, ...]
        ) -> StrategyRanker:
            X, y, strat, _ = data
            return self._fit(X[idx], y[idx], strat[idx], seed=seed)

        # the prior's folds (when asked for) go first: they are the longest fits
        prior_jobs = prior_plan.jobs if prior_plan is not None else []
        n_prior = len(prior_jobs)

        def done(n: int) -> None:
            if n <= n_prior:
                report("precedence prior", n, n_prior)
            else:
                report("strategy ranker", n - n_prior, n_fits)

        fitted = fit_in_threads([*prior_jobs, *(partial(fit_one, *spec) for spec in jobs)], done)
        if prior_plan is not None:
            self._prior = prior_plan.finish(fitted[:n_prior])
            self._store_prior(context, cache, self._prior)
        models = fitted[n_prior:]
        per_set = cfg.n_folds + 1
        sets = [models[i : i + per_set] for i in range(0, len(models), per_set)]
        self.oof_models_: list[list[Level2Model]] = [s[:-1] for s in sets[: cfg.n_repeats]]
        self.full_models_: list[Level2Model] = [s[-1] for s in sets[: cfg.n_repeats]]
        self.full_model_ = self.full_models_[0]
        self.boot_: list[tuple[dict[int, int], list[Level2Model], Level2Model]] = [
            (fold_of, s[:-1], s[-1])
            for fold_of, s in zip(boot_folds, sets[cfg.n_repeats :], strict=True)
        ]
        return self

    @property
    def prior_(self) -> PriorResult:
        """The level-1 prior (fitted on first use when level 2 does not use it)."""
        if getattr(self, "_prior", None) is None:
            if not hasattr(self, "_context"):
                raise AttributeError("prior_: the ranker is not fitted")
            self._prior = self._fit_prior(self._context, getattr(self, "_prior_cache", None))
        return self._prior

    @property
    def prior_map_(self) -> pl.DataFrame:
        """``entrez_id, prior_precedence`` for every gene."""
        return self.prior_.table

    def _uses_prior(self) -> bool:
        """Whether level 2 reads the prior (then rows must carry its column)."""
        return self.config.use_prior or PRIOR_COLUMN in getattr(self, "feature_names_", ())

    def _prior_key(self, context: ScoringContext) -> str:
        from targetrank.model import cache as mc

        cfg = self.config
        return mc.cache_key(
            {
                "part": "level-1 prior",
                "seed": context.seed,
                "prior_folds": cfg.prior_folds,
                "prior_params": cfg.prior_params,
                "features": mc.frame_digest(context.features),
                "labels": mc.frame_digest(context.labels),
                "leakage_guard": mc.leakage_guard(),
                "code": mc.code_digest(),
            }
        )

    def _cached_prior(
        self, context: ScoringContext, cache: ModelCache | None
    ) -> PriorResult | None:
        """The prior from its own cache key, or None (no cache, not stored, refused)."""
        if cache is None:
            return None
        key = self._prior_key(context)
        state = cache.load(key)
        if state is None:
            return None
        try:
            return _prior_from_state(state)
        except Exception as exc:  # a verified file that does not restore: refit
            cache.notice(f"model cache {key[:12]} refused: cannot restore ({exc}); retraining")
            return None

    def _store_prior(
        self, context: ScoringContext, cache: ModelCache | None, prior: PriorResult
    ) -> None:
        if cache is not None:
            cache.store(self._prior_key(context), _prior_state(prior))

    def _prior_plan(self, context: ScoringContext) -> PriorPlan:
        cfg = self.config
        return plan_prior(
            context.features,
            context.labels,
            seed=context.seed,
            n_folds=cfg.prior_folds,
            params=cfg.prior_params,
        )

    def _fit_prior(self, context: ScoringContext, cache: ModelCache | None) -> PriorResult:
        prior = self._cached_prior(context, cache)
        if prior is None:
            prior = self._prior_plan(context).run(context.progress)
            self._store_prior(context, cache, prior)
        return prior

    # ------------------------------------------------------------------------------ caching
    def cache_components(self, context: ScoringContext) -> dict[str, Any]:
        """What the fitted state depends on (hashed into the model cache key with the versions).

        The panel a run shows is not here: panels only select rows to score, never training rows.
        """
        from targetrank.model import cache

        return {
            "scorer": self.name,
            "config": asdict(self.config),
            "seed": context.seed,
            "features": cache.frame_digest(context.features),
            "labels": cache.frame_digest(context.labels),
            "evidence": cache.frame_digest(context.evidence),
            "strategies": cache.strategies_digest(context.strategies),
            "seed_entrez": [int(e) for e in context.seed_entrez],
            "leakage_guard": cache.leakage_guard(),
            "code": cache.code_digest(),
        }

    def to_state(self) -> dict[str, Any]:
        """The fitted state as JSON data: models in LightGBM's text format, frames as Arrow."""
        from targetrank.model.cache import frame_to_text

        if not hasattr(self, "full_models_"):
            raise ModelError("The ranker is not fitted", fix="call fit(context) first")

        def model(m: Level2Model) -> dict[str, Any]:
            return {"params": m.get_params(), "model": m.to_string()}

        def folds(fold_of: dict[int, int]) -> list[list[int]]:
            return [[int(t), int(k)] for t, k in fold_of.items()]

        return {
            "config": asdict(self.config),
            "seed": int(self.seed_),
            "strategy_ids": list(self.strategy_ids_),
            "prior": _prior_state(self.prior_),
            "training": {
                "rows": frame_to_text(self.training_.rows),
                "groups": list(self.training_.groups),
                "strategies": list(self.training_.strategies),
            },
            "selection": self.selection_.as_dict(),
            "feature_names": list(self.feature_names_),
            "fill_values": dict(self.fill_values_),
            "fold_of": [folds(f) for f in self.fold_of_],
            "oof_models": [[model(m) for m in models] for models in self.oof_models_],
            "full_models": [model(m) for m in self.full_models_],
            "boot": [
                {"fold_of": folds(f), "models": [model(m) for m in models], "full": model(full)}
                for f, models, full in self.boot_
            ],
        }

    def restore(self, state: Mapping[str, Any], context: ScoringContext) -> LightGBMScorer:
        """Become fitted from :meth:`to_state` output, without training (the model cache)."""
        from targetrank.model.cache import frame_from_text

        if state["config"] != asdict(self.config):
            raise ValueError("the stored ranker settings differ from this scorer's")
        names = list(state["feature_names"])

        def model(m: Mapping[str, Any]) -> StoredRanker:
            return StoredRanker(m["model"], names, m["params"])

        def folds(pairs: list[list[int]]) -> dict[int, int]:
            return {int(t): int(k) for t, k in pairs}

        self.seed_ = int(state["seed"])
        self._context = context
        self.strategy_ids_ = list(state["strategy_ids"])
        self._prior = _prior_from_state(state["prior"])
        training = state["training"]
        self.training_ = TrainingTable(
            frame_from_text(training["rows"]),
            list(training["groups"]),
            list(training["strategies"]),
        )
        sel = state["selection"]
        self.selection_ = FeatureSelection(list(sel["used"]), dict(sel["refused"]))
        self.feature_names_ = names
        self.fill_values_ = {
            str(c): {str(k): float(x) for k, x in v.items()} if isinstance(v, dict) else float(v)
            for c, v in state["fill_values"].items()
        }
        self.fold_of_ = [folds(f) for f in state["fold_of"]]
        self.oof_models_ = [[model(m) for m in models] for models in state["oof_models"]]
        self.full_models_ = [model(m) for m in state["full_models"]]
        self.full_model_ = self.full_models_[0]
        self.boot_ = [
            (folds(b["fold_of"]), [model(m) for m in b["models"]], model(b["full"]))
            for b in state["boot"]
        ]
        return self

    def _assign_folds(self, targets: np.ndarray, rng: np.random.Generator) -> dict[int, int]:
        order = rng.permutation(targets)
        return {int(t): i % self.config.n_folds for i, t in enumerate(order)}

    def _resample(
        self, target: np.ndarray, pool: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Row indices of a bootstrap sample of targets (all rows of each drawn target)."""
        drawn = rng.choice(pool, size=len(pool), replace=True)
        counts = dict(zip(*np.unique(drawn, return_counts=True), strict=True))
        idx = [i for i, t in enumerate(target) for _ in range(counts.get(t, 0))]
        return np.array(sorted(idx))  # stays sorted by strategy group

    def _fit(
        self, X: np.ndarray, y: np.ndarray, strat: np.ndarray, *, seed: tuple[int, ...]
    ) -> StrategyRanker:
        sizes = [int((strat == s).sum()) for s in self.strategy_ids_]
        sizes = [s for s in sizes if s > 0]
        state = int(np.random.default_rng(list(seed)).integers(0, 2**31 - 1))
        own = {indicator_name(sid): n for sid, n in self._own_trees().items()}
        params = {"random_state": state, "own_trees": own or None, **self.config.ranker_params}
        from targetrank.model.strategy_ranker import StrategyRanker

        return StrategyRanker(**params).fit(X, y, group=sizes, feature_names=self.feature_names_)

    def _own_trees(self) -> dict[str, int]:
        """Strategy id -> trees fitted on its rows alone, for strategies the file gives any."""
        return {s.id: s.own_trees for s in self._context.strategies if s.own_trees}

    def rows_for(self, context: ScoringContext, keys: pl.DataFrame) -> pl.DataFrame:
        """Model-ready rows (features, sc_*, prior, indicators) for (strategy, entrez_id) keys."""
        ids = keys["entrez_id"].unique().to_list()
        rows = context.rows(ids)
        if self._uses_prior():
            rows = rows.join(self.prior_map_, on="entrez_id", how="left", maintain_order="left")
        return keys.join(rows, on=["strategy", "entrez_id"], how="left", maintain_order="left")

    # ------------------------------------------------------------------------------ scoring
    def _prepared(self, rows: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        if not hasattr(self, "full_models_"):
            raise ModelError("The ranker is not fitted", fix="call fit(context) first")
        if PRIOR_COLUMN not in rows.columns and self._uses_prior():
            rows = rows.join(self.prior_map_, on="entrez_id", how="left", maintain_order="left")
        return to_matrix(rows, self.feature_names_, self.fill_values_), rows["entrez_id"].to_numpy()

    def _apply(
        self,
        fold_of: dict[int, int],
        models: list[Level2Model],
        full: Level2Model,
        X: np.ndarray,
        target: np.ndarray,
        method: str,
    ) -> np.ndarray:
        """One model set's ``predict`` or ``explain`` output per row.

        Each row gets the fold model that left its target out if the target is in the set's
        training table, else the model fitted on the whole table.
        """
        folds = _fold_lookup(fold_of, target)
        width = () if method == "predict" else (len(self.feature_names_) + 1,)
        out = np.zeros((len(target), *width))
        outside = folds < 0
        if outside.any():
            out[outside] = getattr(full, method)(X[outside])
        for k, model in enumerate(models):
            sel = folds == k
            if sel.any():
                out[sel] = getattr(model, method)(X[sel])
        return out

    def _in_training(self, target: np.ndarray) -> np.ndarray:
        """Rows whose target is in some training table (scored out-of-fold there)."""
        return np.any([_fold_lookup(f, target) >= 0 for f in self.fold_of_], axis=0)

    def score(self, rows: pl.DataFrame) -> ScoreResult:
        """Scores, contributions and bootstrap replicates for (target, strategy) rows.

        A row's score is the mean over the background draws of the model that never saw the
        row's target (its fold model where the target is in that draw's table, else the model
        fitted on the whole table), so no reported score used the target's own labels.
        """
        X, target = self._prepared(rows)
        n, R = len(target), len(self.oof_models_)
        scores = np.zeros(n)
        contrib = np.zeros((n, len(self.feature_names_) + 1))
        sets = zip(self.fold_of_, self.oof_models_, self.full_models_, strict=True)
        for fold_of, models, full in sets:
            scores += self._apply(fold_of, models, full, X, target, "predict") / R
            contrib += self._apply(fold_of, models, full, X, target, "explain") / R
        self._attribute_switched_off(rows, contrib)
        replicates = np.zeros((len(self.boot_), n))
        for b, (fold_of, models, full) in enumerate(self.boot_):
            replicates[b] = self._apply(fold_of, models, full, X, target, "predict")
        out_of_fold = self._in_training(target)
        by_file, file_scores = self._file_scored(rows)
        if by_file.any():  # strategies the ranker does not learn: their strategy-file score
            scores[by_file] = file_scores[by_file]
            names = self.feature_names_
            k = names.index(STRATEGY_SCORE) if STRATEGY_SCORE in names else len(names)
            contrib[by_file] = 0.0
            contrib[by_file, k] = file_scores[by_file]
            replicates[:, by_file] = file_scores[by_file]
            out_of_fold[by_file] = True  # no model saw any of their labels
        return ScoreResult(
            scores,
            contrib,
            list(self.feature_names_),
            replicates if len(self.boot_) else None,
            out_of_fold,
        )

    def _file_scored(self, rows: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Rows of strategies the file marks ``learn = false``, and their strategy-file scores.

        Such a strategy has too few labels to learn from (``bone_targeted_delivery``: four, one
        of grade 5 or more), and its rows in the shared trees moved every other strategy; it is
        ranked by the rationale its file states. A gene none of whose weighted features has a
        value scores 0, as in the weighted scorer.
        """
        skip = {s.id for s in self._context.strategies if not s.learn}
        if not skip or "strategy" not in rows.columns:
            return np.zeros(rows.height, dtype=bool), np.zeros(rows.height)
        mask = rows["strategy"].is_in(list(skip)).to_numpy()
        if mask.any() and STRATEGY_SCORE not in rows.columns:
            raise ModelError(
                "Rows of a strategy ranked by its strategy file lack the strategy-file score",
                input=f"strategies {sorted(skip)}; columns {rows.columns[:8]} ...",
                done="nothing was scored",
                cause="the rows were not built by ScoringContext.rows / rows_for",
                fix="score rows from rows_for(context, keys)",
            )
        values = (
            rows[STRATEGY_SCORE].cast(pl.Float64).fill_null(0.0).to_numpy()
            if mask.any()
            else np.zeros(rows.height)
        )
        return mask, values

    def _attribute_switched_off(self, rows: pl.DataFrame, contrib: np.ndarray) -> None:
        """Give the contribution of a STRING term a strategy switches off to the strategy itself.

        A strategy file without ``network = true`` leaves ``sc_network`` null on every one of its
        rows, so the trees' path for that null is an offset of the strategy, not something about
        the gene: shown under ``sc_network`` it read "TIGIT is raised by its STRING neighbours"
        in a strategy that never reads them. Moved to the strategy's indicator column (the bias
        where the model has none), so each row still sums to its score.
        """
        names = self.feature_names_
        if NETWORK_SHARE not in names or "strategy" not in rows.columns:
            return
        j = names.index(NETWORK_SHARE)
        strategy = rows["strategy"].to_numpy()
        for s in self._context.strategies:
            sel = strategy == s.id
            if s.network or not sel.any():
                continue
            indicator = indicator_name(s.id)
            k = names.index(indicator) if indicator in names else len(names)
            contrib[sel, k] += contrib[sel, j]
            contrib[sel, j] = 0.0

    def point_scores(self, rows: pl.DataFrame) -> np.ndarray:
        """The scores of :meth:`score` without contributions or replicates (genome ranks)."""
        X, target = self._prepared(rows)
        scores = np.zeros(len(target))
        R = len(self.oof_models_)
        for fold_of, models, full in zip(
            self.fold_of_, self.oof_models_, self.full_models_, strict=True
        ):
            scores += self._apply(fold_of, models, full, X, target, "predict") / R
        by_file, file_scores = self._file_scored(rows)
        scores[by_file] = file_scores[by_file]
        return scores

    def training_scores(self) -> pl.DataFrame:
        """Out-of-fold scores of the level-2 training rows (strategy, entrez_id, label, role, score)."""
        keys = self.training_.rows
        result = self.score(self.rows_for(self._context, keys.select("strategy", "entrez_id")))
        return keys.with_columns(pl.Series("score", result.scores))

    def card(self) -> dict[str, Any]:
        """Model-card facts: features used and refused, labels, folds, prior metrics."""
        cfg = self.config
        return {
            "scorer": self.name,
            "level1_prior": {
                "model": "lightgbm.LGBMClassifier (binary), stratified K-fold, out-of-fold",
                "metrics": self.prior_.metrics,
                "features_used": len(self.prior_.selection.used),
            },
            "level2_ranker": {
                "model": "lightgbm.LGBMRanker(objective='lambdarank'), query group = strategy",
                "label_gain": "linear, 0..7",
                "own_trees": self._own_trees(),
                "strategy_file_only": [s.id for s in self._context.strategies if not s.learn],
                "folds": cfg.n_folds,
                "repeats": cfg.n_repeats,
                "fold_unit": "target (all strategy rows of a target share a fold)",
                "background_per_strategy": cfg.n_background,
                "background_draws": (cfg.n_repeats + cfg.n_refits) if cfg.bag_background else 1,
                "bootstrap_replicates": cfg.n_refits,
                "label_counts": self.training_.label_counts(),
                "group_sizes": dict(
                    zip(self.training_.strategies, self.training_.groups, strict=True)
                ),
            },
            "features": {
                **self.selection_.as_dict(),
                # missing values of these features are read as the genome median
                "missing_read_as_typical": dict(self.fill_values_),
            },
        }
