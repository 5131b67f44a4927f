"""The cited evidence base: per (target, strategy) clinical stage, drugs, failures and citations.

It is data a user can read, cite and edit (``targetrank/data/evidence.tsv``), built by
:func:`build_evidence` from the curated ``shared/reference/evidence_kb.tsv`` with the curation
decisions in :data:`CURATION` applied and recorded in each row's ``curation_note``.

The graded relevance label the ranker learns from comes from one function, :func:`relevance_grade`:

====  ==========================================================================================
7     approved for a bone indication (e.g. denosumab for skeletal events, romosozumab)
6     approved in oncology for this mechanism
5     approved outside oncology/bone (validated druggability and safety), or an ongoing or
      positive phase 3 in oncology/bone
4     phase 2 in oncology/bone
3     phase 3 in oncology/bone that failed (missed its primary endpoint, futility or safety):
      graded below an ongoing phase 2, above phase 1
2     phase 1 in oncology/bone
1     preclinical only
0     no agent (and every background gene)
====  ==========================================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from io import StringIO
from pathlib import Path

import polars as pl

from targetrank.errors import DataError

EVIDENCE_FILE = "evidence.tsv"

STRATEGY_CODES = {
    "S1_immune_subset": "immune_subset",
    "S2_checkpoint_combination": "checkpoint_combination",
    "S3_bone_resident": "bone_resident",
    "S4_bone_targeted_delivery": "bone_targeted_delivery",
    "S5_engineered_cell_therapy": "engineered_cell_therapy",
}
STAGES = (
    "NONE",
    "PRECLINICAL",
    "PHASE_1",
    "PHASE_2",
    "PHASE_3",
    "APPROVED_OTHER",
    "APPROVED_ONCOLOGY",
    "APPROVED_BONE",
)
MAX_GRADE = 7

_ONC_GRADE = {
    "NONE": 0,
    "PRECLINICAL": 1,
    "PHASE_1": 2,
    "PHASE_2": 4,
    "PHASE_3": 5,
    "APPROVED_ONCOLOGY": 6,
    "APPROVED_BONE": 7,
}


def relevance_grade(stage: str, onc_bone_stage: str, failed_phase3: bool) -> int:
    """Graded relevance (0-7) of a (target, strategy) row; see the module docstring for the scale.

    The oncology/bone stage sets the grade; a failed phase 3 there drops it to 3 (below an ongoing
    phase 2) unless the mechanism is approved anyway; an approval outside oncology lifts the
    grade to at least 5.
    """
    if stage not in STAGES or onc_bone_stage not in STAGES or onc_bone_stage == "APPROVED_OTHER":
        raise DataError(
            "Unknown clinical stage in the evidence base",
            input=f"stage={stage!r}, onc_bone_stage={onc_bone_stage!r}",
            fix=f"use one of {', '.join(STAGES)} (onc_bone_stage is never APPROVED_OTHER)",
        )
    grade = _ONC_GRADE[onc_bone_stage]
    if failed_phase3 and onc_bone_stage == "PHASE_3":
        grade = 3
    if stage == "APPROVED_OTHER":
        grade = max(grade, 5)
    return grade


@dataclass(frozen=True)
class Curation:
    """One curation decision applied to the source knowledge base, with its reason."""

    symbol: str
    strategy: str
    action: str  # "drop" or "set"
    reason: str
    changes: tuple[tuple[str, str], ...] = ()


CURATION: tuple[Curation, ...] = (
    Curation(
        "TNFSF11",
        "bone_targeted_delivery",
        "drop",
        "unverified absence claim (no bone-targeted RANKL agent); a grade-0 row adds nothing "
        "over the background and cannot be stood behind",
    ),
    Curation(
        "CSF1R",
        "bone_targeted_delivery",
        "drop",
        "unverified absence claim (no bone-targeted CSF1R agent); dropped for the same reason",
    ),
    Curation(
        "SIGLEC15",
        "bone_resident",
        "set",
        "no public record of a DS-1501 phase 1 was found (the source KB flags it); only "
        "preclinical DS-1501a data (Bone 2022, PMID 34715394), so graded preclinical",
        (
            ("stage", "PRECLINICAL"),
            ("onc_bone_stage", "PRECLINICAL"),
            ("verification", "verified"),
            ("unverified_items", ""),
        ),
    ),
    Curation(
        "TNFSF11",
        "bone_resident",
        "set",
        "D-CARE phase 3 failure checked: adjuvant denosumab did not improve bone-metastasis-free "
        "survival in early breast cancer (Lancet Oncol 2020;21:60-72, NCT01077154)",
        (
            ("citations", "+DOI 10.1016/S1470-2045(19)30687-4; NCT01077154"),
            ("verification", "verified"),
            ("unverified_items", ""),
        ),
    ),
)

COLUMNS = [
    "symbol",
    "entrez_id",
    "ensembl_id",
    "strategy",
    "grade",
    "stage",
    "onc_bone_stage",
    "failed_phase3",
    "failed_phase3_trials",
    "agents",
    "modality",
    "fact",
    "citations",
    "verification",
    "unverified_items",
    "aliases",
    "curation_note",
]


def build_evidence(kb: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Apply :data:`CURATION` to the source KB rows and resolve each symbol to a human gene.

    Returns:
        ``(evidence, log)``: the evidence table (columns :data:`COLUMNS`) and a log line per
        decision applied.
    """
    from targetrank.resolver import resolve

    rows = []
    log = []
    decisions = {(c.symbol, c.strategy): c for c in CURATION}
    applied: set[tuple[str, str]] = set()
    for raw in kb.iter_rows(named=True):
        row = {k: (v or "") for k, v in raw.items()}
        if row["strategy"] not in STRATEGY_CODES:
            raise DataError(
                "Evidence KB row has an unknown strategy code",
                input=f"{row['symbol']} / {row['strategy']}",
                fix=f"use one of {', '.join(STRATEGY_CODES)}",
            )
        row["strategy"] = STRATEGY_CODES[row["strategy"]]
        row["curation_note"] = ""
        decision = decisions.get((row["symbol"], row["strategy"]))
        if decision is not None:
            applied.add((decision.symbol, decision.strategy))
            log.append(
                f"{decision.action} {decision.symbol}/{decision.strategy}: {decision.reason}"
            )
            if decision.action == "drop":
                continue
            for key, value in decision.changes:
                if value.startswith("+"):
                    row[key] = "; ".join(x for x in [row[key], value[1:]] if x)
                else:
                    row[key] = value
            row["curation_note"] = decision.reason
        rows.append(row)
    missing = set(decisions) - applied
    if missing:
        raise DataError(
            "Evidence curation refers to rows the knowledge base does not have",
            input=", ".join(f"{s}/{t}" for s, t in sorted(missing)),
            fix="update targetrank.evidence.CURATION for this KB version",
        )
    table = pl.DataFrame(rows)
    resolution = resolve(table["symbol"].to_list())
    if not resolution.ok:
        resolution.raise_for_failures(done="the evidence base was not built")
    table = table.with_columns(
        resolution.table["symbol"].alias("symbol"),
        resolution.table["entrez_id"].alias("entrez_id"),
        resolution.table["ensembl_id"].alias("ensembl_id"),
        (pl.col("failed_phase3") == "yes").alias("failed_phase3"),
    )
    table = table.with_columns(
        pl.struct("stage", "onc_bone_stage", "failed_phase3")
        .map_elements(
            lambda r: relevance_grade(r["stage"], r["onc_bone_stage"], r["failed_phase3"]),
            return_dtype=pl.Int64,
        )
        .alias("grade")
    )
    return table.select(COLUMNS), log


