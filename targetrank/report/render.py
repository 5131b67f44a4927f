"""Turn :class:`ReportData` into one self-contained HTML page.

Every text of the run is escaped with :func:`html.escape`; the data the cards need travels as
JSON in a non-executed ``<script type="application/json">`` block with ``<``, ``>`` and ``&``
escaped, so a strategy title or symbol holding markup shows as text. A Content-Security-Policy
allows only the page's own inline CSS/JS (by hash) and ``data:`` images: the page cannot load
anything from the network even if a viewer's browser were tricked.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
from html import escape
from importlib import resources
from typing import Any

from targetrank.report.collect import ReportData

COLUMNS: list[tuple[str, str, str]] = [  # header, sort type, css class
    ("rank", "num", "n"),
    ("symbol", "text", ""),
    ("name typed", "text", ""),
    ("score", "num", "n"),
    ("rank 5-95%", "num", "n"),
    ("P(top 10)", "num", "n"),
    ("evidence stage", "text", ""),
    ("failed phase 3", "text", ""),
    ("top drivers", "text", ""),
    ("genome rank", "num", "n"),
    ("gate", "text", ""),
]
UNITS = {
    "lightgbm": "LightGBM ranker units: per-feature SHAP contributions to the lambdarank score",
    "weighted": "weighted-scorer units: each feature's share of the weighted mean",
}


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _asset(name: str) -> str:
    return resources.files("targetrank.report").joinpath("assets", name).read_text("utf-8")


def script_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` can close or open a tag."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    for raw, safe in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, safe)
    return text


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or value == "":
        return ""
    try:
        return f"{float(value):.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


def _ci(value: Any, ci: Any, digits: int = 3) -> str:
    if value is None:
        return ""
    text = _fmt(value, digits)
    if isinstance(ci, list | tuple) and len(ci) == 2 and None not in ci:
        text += f" [{_fmt(ci[0], digits)}, {_fmt(ci[1], digits)}]"
    return text


def _kv(pairs: list[tuple[str, Any]]) -> str:
    items = "".join(
        f"<dt>{_e(k)}</dt><dd>{v if isinstance(v, _Html) else _e(v)}</dd>"
        for k, v in pairs
        if v not in (None, "", [])
    )
    return f'<dl class="kv">{items}</dl>'


class _Html(str):
    """Markup built here from escaped parts (not escaped again by :func:`_kv`)."""


def _table(headers: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f'<th class="{"n" if i in numeric else ""}">{_e(h)}</th>'
                   for i, h in enumerate(headers))  # fmt: skip
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"n" if i in numeric else ""}">{_e(c)}</td>' for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f'<table class="small"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _summary(d: ReportData) -> str:
    m, card = d.manifest, d.card
    command = m.get("command")
    targets = m.get("targets")
    run = _kv(
        [
            ("command", _Html(f"<code>{_e(shlex.join(command))}</code>") if command else None),
            ("created (UTC)", m.get("created_utc")),
            ("targetrank", m.get("targetrank_version")),
            ("seed", m.get("seed")),
            ("scorer", m.get("scorer")),
            ("universe", m.get("universe")),
            ("targets", ", ".join(map(str, targets)) if targets else "default panel (seed panel + evidence base)"),
            ("strategies file", m.get("strategies_file") or "built-in"),
            ("feature source", m.get("feature_source")),
            ("genes in the feature table", m.get("genes")),
            ("uncertainty", m.get("uncertainty")),
            ("ties", m.get("tie_break")),
            ("input hash", _Html(f"<code>{_e(m.get('input_hash'))}</code>") if m.get("input_hash") else None),
        ]
    )  # fmt: skip
    releases = m.get("data_releases") or {}
    rel = _table(["source", "release"], [[k, v] for k, v in releases.items()])
    parts = [
        '<section id="summary"><h2>Run summary</h2><div class="grid2">',
        f"<div>{run}</div>",
        f"<div><h3>Data releases</h3>{rel}</div></div>",
        _metrics(card),
        _leakage(card),
        "</section>",
    ]
    return "".join(parts)


def _metrics(card: dict[str, Any]) -> str:
    out = ['<h3>Model card metrics</h3><div class="grid2">']
    if "note" in card:
        out.append(f'<p class="note">{_e(card["note"])}</p>')
    prior = (card.get("level1_prior") or {}).get("metrics")
    if prior and "model" in prior:
        mm = prior["model"]
        rows = [
            ["LightGBM (out-of-fold)", _ci(mm.get("roc_auc"), mm.get("roc_auc_ci95")),
             _ci(mm.get("average_precision"), mm.get("average_precision_ci95"))],
        ]  # fmt: skip
        if "pubmed_popularity" in prior:
            p = prior["pubmed_popularity"]
            rows.append(
                ["PubMed popularity", _fmt(p.get("roc_auc")), _fmt(p.get("average_precision"))]
            )
        if "random" in prior:
            rows.append(["random", "0.500", _fmt(prior["random"].get("average_precision"))])
        out.append(
            f"<div><p>Level 1, genome-wide precedence prior: {_e(prior.get('genes'))} genes, "
            f"{_e(prior.get('positives'))} positives, {_e(prior.get('folds'))} folds "
            "(95% bootstrap CI).</p>"
            + _table(["method", "ROC-AUC", "average precision"], rows)
            + "</div>"
        )
    evaluation = card.get("evaluation")
    if evaluation and evaluation.get("mean_ndcg10"):
        rows = [
            [r.get("setting"), r.get("method"), _ci(r.get("ndcg"), [r.get("ci_low"), r.get("ci_high")])]
            for r in evaluation["mean_ndcg10"]
        ]  # fmt: skip
        out.append(
            "<div><p>Level 2, strategy ranker: out-of-fold NDCG@10, mean over strategies "
            "(95% bootstrap CI).</p>" + _table(["setting", "method", "NDCG@10"], rows) + "</div>"
        )
    genome = (card.get("genome_validation") or {}).get("per_strategy")
    if genome:
        rows = []
        for sid, methods in genome.items():
            for method, v in methods.items():
                rows.append(
                    [sid, method,
                     _ci(v.get("recall_top100"), v.get("recall_top100_ci95"), 2),
                     _ci(v.get("median_rank_grade5"), v.get("median_rank_grade5_ci95"), 0),
                     _fmt(v.get("spearman_pubmed"), 2)]
                )  # fmt: skip
        out.append(
            "<div><p>Genome-wide validation: recall of evidence targets in the top 100 and "
            "median genome rank of grade 5+ targets (95% CI), Spearman vs PubMed counts.</p>"
            + _table(
                ["strategy", "method", "recall@100", "median rank (grade 5+)", "Spearman PubMed"],
                rows,
            )
            + "</div>"
        )
    out.append("</div>")
    return "".join(out)


def _leakage(card: dict[str, Any]) -> str:
    refused = (card.get("features") or {}).get("refused") or {}
    used = (card.get("features") or {}).get("used") or []
    if not refused and not used:
        return ""
    reasons: dict[str, list[str]] = {}
    for name, why in refused.items():
        reasons.setdefault(str(why), []).append(str(name))
    items = "".join(
        f"<li><strong>{_e(why)}</strong>: {_e(', '.join(names))}</li>"
        for why, names in reasons.items()
    )
    return (
        f"<h3>Leakage guard</h3><p>{len(used)} features used; {len(refused)} refused "
        "(they encode clinical precedence, the very thing the labels measure):</p>"
        f"<ul>{items or '<li>none</li>'}</ul>"
    )


def _drivers_cell(text: str | None) -> str:
    parts = [p for p in (text or "").split("; ") if p]
    return "<br>".join(
        f'<span class="{"p" if p.startswith("+") else "m"}">{_e(p)}</span>' for p in parts
    )


def _strategy_section(k: int, s: dict[str, Any], d: ReportData) -> str:
    tid = f"t{k}"
    number = f"{s['number']}. " if s.get("number") not in (None, "") else ""
    cut = (
        f"Showing the top {d.top_n} of {s['total']:,} ranked targets (N = {d.top_n}); "
        "every row is in ranking.csv."
        if s["total"] > len(s["rows"])
        else f"All {s['total']} ranked targets (the report shows up to N = {d.top_n} per strategy)."
    )
    head = "".join(
        f'<th class="{cls}" data-type="{typ}" aria-sort="{"ascending" if i == 0 else "none"}">'
        f'<button class="sort" type="button">{_e(h)}</button></th>'
        for i, (h, typ, cls) in enumerate(COLUMNS)
    )
    body = []
    for i, r in enumerate(s["rows"]):
        query = r.get("query") or ""
        low, high = r.get("rank_low") or "", r.get("rank_high") or ""
        interval = f"{low}-{high}" if low or high else ""
        gate = r.get("gate") or ""
        cells = [
            f'<td class="n">{_e(r["rank"])}</td>',
            f'<td><button class="card-toggle" type="button" aria-expanded="false">'
            f"{_e(r['symbol'])}</button></td>",
            f"<td>{_e(query if query != r['symbol'] else '')}</td>",
            f'<td class="n">{_e(_fmt(r.get("score")))}</td>',
            f'<td class="n" data-sort="{_e(low)}">{_e(interval)}</td>',
            f'<td class="n">{_e(_fmt(r.get("p_top10"), 2))}</td>',
            f"<td>{_e(r.get('evidence_stage'))}</td>",
            f"<td>{_e(r.get('failed_phase3'))}</td>",
            f'<td class="drivers">{_drivers_cell(r.get("top_drivers"))}</td>',
            f'<td class="n">{_e(r.get("genome_rank"))}</td>',
            f'<td class="gate">{_e(gate)}</td>',
        ]
        cls = ' class="gated"' if gate else ""
        body.append(f'<tr data-i="{i}"{cls}>{"".join(cells)}</tr>')
    return (
        f'<section id="s-{k}" class="strategy"><h2>{_e(number)}{_e(s["title"])} '
        f'<span class="muted">({_e(s["id"])})</span></h2>'
        f'<p class="note">{_e(s["description"])}</p><p class="note">{_e(cut)} Click a symbol '
        "for its card: contributions, feature values with source and release, evidence.</p>"
        f'<div class="tools"><input type="search" data-filter="{tid}" '
        f'placeholder="filter rows (all words must match)" aria-label="filter {_e(s["id"])}">'
        f'<label><input type="checkbox" data-hide-gated="{tid}"> hide gated-out targets</label>'
        f'<span class="muted" data-count="{tid}"></span></div>'
        f'<div class="tablewrap"><table class="sortable ranking" id="{tid}" data-strategy="{k}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div></section>"
    )


def _novel(d: ReportData) -> str:
    if d.manifest.get("universe") != "genome":
        return ""
    cols = [("strategy", "text", ""), ("novel rank", "num", "n"), ("rank", "num", "n"),
            ("symbol", "text", ""), ("score", "num", "n"), ("P(top 10)", "num", "n"),
            ("top drivers", "text", "")]  # fmt: skip
    head = "".join(
        f'<th class="{c}" data-type="{t}" aria-sort="none"><button class="sort" type="button">'
        f"{_e(h)}</button></th>"
        for h, t, c in cols
    )
    body = "".join(
        f'<tr data-i="{i}"><td>{_e(r.get("strategy"))}</td><td class="n">{_e(r.get("novel_rank"))}</td>'
        f'<td class="n">{_e(r.get("rank"))}</td><td>{_e(r.get("symbol"))}</td>'
        f'<td class="n">{_e(_fmt(r.get("score")))}</td><td class="n">{_e(_fmt(r.get("p_top10"), 2))}</td>'
        f'<td class="drivers">{_drivers_cell(r.get("top_drivers"))}</td></tr>'
        for i, r in enumerate(d.novel)
    )  # fmt: skip
    return (
        '<section id="novel"><h2>Novel candidates</h2><p class="note">Genome universe: the best '
        "genes per strategy that are not in the evidence base at all (novel_candidates.csv).</p>"
        '<div class="tools"><input type="search" data-filter="tnovel" placeholder="filter rows" '
        'aria-label="filter novel candidates"><span class="muted" data-count="tnovel"></span></div>'
        '<div class="tablewrap"><table class="sortable" id="tnovel">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></section>"
    )


def render(d: ReportData) -> str:
    """The whole page as one string (inline CSS, JS and heatmap; nothing is fetched)."""
    css, js = _asset("report.css"), _asset("report.js")
    m = d.manifest
    scorer = str(m.get("scorer") or "")
    payload = {
        "units": UNITS.get(scorer, f"the {scorer} scorer's units"),
        "features": d.features,
        "strategies": [{"id": s["id"], "title": s["title"], "cards": s["cards"]} for s in d.strategies],
    }  # fmt: skip
    csp = (
        "default-src 'none'; img-src data:; "
        f"style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; "
        "base-uri 'none'; form-action 'none'"
    )
    toc = "".join(f'<a href="#s-{k}">{_e(s["title"])}</a>' for k, s in enumerate(d.strategies)) + (
        '<a href="#novel">Novel candidates</a>' if m.get("universe") == "genome" else ""
    )
    heatmap = (
        '<section id="heatmap"><h2>Heatmap</h2><p class="note">Targets x strategies: colour = '
        "score percentile within the strategy, number = rank.</p>"
        f'<img class="heatmap" alt="targets x strategies heatmap" '
        f'src="data:image/png;base64,{d.heatmap_b64}"></section>'
        if d.heatmap_b64
        else ""
    )
    title = f"targetrank report: {m.get('created_utc', '')}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(csp)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{_e(title)}</title><style>{css}</style></head><body>"
        f'<header class="top"><h1>{_e(title)}</h1><p>targetrank {_e(m.get("targetrank_version"))}'
        f" · scorer {_e(scorer)} · seed {_e(m.get('seed'))} · universe {_e(m.get('universe'))}"
        f" · {len(d.strategies)} strategies · rebuild with <code>targetrank report "
        f"{_e(d.folder)}</code></p></header>"
        f'<nav class="toc"><a href="#summary">Summary</a><a href="#heatmap">Heatmap</a>{toc}</nav>'
        f"<main>{_summary(d)}{heatmap}"
        + "".join(_strategy_section(k, s, d) for k, s in enumerate(d.strategies))
        + _novel(d)
        + "</main><footer>Self-contained: no network access is needed or made. Scores are "
        "comparable within a strategy only. Full tables: ranking.csv, matrix.csv; model card: "
        "model_card.md.</footer>"
        f'<script type="application/json" id="tr-data">{script_json(payload)}</script>'
        f"<script>{js}</script></body></html>\n"
    )
