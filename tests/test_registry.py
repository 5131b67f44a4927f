"""The feature registry: a custom feature is added in one place."""

from __future__ import annotations

import polars as pl
import pytest

from targetrank.errors import DataError, UsageError
from targetrank.features import (
    FeatureGroup,
    FeatureRegistry,
    FeatureSpec,
    build_feature_table,
    register,
)
from targetrank.features.schema import validate_features

GENES = pl.DataFrame(
    {"entrez_id": [1, 2, 3], "symbol": ["A", "B", "C"], "ensembl_id": ["E1", None, "E3"]}
)


def test_custom_feature_in_one_place():
    reg = FeatureRegistry()

    @register(
        [FeatureSpec("my_score", pl.Float64, "synthetic screen z-score", family="custom")],
        requires=("screen",),
        sources=("screen",),
        registry=reg,
    )
    def my_score(genes, tables):
        return tables["screen"].select("entrez_id", pl.col("z").alias("my_score"))

    screen = pl.DataFrame({"entrez_id": [1, 3], "z": [0.5, -1.0]})
    table, info = build_feature_table(GENES, {"screen": screen}, registry=reg)
    assert table["my_score"].to_list() == [0.5, None, -1.0]  # missing stays null
    assert info["my_score"]["sources"] == ["screen"]


def test_missing_source_table_is_named():
    reg = FeatureRegistry()

    @register([FeatureSpec("x", pl.Int64, "x", family="custom")], requires=("nope",), registry=reg)
    def x(genes, tables):
        return genes.select("entrez_id", pl.lit(1).alias("x"))

    with pytest.raises(DataError, match="'nope'"):
        build_feature_table(GENES, {}, registry=reg)


def test_wrong_columns_are_refused():
    reg = FeatureRegistry()

    @register([FeatureSpec("x", pl.Int64, "x", family="custom")], registry=reg)
    def x(genes, tables):
        return genes.select("entrez_id", pl.lit(1).alias("y"))

    with pytest.raises(DataError, match="wrong columns"):
        build_feature_table(GENES, {}, registry=reg)


def test_duplicate_column_name_is_refused():
    reg = FeatureRegistry()
    spec = FeatureSpec("x", pl.Int64, "x", family="custom")
    register([spec], registry=reg, key="a")(lambda g, t: g)
    with pytest.raises(UsageError, match="already registered"):
        register([spec], registry=reg, key="b")(lambda g, t: g)


def test_schema_bounds_are_checked():
    reg = FeatureRegistry()

    @register(
        [FeatureSpec("frac", pl.Float64, "a fraction", family="custom", bounds=(0, 1))],
        registry=reg,
    )
    def frac(genes, tables):
        return genes.select("entrez_id", pl.Series("frac", [0.1, 1.5, None]))

    table, _ = build_feature_table(GENES, {}, registry=reg)
    with pytest.raises(DataError, match="max"):
        validate_features(table, registry=reg)


def test_global_registry_declares_leakage_features():
    from targetrank.features import REGISTRY

    leaky = set(REGISTRY.leakage_features())
    assert {"ot_max_clinical_stage", "ot_tract_clinical", "ot_prio_maxClinicalTrialPhase"} <= leaky
    assert "is_surface" not in leaky


def test_strategy_conditioned_features_live_in_the_registry_but_not_the_feature_table():
    from targetrank.features import REGISTRY
    from targetrank.features.schema import feature_schema

    assert "sc_strategy_score" in REGISTRY.conditioned
    assert "sc_strategy_score" in REGISTRY.all_specs()
    assert "sc_strategy_score" not in REGISTRY.specs()  # computed per strategy, never stored
    assert "sc_strategy_score" not in feature_schema().columns()


def test_a_conditioned_feature_may_not_shadow_a_gene_level_column():
    reg = FeatureRegistry()
    spec = FeatureSpec("x", pl.Float64, "a gene-level column", family="custom")
    reg.add(FeatureGroup("g", (spec,), lambda genes, tables: genes, (), ()))
    with pytest.raises(UsageError, match="already registered"):
        reg.add_conditioned([FeatureSpec("x", pl.Float64, "per strategy", family="custom")])
    reg.add_conditioned([FeatureSpec("sc_x", pl.Float64, "per strategy", family="custom")])
    with pytest.raises(UsageError, match="already registered"):  # nor the other way round
        reg.add(
            FeatureGroup(
                "h", (FeatureSpec("sc_x", pl.Float64, "", family="custom"),), print, (), ()
            )
        )


def test_every_registered_column_has_a_name_a_reader_can_follow():
    """Drivers in ranking.csv and the report name features by their labels: a column name such
    as ``ot_prio_mouseOrthologMaxIdentityPercentage`` means nothing to a translational team."""
    from targetrank.display import plain_name
    from targetrank.features import REGISTRY

    specs = REGISTRY.all_specs()
    unnamed = [n for n in specs if plain_name(n, specs) == n.replace("_", " ")]
    assert unnamed == []
