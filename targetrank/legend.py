"""What the numbers of a ranking mean, in words a first-time reader needs (stdout and XLSX).

The legend adapts to the run: a deterministic scorer has no intervals, and a panel of at most
ten targets per strategy puts every target in the top 10, so P(top 10) says nothing there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import polars as pl


@runtime_checkable
class RankingForLegend(Protocol):
    """What the legend reads of a ranking (:class:`targetrank.results.Ranking` has it all).

    A protocol, not the class: the results import this module, so it must not import them back.
    """

    table: pl.DataFrame
    manifest: dict[str, Any]
    model_card: dict[str, Any]


def legend(ranking: RankingForLegend) -> list[tuple[str, str]]:
    """``(term, meaning)`` pairs for the columns of a ranking, specific to this run."""
    manifest: dict[str, Any] = ranking.manifest
    table = ranking.table
    per_strategy = table.group_by("strategy").len()["len"].max() if table.height else 0
    genes = manifest.get("genes")
    replicates = (ranking.model_card.get("level2_ranker") or {}).get("bootstrap_replicates")
    scorer = manifest.get("scorer")
    deterministic = str(manifest.get("uncertainty", "")).startswith("none")
    score = (
        "weighted sum of the strategy's normalised features (0-1)"
        if scorer == "weighted"
        else f"{scorer} model units (a ranking score: only its order matters; negative is normal)"
    )
    items = [
        ("score", f"{score}; compares targets within one strategy only, never across strategies"),
        (
            "rank",
            f"position among this run's {per_strategy:,} targets in the strategy (1 = best); "
            "genome rank: position among all "
            f"{genes:,} genes of the feature table, the same whatever panel you ask for"
            if isinstance(genes, int)
            else "position among this run's targets in the strategy (1 = best)",
        ),
    ]
    if deterministic:
        items.append(
            ("rank 5-95% / P(top10)", "not estimated: the scorer is deterministic (no refits)")
        )
    else:
        n = f"{replicates} " if replicates else ""
        items.append(
            (
                "rank 5-95%",
                f"range of the rank over {n}bootstrap refits of the model: narrow = stable; "
                "it reflects model uncertainty only, not missing data",
            )
        )
        p10 = f"share of the {n}refits ranking the target in the top 10"
        if per_strategy and per_strategy <= 10:
            p10 += (
                f"; says nothing here: with {per_strategy} targets per strategy every target is "
                "in the top 10 (see genome rank instead)"
            )
        elif replicates and replicates < 50:
            p10 += f"; coarse with {replicates} refits (steps of {1 / replicates:.2f})"
        items.append(("P(top10)", p10))
    items += [
        (
            "gate",
            "a requirement of the strategy the target fails (e.g. its modality); gated targets "
            "rank after every target that passes",
        ),
        ("evidence", "highest clinical stage in the cited evidence base; empty = none"),
    ]
    return items


def legend_text(ranking: RankingForLegend, width: int = 100) -> str:
    """The legend as indented plain text lines, wrapped for a terminal."""
    import textwrap

    lines = ["Legend:"]
    for term, meaning in legend(ranking):
        lines += textwrap.wrap(
            f"{term}: {meaning}.", width=width, initial_indent="  ", subsequent_indent="    "
        )
    return "\n".join(lines)
