"""Strategy categories: the packaged file is valid; invalid files are refused clearly."""

from __future__ import annotations

import re

import polars as pl
import pytest

import targetrank as t
from targetrank.errors import UsageError
from targetrank.features.strategy import SC_NAMES, strategy_features
from targetrank.strategies import STRATEGY_IDS
from targetrank.strategy_file import load_strategies, load_weights

VALID = """
seed_panel = ["TIGIT"]
[[strategy]]
id = "bone_resident"
title = "Bone"
description = "Bone cells"
compartments = ["osteoclast"]
modalities = ["antibody"]
[strategy.weights]
sc_process = 0.5
[compartments.osteoclast]
markers = ["marker_osteoclast"]
processes = ["go_osteoclast_differentiation"]
"""


def test_packaged_file_has_the_five_review_strategies():
    table = t.strategies()
    assert table["id"].to_list() == list(STRATEGY_IDS)
    assert table["number"].to_list() == [1, 2, 3, 4, 5]
    assert all("review strategy" in d for d in table["description"])
    delivery = table.filter(pl.col("id") == "bone_targeted_delivery")["description"][0]
    assert "not a target class" in delivery and "FDPS" in delivery  # a modality, not a target class


def test_seed_panel():
    assert load_strategies().seed_panel == ("TIGIT", "DKK1", "OPN", "RANKL")


def write(tmp_path, text):
    path = tmp_path / "s.toml"
    path.write_text(text)
    return path


def test_custom_valid_file(tmp_path):
    s = load_strategies(write(tmp_path, VALID))
    assert s.ids == ["bone_resident"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("sc_process = 0.5", "sc_process = 1.5", "outside [0, 1]"),
        ("sc_process = 0.5", "sc_process = -0.1", "outside [0, 1]"),
        ("sc_process = 0.5", 'sc_process = "high"', "not a number"),
        ("sc_process = 0.5", "sc_procss = 0.5", "unknown feature name 'sc_procss'"),
        ("sc_process = 0.5", 'sc_process = { weight = 0.5, prefer = "up" }', "prefer"),
        ('modalities = ["antibody"]', 'modalities = ["laser"]', "unknown modality"),
        ('compartments = ["osteoclast"]', 'compartments = ["osteon"]', "unknown compartment"),
        (
            'markers = ["marker_osteoclast"]',
            'markers = ["marker_osteon"]',
            "unknown feature column",
        ),
        ('title = "Bone"\n', "", "missing 'title'"),
    ],
)
def test_invalid_files_name_file_entry_and_fix(tmp_path, old, new, expected):
    path = write(tmp_path, VALID.replace(old, new))
    with pytest.raises(UsageError) as err:
        load_strategies(path)
    message = err.value.message
    assert expected in message
    assert str(path) in message
    assert "fix:" in message
    assert err.value.exit_code == 2


def test_own_trees_are_read_per_strategy_and_default_to_zero(tmp_path):
    assert load_strategies(write(tmp_path, VALID)).get("bone_resident").own_trees == 0
    text = VALID.replace(
        'modalities = ["antibody"]\n', 'modalities = ["antibody"]\nown_trees = 25\n'
    )
    assert load_strategies(write(tmp_path, text)).get("bone_resident").own_trees == 25


def test_learn_is_read_per_strategy_defaults_to_true_and_is_checked(tmp_path):
    assert load_strategies(write(tmp_path, VALID)).get("bone_resident").learn is True
    off = VALID.replace('modalities = ["antibody"]\n', 'modalities = ["antibody"]\nlearn = false\n')
    assert load_strategies(write(tmp_path, off)).get("bone_resident").learn is False
    for bad, says in [
        ('learn = "no"\n', "'learn' must be true or false"),
        ("learn = false\nown_trees = 10\n", "'own_trees' needs a strategy the ranker learns"),
    ]:
        text = VALID.replace('modalities = ["antibody"]\n', f'modalities = ["antibody"]\n{bad}')
        with pytest.raises(UsageError) as err:
            load_strategies(write(tmp_path, text))
        assert says in err.value.message and "fix:" in err.value.message


@pytest.mark.parametrize("value", ["-1", "2.5", "true", '"30"'])
def test_own_trees_must_be_a_whole_number(tmp_path, value):
    text = VALID.replace(
        'modalities = ["antibody"]\n', f'modalities = ["antibody"]\nown_trees = {value}\n'
    )
    with pytest.raises(UsageError) as err:
        load_strategies(write(tmp_path, text))
    assert "'own_trees' must be a whole number" in err.value.message
    assert "fix:" in err.value.message


def test_duplicate_id_is_refused(tmp_path):
    block = VALID.split("[compartments.osteoclast]")[0].split("seed_panel", 1)[1].split("\n", 1)[1]
    path = write(tmp_path, VALID + block)
    with pytest.raises(UsageError, match="duplicate strategy id 'bone_resident'"):
        load_strategies(path)