def write_evidence(table: pl.DataFrame, path: Path) -> None:
    """Write the evidence TSV atomically (UTF-8, tab-separated, header line)."""
    from targetrank._atomic import atomic_open

    with atomic_open(path) as fh:
        fh.write(table.write_csv(separator="\t"))


def evidence(path: str | Path | None = None) -> pl.DataFrame:
    """The evidence base: one row per (target, strategy) with grade, stage, drugs and citations.

    Args:
        path: An alternative evidence TSV with the same columns (default: the packaged one).
    """
    if path is None:
        text = resources.files("targetrank.data").joinpath(EVIDENCE_FILE).read_text("utf-8")
        source = f"targetrank/data/{EVIDENCE_FILE}"
    else:
        source = str(path)
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise DataError(
                "Cannot read the evidence file", input=source, fix="check the path"
            ) from exc
    df = pl.read_csv(
        StringIO(text),
        separator="\t",
        quote_char=None,
        infer_schema=False,
    ).with_columns(pl.all().fill_null(""))
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise DataError(
            "Evidence file lacks required columns",
            input=f"{source}: missing {', '.join(missing)}",
            fix="start from targetrank/data/evidence.tsv and keep its header",
        )
    df = df.with_columns(
        pl.col("entrez_id").cast(pl.Int64),
        pl.col("grade").cast(pl.Int64),
        (pl.col("failed_phase3") == "true").alias("failed_phase3"),
    )
    expected = [
        relevance_grade(s, o, f)
        for s, o, f in df.select("stage", "onc_bone_stage", "failed_phase3").iter_rows()
    ]
    bad = [
        i for i, (g, e) in enumerate(zip(df["grade"].to_list(), expected, strict=True)) if g != e
    ]
    if bad:
        row = df.row(bad[0], named=True)
        raise DataError(
            "Evidence file grade does not match its stage",
            input=f"{source}: {row['symbol']}/{row['strategy']} grade {row['grade']}, "
            f"expected {expected[bad[0]]}",
            fix="edit stage/onc_bone_stage/failed_phase3 and recompute the grade with "
            "targetrank.evidence.relevance_grade",
        )
    return df.select(COLUMNS)
