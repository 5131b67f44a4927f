"""Ranker v2: ranks by biology, not fame; one answer however it is asked.

What a user relies on: literature counts never become a model feature; the negatives a strategy
is trained against cannot be told apart by PubMed volume; core-essential and intracellular genes
cannot top an antibody or CAR list; a target's score does not depend on which other targets or
strategies were asked for, nor on whether ``explain`` reads a run.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import targetrank as t
from targetrank.features import REGISTRY
from targetrank.features.gates import GATES, gate_frame
from targetrank.model.matrix import LITERATURE_REFUSAL, select_model_features
from targetrank.model.training import _bins, _matched_sample, build_training_table
from targetrank.model.validation import external_targets, genome_validation

CHECKPOINT = "checkpoint_combination"


# -- literature is context, never a learned feature ---------------------------------------------


def test_literature_counts_are_refused_as_model_features():
    features = t.load_features()
    specs = REGISTRY.specs()
    literature = [c for c in features.columns if c in specs and specs[c].family == "literature"]
    assert "pubmed_count_focused" in literature  # stays in the table, as export context
    chosen = select_model_features(features)
    assert not set(literature) & set(chosen.used)
    for column in literature:
        assert chosen.refused[column] == LITERATURE_REFUSAL
    # nor may a proxy of fame slip in: no used feature correlates strongly with PubMed volume
    pubmed = features["pubmed_count_focused"].fill_null(0).cast(pl.Float64)
    for column in chosen.used:
        values = features[column].cast(pl.Float64)
        frame = pl.DataFrame({"a": values, "b": pubmed}).drop_nulls()
        if frame.height < 1000 or frame["a"].n_unique() < 2:
            continue
        rho = frame.select(pl.corr("a", "b", method="spearman")).item()
        assert abs(rho) < 0.6, (column, rho)


def test_tumour_selectivity_is_not_learned_unless_asked_for(context, tiny):
    """No strategy targets a cancer-cell dependency: DepMap's spread of gene effects across
    cancer lines (the mark of EGFR-like oncogene targets) stays out of level 2, with the reason
    in the model card, while essentiality (safety) stays in; the option gives it back."""
    from targetrank.model.lightgbm_scorer import LightGBMScorer
    from targetrank.model.matrix import SELECTIVITY_REFUSAL

    default = LightGBMScorer(**{**tiny, "n_repeats": 1, "n_refits": 0}).fit(context)
    refused = default.selection_.as_dict()["refused"]  # the model card's "features"
    assert refused["depmap_sd_effect"] == SELECTIVITY_REFUSAL
    assert refused["depmap_rnai_sd_effect"] == SELECTIVITY_REFUSAL
    assert "depmap_sd_effect" not in default.feature_names_
    assert "depmap_mean_effect" in default.feature_names_  # essentiality: safety, kept
    back = LightGBMScorer(**{**tiny, "n_repeats": 1, "n_refits": 0, "exclude_features": []})
    back.fit(context)
    assert {"depmap_sd_effect", "depmap_rnai_sd_effect"} <= set(back.feature_names_)
    # a user's own exclusion is refused with its own reason
    mine = LightGBMScorer(
        **{**tiny, "n_repeats": 1, "n_refits": 0, "exclude_features": ["gnomad_pli"]}
    ).fit(context)
    assert "gnomad_pli" not in mine.feature_names_
    assert "exclude_features" in mine.selection_.refused["gnomad_pli"]
    assert "depmap_sd_effect" in mine.feature_names_
    # a misspelt name is an error, not a silent no-op that leaves the feature in
    with pytest.raises(t.ModelError, match="gnomad_pl1"):
        LightGBMScorer(**{**tiny, "n_refits": 0, "exclude_features": ["gnomad_pl1"]}).fit(context)


def test_a_gene_without_mouse_knockout_or_rnai_data_is_read_as_typical_not_as_a_plus(context, tiny):
    """Open Targets has no mouse-knockout score, and DEMETER2 no RNAi effect, for thousands of
    mostly unstudied genes; the ranker must read those gaps as a typical gene (the genome
    median), not learn them as a signal, while the feature table keeps the null. The model card
    says which features are read so."""
    from targetrank.model.lightgbm_scorer import LightGBMScorer
    from targetrank.model.matrix import MISSING_AS_TYPICAL

    genes = ["ot_prio_mouseKOScore", "depmap_rnai_mean_effect"]
    assert set(MISSING_AS_TYPICAL) == set(genes)
    scorer = LightGBMScorer(**{**tiny, "n_repeats": 1, "n_refits": 0}).fit(context)
    medians = {c: float(context.features[c].drop_nulls().median()) for c in genes}
    card = scorer.card()["features"]["missing_read_as_typical"]
    assert card == pytest.approx(medians)
    for column, strategy in [
        ("ot_prio_mouseKOScore", "engineered_cell_therapy"),
        ("depmap_rnai_mean_effect", "checkpoint_combination"),
    ]:
        typical = scorer.fill_values_[column]
        gaps = context.features.filter(pl.col(column).is_null()).head(30)["entrez_id"]
        assert gaps.len() == 30  # the snapshot keeps the nulls: nothing is invented in the table
        keys = pl.DataFrame({"strategy": strategy, "entrez_id": gaps})
        rows = scorer.rows_for(context, keys)
        as_typical = rows.with_columns(pl.lit(typical).alias(column))
        assert np.array_equal(scorer.point_scores(rows), scorer.point_scores(as_typical))
    # the option turns it off (LightGBM's own routing of missing values), and a misspelt
    # name is an error rather than a silent no-op
    raw = LightGBMScorer(**{**tiny, "n_repeats": 1, "n_refits": 0, "missing_as_typical": []})
    assert raw.fit(context).fill_values_ == {}
    with pytest.raises(t.ModelError, match=r"pubmed_count_focused \(literature"):
        LightGBMScorer(  # a refused column has no gaps the model reads: an error, not a no-op
            **{**tiny, "n_refits": 0, "missing_as_typical": ["pubmed_count_focused"]}
        ).fit(context)
    with pytest.raises(t.ModelError, match="mouseKO_score"):
        LightGBMScorer(**{**tiny, "n_refits": 0, "missing_as_typical": ["mouseKO_score"]}).fit(
            context
        )


def test_a_strategy_conditioned_gap_can_be_read_per_strategy(context, tiny):
    """STRING has no high-confidence partner for ~40 % of genes, so their network share is
    null in every strategy that reads the network. A user who wants that gap read as typical
    names the column: each network strategy reads it as the median of its own rows, a strategy
    that leaves the network off keeps every row missing (the one thing a gap means there), and
    the feature rows keep the null. (Not the default: see MISSING_AS_TYPICAL.)"""
    from targetrank.model.lightgbm_scorer import LightGBMScorer
    from targetrank.model.matrix import MISSING_AS_TYPICAL

    typical = [*MISSING_AS_TYPICAL, "sc_network"]
    config = {**tiny, "n_repeats": 1, "n_refits": 0, "missing_as_typical": typical}
    scorer = LightGBMScorer(**config).fit(context)
    fill = scorer.fill_values_["sc_network"]
    rows = context.rows()
    network = {s.id for s in context.strategies if s.network}
    assert set(fill) == network  # checkpoint and delivery: not read, gaps kept
    for sid in network:
        values = rows.filter(pl.col("strategy") == sid)["sc_network"]
        assert fill[sid] == pytest.approx(float(values.drop_nulls().median()))
    assert scorer.card()["features"]["missing_read_as_typical"]["sc_network"] == fill
    from targetrank.export import model_card_markdown

    text = model_card_markdown({"features": scorer.card()["features"]})
    assert "sc_network (" + "; ".join(f"{s} {x:.3g}" for s, x in fill.items()) + ")" in text
    # an unpartnered gene scores as if its share were the strategy's median, in that strategy
    car = "engineered_cell_therapy"
    gaps = rows.filter((pl.col("strategy") == car) & pl.col("sc_network").is_null()).head(30)
    assert gaps.height == 30
    keys = gaps.select("strategy", "entrez_id")
    model_rows = scorer.rows_for(context, keys)
    assert model_rows["sc_network"].null_count() == 30
    as_typical = model_rows.with_columns(pl.lit(fill[car]).alias("sc_network"))
    assert np.array_equal(scorer.point_scores(model_rows), scorer.point_scores(as_typical))
    # the reading survives the model cache's round trip (a nested mapping)
    state = json.loads(json.dumps(scorer.to_state()))
    again = LightGBMScorer(**config).restore(state, context)
    assert again.fill_values_ == scorer.fill_values_
    assert np.array_equal(again.point_scores(model_rows), scorer.point_scores(model_rows))


def test_explain_names_the_per_strategy_reading_of_a_gap(tiny):
    """GPRC5D has no high-confidence STRING partner. With its network gap read as typical, its
    CAR card says which value stood in; its checkpoint card, a strategy that never reads the
    network, says the share is not used there, not that a typical value was."""
    from targetrank.display import NETWORK_OFF
    from targetrank.model.lightgbm_scorer import LightGBMScorer
    from targetrank.model.matrix import MISSING_AS_TYPICAL

    typical = [*MISSING_AS_TYPICAL, "sc_network"]
    scorer = LightGBMScorer(
        **{**tiny, "n_repeats": 1, "n_refits": 0, "missing_as_typical": typical}
    )
    car, checkpoint = "engineered_cell_therapy", "checkpoint_combination"
    ranking = t.rank(["GPRC5D", "CD19"], strategies=[car, checkpoint], scorer=scorer, cache=False)
    fill = ranking.model_card["features"]["missing_read_as_typical"]["sc_network"]
    assert car in fill and checkpoint not in fill  # only the CAR strategy reads STRING

    def shown(strategy: str) -> str:
        drivers = ranking.explain("GPRC5D", strategy).drivers
        return drivers.filter(pl.col("feature") == "sc_network")["value"].item()

    assert shown(car) == f"missing (read as typical: {fill[car]:.3g})"
    assert shown(checkpoint) == NETWORK_OFF


# -- negatives matched on literature volume -------------------------------------------------------


def test_matched_sample_follows_the_positives_literature_bins():
    rng = np.random.default_rng(0)
    pool = np.arange(1, 5001)
    counts = np.concatenate([np.zeros(4000), rng.integers(50, 5000, 1000)])  # most unstudied
    universe = pl.DataFrame({"entrez_id": pool, "pubmed": counts})
    bins = _bins(universe, "pubmed")
    positives = pool[4000:4050]  # all well studied
    drawn = _matched_sample(pool, positives, bins, 200, np.random.default_rng(1))
    assert len(drawn) == 200 and len(set(drawn.tolist())) == 200
    drawn_counts = counts[drawn - 1]
    uniform = counts[np.random.default_rng(1).choice(len(pool), 200, replace=False)]
    # a uniform sample is ~80 % unstudied; a matched one looks like the positives
    assert np.mean(uniform == 0) > 0.7
    assert np.mean(drawn_counts == 0) < 0.1
    assert abs(np.median(np.log1p(drawn_counts)) - np.median(np.log1p(counts[positives - 1]))) < 1


def test_training_negatives_cannot_be_separated_by_fame(context):
    table = build_training_table(
        context.evidence, context.strategies, context.features, context.seed_entrez, seed=0
    )
    rows = table.rows.join(
        context.features.select("entrez_id", "pubmed_count_focused"), on="entrez_id", how="left"
    )
    pubmed = np.log1p(context.features["pubmed_count_focused"].fill_null(0).to_numpy())
    for strategy in context.strategies.ids:
        group = rows.filter(pl.col("strategy") == strategy)
        pos = np.log1p(group.filter(pl.col("label") > 0)["pubmed_count_focused"].fill_null(0))
        bg = group.filter(pl.col("role") == "background")["pubmed_count_focused"].fill_null(0)
        assert bg.len() > 50, strategy
        matched_gap = abs(float(np.median(np.log1p(bg))) - float(np.median(pos)))
        random_gap = abs(float(np.median(pubmed)) - float(np.median(pos)))
        # random genes sit 2-4 log units (10-50x fewer papers) below the positives
        assert random_gap > 2 and matched_gap < 0.5 * random_gap, (strategy, matched_gap)
        assert group.filter(pl.col("role") == "non_target").height > 0, strategy


def test_each_background_draw_samples_new_unlabelled_genes_with_the_same_labels(context):
    """PU bagging: the draws differ only in their background sample, never in the labels."""
    args = (context.evidence, context.strategies, context.features, context.seed_entrez)
    tables = [build_training_table(*args, seed=0, draw=d).rows for d in range(3)]
    labelled = [t.filter(pl.col("role") != "background").drop("role") for t in tables]
    background = [set(t.filter(pl.col("role") == "background")["entrez_id"]) for t in tables]
    for d in (1, 2):
        assert (
            labelled[d].filter(pl.col("label") > 0).equals(labelled[0].filter(pl.col("label") > 0))
        )
        shared = len(background[0] & background[d]) / len(background[0])
        assert shared < 0.5, (d, shared)  # mostly new genes, not a reshuffle of the same ones
    # the same draw is the same sample (reproducible runs)
    assert build_training_table(*args, seed=0, draw=1).rows.equals(tables[1])


def test_ranker_averages_background_draws_and_scores_every_draw_out_of_fold(context, tiny):
    from targetrank.model.lightgbm_scorer import LightGBMScorer

    bagged = LightGBMScorer(**{**tiny, "n_repeats": 2, "n_refits": 0}).fit(context)
    assert bagged.card()["level2_ranker"]["background_draws"] == 2
    assert len(bagged.full_models_) == 2
    # a gene drawn as background in draw 1 only: draw 1 scores it with the fold model that left
    # it out, draw 0 with the model on the whole table (which never saw it)
    in_draw = [set(f) for f in bagged.fold_of_]
    only_second = sorted(in_draw[1] - in_draw[0])[:3]
    assert only_second
    result = bagged.score(context.rows(only_second))
    assert result.out_of_fold.all()
    # switching bagging off trains every repeat on the same draw
    single = LightGBMScorer(**{**tiny, "n_repeats": 2, "n_refits": 0, "bag_background": False})
    single.fit(context)
    assert set(single.fold_of_[0]) == set(single.fold_of_[1])
    assert single.card()["level2_ranker"]["background_draws"] == 1


def test_known_non_targets_are_housekeeping_genes(context):
    table = build_training_table(
        context.evidence, context.strategies, context.features, context.seed_entrez, seed=0
    )
    hk = table.rows.filter(pl.col("role") == "non_target")["entrez_id"].unique().to_list()
    flags = context.features.filter(pl.col("entrez_id").is_in(hk)).select(
        pl.any_horizontal(
            pl.col("core_essential_control").fill_null(False),
            pl.col("ps_adam_core").fill_null(False),
            pl.col("ribosomal_protein").fill_null(False),
            pl.col("mito_encoded").fill_null(False),
            pl.col("respiratory_chain").fill_null(False),
        )
    )
    assert flags.to_series().all()
    assert (table.rows.filter(pl.col("role") == "non_target")["label"] == 0).all()


# -- modality gates ------------------------------------------------------------------------------


def _gate(symbols: list[str], gates: tuple[str, ...]) -> dict[str, str]:
    features = t.load_features()
    part = features.filter(pl.col("symbol").is_in(symbols))
    frame = gate_frame(part, gates)
    return dict(zip(part["symbol"], frame["gate"], strict=True))


def test_housekeeping_and_intracellular_genes_fail_antibody_gates():
    got = _gate(["RPL3", "PCNA", "TIGIT", "SPP1", "TNFSF11"], ("antibody_reachable",
                                                               "not_housekeeping"))  # fmt: skip
    assert got["RPL3"] and got["PCNA"]  # ribosomal / core essential, intracellular
    assert "no antibody" in got["PCNA"]
    assert got["TIGIT"] == "" and got["SPP1"] == "" and got["TNFSF11"] == ""


def test_core_machinery_never_passes_the_housekeeping_gate():
    # a proteasome subunit, a mitochondrial tRNA synthetase and an inner-membrane importer: on
    # no core-essential list, but machinery every cell needs (they led the delivery list in 0.5.0)
    machinery = ["SEM1", "IARS2", "TIMM23"]
    got = _gate([*machinery, "CDK8", "HDAC1", "FDPS", "TNFSF11"], ("not_housekeeping",))
    for symbol in machinery:
        assert "core machinery" in got[symbol], symbol
    # kinases and enzymes that drugs target stay, even when they sit in a machine (CDK8 in Mediator)
    assert got["CDK8"] == "" and got["HDAC1"] == "" and got["FDPS"] == "" and got["TNFSF11"] == ""
    features = t.load_features().filter(pl.col("symbol").is_in(machinery))
    assert features["core_machinery"].all()
    assert not features["core_essential_control"].fill_null(False).any()


def test_core_machinery_is_a_gate_not_a_model_feature():
    chosen = select_model_features(t.load_features())
    assert "core_machinery" not in chosen.used
    assert "gate" in chosen.refused["core_machinery"]


def test_car_gate_refuses_secreted_and_keeps_clinical_car_antigens():
    got = _gate(["TNFRSF17", "CD19", "MS4A1", "SPP1", "DKK1"], ("car_antigen",))
    assert got["TNFRSF17"] == "" and got["CD19"] == "" and got["MS4A1"] == ""
    assert got["SPP1"] and got["DKK1"]  # secreted: nothing for a CAR to bind


def test_car_gate_needs_an_antigen_that_some_cell_makes():
    # olfactory receptors: surface, no vital-organ expression, but expressed by no tissue or
    # blood cell HPA measured: no CAR target in a bone metastasis
    got = _gate(["OR6B2", "OR6B3", "CD19"], ("car_antigen",))
    assert got["OR6B2"] and got["OR6B3"] and got["CD19"] == ""


def test_dense_antigen_gate_holds_back_trace_antigens_and_keeps_the_evidence_car_antigens():
    features = t.load_features()
    car = t.evidence().filter(pl.col("strategy") == "engineered_cell_therapy")
    surface = gate_frame(features.filter(pl.col("entrez_id").is_in(car["entrez_id"].to_list())),
                         ("car_antigen",)).filter(pl.col("gate") == "")  # fmt: skip
    assert surface.height >= 10
    dense = gate_frame(features.filter(pl.col("entrez_id").is_in(surface["entrez_id"].to_list())),
                       ("dense_antigen",))  # fmt: skip
    assert (dense["gate"] == "").all()  # every surface CAR antigen of the evidence base passes
    # olfactory receptors HPA finds at a trace (1-5 nTPM) pass the CAR gate but not this one
    got = _gate(["OR10P1", "CD19"], ("car_antigen", "dense_antigen"))
    assert got["CD19"] == ""
    assert got["OR10P1"].startswith("dense_antigen:") and "too sparse" in got["OR10P1"]


def test_list_gates_hold_genes_back_without_changing_what_the_ranker_learns(context):
    """dense_antigen and not_housekeeping shape the list only: the training rows stay the same."""
    strategies = context.strategies
    car = strategies.get("engineered_cell_therapy")
    assert "dense_antigen" in car.gates and not GATES["dense_antigen"].background
    without = dataclasses.replace(car, gates=tuple(g for g in car.gates if g != "dense_antigen"))
    plain = dataclasses.replace(
        strategies, strategies=tuple(without if s.id == car.id else s for s in strategies)
    )
    args = (context.evidence, context.features, context.seed_entrez)
    kw = {"seed": 0}
    with_gate = build_training_table(args[0], strategies, args[1], args[2], **kw).rows
    assert with_gate.equals(build_training_table(args[0], plain, args[1], args[2], **kw).rows)
    # ... while a reach gate does decide the pool: the CAR background is all CAR-reachable
    bg = with_gate.filter((pl.col("strategy") == car.id) & (pl.col("role") == "background"))
    reach = gate_frame(context.features.filter(pl.col("entrez_id").is_in(bg["entrez_id"].to_list())),
                       ("car_antigen",))  # fmt: skip
    assert bg.height > 50 and (reach["gate"] == "").all()


def test_unknown_localisation_never_passes_a_localisation_gate():
    frame = pl.DataFrame(
        {"entrez_id": [1], "symbol": ["X"], "is_surface": [None], "is_secreted": [None]},
        schema_overrides={"is_surface": pl.Boolean, "is_secreted": pl.Boolean},
    )
    for column in GATES["antibody_reachable"].columns():
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None).alias(column))
    assert gate_frame(frame, ("antibody_reachable",))["gate"][0] != ""


def test_gated_targets_rank_after_every_target_that_passes():
    ranking = t.rank(["TIGIT", "PCNA", "RPL3", "PD-1", "CD274"], strategies=[CHECKPOINT],
                     scorer="weighted", evaluate_model=False)  # fmt: skip
    table = ranking.table.sort("rank")
    gated = table["gate"] != ""
    assert gated.any() and not gated.all()
    assert table.filter(gated)["rank"].min() > table.filter(~gated)["rank"].max()


# -- genome-wide validation ----------------------------------------------------------------------


def test_genome_validation_tells_a_good_scorer_from_a_random_one():
    rng = np.random.default_rng(0)
    n = 2000
    keys = pl.DataFrame(
        {
            "strategy": ["s"] * n,
            "entrez_id": np.arange(n),
            "symbol": [f"G{i}" for i in range(n)],
            "pubmed_count_focused": rng.integers(0, 1000, n),
            "gated": [False] * n,
            "housekeeping": [False] * n,
        }
    )
    evidence = pl.DataFrame({"strategy": ["s"] * 20, "entrez_id": np.arange(20), "grade": [5] * 20})
    good = np.where(np.arange(n) < 20, 10.0, 0.0) + rng.normal(0, 0.1, n)
    random = rng.normal(0, 1, n)
    none = pl.DataFrame(schema={"strategy": pl.String, "symbol": pl.String, "source": pl.String})
    g = genome_validation(keys, {"model": good, "noise": random}, evidence, external=none)
    s = g["per_strategy"]["s"]
    assert s["model"]["median_rank_grade5"] <= 20
    assert s["noise"]["median_rank_grade5"] > 300 and s["random"]["median_rank_grade5"] > 300
    assert s["model"]["recall_top100"] == 1.0
    assert s["model"]["median_rank_grade5_ci95"][1] <= 20


def test_the_markdown_model_card_shows_the_genome_validation_of_every_method():
    """model_card.md is what a translational team reads: the genome-wide validation (medians
    with CIs, recall, Spearman with PubMed, housekeeping genes, overlap) must be there for the
    model and every baseline, with the JSON card's figures."""
    from targetrank.export import model_card_markdown

    rng = np.random.default_rng(1)
    n = 500
    keys = pl.DataFrame(
        {
            "strategy": ["s"] * n + ["u"] * n,
            "entrez_id": np.tile(np.arange(n), 2),
            "symbol": [f"G{i}" for i in range(n)] * 2,
            "pubmed_count_focused": np.tile(rng.integers(0, 1000, n), 2),
            "gated": [False] * (2 * n),
            "housekeeping": [False] * (2 * n),
        }
    )
    evidence = pl.DataFrame({"strategy": ["s"] * 4, "entrez_id": [0, 1, 2, 3], "grade": [5] * 4})
    good = np.tile(np.where(np.arange(n) < 4, 10.0, 0.0) - np.arange(n) * 1e-3, 2)
    none = pl.DataFrame(schema={"strategy": pl.String, "symbol": pl.String, "source": pl.String})
    g = genome_validation(keys, {"lightgbm": good}, evidence, external=none)
    text = model_card_markdown({"genome_validation": g})
    assert "## Genome-wide validation" in text
    s = g["per_strategy"]["s"]
    assert set(s) == {"lightgbm", "random"}  # the random baseline is always there
    for method, v in s.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| s | {method} |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        low = v["median_rank_grade5_ci95"][0]
        median = v["median_rank_grade5"]
        assert cells[2].startswith(f"{median:,.0f}" if median == int(median) else f"{median:,.1f}")
        assert f"({v['n_grade5']})" in cells[2] and f"{low:,.0f}" in cells[2]
        assert cells[3].startswith(f"{v['recall_top100']:.2f}")
        assert cells[6] == f"{v['spearman_pubmed'] + 0.0:.2f}".replace("-0.00", "0.00")
        assert cells[7] == str(v["housekeeping_in_top100"])
    assert s["lightgbm"]["median_rank_grade5"] <= 4  # the good scorer reads as good
    most = max(g["overlap_top100"]["lightgbm"].values())
    assert f"- lightgbm: {most} (" in text


