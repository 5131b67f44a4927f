"""Strategy and weights files: read, validated on load, into :mod:`targetrank.strategies` types.

``targetrank/data/strategies.toml`` holds, per strategy: title, description (citing the review),
cell compartments, preferred modalities and transparent default weights in [0, 1]. A user can pass
their own file (``--strategies``) or override weights (``--weights``); every problem is reported
with the file, the entry and the fix. Feature names are checked against the feature registry.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from targetrank.errors import UsageError
from targetrank.strategies import (
    COMPARTMENT_KINDS,
    MODALITIES,
    Compartment,
    Strategy,
    StrategySet,
    Weight,
    weight_in_range,
)

DEFAULT_FILE = "strategies.toml"


def _known_features() -> set[str]:
    from targetrank.features import REGISTRY

    return set(REGISTRY.all_specs())


def _err(source: str, entry: str, what: str, fix: str, kind: str = "strategy file") -> UsageError:
    return UsageError(
        f"Invalid {kind}: {what}",
        input=f"{source}, {entry}",
        done="the file was not used and nothing was computed",
        fix=fix,
    )


def _strings(source: str, entry: str, key: str, value: Any) -> tuple[str, ...]:
    """A list of non-empty strings, or a UsageError naming the key (a bare string is refused)."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _err(
            source,
            entry,
            f"'{key}' must be a list of names, not {value!r}",
            f'write e.g. {key} = ["a", "b"]',
        )
    return tuple(value)


