"""Online target resolution with Open Targets ``mapIds`` (``--resolver opentargets``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from targetrank.errors import UsageError
from targetrank.resolution import ENSEMBL_HUMAN, ENSEMBL_OTHER, RESOLUTION_SCHEMA, Resolution
from targetrank.sources.opentargets import OpenTargetsAPI
from targetrank.sources.opentargets_client import OpenTargetsClient
from targetrank.sources.opentargets_documents import MAP_IDS_MAX
from targetrank.sources.opentargets_ids import chunks


class OpenTargetsResolver:
    """A :class:`~targetrank.resolver.TargetResolver` backed by Open Targets ``mapIds``.

    Useful for names newer than the offline gene index. Same statuses as the offline resolver:
    an approved symbol, an obsolete symbol (``previous``), a synonym (``alias``), an Ensembl id;
    several candidate genes make the query ``ambiguous`` (nothing is picked); mouse Ensembl ids
    are ``non_human``. Entrez ids are not known to Open Targets, so ``entrez_id`` stays null.
    """

    def __init__(
        self, client: OpenTargetsClient | OpenTargetsAPI, *, release: str | None = None
    ) -> None:
        self.api = (
            client
            if isinstance(client, OpenTargetsAPI)
            else OpenTargetsAPI(client, release=release)
        )

    def resolve(self, queries: Sequence[str]) -> Resolution:
        """Resolve ``queries`` in order (one request per 3,000 distinct names)."""
        if isinstance(queries, str):
            queries = [queries]
        kept = [str(q).strip() for q in queries if q is not None and str(q).strip()]
        if not kept:
            raise UsageError(
                "No targets were given",
                done="nothing was resolved",
                fix="name at least one target, e.g. --targets TIGIT",
            )
        terms = sorted({_term(q) for q in kept if not ENSEMBL_OTHER.match(q)})
        hits: dict[str, list[dict[str, Any]]] = {}
        for chunk in chunks(terms, MAP_IDS_MAX):
            result = self.api.query("map_targets", {"terms": chunk})
            for m in (result.data.get("mapIds") or {}).get("mappings") or []:
                hits[m["term"]] = [
                    h for h in m.get("hits") or [] if h.get("entity") == "target" and h.get("id")
                ]
        rows: list[dict[str, Any]] = []
        first: dict[str, str] = {}
        for q in kept:
            row = _map_row(q, hits.get(_term(q), []))
            if row["ensembl_id"] is not None:
                if row["ensembl_id"] in first:
                    row["duplicate_of"] = first[row["ensembl_id"]]
                    row["note"] = (row["note"] + "; " if row["note"] else "") + (
                        f"duplicate of '{row['duplicate_of']}' ({row['symbol']}); counted once"
                    )
                else:
                    first[row["ensembl_id"]] = q
            rows.append(row)
        table = pl.DataFrame(rows, schema=RESOLUTION_SCHEMA)
        return Resolution(table, dropped_blank=len(queries) - len(kept))


def _term(query: str) -> str:
    """What to send to mapIds: the stable id for a versioned Ensembl id, else the query."""
    return query.upper().split(".")[0] if ENSEMBL_HUMAN.match(query) else query


def _map_row(query: str, hits: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(RESOLUTION_SCHEMA)
    row["query"] = query
    release_note = "by Open Targets mapIds"

    def pick(hit: Mapping[str, Any], status: str, note: str) -> dict[str, Any]:
        obj = hit.get("object") or {}
        row.update(
            status=status,
            symbol=obj.get("approvedSymbol") or hit.get("name"),
            ensembl_id=hit["id"],
            note=note,
        )
        return row

    if ENSEMBL_OTHER.match(query):
        row.update(status="non_human", note="non-human Ensembl gene id; give the human ortholog")
        return row
    upper = query.upper()
    if ENSEMBL_HUMAN.match(query):
        stable = upper.split(".")[0]
        same = [h for h in hits if h["id"] == stable]
        if same:
            note = (
                f"version suffix .{upper.split('.')[1]} removed" if "." in upper else release_note
            )
            return pick(same[0], "ensembl", note)
        row.update(status="unknown", note=f"Ensembl id {stable} is not a target in Open Targets")
        return row

    def labels(hit: Mapping[str, Any], key: str) -> set[str]:
        return {str(x.get("label", "")).upper() for x in (hit.get("object") or {}).get(key) or []}

    unique = {h["id"]: h for h in hits}
    approved = [
        h
        for h in unique.values()
        if str((h.get("object") or {}).get("approvedSymbol", "")).upper() == upper
    ]
    if len(approved) == 1:
        return pick(approved[0], "approved", release_note)
    previous = [h for h in unique.values() if upper in labels(h, "obsoleteSymbols")]
    alias = [h for h in unique.values() if upper in labels(h, "symbolSynonyms")]
    if len(previous) == 1 and not alias:
        return pick(previous[0], "previous", f"previous symbol, {release_note}")
    if len(alias) == 1 and not previous:
        return pick(alias[0], "alias", f"synonym, {release_note}")
    candidates = list(unique.values())
    if len(candidates) == 1:
        return pick(candidates[0], "alias", f"name match, {release_note}")
    if candidates:
        names = "; ".join(
            f"{(h.get('object') or {}).get('approvedSymbol') or h.get('name')} ({h['id']})"
            for h in candidates[:10]
        )
        row.update(
            status="ambiguous",
            note=f"Open Targets maps it to {len(candidates)} targets: {names}",
            candidates=names,
        )
        return row
    row.update(status="unknown", note="Open Targets mapIds found no target")
    return row
