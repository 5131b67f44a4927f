"""Read a run folder into the plain data the report renders.

The report is built from the run folder's own files (manifest, model card, ranking.csv,
explanations.parquet, heatmap.png, novel_candidates.csv), so ``targetrank report RUN_DIR``
rebuilds the same page later without recomputing anything. Only the feature labels and the
evidence base's free text come from the installed package.
"""

from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from targetrank.errors import DataError

#: Rows shown per strategy; the rest stay in ranking.csv (a genome run has ~20k per strategy).
TOP_N = 100

# Strategy-conditioned features are computed by targetrank from these sources.
_SC_SOURCES = {
    "sc_marker": ("panglaodb",),
    "sc_marker_count": ("panglaodb",),
    "sc_expression": ("hpa_blood", "hpa_tissue"),
    "sc_expression_specificity": ("hpa_blood",),
    "sc_process": ("go",),
    # partners and neighbours count when they mark (PanglaoDB) or take part in (GO) a compartment
    "sc_ligand_receptor": ("liana", "panglaodb", "go"),
    "sc_network": ("string", "panglaodb", "go"),
    "sc_modality_fit": ("cspa", "surfy", "go", "hpa_subcellular"),
}
_PRIOR_SOURCES = ("drugcentral_targets", "finan2017")

_LINK = re.compile(
    r"(?P<pmid>PMID[:\s]*(?P<pmid_id>\d{4,9}))"
    r"|(?P<nct>\bNCT\d{8}\b)"
    r"|(?P<doi>(?:DOI[:\s]*|doi\.org/)?(?P<doi_id>\b10\.\d{4,9}/[^\s;,()\[\]<>\"']+))",
    re.IGNORECASE,
)


@dataclass
class ReportData:
    """Everything the page shows, as plain Python values (no HTML yet)."""

    folder: Path
    manifest: dict[str, Any]
    card: dict[str, Any]
    strategies: list[dict[str, Any]]  # id, number, title, description, total, rows, cards
    features: list[list[str]]  # [name, label, sources, releases]; cards index into it
    heatmap_b64: str | None
    novel: list[dict[str, Any]] = field(default_factory=list)
    top_n: int = TOP_N


def linkify(text: str | None) -> list[list[str | None]]:
    """Split ``text`` into ``[text, url]`` segments; PMIDs, NCT ids and DOIs get their URL."""
    if not text:
        return []
    out: list[list[str | None]] = []
    pos = 0
    for m in _LINK.finditer(text):
        if m.start() > pos:
            out.append([text[pos : m.start()], None])
        if m.group("pmid"):
            url = f"https://pubmed.ncbi.nlm.nih.gov/{m.group('pmid_id')}/"
        elif m.group("nct"):
            url = f"https://clinicaltrials.gov/study/{m.group('nct').upper()}"
        else:
            doi = m.group("doi_id").rstrip(".")
            url = f"https://doi.org/{doi}"
            if len(doi) < len(m.group("doi_id")):  # keep a sentence's full stop as text
                out.append([m.group(0)[: len(m.group(0)) - 1], url])
                out.append([".", None])
                pos = m.end()
                continue
        out.append([m.group(0), url])
        pos = m.end()
    if pos < len(text):
        out.append([text[pos:], None])
    return out


def _read_json(path: Path, *, required: bool) -> dict[str, Any]:
    if not path.is_file():
        if required:
            raise DataError(
                "Not a targetrank run folder",
                input=str(path.parent),
                cause=f"{path.name} is missing",
                fix="point at a folder written by `targetrank rank` (it holds manifest.json, "
                "ranking.csv, ...)",
            )
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(
            f"Cannot read {path.name} of the run folder",
            input=str(path),
            cause=str(exc),
            fix="rerun `targetrank rank` (or `targetrank rerun` on its manifest) to rewrite it",
        ) from exc
    if not isinstance(data, dict):
        raise DataError(
            f"{path.name} of the run folder is not a JSON object",
            input=str(path),
            fix="rerun `targetrank rank` to rewrite the run folder",
        )
    return data