def test_unknown_feature_suggests_close_names(tmp_path):
    path = write(tmp_path, VALID.replace("sc_process = 0.5", "sc_proces = 0.5"))
    with pytest.raises(UsageError, match="did you mean sc_process"):
        load_strategies(path)


def test_malformed_toml(tmp_path):
    with pytest.raises(UsageError, match="not valid TOML"):
        load_strategies(write(tmp_path, "[[strategy]\nid ="))


def test_weights_override_file(tmp_path):
    s = load_strategies()
    path = tmp_path / "w.toml"
    path.write_text(
        '[immune_subset]\nsc_marker = 0.1\ngnomad_pli = { weight = 0.9, prefer = "low" }\n'
    )
    merged = s.with_weights(load_weights(path, s))
    weights = merged.get("immune_subset").weight_map()
    assert weights["sc_marker"].weight == 0.1
    assert weights["gnomad_pli"].prefer == "low" and weights["gnomad_pli"].weight == 0.9
    # other strategies untouched
    assert merged.get("bone_resident").weights == s.get("bone_resident").weights


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[immune_subset]\nsc_marker = 2\n", "outside [0, 1]"),
        ("[not_a_strategy]\nsc_marker = 0.2\n", "unknown strategy"),
        ("[immune_subset]\nno_such_feature = 0.2\n", "unknown feature name"),
    ],
)
def test_invalid_weights_files(tmp_path, text, expected):
    path = tmp_path / "w.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=re.escape(expected)):
        load_weights(path, load_strategies())


def test_unknown_strategy_lists_valid_ids():
    with pytest.raises(UsageError, match="immune_subset"):
        load_strategies().get("bone_marrow_magic")


def test_strategy_features_depend_on_the_strategy():
    features = t.load_features()
    s = load_strategies()
    foxp3 = features.filter(pl.col("symbol") == "FOXP3")
    immune = strategy_features(foxp3, s.get("immune_subset")).row(0, named=True)
    bone = strategy_features(foxp3, s.get("bone_resident")).row(0, named=True)
    assert immune["sc_marker"] is True and bone["sc_marker"] is False
    assert list(strategy_features(foxp3, s.get("immune_subset")).columns) == [
        "entrez_id",
        *SC_NAMES,
    ]


def test_interferon_induced_ligands_mark_the_checkpoint_strategys_activated_myeloid_cells():
    # PD-L1 is made by myeloid cells once interferon reaches them: the resting blood-cell atlas
    # does not show it, the stimulated-macrophage signatures do, and only the checkpoint
    # strategy reads them (in immune_subset they crowded the targets with inflammatory genes)
    features = t.load_features().filter(pl.col("symbol").is_in(["CD274", "IL1B"]))
    assert features["sig_activated_myeloid"].all() and features["sig_ifn_induced"].any()
    s = load_strategies()

    def ids(strategy: str) -> list[str]:
        return [c.id for c in s.get(strategy).compartments]

    assert "activated_myeloid" in ids("checkpoint_combination")
    for other in ("immune_subset", "bone_resident", "engineered_cell_therapy"):
        assert "activated_myeloid" not in ids(other)
    checkpoint = strategy_features(features, s.get("checkpoint_combination"))
    marks = dict(zip(features["symbol"], checkpoint["sc_marker"], strict=True))
    assert marks["CD274"] is True
    from targetrank.model.matrix import select_model_features

    chosen = select_model_features(t.load_features())
    for column in ("sig_activated_myeloid", "sig_ifn_induced"):
        assert column not in chosen.used  # read through the compartment, never by the trees
        assert "compartment" in chosen.refused[column]


def test_cell_therapy_modality_needs_surface():
    features = t.load_features().filter(pl.col("symbol").is_in(["CD19", "DKK1"]))
    sc = strategy_features(features, load_strategies().get("engineered_cell_therapy"))
    fit = dict(zip(features["symbol"], sc["sc_modality_fit"], strict=True))
    assert fit == {"CD19": True, "DKK1": False}


def test_the_marrow_compartment_takes_no_process_every_leukocyte_shares():
    # chemokine-mediated signalling is a process of every leukocyte, not of the marrow niche: as
    # the marrow compartment's process (until 0.10.0) it put XCL2 and CXCR5 in the delivery top 10
    # and CCR9 in the CAR top 20; a chemokine with a bone-cell process of its own keeps one (CCL3,
    # MIP-1alpha, is annotated to ossification and osteoblast differentiation)
    features = t.load_features().filter(pl.col("symbol").is_in(["XCL2", "CXCR5", "CCL3", "OSCAR"]))
    assert features.filter(pl.col("symbol") != "OSCAR")["go_chemokine_signaling"].all()
    s = load_strategies()
    delivery = strategy_features(features, s.get("bone_targeted_delivery"))
    process = dict(zip(features["symbol"], delivery["sc_process"], strict=True))
    assert process == {"XCL2": False, "CXCR5": False, "CCL3": True, "OSCAR": True}
    # no compartment of the CAR strategy names a process: null ("not used"), never False
    car = strategy_features(features, s.get("engineered_cell_therapy"))
    assert car["sc_process"].is_null().all()
