"""Open Targets Platform GraphQL source: fetch the connector's tables for resolved targets.

Why it is built this way (the parts live in their own modules):

* The server caps a query's complexity at 150,000 (ids x nested page sizes) and pages at 3,000
  items, and it silently drops unknown or versioned ids. Targets go in batches sized from each
  document's estimated cost (at most 40 by default; :mod:`.opentargets_documents`), nested lists
  are paginated via ``count``, and every dropped id becomes a warning.
* The documents sent depend on the served release (:mod:`.opentargets_release`); a pinned
  release must be the one served.
* Transport, retries, rate limit and the response cache are :mod:`.opentargets_client`; disease
  slots :mod:`.opentargets_diseases`; online target resolution :mod:`.opentargets_resolver`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from targetrank._types import ProgressCallback, no_progress
from targetrank.sources.opentargets_client import (
    GraphQLResult,
    OpenTargetsClient,
    SchemaMismatchError,
)
from targetrank.sources.opentargets_diseases import disease_specs, resolve_disease_plan
from targetrank.sources.opentargets_documents import (
    COMPLEXITY_CAP,
    PAGE_SIZE_MAX,
    Document,
    batch_size,
    load_document,
)
from targetrank.sources.opentargets_ids import chunks, normalise_ids
from targetrank.sources.opentargets_release import check_pinned, field_sets, schema_drift_error
from targetrank.tables.opentargets import (
    OpenTargetsTables,
    ReleaseInfo,
    SourceWarning,
    associations_from_records,
    clinical_from_records,
    expression_from_records,
    prioritisation_from_records,
    safety_from_records,
    screens_from_records,
    targets_from_records,
    tractability_from_records,
)


class OpenTargetsAPI:
    """Fetch the connector's tables from the GraphQL API.

    Args:
        client: The HTTP client.
        release: Pin a data release ("26.06"); a different served release is an error.
        max_batch: Most target ids per request.
        complexity_budget: Estimated cost allowed per request (half the server cap by default).
        assoc_page_size: Association rows per target per page (default: one per disease).
        known_drugs_size: knownDrugs rows per page (pre-26.03).
        expression_page_size: baselineExpression rows per target per page.
        screens_batch: Targets per request for DepMap screens (~100 KB each).
    """

    def __init__(
        self,
        client: OpenTargetsClient,
        *,
        release: str | None = None,
        max_batch: int = 40,
        complexity_budget: float = COMPLEXITY_CAP / 2,
        assoc_page_size: int | None = None,
        known_drugs_size: int = 100,
        expression_page_size: int = 500,
        screens_batch: int = 10,
    ) -> None:
        self.client = client
        self.pinned = release
        self.max_batch = max_batch
        self.complexity_budget = complexity_budget
        self.assoc_page_size = assoc_page_size
        self.known_drugs_size = known_drugs_size
        self.expression_page_size = expression_page_size
        self.screens_batch = screens_batch
        self._release: ReleaseInfo | None = None
        self.documents: dict[str, str] = {}  # name -> sha256 of every document sent

    @property
    def location(self) -> str:
        """The endpoint, for messages and manifests."""
        return self.client.endpoint

    def release(self) -> ReleaseInfo:
        """The served release (``meta`` first), checked against the pinned one."""
        if self._release is None:
            self._note(load_document("meta"))
            info = self.client.release()
            check_pinned(info, self.pinned)
            self._release = info
        return self._release

    def _note(self, doc: Document) -> Document:
        self.documents[doc.name] = doc.sha256
        return doc

    def query(self, name: str, variables: Mapping[str, Any]) -> GraphQLResult:
        """Send document ``name`` with ``variables`` for the served release."""
        doc = self._note(load_document(name))
        release = self.release()
        try:
            return self.client.execute(doc, variables, release=release.data_version)
        except SchemaMismatchError as exc:
            raise schema_drift_error(exc, release) from exc

    # -- diseases ---------------------------------------------------------------------------
    def resolve_diseases(
        self, specs: Mapping[str, str] | None = None
    ) -> tuple[pl.DataFrame, list[SourceWarning]]:
        """Resolve disease slots (name or id per key) in one request: see :func:`disease_specs`."""
        plan = disease_specs(specs)
        names = sorted({p["name"] for p in plan.values() if p["name"]})
        ids = sorted({i for p in plan.values() for i in (p["explicit"], p["fallback"]) if i})
        result = self.query(
            "resolve_diseases", {"names": names, "ids": ids, "hasNames": bool(names)}
        )
        mapped: dict[str, list[dict[str, Any]]] = {}
        for m in (result.data.get("mapIds") or {}).get("mappings") or []:
            mapped[m["term"]] = [h for h in m.get("hits") or [] if h.get("entity") == "disease"]
        known = {d["id"]: d["name"] for d in result.data.get("diseases") or []}
        return resolve_disease_plan(plan, mapped, known, source=self.location)

    # -- targets ----------------------------------------------------------------------------
    def fetch(
        self,
        ensembl_ids: Sequence[str],
        diseases: pl.DataFrame,
        *,
        with_screens: bool = False,
        with_expression: bool = False,
        progress: ProgressCallback = no_progress,
    ) -> OpenTargetsTables:
        """Fetch every table for ``ensembl_ids`` (already resolved) and the resolved diseases."""
        release = self.release()
        sets = field_sets(release)
        ids, warnings = normalise_ids(ensembl_ids)
        disease_ids = [d for d in diseases["disease_id"].to_list() if d]
        page_size = self.assoc_page_size or min(max(len(disease_ids), 1), PAGE_SIZE_MAX)
        variables: dict[str, Any] = {
            "diseaseIds": disease_ids,
            "assocPage": {"index": 0, "size": page_size},
        }
        if sets.drugs == "knownDrugs":
            variables["knownDrugsSize"] = self.known_drugs_size
        doc = load_document(sets.features)
        size = batch_size(doc, variables, max_batch=self.max_batch, budget=self.complexity_budget)
        batches = list(chunks(ids, size))
        screen_batches = list(chunks(ids, self.screens_batch)) if with_screens else []
        expr_batches = list(chunks(ids, size)) if with_expression else []
        total = len(batches) + len(screen_batches) + len(expr_batches)
        done = 0
        records: list[dict[str, Any]] = []
        for batch in batches:
            result = self.query(sets.features, {**variables, "ids": batch})
            got = self._targets(result, batch, warnings, report_dropped=True)
            self._paginate_associations(got, variables, warnings)
            if sets.drugs == "knownDrugs":
                self._paginate_known_drugs(got, warnings)
            records += got
            done += 1
            progress("Open Targets targets", done, total)
        source = f"{self.location} (data {release.data_version})"
        tables = build_tables(
            records,
            diseases,
            release=release,
            requested=ids,
            warnings=warnings,
            source=source,
        )
        if with_screens:
            screen_records = []
            for batch in screen_batches:
                result = self.query("targets_essentiality", {"ids": batch})
                screen_records += self._targets(result, batch, warnings, report_dropped=False)
                done += 1
                progress("Open Targets DepMap screens", done, total)
            tables.essentiality_screens = screens_from_records(screen_records, source=source)
        if with_expression:
            expr_records = []
            for batch in expr_batches:
                expr_records += self._expression(sets.expression, batch, warnings)
                done += 1
                progress("Open Targets expression", done, total)
            tables.expression = expression_from_records(expr_records, source=source)
        return tables

    def _targets(
        self,
        result: GraphQLResult,
        batch: Sequence[str],
        warnings: list[SourceWarning],
        *,
        report_dropped: bool,
    ) -> list[dict[str, Any]]:
        got = [t for t in result.data.get("targets") or [] if t is not None]
        for err in result.errors:
            path = err.get("path") or []
            subject = "query"
            if len(path) >= 2 and isinstance(path[1], int) and path[1] < len(got):
                subject = str(got[path[1]].get("id", subject))
            warnings.append(
                SourceWarning(
                    "partial_error",
                    subject,
                    f"Open Targets returned an error with partial data at "
                    f"{'/'.join(map(str, path)) or '?'}: {err.get('message', '?')}",
                )
            )
        if report_dropped:
            returned = {t.get("id") for t in got}
            for missing in batch:
                if missing not in returned:
                    warnings.append(
                        SourceWarning(
                            "dropped_id",
                            missing,
                            f"Open Targets returned no target for {missing} (unknown, retired "
                            f"or not in data release {self.release().data_version}); its "
                            "features are null",
                        )
                    )
        return got

    def _paginate_associations(
        self,
        records: list[dict[str, Any]],
        variables: Mapping[str, Any],
        warnings: list[SourceWarning],
    ) -> None:
        """Fetch further association pages for targets whose ``count`` exceeds the rows held."""
        size = variables["assocPage"]["size"]
        by_id = {r["id"]: r for r in records}
        index = 1
        while True:
            todo = [
                r["id"]
                for r in records
                if len((r.get("associatedDiseases") or {}).get("rows") or [])
                < int((r.get("associatedDiseases") or {}).get("count") or 0)
                and index * size < int(r["associatedDiseases"]["count"])
            ]
            if not todo:
                return
            page_vars = {
                "diseaseIds": variables["diseaseIds"],
                "assocPage": {"index": index, "size": size},
            }
            doc = load_document("targets_associations_page")
            step = batch_size(
                doc, page_vars, max_batch=self.max_batch, budget=self.complexity_budget
            )
            for batch in chunks(todo, step):
                result = self.query("targets_associations_page", {**page_vars, "ids": batch})
                for t in self._targets(result, batch, warnings, report_dropped=False):
                    rows = (t.get("associatedDiseases") or {}).get("rows") or []
                    by_id[t["id"]]["associatedDiseases"]["rows"].extend(rows)
            index += 1

    def _paginate_known_drugs(
        self, records: list[dict[str, Any]], warnings: list[SourceWarning]
    ) -> None:
        """Follow knownDrugs cursors (pre-26.03) for targets with more rows than one page."""
        for record in records:
            drugs = record.get("knownDrugs")
            while (
                drugs is not None
                and drugs.get("cursor")
                and len(drugs["rows"]) < int(drugs.get("count") or 0)
            ):
                result = self.query(
                    "target_known_drugs_page",
                    {
                        "id": record["id"],
                        "cursor": drugs["cursor"],
                        "knownDrugsSize": self.known_drugs_size,
                    },
                )
                page = ((result.data.get("target") or {}).get("knownDrugs")) or {}
                if not page.get("rows"):
                    break
                drugs["rows"].extend(page["rows"])
                drugs["cursor"] = page.get("cursor")

    def _expression(
        self, name: str, batch: Sequence[str], warnings: list[SourceWarning]
    ) -> list[dict[str, Any]]:
        if name == "targets_expression_pre2661":
            result = self.query(name, {"ids": list(batch)})
            return self._targets(result, batch, warnings, report_dropped=False)
        size = self.expression_page_size
        records: list[dict[str, Any]] = []
        todo, index = list(batch), 0
        by_id: dict[str, dict[str, Any]] = {}
        while todo:
            result = self.query(name, {"ids": todo, "exprPage": {"index": index, "size": size}})
            for t in self._targets(result, todo, warnings, report_dropped=False):
                if t["id"] in by_id:
                    by_id[t["id"]]["baselineExpression"]["rows"].extend(
                        t["baselineExpression"]["rows"]
                    )
                else:
                    by_id[t["id"]] = t
                    records.append(t)
            index += 1
            todo = [
                r["id"]
                for r in records
                if index * size < int(r["baselineExpression"]["count"] or 0)
            ]
        return records


def build_tables(
    records: Sequence[Mapping[str, Any]],
    diseases: pl.DataFrame,
    *,
    release: ReleaseInfo,
    requested: list[str],
    warnings: list[SourceWarning],
    source: str,
) -> OpenTargetsTables:
    """Parse target records (API shape) into the typed tables."""
    associations, datatypes = associations_from_records(records, source=source)
    return OpenTargetsTables(
        targets=targets_from_records(records, source=source),
        tractability=tractability_from_records(records, source=source),
        safety=safety_from_records(records, source=source),
        prioritisation=prioritisation_from_records(records, source=source),
        clinical_candidates=clinical_from_records(records, source=source, warnings=warnings),
        diseases=diseases,
        associations=associations,
        association_datatypes=datatypes,
        release=release,
        requested=requested,
        warnings=warnings,
    )


def collect_opentargets(
    ensembl_ids: Sequence[str],
    *,
    source: Any,
    diseases: Mapping[str, str] | None = None,
    with_screens: bool = False,
    with_expression: bool = False,
    progress: ProgressCallback = no_progress,
) -> OpenTargetsTables:
    """Fetch all tables for resolved Ensembl ids from an API or bulk source.

    ``source`` is an :class:`OpenTargetsAPI` or an
    :class:`~targetrank.sources.opentargets_bulk.OpenTargetsBulk`; both yield the same tables.
    Requests (API): ``meta``, one disease resolution, then one per batch of targets.
    """
    release = source.release()
    disease_table, disease_warnings = source.resolve_diseases(diseases)
    tables: OpenTargetsTables = source.fetch(
        ensembl_ids,
        disease_table,
        with_screens=with_screens,
        with_expression=with_expression,
        progress=progress,
    )
    tables.warnings[:0] = disease_warnings
    tables.release = release
    return tables
