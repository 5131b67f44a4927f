"""Open Targets Platform GraphQL connector (I/O only).

Why it is built this way:

* The API validates the whole document first: one unknown field gives HTTP 400 for everything.
  Queries live in ``opentargets_queries/*.graphql`` (one per purpose, fragments shared), and the
  field set is picked from ``meta`` for the release the endpoint serves: 26.03 replaced
  ``knownDrugs`` with ``drugAndClinicalCandidates``; API 26.6.1 replaced ``expressions`` with
  ``baselineExpression``.
* The server caps a query's complexity at 150,000 (ids x nested page sizes) and pages at 3,000
  items, and it silently drops unknown or versioned ids. Targets go in batches sized from each
  document's estimated cost (at most 40 by default), nested lists are paginated via ``count``,
  and every dropped id becomes a warning.
* One ``requests`` session: urllib3 ``Retry`` (POST allowed) with backoff on timeouts, 429 and
  5xx, honouring ``Retry-After``; a polite rate limit (3 requests/s); an on-disk requests-cache
  keyed by (query, variables, data release) under ``TARGETRANK_CACHE_DIR``; ``meta`` expires
  after a few hours, release data never does (a release is immutable).
* Disease ids moved from EFO to MONDO in 2026 and old ids return ``null`` without an error, so
  disease names are resolved with ``mapIds`` at run time, a documented default id is the
  fallback, and a missing disease is a warning ("retired id"), never "no associations".
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from targetrank._types import ProgressCallback, no_progress
from targetrank.errors import UpstreamError, UsageError
from targetrank.resolution import ENSEMBL_HUMAN as _ENSEMBL_HUMAN
from targetrank.resolution import ENSEMBL_OTHER as _ENSEMBL_OTHER
from targetrank.resolution import RESOLUTION_SCHEMA, Resolution
from targetrank.sources.opentargets_client import (
    DEFAULT_ENDPOINT,
    Document,
    GraphQLResult,
    OpenTargetsClient,
    RequestStats,
    SchemaMismatchError,
    batch_size,
    estimate_complexity,
    load_document,
    operation_names,
)
from targetrank.tables.opentargets import (
    OpenTargetsTables,
    ReleaseInfo,
    SourceWarning,
    associations_from_records,
    clinical_from_records,
    diseases_table,
    expression_from_records,
    prioritisation_from_records,
    safety_from_records,
    screens_from_records,
    targets_from_records,
    tractability_from_records,
)

#: Server limits (platform-api ``conf/application.conf`` and ``Pagination.scala``, 26.6.3).
COMPLEXITY_CAP = 150_000
PAGE_SIZE_MAX = 3000
MAP_IDS_MAX = 3000

#: Release boundaries of the field sets (API version tuples).
DRUG_CANDIDATES_SINCE = (26, 3, 0)  # knownDrugs -> drugAndClinicalCandidates
BASELINE_EXPRESSION_SINCE = (26, 6, 1)  # expressions -> baselineExpression


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


# --------------------------------------------------------------------------------------------
# Field sets per release
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSets:
    """Which documents to send for a release."""

    features: str
    expression: str
    drugs: str  # "drugAndClinicalCandidates" or "knownDrugs"


def field_sets(release: ReleaseInfo) -> FieldSets:
    """Pick the documents for the API version the endpoint reported.

    ``>= 26.3.0``: ``drugAndClinicalCandidates``, else ``knownDrugs``; ``>= 26.6.1``:
    ``baselineExpression``, else ``expressions``. An unparsable version counts as current.
    """
    version = release.api_tuple or _data_tuple(release.data_version) or (99, 0, 0)
    new_drugs = version >= DRUG_CANDIDATES_SINCE
    new_expr = version >= BASELINE_EXPRESSION_SINCE
    return FieldSets(
        features="targets_features" if new_drugs else "targets_features_pre2603",
        expression="targets_expression" if new_expr else "targets_expression_pre2661",
        drugs="drugAndClinicalCandidates" if new_drugs else "knownDrugs",
    )


#: The release-specific fields and the field that replaced each one, for messages.
FIELD_SETS_NOTE = (
    "drugAndClinicalCandidates from API 26.3.0 (knownDrugs before), baselineExpression from "
    "API 26.6.1 (expressions before)"
)
_NEWER_FIELDS = {"drugAndClinicalCandidates": "knownDrugs", "baselineExpression": "expressions"}
_OLDER_FIELDS = {v: k for k, v in _NEWER_FIELDS.items()}


def schema_drift_error(exc: SchemaMismatchError, release: ReleaseInfo) -> UpstreamError:
    """The HTTP 400 of a missing field, told in terms of the field set picked for ``release``.

    The server validates the whole document, so one field it lacks fails every query. The
    message names the field(s), the field set targetrank picked from ``meta`` and what to do.
    """
    missing = [f for f, _ in exc.fields]
    sets = field_sets(release)
    expression = "baselineExpression" if sets.expression == "targets_expression" else "expressions"
    picked = (
        f"the served API renamed or removed a field of the field set picked for API "
        f"{release.api_version} (data {release.data_version}: {sets.drugs}, {expression})"
    )
    older = [_NEWER_FIELDS[f] for f in missing if f in _NEWER_FIELDS]
    newer = [_OLDER_FIELDS[f] for f in missing if f in _OLDER_FIELDS]
    if older:
        cause = f"{picked}; its schema is older than its meta says and needs {', '.join(older)}"
        fix = (
            "point --endpoint (or TARGETRANK_OT_ENDPOINT) at a deployment whose meta matches its "
            "schema, or use --bulk DIR with that release's parquet downloads"
        )
    elif newer:
        cause = f"{picked}; its schema is newer than its meta says and needs {', '.join(newer)}"
        fix = "check --endpoint, or use --bulk DIR with that release's parquet downloads"
    else:
        cause = f"{picked}; a release newer than this targetrank version"
        fix = (
            "upgrade targetrank (pip install -U targetrank), or use --bulk DIR with the parquet "
            "downloads of a release this version supports"
        )
    return UpstreamError(
        exc.what,
        input=exc.input,
        done="nothing was written",
        cause=f"{cause} (fields by release: {FIELD_SETS_NOTE})",
        fix=fix,
    )


def _data_tuple(data_version: str) -> tuple[int, int, int] | None:
    m = re.match(r"^(\d{2})\.(\d{1,2})", data_version or "")
    return (int(m.group(1)), int(m.group(2)), 0) if m else None


def check_pinned(release: ReleaseInfo, pinned: str | None) -> None:
    """Refuse to mix releases: a pinned release must be the one served (``26.06`` matches ``26.06.1``)."""
    if pinned is None:
        return
    if not (release.data_version == pinned or release.data_version.startswith(pinned + ".")):
        raise UpstreamError(
            f"{release.location} serves Open Targets data release {release.data_version}, "
            f"not the pinned {pinned}",
            input=f"--release {pinned}",
            done="nothing was fetched",
            cause="a new Platform release came out, or the endpoint is another deployment",
            fix=f"drop --release (or pass --release {release.data_version}), or use --bulk DIR "
            f"with the {pinned} parquet downloads",
        )


# --------------------------------------------------------------------------------------------
# Ids
# --------------------------------------------------------------------------------------------


def normalise_ids(ids: Sequence[str]) -> tuple[list[str], list[SourceWarning]]:
    """Stable, upper-case, de-duplicated Ensembl ids, version suffixes stripped.

    ``targets(ensemblIds:)`` silently drops a versioned id such as ``ENSG00000181847.11``.
    """
    out: list[str] = []
    seen: set[str] = set()  # not `in out`: quadratic, 1.5 s for 20,000 bulk ids
    warnings: list[SourceWarning] = []
    for raw in ids:
        text = str(raw).strip().upper()
        if not text:
            continue
        if not _ENSEMBL_HUMAN.match(text):
            raise UsageError(
                f"{raw!r} is not a human Ensembl gene id",
                input="the ids passed to the Open Targets connector",
                done="nothing was fetched",
                fix="resolve names first (targetrank resolve) or pass ENSG ids",
            )
        stable = text.split(".")[0]
        if stable != text:
            warnings.append(
                SourceWarning("version_suffix", raw, f"version suffix removed: queried {stable}")
            )
        if stable not in seen:
            seen.add(stable)
            out.append(stable)
    return out, warnings


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


# --------------------------------------------------------------------------------------------
# The API source
# --------------------------------------------------------------------------------------------


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

    def _run(self, name: str, variables: Mapping[str, Any]) -> GraphQLResult:
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
        result = self._run(
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
        batches = list(_chunks(ids, size))
        screen_batches = list(_chunks(ids, self.screens_batch)) if with_screens else []
        expr_batches = list(_chunks(ids, size)) if with_expression else []
        total = len(batches) + len(screen_batches) + len(expr_batches)
        done = 0
        records: list[dict[str, Any]] = []
        for batch in batches:
            result = self._run(sets.features, {**variables, "ids": batch})
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
                result = self._run("targets_essentiality", {"ids": batch})
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
            for batch in _chunks(todo, step):
                result = self._run("targets_associations_page", {**page_vars, "ids": batch})
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
                result = self._run(
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
            result = self._run(name, {"ids": list(batch)})
            return self._targets(result, batch, warnings, report_dropped=False)
        size = self.expression_page_size
        records: list[dict[str, Any]] = []
        todo, index = list(batch), 0
        by_id: dict[str, dict[str, Any]] = {}
        while todo:
            result = self._run(name, {"ids": todo, "exprPage": {"index": index, "size": size}})
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


# --------------------------------------------------------------------------------------------
# Disease resolution (shared with the bulk source)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Online target resolution (mapIds)
# --------------------------------------------------------------------------------------------


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
        terms = sorted({_term(q) for q in kept if not _ENSEMBL_OTHER.match(q)})
        hits: dict[str, list[dict[str, Any]]] = {}
        for chunk in _chunks(terms, MAP_IDS_MAX):
            result = self.api._run("map_targets", {"terms": chunk})
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
    return query.upper().split(".")[0] if _ENSEMBL_HUMAN.match(query) else query


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

    if _ENSEMBL_OTHER.match(query):
        row.update(status="non_human", note="non-human Ensembl gene id; give the human ortholog")
        return row
    upper = query.upper()
    if _ENSEMBL_HUMAN.match(query):
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


# --------------------------------------------------------------------------------------------
# Pipeline: resolve, fetch, compute features, write
# --------------------------------------------------------------------------------------------


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


__all__ = [
    "DEFAULT_DISEASES",
    "DEFAULT_ENDPOINT",
    "Document",
    "FieldSets",
    "GraphQLResult",
    "OpenTargetsAPI",
    "OpenTargetsClient",
    "OpenTargetsResolver",
    "RequestStats",
    "batch_size",
    "collect_opentargets",
    "estimate_complexity",
    "field_sets",
    "load_document",
    "operation_names",
]