def _read_table(path: Path, *, required: bool) -> pl.DataFrame | None:
    if not path.is_file():
        if required:
            raise DataError(
                "Not a targetrank run folder",
                input=str(path.parent),
                cause=f"{path.name} is missing",
                fix="point at a folder written by `targetrank rank`",
            )
        return None
    try:
        if path.suffix == ".parquet":
            return pl.read_parquet(path)
        return pl.read_csv(path, infer_schema_length=0)  # text as written; cast where needed
    except Exception as exc:  # polars raises several error types for corrupt files
        raise DataError(
            f"Cannot read {path.name} of the run folder",
            input=str(path),
            cause=f"{type(exc).__name__}: {exc}",
            fix="rerun `targetrank rank` to rewrite the run folder",
        ) from exc


def _num(value: str | None) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return None if math.isnan(number) else number


def _value_text(feature: str, value: str | None, network: bool | None) -> str:
    from targetrank.display import shown_value

    return shown_value(feature, value, network=network)


def _provenance(name: str, releases: dict[str, Any], version: str) -> tuple[str, str]:
    """Sources and releases of one model feature, from the run manifest's data releases."""
    from targetrank.features import REGISTRY

    if name.startswith("strategy_is_"):
        return "strategy indicator (targetrank)", f"targetrank {version}"
    if name == "sc_strategy_score":
        return "strategy file weights x the weighted features (targetrank)", f"targetrank {version}"
    if name == "prior_precedence":
        keys: tuple[str, ...] = _PRIOR_SOURCES
        prefix = "level-1 model trained on "
    elif name in _SC_SOURCES:
        keys, prefix = _SC_SOURCES[name], "strategy compartments x "
    else:
        try:
            keys, prefix = REGISTRY.group_of(name).sources, ""
        except KeyError:
            return "unknown (not in this targetrank's feature registry)", ""
    known = [k for k in keys if k in releases]
    rel = "; ".join(dict.fromkeys(str(releases[k]) for k in known))
    return prefix + (", ".join(keys) or "targetrank"), rel


def _labels(names: list[str]) -> dict[str, str]:
    from targetrank.display import plain_name as _plain
    from targetrank.features import REGISTRY

    specs = REGISTRY.all_specs()
    return {n: _plain(n, specs) for n in names}


def _evidence_rows() -> dict[tuple[str, str], dict[str, Any]]:
    from targetrank.evidence import evidence

    return {(r["strategy"], r["symbol"]): r for r in evidence().iter_rows(named=True)}


def _strategy_info(manifest: dict[str, Any], ids: list[str]) -> dict[str, dict[str, Any]]:
    info = manifest.get("strategy_info")
    if isinstance(info, dict):
        return info
    try:  # a run folder written before strategy_info was recorded
        from targetrank.strategy_file import load_strategies

        loaded = load_strategies(manifest.get("strategies_file"))
        return {s.id: s.info() for s in loaded}
    except Exception:
        return {sid: {"title": sid} for sid in ids}