def test_temporal_check_counts_only_late_targets_of_phase_2_or_later():
    """Targets without a 2016 drug, at grade >= 4: a scorer that finds only the old ones fails."""
    n = 1000
    keys = pl.DataFrame(
        {
            "strategy": ["s"] * n,
            "entrez_id": np.arange(n),
            "symbol": [f"G{i}" for i in range(n)],
            "pubmed_count_focused": np.arange(n)[::-1],
            "gated": [False] * n,
            "housekeeping": [False] * n,
        }
    )
    # 0-9 old approved targets, 10-19 late ones (phase 2+), 20-24 late but only preclinical
    evidence = pl.DataFrame(
        {"strategy": ["s"] * 25, "entrez_id": np.arange(25), "grade": [6] * 10 + [4] * 10 + [1] * 5}
    )
    late = list(range(10, 25))
    old_only = np.where(np.arange(n) < 10, 10.0, 0.0) + np.arange(n) * 1e-3  # late ones last
    finds_late = (
        np.where((np.arange(n) >= 10) & (np.arange(n) < 25), 10.0, 0.0) - np.arange(n) * 1e-3
    )
    none = pl.DataFrame(schema={"strategy": pl.String, "symbol": pl.String, "source": pl.String})
    g = genome_validation(
        keys, {"old": old_only, "late": finds_late}, evidence, external=none, recent=late
    )
    s = g["per_strategy"]["s"]
    assert s["late"]["n_temporal"] == 10  # the preclinical late targets are not counted
    assert s["late"]["temporal_median_rank"] <= 10
    assert s["old"]["temporal_median_rank"] > 900
    assert s["late"]["temporal_recall_top100"] == 1.0
    # without the list the check is skipped, not faked
    plain = genome_validation(keys, {"late": finds_late}, evidence, external=none)
    assert plain["per_strategy"]["s"]["late"]["temporal_median_rank"] is None