def _parse_weight(
    source: str,
    entry: str,
    feature: str,
    raw: Any,
    known: set[str],
    kind: str = "strategy file",
) -> Weight:
    if feature not in known:
        import difflib

        close = difflib.get_close_matches(feature, sorted(known), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise _err(
            source,
            f"{entry} weight '{feature}'",
            f"unknown feature name '{feature}'{hint}",
            "use a column of the feature table or an sc_* strategy feature "
            "(`targetrank features list` shows them)",
            kind,
        )
    prefer: str = "high"
    if isinstance(raw, dict):
        extra = set(raw) - {"weight", "prefer"}
        if extra or "weight" not in raw:
            raise _err(
                source,
                f"{entry} weight '{feature}'",
                "a table weight needs 'weight' and optionally 'prefer'",
                'write e.g. { weight = 0.5, prefer = "low" }',
                kind,
            )
        value, prefer = raw["weight"], raw.get("prefer", "high")
    else:
        value = raw
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _err(
            source,
            f"{entry} weight '{feature}'",
            f"weight {value!r} is not a number",
            "give a number between 0 and 1",
            kind,
        )
    if not weight_in_range(float(value)):
        raise _err(
            source,
            f"{entry} weight '{feature}'",
            f"weight {value} is outside [0, 1]",
            'give a weight between 0 and 1 (use prefer = "low" to reward low values)',
            kind,
        )
    if prefer not in ("high", "low"):
        raise _err(
            source,
            f"{entry} weight '{feature}'",
            f"prefer must be 'high' or 'low', not {prefer!r}",
            'use prefer = "high" or prefer = "low"',
            kind,
        )
    return Weight(feature, float(value), prefer)  # type: ignore[arg-type]


def parse_strategies(data: Mapping[str, Any], source: str) -> StrategySet:
    """Validate parsed TOML/JSON strategy data; raise a UsageError naming the entry and the fix."""
    known = _known_features()
    raw_comp = data.get("compartments", {})
    if not isinstance(raw_comp, dict):
        raise _err(
            source, "[compartments]", "must be a table", "see targetrank/data/strategies.toml"
        )
    compartments: dict[str, Compartment] = {}
    for cid, spec in raw_comp.items():
        if not isinstance(spec, dict):
            raise _err(
                source,
                f"[compartments.{cid}]",
                "must be a table",
                f'write [compartments.{cid}] then lines like markers = ["marker_..."]',
            )
        extra = set(spec) - set(COMPARTMENT_KINDS)
        if extra:
            raise _err(
                source,
                f"[compartments.{cid}]",
                f"unknown key(s) {', '.join(sorted(extra))}",
                f"use only {', '.join(COMPARTMENT_KINDS)}",
            )
        comp = Compartment(
            cid,
            **{
                k: _strings(source, f"[compartments.{cid}]", k, spec.get(k, []))
                for k in COMPARTMENT_KINDS
            },
        )
        for col in comp.columns():
            if col not in known:
                raise _err(
                    source,
                    f"[compartments.{cid}]",
                    f"unknown feature column '{col}'",
                    "use a column of the feature table (`targetrank features list`)",
                )
        compartments[cid] = comp

    entries = data.get("strategy")
    if not isinstance(entries, list) or not entries:
        raise _err(source, "[[strategy]]", "no strategies defined", "add [[strategy]] entries")
    seen: set[str] = set()
    strategies = []
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise _err(
                source,
                f"strategy #{i}",
                "each strategy must be a table",
                "write each one as a [[strategy]] block with id, title, description, ...",
            )
        label = f"strategy #{i}" + (f" '{entry.get('id')}'" if entry.get("id") else "")
        for key in ("id", "title", "description", "compartments", "modalities", "weights"):
            if key not in entry:
                raise _err(source, label, f"missing '{key}'", f"add {key} = ... to the entry")
        for key in ("id", "title", "description"):
            if not isinstance(entry[key], str) or not entry[key].strip():
                raise _err(
                    source, label, f"'{key}' must be a non-empty text", f'write {key} = "..."'
                )
        if not isinstance(entry["weights"], dict):
            raise _err(
                source,
                label,
                "'weights' must be a table of feature = weight",
                "write [strategy.weights] then lines like sc_marker = 0.5",
            )
        number = entry.get("number", i)
        if isinstance(number, bool) or not isinstance(number, int):
            raise _err(source, label, f"'number' must be a whole number, not {number!r}",
                       f"write number = {i}")  # fmt: skip
        compartment_ids = _strings(source, label, "compartments", entry["compartments"])
        modality_ids = _strings(source, label, "modalities", entry["modalities"])
        sid = entry["id"]
        if sid in seen:
            raise _err(
                source, label, f"duplicate strategy id '{sid}'", "give every strategy a unique id"
            )
        seen.add(sid)
        for cid in compartment_ids:
            if cid not in compartments:
                raise _err(
                    source,
                    label,
                    f"unknown compartment '{cid}'",
                    f"define [compartments.{cid}] or use one of {', '.join(compartments)}",
                )
        for modality in modality_ids:
            if modality not in MODALITIES:
                raise _err(
                    source,
                    label,
                    f"unknown modality '{modality}'",
                    f"use one of {', '.join(MODALITIES)}",
                )
        gate_ids = _strings(source, label, "gates", entry.get("gates", []))
        from targetrank.features.gates import GATES

        for gate in gate_ids:
            if gate not in GATES:
                raise _err(
                    source,
                    label,
                    f"unknown gate '{gate}'",
                    f"use one of {', '.join(GATES)} (or add a Gate in targetrank/features/gates.py)",
                )
        network = entry.get("network", False)
        if not isinstance(network, bool):
            raise _err(
                source,
                label,
                f"'network' must be true or false, not {network!r}",
                "write network = true (a gene's STRING neighbours describe this strategy's "
                "cells) or leave it out",
            )
        own_trees = entry.get("own_trees", 0)
        if isinstance(own_trees, bool) or not isinstance(own_trees, int) or own_trees < 0:
            raise _err(
                source,
                label,
                f"'own_trees' must be a whole number of trees, 0 or more, not {own_trees!r}",
                "write own_trees = 30 (trees the ranker fits on this strategy's labels alone) "
                "or leave it out (0: the trees all strategies share only)",
            )
        learn = entry.get("learn", True)
        if not isinstance(learn, bool):
            raise _err(
                source,
                label,
                f"'learn' must be true or false, not {learn!r}",
                "write learn = false (rank this strategy by its weights alone, its rows kept out "
                "of the trees the strategies share) or leave it out",
            )
        if not learn and own_trees:
            raise _err(
                source,
                label,
                "'own_trees' needs a strategy the ranker learns, and this one has learn = false",
                "remove own_trees, or remove learn = false (the ranker then learns it)",
            )
        weights = tuple(
            _parse_weight(source, label, f, w, known) for f, w in entry["weights"].items()
        )
        if not any(w.weight > 0 for w in weights):
            raise _err(source, label, "all weights are zero", "give at least one weight above 0")
        strategies.append(
            Strategy(
                id=sid,
                number=number,
                title=entry["title"],
                description=" ".join(entry["description"].split()),
                compartments=tuple(compartments[c] for c in compartment_ids),
                modalities=modality_ids,
                weights=weights,
                gates=gate_ids,
                network=network,
                own_trees=own_trees,
                learn=learn,
            )
        )
    seeds = _strings(source, "seed_panel", "seed_panel", data.get("seed_panel", []))
    if not seeds:
        raise _err(
            source,
            "seed_panel",
            "no seed_panel",
            'add seed_panel = ["TIGIT", ...]: the targets ranked in every strategy',
        )
    return StrategySet(tuple(strategies), seeds, source, compartments)


def _read_structured(path: Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a BOM (Windows editors) is not an error
    except UnicodeDecodeError as exc:
        raise UsageError(
            "The file is not UTF-8 text",
            input=f"{path} (byte {exc.start})",
            done="it was not used and nothing was computed",
            cause="it was saved in another encoding (e.g. Latin-1) or is not a text file",
            fix="save it as UTF-8 text",
        ) from exc
    except OSError as exc:
        raise UsageError(
            "Cannot read the file",
            input=str(path),
            cause=exc.strerror or str(exc),
            fix="check the path",
        ) from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(
            "The file is not valid TOML/JSON",
            input=f"{path}: {exc}",
            done="it was not used and nothing was computed",
            fix="fix the syntax (TOML: key = value; strings in quotes)",
        ) from exc
    if not isinstance(data, dict):
        raise UsageError(
            f"The file holds a {type(data).__name__}, not a table of settings",
            input=str(path),
            done="it was not used and nothing was computed",
            fix="write tables: [strategy_id] (weights) or [[strategy]] entries (strategies)",
        )
    return data


def load_strategies(path: str | Path | None = None) -> StrategySet:
    """Load and validate the strategy file (default: the packaged review categories)."""
    if path is None:
        text = resources.files("targetrank.data").joinpath(DEFAULT_FILE).read_text("utf-8")
        return parse_strategies(tomllib.loads(text), f"targetrank/data/{DEFAULT_FILE}")
    p = Path(path)
    return parse_strategies(_read_structured(p), str(p))


def load_weights(path: str | Path, strategies: StrategySet) -> dict[str, dict[str, Weight]]:
    """Read a weights file: ``[strategy_id] feature = weight`` (TOML) or the same as JSON."""
    p = Path(path)
    data = _read_structured(p)
    known = _known_features()
    out: dict[str, dict[str, Weight]] = {}
    for sid, entries in data.items():
        if sid not in strategies.ids:
            raise UsageError(
                f"Weights file names an unknown strategy '{sid}'",
                input=str(p),
                done="nothing was computed",
                fix=f"use one of: {', '.join(strategies.ids)}",
            )
        if not isinstance(entries, dict):
            raise UsageError(
                f"Weights for '{sid}' must be a table of feature = weight",
                input=str(p),
                done="nothing was computed",
                fix=f"write [{sid}] then lines like sc_marker = 0.5",
            )
        out[sid] = {
            f: _parse_weight(str(p), f"[{sid}]", f, raw, known, "weights file")
            for f, raw in entries.items()
        }
    return out


def strategies(path: str | Path | None = None) -> pl.DataFrame:
    """The strategy categories as a table (id, number, title, description, ...)."""
    return load_strategies(path).table()