def collect(
    run_dir: str | Path, *, top_n: int = TOP_N, folder: str | Path | None = None
) -> ReportData:
    """Read the run folder ``run_dir`` into :class:`ReportData` (top ``top_n`` per strategy).

    ``folder`` is the path the page names (the final folder while the run is still being
    written in its temporary sibling).
    """
    source = Path(run_dir)
    if not source.is_dir():
        raise DataError(
            "The run folder does not exist",
            input=str(source),
            fix="give the path of a folder written by `targetrank rank` (outputs/<timestamp>)",
        )
    manifest = _read_json(source / "manifest.json", required=True)
    card = _read_json(source / "model_card.json", required=False)
    ranking = _read_table(source / "ranking.csv", required=True)
    assert ranking is not None
    missing = {"strategy", "rank", "symbol", "score"} - set(ranking.columns)
    if missing:
        raise DataError(
            "ranking.csv of the run folder lacks columns",
            input=str(source / "ranking.csv"),
            cause=f"missing: {', '.join(sorted(missing))}",
            fix="rerun `targetrank rank` to rewrite the run folder",
        )
    explanations = _read_table(source / "explanations.parquet", required=False)
    novel = _read_table(source / "novel_candidates.csv", required=False)
    releases = manifest.get("data_releases") or {}
    version = str(manifest.get("targetrank_version", ""))

    ranking = ranking.with_columns(pl.col("rank").cast(pl.Int64, strict=False))
    shown = ranking.filter(pl.col("rank") <= top_n)
    drivers: dict[tuple[str, str], list[tuple[str, str | None, float]]] = {}
    if explanations is not None and explanations.height:
        keys = shown.select("strategy", "symbol")
        for r in explanations.join(keys, on=["strategy", "symbol"], how="semi").iter_rows():
            drivers.setdefault((r[0], r[1]), []).append((r[2], r[3], float(r[4])))
    names = sorted({f for rows in drivers.values() for f, _, _ in rows if f != "(bias)"})
    labels = _labels(names)
    feature_index = {n: i for i, n in enumerate(names)}
    features = [[n, labels[n], *_provenance(n, releases, version)] for n in names]
    evidence = _evidence_rows()

    ids = [str(s) for s in ranking["strategy"].unique(maintain_order=True).to_list()]
    info = _strategy_info(manifest, ids)
    strategies = []
    for sid in ids:
        part = shown.filter(pl.col("strategy") == sid).sort("rank")
        network = (info.get(sid) or {}).get("network")  # None in runs written before 0.6.0
        total = ranking.filter(pl.col("strategy") == sid).height
        rows, cards = [], []
        for r in part.iter_rows(named=True):
            rows.append(r)
            stored = drivers.get((sid, r["symbol"]), [])
            bias = next((c for f, _, c in stored if f == "(bias)"), None)
            ev = evidence.get((sid, r["symbol"]))
            cards.append(
                {
                    "symbol": r["symbol"],
                    "rank": r["rank"],
                    "score": _num(r.get("score")),
                    "genome_rank": r.get("genome_rank") or "",
                    "gate": r.get("gate") or "",
                    "bias": bias,
                    "drivers": [
                        [feature_index[f], _value_text(f, v, network), round(c, 6)]
                        for f, v, c in sorted(stored, key=lambda x: -abs(x[2]))
                        if f != "(bias)"
                    ],
                    "evidence": _evidence_card(ev, r),
                }
            )
        meta = info.get(sid) or {}
        strategies.append(
            {
                "id": sid,
                "number": meta.get("number"),
                "title": str(meta.get("title") or sid),
                "description": str(meta.get("description") or ""),
                "total": total,
                "rows": rows,
                "cards": cards,
            }
        )
    heatmap = source / "heatmap.png"
    heatmap_b64 = base64.b64encode(heatmap.read_bytes()).decode() if heatmap.is_file() else None
    return ReportData(
        folder=Path(folder) if folder is not None else source,
        manifest=manifest,
        card=card,
        strategies=strategies,
        features=features,
        heatmap_b64=heatmap_b64,
        novel=novel.to_dicts() if novel is not None else [],
        top_n=top_n,
    )


def _evidence_card(ev: dict[str, Any] | None, row: dict[str, Any]) -> dict[str, Any] | None:
    """The evidence-base entry of a (strategy, target), its ids turned into links."""
    if ev is None:
        if not row.get("citations"):
            return None
        return {"stage": row.get("evidence_stage") or "", "citations": linkify(row["citations"])}
    return {
        "stage": ev.get("stage") or "",
        "onc_bone_stage": ev.get("onc_bone_stage") or "",
        "grade": ev.get("grade"),
        "agents": ev.get("agents") or "",
        "modality": ev.get("modality") or "",
        "failed_phase3": bool(ev.get("failed_phase3")),
        "failed_phase3_trials": linkify(ev.get("failed_phase3_trials")),
        "fact": linkify(ev.get("fact")),
        "citations": linkify(ev.get("citations")),
        "verification": ev.get("verification") or "",
    }