def test_external_validation_lists_are_cited_and_not_in_the_training_labels():
    ext = external_targets()
    assert ext.height > 0
    assert ext["source"].str.len_chars().min() > 10  # every row names its source
    assert set(ext["strategy"]) <= set(t.strategies()["id"])
    resolved = t.resolve(ext["symbol"].unique().to_list()).targets
    assert resolved.height == ext["symbol"].n_unique()


# -- one answer (issue 17, part 1) ---------------------------------------------------------------


def _forget_scored_rows() -> None:
    """Drop the model cache's scored rows (not the models): the next run scores its own rows
    instead of reading those a previous run stored, so the runs below are computed apart."""
    import os
    from pathlib import Path

    for path in (Path(os.environ["TARGETRANK_CACHE_DIR"]) / "models").glob("*.trscores"):
        path.unlink()


@pytest.fixture(scope="module")
def one_answer():
    kw = {"scorer": "lightgbm", "evaluate_model": False}
    asked = [
        {},  # the default run
        {"strategies": [CHECKPOINT]},
        {"targets": ["TIGIT", "PD-1", "DKK1", "RANKL"]},
        {"targets": ["TIGIT"], "strategies": [CHECKPOINT]},
    ]
    runs = []
    for options in asked:
        _forget_scored_rows()
        runs.append(t.rank(**options, **kw))
    return tuple(runs)


