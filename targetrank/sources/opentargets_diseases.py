"""Open Targets disease slots: planned from names or ids, resolved into the ``diseases`` table.

Disease ids moved from EFO to MONDO in 2026 and old ids return ``null`` without an error, so
disease names are resolved with ``mapIds`` at run time, a documented default id is the fallback,
and a missing disease is a warning ("retired id"), never "no associations". The plan and its
resolution are shared by the API and the bulk source.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from targetrank.errors import UsageError
from targetrank.tables.opentargets import SourceWarning, diseases_table


@dataclass(frozen=True)
class DiseaseDefault:
    """A disease slot: the name resolved at run time and the documented fallback id."""

    name: str
    fallback_id: str


#: Disease slots of the feature table. Names are resolved with ``mapIds``; the MONDO ids are the
#: 26.06 ids from the research note (cancer, breast carcinoma, NSCLC and myeloma seen live;
#: prostate carcinoma from a third-party map) and are used only when the name does not resolve.
DEFAULT_DISEASES: dict[str, DiseaseDefault] = {
    "cancer": DiseaseDefault("cancer", "MONDO_0004992"),
    "breast": DiseaseDefault("breast carcinoma", "MONDO_0004989"),
    "prostate": DiseaseDefault("prostate carcinoma", "MONDO_0005159"),
    "lung": DiseaseDefault("non-small cell lung carcinoma", "MONDO_0005233"),
    "myeloma": DiseaseDefault("multiple myeloma", "MONDO_0009693"),
}

_DISEASE_ID = re.compile(r"^[A-Za-z]+[_:][A-Za-z0-9]+$")


def disease_specs(specs: Mapping[str, str] | None = None) -> dict[str, dict[str, str | None]]:
    """Plan the disease slots: ``{key: {query, name, explicit, fallback}}``.

    A value that looks like an id (``MONDO_0004992``, ``EFO_0000311``) is used as given; a name is
    resolved at run time, with the documented default id as fallback only for the default name.
    """
    merged: dict[str, str] = {k: d.name for k, d in DEFAULT_DISEASES.items()}
    merged.update(specs or {})
    plan: dict[str, dict[str, str | None]] = {}
    for key, value in merged.items():
        value = value.strip()
        if not key or not value:
            raise UsageError(
                f"Empty disease slot {key!r}={value!r}",
                fix="pass --disease KEY=NAME_OR_ID, e.g. --disease lung='lung carcinoma'",
            )
        default = DEFAULT_DISEASES.get(key)
        if _DISEASE_ID.match(value):
            plan[key] = {
                "query": value,
                "name": None,
                "explicit": value.replace(":", "_"),
                "fallback": None,
            }
        else:
            fallback = default.fallback_id if default and default.name == value else None
            plan[key] = {"query": value, "name": value, "explicit": None, "fallback": fallback}
    return plan


def resolve_disease_plan(
    plan: Mapping[str, Mapping[str, str | None]],
    mapped: Mapping[str, Sequence[Mapping[str, Any]]],
    known: Mapping[str, str],
    *,
    source: str,
) -> tuple[pl.DataFrame, list[SourceWarning]]:
    """Turn name hits and the set of existing ids into the ``diseases`` table and warnings.

    Args:
        plan: From :func:`disease_specs`.
        mapped: name -> hits (``id``, ``name``, ``score``), best first or not.
        known: id -> name for the explicit and fallback ids that exist in this release.
        source: Where the answers came from.
    """
    rows, warnings = [], []
    for key, p in plan.items():
        query = str(p["query"])
        row: dict[str, Any] = {"key": key, "query": query, "disease_id": None, "disease_name": None}
        if p["explicit"]:
            did = str(p["explicit"])
            if did in known:
                row.update(disease_id=did, disease_name=known[did], status="explicit", note=None)
            else:
                row.update(
                    disease_id=did,
                    status="retired",
                    note="id returned null: retired or unknown in this release",
                )
                warnings.append(_retired(key, did))
            rows.append(row)
            continue
        hits = list(mapped.get(str(p["name"]), []))
        exact = [h for h in hits if str(h.get("name", "")).casefold() == query.casefold()]
        ranked = exact or sorted(hits, key=lambda h: -float(h.get("score") or 0))
        best = ranked[0] if ranked else None
        if best is not None:
            note = None
            if p["fallback"] and best["id"] != p["fallback"]:
                note = f"name resolved to {best['id']}, not the documented {p['fallback']}"
            row.update(
                disease_id=best["id"], disease_name=best.get("name"), status="mapped", note=note
            )
        elif p["fallback"] and p["fallback"] in known:
            fid = str(p["fallback"])
            row.update(
                disease_id=fid,
                disease_name=known[fid],
                status="fallback",
                note="name did not resolve; documented default id used",
            )
            warnings.append(
                SourceWarning(
                    "retired_disease", key, f"'{query}' did not resolve by name; used {fid}"
                )
            )
        elif p["fallback"]:
            row.update(disease_id=p["fallback"], status="retired", note="fallback id returned null")
            warnings.append(_retired(key, str(p["fallback"])))
        else:
            row.update(status="unresolved", note="no disease matched this name")
            warnings.append(
                SourceWarning(
                    "null_disease",
                    key,
                    f"disease name '{query}' matched nothing; ot_assoc_{key} features are null "
                    f"(fix: --disease {key}=MONDO_...)",
                )
            )
        rows.append(row)
    return diseases_table(rows, source=source), warnings


def _retired(key: str, disease_id: str) -> SourceWarning:
    return SourceWarning(
        "null_disease",
        disease_id,
        f"disease {disease_id} ({key}) returned null: a retired or unknown id (the Platform moved "
        f"from EFO to MONDO ids in 2026), not 'no associations'; ot_assoc_{key} features are "
        f"null (fix: --disease {key}=NAME or a MONDO id)",
    )