def _row(ranking, symbol: str = "TIGIT") -> dict:
    table = ranking.table.filter((pl.col("strategy") == CHECKPOINT) & (pl.col("symbol") == symbol))
    assert table.height == 1
    return table.row(0, named=True)


def test_tigit_checkpoint_score_is_one_answer_however_asked(one_answer):
    default, _subset, _panel, alone = one_answer
    rows = [_row(r) for r in one_answer]
    assert len({r["score"] for r in rows}) == 1, [r["score"] for r in rows]
    assert len({r["genome_rank"] for r in rows}) == 1
    explained = alone.explain("TIGIT", CHECKPOINT)  # what `explain` without --run computes
    assert explained.score == rows[0]["score"]
    assert explained.genome_rank == rows[0]["genome_rank"]
    from_default = default.explain("TIGIT", CHECKPOINT)
    assert from_default.drivers["feature"].to_list() == explained.drivers["feature"].to_list()
    assert np.allclose(from_default.drivers["contribution"], explained.drivers["contribution"])


def test_explain_says_when_a_missing_value_was_read_as_typical(one_answer):
    """FDPS has no Open Targets mouse-knockout score: its explanation must not show a bare
    'missing' next to a contribution the median made, and the model card says which features
    are read so."""
    from targetrank.export import model_card_markdown

    default = one_answer[0]
    typical = default.model_card["features"]["missing_read_as_typical"]
    assert set(typical) == {"ot_prio_mouseKOScore", "depmap_rnai_mean_effect"}
    drivers = default.explain("FDPS", "bone_targeted_delivery").drivers
    value = drivers.filter(pl.col("feature") == "ot_prio_mouseKOScore")["value"].item()
    assert value == f"missing (read as typical: {typical['ot_prio_mouseKOScore']:.3g})"
    present = default.explain("TIGIT", CHECKPOINT).drivers  # TIGIT has a score: shown as is
    shown = present.filter(pl.col("feature") == "ot_prio_mouseKOScore")["value"].item()
    assert not shown.startswith("missing")
    # TIGIT is outside DEMETER2's shRNA libraries: the gap is said to be read as typical
    rnai = present.filter(pl.col("feature") == "depmap_rnai_mean_effect")["value"].item()
    assert rnai == f"missing (read as typical: {typical['depmap_rnai_mean_effect']:.3g})"
    assert "ot_prio_mouseKOScore" in model_card_markdown(default.model_card)


# -- the strategy file's own definition as a feature ---------------------------------------------


def _strategy_rows(symbols: list[str], strategies=None):
    from targetrank.model.rows import strategy_rows
    from targetrank.strategy_file import load_strategies

    ids = t.resolve(symbols).targets["entrez_id"].to_list()
    return strategy_rows(t.load_features(), strategies or load_strategies(), ids)


def test_strategy_score_feature_is_the_weighted_score_and_one_answer():
    symbols = ["TIGIT", "DKK1", "SOST", "PCNA"]
    weighted = t.rank(symbols, scorer="weighted", evaluate_model=False).table
    rows = _strategy_rows(symbols).select("strategy", "symbol", "sc_strategy_score")
    both = weighted.join(rows, on=["strategy", "symbol"])
    assert both.height == 20
    assert np.allclose(both["score"], both["sc_strategy_score"], atol=1e-6)
    # normalised genome-wide: a gene's value does not depend on the other genes asked for
    alone = _strategy_rows(["TIGIT"]).select("strategy", "sc_strategy_score")
    again = rows.filter(pl.col("symbol") == "TIGIT").select("strategy", "sc_strategy_score")
    assert alone.equals(again)


def test_strategy_score_never_reads_literature_or_leaky_weights():
    from dataclasses import replace

    from targetrank.strategies import StrategySet, Weight
    from targetrank.strategy_file import load_strategies

    base = load_strategies()
    fame = tuple(replace(s, weights=(Weight("pubmed_count_focused", 1.0),)) for s in base)
    strategies = replace(base, strategies=fame)
    assert isinstance(strategies, StrategySet)
    rows = _strategy_rows(["TIGIT", "TP53"], strategies)
    assert rows["sc_strategy_score"].null_count() == rows.height  # nothing left to score with


# -- ligand-receptor pairs with the strategy's cells --------------------------------------------


def test_a_signal_to_the_strategys_cells_counts_even_when_its_receptor_is_not_asked_for():
    """Strategy 1 acts on the signals that recruit and expand myeloid cells and Tregs: CSF1 and
    CXCL12 pair with receptors on those cells (CSF1R, CXCR4), so they are in a pair with the
    strategy's cells; GAPDH has no partner and FOXP3 marks Tregs but signals to no one. The value
    is looked up genome-wide, so asking for CSF1 alone gives the same answer."""
    rows = _strategy_rows(["CSF1", "CXCL12", "GAPDH", "FOXP3"]).filter(
        pl.col("strategy") == "immune_subset"
    )
    value = dict(zip(rows["symbol"], rows["sc_ligand_receptor"], strict=True))
    assert value == {"CSF1": True, "CXCL12": True, "GAPDH": False, "FOXP3": False}
    alone = _strategy_rows(["CSF1"]).filter(pl.col("strategy") == "immune_subset")
    assert alone["sc_ligand_receptor"].to_list() == [True]
    # the strategy file weighs it where the review's biology asks for it
    from targetrank.strategy_file import load_strategies

    immune = next(s for s in load_strategies() if s.id == "immune_subset")
    assert "sc_ligand_receptor" in {w.feature for w in immune.weights}


def test_ligand_receptor_term_feeds_the_strategy_score_but_not_the_trees(context, tiny):
    from targetrank.model.lightgbm_scorer import LightGBMScorer

    model = LightGBMScorer(**{**tiny, "n_repeats": 1, "n_refits": 0}).fit(context)
    assert "sc_ligand_receptor" not in model.feature_names_
    reason = model.selection_.as_dict()["refused"]["sc_ligand_receptor"]
    assert "strategy file's weights only" in reason
    assert "sc_strategy_score" in model.feature_names_


def test_pairs_are_built_from_symbols_and_never_guessed():
    from targetrank.features.partners import build_pairs

    genes = pl.DataFrame(
        {"entrez_id": [1, 2, 3], "symbol": ["CSF1", "CSF1R", "IL34"]},
        schema={"entrez_id": pl.Int64, "symbol": pl.String},
    )
    aliases = pl.DataFrame(
        {"entrez_id": [2], "alias": ["FMS"]}, schema={"entrez_id": pl.Int64, "alias": pl.String}
    )
    liana = pl.DataFrame(
        {
            "ligand": ["CSF1", "IL34", "NOTAGENE", "CSF1"],
            "receptor": ["FMS", "CSF1R", "CSF1R", "CSF1"],
        }
    )
    pairs = build_pairs(liana, genes, aliases)
    # the alias maps; an unknown symbol and a self-pair are dropped
    assert pairs.select("ligand", "receptor").rows() == [("CSF1", "CSF1R"), ("IL34", "CSF1R")]
    assert pairs["receptor_entrez"].to_list() == [2, 2]


def test_a_broken_pairs_file_says_how_to_rebuild_it(tmp_path):
    from targetrank.errors import DataError
    from targetrank.features.partners import read_pairs

    bad = tmp_path / "pairs.tsv"
    bad.write_text("ligand\treceptor\nCSF1\tCSF1R\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_pairs(bad)
    assert "snapshot build" in str(err.value)
    assert str(bad) in str(err.value)


def test_a_missing_pairs_file_is_an_error_that_names_it(tmp_path):
    from targetrank.errors import DataError
    from targetrank.features.partners import read_pairs

    gone = tmp_path / "nowhere.tsv"
    with pytest.raises(DataError) as err:
        read_pairs(gone)
    assert str(gone) in str(err.value)
    assert "snapshot build" in str(err.value)


def test_features_list_says_which_columns_the_ranker_learns_from_as_the_model_card_does(
    runner, context, tiny
):
    """A user adding or reading a feature sees, before training anything, whether the ranker
    will learn from it and why not; the listing agrees with what a trained model reads."""
    from io import StringIO

    from targetrank.cli import main
    from targetrank.model.lightgbm_scorer import LightGBMScorer

    result = runner.invoke(main, ["features", "list", "--format", "csv"])
    assert result.exit_code == 0, result.output
    listing = pl.read_csv(StringIO(result.output))
    model = LightGBMScorer(**{**tiny, "n_repeats": 1, "n_refits": 0}).fit(context)
    refused = model.selection_.as_dict()["refused"]
    said = dict(zip(listing["name"], listing["model"], strict=True))
    for name in model.feature_names_:
        if name in said:
            assert said[name] == "yes", name
    for name in listing.filter(pl.col("model") == "no")["name"]:
        assert name not in model.feature_names_, name
    for name in ["sc_ligand_receptor", "pubmed_count_focused", "depmap_sd_effect"]:
        row = listing.filter(pl.col("name") == name).row(0, named=True)
        assert row["model"] == "no"
        assert row["model_refusal"] == refused[name]


def test_a_strategy_conditioned_feature_can_be_left_out_by_name(context, tiny):
    """``exclude_features`` takes any column a model row holds, the sc_* ones included (they are
    not in the gene table, which once made them 'unknown')."""
    from targetrank.model.lightgbm_scorer import EXCLUDED_REFUSAL, LightGBMScorer

    options = {**tiny, "n_repeats": 1, "n_refits": 0, "exclude_features": ["sc_marker"]}
    model = LightGBMScorer(**options).fit(context)
    assert "sc_marker" not in model.feature_names_
    assert model.selection_.refused["sc_marker"] == EXCLUDED_REFUSAL


# --- network neighbourhood (sc_network) -------------------------------------------------------


def test_a_genes_network_neighbours_in_the_strategys_cells_count_where_the_file_asks():
    """DKK1 is on no osteoblast or osteocyte list, but its functional partners (LRP5/6, the
    Kremens) are mostly bone genes, as is one of sclerostin's two: in bone_resident their
    neighbourhood is in the strategy's cells.
    The checkpoint strategy does not ask for it (its receptors' partners are ligands on other
    cells), so the value is null there; a panel of one gene gets the genome-wide answer."""
    from targetrank.features.network import read_network

    rows = _strategy_rows(["SOST", "DKK1", "TIGIT", "GAPDH"])
    bone = rows.filter(pl.col("strategy") == "bone_resident")
    share = dict(zip(bone["symbol"], bone["sc_network"], strict=True))
    assert share["SOST"] > 0 and share["DKK1"] > 0
    assert share["SOST"] > share["GAPDH"]
    assert (
        rows.filter(pl.col("strategy") == "checkpoint_combination")["sc_network"].null_count() == 4
    )
    alone = _strategy_rows(["DKK1"]).filter(pl.col("strategy") == "bone_resident")
    assert alone["sc_network"].to_list() == [share["DKK1"]]
    # a gene without a high-confidence STRING partner has no value (never a made-up zero)
    net = read_network()
    linked = set(net["entrez_a"]) | set(net["entrez_b"])
    genome = t.load_features()
    lonely = genome.filter(~pl.col("entrez_id").is_in(list(linked)))["symbol"][0]
    lone = _strategy_rows([lonely]).filter(pl.col("strategy") == "bone_resident")
    assert lone["sc_network"].to_list() == [None]


def test_network_share_is_the_fraction_of_neighbours_that_are_members():
    from targetrank.features import network

    genome = pl.DataFrame({"entrez_id": [1, 2, 3, 4, 5], "m": [True, False, True, None, False]})
    edges = pl.DataFrame(
        {"entrez_id": [1, 2, 1, 3, 2, 3], "neighbour_id": [2, 1, 3, 1, 3, 2]},
        schema={"entrez_id": pl.Int64, "neighbour_id": pl.Int64},
    )
    original = network.neighbour_edges
    network.neighbour_edges = lambda: edges  # a triangle 1-2-3; 4 and 5 have no neighbour
    try:
        share = network.neighbour_share(genome, pl.col("m"))
    finally:
        network.neighbour_edges = original
    assert dict(share.iter_rows()) == {1: 0.5, 2: 1.0, 3: 0.5, 4: None, 5: None}


def test_the_network_keeps_only_high_confidence_edges_between_known_genes(tmp_path):
    from targetrank.features.network import build_network, read_network, write_network

    genes = pl.DataFrame({"entrez_id": [10, 20, 30]}, schema={"entrez_id": pl.Int64})
    raw = pl.DataFrame(
        {
            "entrez_a": [20, 10, 10, 10, 30, 99],
            "entrez_b": [10, 20, 30, 10, 20, 10],
            "combined_score": [800, 900, 650, 999, 700, 990],
        }
    )
    net = build_network(raw, genes)
    # one row per undirected edge with its best score; below 700, self-loops, unknown genes out
    assert net.rows() == [(10, 20, 900), (20, 30, 700)]
    path = tmp_path / "net.tsv.gz"
    write_network(net, path)
    assert read_network(path).equals(net)
    first = path.read_bytes()
    write_network(net, path)
    assert path.read_bytes() == first  # a rebuild of the same edges changes no byte


def test_a_broken_network_file_names_itself_and_the_rebuild(tmp_path):
    from targetrank.errors import DataError
    from targetrank.features.network import read_network

    bad = tmp_path / "net.tsv.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(DataError) as err:
        read_network(bad)
    assert str(bad) in str(err.value) and "snapshot build" in str(err.value)


def test_network_must_be_true_or_false_in_a_strategy_file(tmp_path):
    from targetrank.errors import UsageError
    from targetrank.strategy_file import load_strategies

    text = (Path(t.__file__).parent / "data" / "strategies.toml").read_text("utf-8")
    broken = tmp_path / "s.toml"
    broken.write_text(text.replace("network = true", 'network = "yes"', 1), encoding="utf-8")
    with pytest.raises(UsageError) as err:
        load_strategies(broken)
    assert "'network' must be true or false" in str(err.value)
    assert "nothing was computed" in str(err.value)


def test_the_trees_read_the_network_share(context, tiny):
    from targetrank.model.lightgbm_scorer import LightGBMScorer

    model = LightGBMScorer(**{**tiny, "n_repeats": 1, "n_refits": 0}).fit(context)
    assert "sc_network" in model.feature_names_


def test_a_switched_off_string_term_is_booked_under_the_strategy_not_the_gene(
    context, tiny, monkeypatch
):
    """In a strategy whose file leaves network off, no gene is "raised by its STRING
    neighbours": what the trees make of that structural null is the strategy's offset."""
    from targetrank.model.lightgbm_scorer import LightGBMScorer

    scorer = LightGBMScorer(**{**tiny, "n_refits": 0}).fit(context)
    ids = context.features["entrez_id"].head(300).to_list()
    strategies = [CHECKPOINT] * 300 + ["bone_resident"] * 300  # network off / on
    rows = scorer.rows_for(context, pl.DataFrame({"strategy": strategies, "entrez_id": ids * 2}))
    got = scorer.score(rows)
    monkeypatch.setattr(LightGBMScorer, "_attribute_switched_off", lambda *a: None)
    raw = scorer.score(rows)
    names = got.feature_names
    j, k = names.index("sc_network"), names.index(f"strategy_is_{CHECKPOINT}")
    off = (rows["strategy"] == CHECKPOINT).to_numpy()
    assert np.abs(raw.contributions[off, j]).max() > 0  # the trees do read the null there
    assert (got.contributions[off, j] == 0).all()
    np.testing.assert_allclose(
        got.contributions[off, k], raw.contributions[off, k] + raw.contributions[off, j]
    )
    # where the strategy reads its network, the term stays the gene's
    np.testing.assert_array_equal(got.contributions[~off], raw.contributions[~off])
    np.testing.assert_allclose(got.contributions.sum(axis=1), got.scores, atol=1e-9)
