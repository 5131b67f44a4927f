"""A loopback Open Targets GraphQL server that executes queries against the REAL schema.

No machine here reaches the live API, so the connector's contract is proven against the real
schema files in ``../shared/data/opentargets`` (26.06 derived SDL; the January 2026 introspection
for the pre-26.03 path). Incoming documents are parsed, validated and executed with graphql-core,
resolving from SYNTHETIC fixture data (:mod:`tests.support.ot_synthetic`) in the real response
shape. As on the real server:

* any unknown field fails validation: HTTP 400 with GraphQL ``errors`` for the whole query;
* a complexity above 150,000 (ids x page sizes), a depth above 15 or a page above 3,000 fails;
* ``targets(ensemblIds:)`` silently drops unknown and versioned ids, ``disease(s)`` returns
  nothing for retired ids (``null``), and there is no error either way.

Without a schema (``schema=None``) it answers every POST with a synthetic ``meta``: enough for
the transport tests (retries, cache, error pages), which then run without ``../shared``.

Faults (:meth:`FakeOpenTargets.inject`): ``delay``, ``status`` (e.g. 429 with Retry-After, 500),
``errors`` (GraphQL errors with partial data), ``truncate`` (a JSON body cut short), ``cut``
(connection closed mid-body), ``html`` (an HTML error page), ``redirect`` (to a login page),
``drip`` (a body sent a few bytes at a time). Requests and bytes are counted.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    build_schema,
    execute,
    parse,
    validate,
    value_from_ast_untyped,
)

from .ot_synthetic import SyntheticPlatform, make_platform

SCHEMA_FILES = {
    "26.06": "schema_2026-06_derived.graphql",  # current: drugAndClinicalCandidates, baselineExpression
    "25.12": "schema.graphql",  # January 2026 introspection: knownDrugs, expressions
}
META = {
    "26.06": (
        {"x": "26", "y": "6", "z": "3", "suffix": None},
        {"year": "26", "month": "06", "iteration": "0"},
    ),
    "25.12": (
        {"x": "25", "y": "12", "z": "1", "suffix": None},
        {"year": "25", "month": "12", "iteration": "0"},
    ),
}
MAX_COMPLEXITY = 150_000
MAX_DEPTH = 15
MAX_PAGE = 3000

HTML_PAGE = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
LOGIN_PAGE = b"<!DOCTYPE html><html><body><form action='/login'>Synthetic single sign-on</form></body></html>"


def schema_text(shared: Path, release: str) -> str:
    """The real SDL for ``release`` from ../shared."""
    return (shared / "data" / "opentargets" / SCHEMA_FILES[release]).read_text(encoding="utf-8")


@dataclass
class Fault:
    """One injected fault, applied to the next ``times`` matching requests."""

    kind: str
    times: int = 1
    operation: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Counters:
    """Requests and bytes the fake saw (POSTs only)."""

    posts: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    operations: list[str] = field(default_factory=list)


class FakeOpenTargets:
    """The loopback server; use as a context manager.

    Args:
        platform: Synthetic data (default: the 30 seed targets).
        release: "26.06" (current schema) or "25.12" (January 2026, pre-26.03).
        shared: The ../shared folder holding the schema files; None: meta-only mode.
    """

    def __init__(
        self,
        platform: SyntheticPlatform | None = None,
        *,
        release: str = "26.06",
        shared: Path | None = None,
    ) -> None:
        self.platform = platform or make_platform()
        self.release = release
        self.schema = None
        if shared is not None:
            self.schema = build_schema(schema_text(shared, release))
            self._bind_resolvers()
        self.counters = Counters()
        self.faults: list[Fault] = []
        self.dropped_targets: set[str] = set()
        self.retired_diseases: set[str] = set()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> FakeOpenTargets:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """The GraphQL endpoint."""
        return f"{self.base}/api/v4/graphql"

    # -- control ----------------------------------------------------------------------------
    def inject(
        self, kind: str, *, times: int = 1, operation: str | None = None, **params: Any
    ) -> None:
        """Apply fault ``kind`` to the next ``times`` requests (of ``operation`` if given)."""
        with self._lock:
            self.faults.append(Fault(kind, times, operation, params))

    def reset_counters(self) -> None:
        with self._lock:
            self.counters = Counters()

    def _take_fault(self, operation: str) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.operation in (None, operation) and f.times > 0:
                    f.times -= 1
                    if f.times == 0:
                        self.faults.remove(f)
                    return f
        return None

    # -- GraphQL ----------------------------------------------------------------------------
    def answer(self, body: bytes) -> tuple[int, dict[str, Any]]:
        """Execute one request body: ``(status, payload)``."""
        request = json.loads(body)
        meta_api, meta_data = META[self.release]
        meta = {
            "name": "SYNTHETIC fake of the Open Targets Platform API",
            "product": "platform",
            "apiVersion": meta_api,
            "dataVersion": meta_data,
            "dataPrefix": "",
            "enableDataReleasePrefix": False,
            "downloads": None,
        }
        if self.schema is None:
            return 200, {"data": {"meta": meta}}
        self._meta = meta
        try:
            document = parse(request["query"])
        except GraphQLError as exc:
            return 400, {"errors": [exc.formatted]}
        errors = validate(self.schema, document)
        if errors:
            return 400, {"errors": [e.formatted for e in errors]}
        variables = request.get("variables") or {}
        depth, cost = _depth_and_cost(document, variables)
        if depth > MAX_DEPTH:
            return 400, {"errors": [{"message": f"Query is too deep: {depth} > {MAX_DEPTH}"}]}
        if cost > MAX_COMPLEXITY:
            return 400, {
                "errors": [
                    {
                        "message": f"Query is too complex: complexity is {cost:g} and max complexity is {MAX_COMPLEXITY}"
                    }
                ]
            }
        result = execute(self.schema, document, root_value=self, variable_values=variables)
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [e.formatted for e in result.errors]
        return (400 if result.data is None else 200), payload

    def _bind_resolvers(self) -> None:
        assert self.schema is not None
        q = self.schema.query_type.fields
        q["meta"].resolve = lambda root, info: root._meta
        q["targets"].resolve = lambda root, info, ensemblIds: [
            root._target(i) for i in ensemblIds if root._has_target(i)
        ]
        q["target"].resolve = lambda root, info, ensemblId: (
            root._target(ensemblId) if root._has_target(ensemblId) else None
        )
        q["diseases"].resolve = lambda root, info, efoIds: [
            root._disease(i) for i in efoIds if root._disease(i) is not None
        ]
        q["disease"].resolve = lambda root, info, efoId: root._disease(efoId)
        q["mapIds"].resolve = lambda root, info, queryTerms, entityNames=None: root._map_ids(
            queryTerms, entityNames
        )
        q["search"].resolve = _search
        target = self.schema.get_type("Target").fields  # type: ignore[union-attr]
        target["associatedDiseases"].resolve = _associated_diseases
        if "knownDrugs" in target:
            target["knownDrugs"].resolve = _known_drugs
        if "baselineExpression" in target:
            target["baselineExpression"].resolve = _baseline_expression
        union = self.schema.get_type("EntityUnionType")
        union.resolve_type = lambda obj, info, type_: obj["__typename"]  # type: ignore[union-attr]

    def _has_target(self, ensembl_id: str) -> bool:
        return ensembl_id in self.platform.targets and ensembl_id not in self.dropped_targets

    def _disease(self, disease_id: str) -> dict[str, Any] | None:
        d = self.platform.diseases.get(disease_id)
        if d is None or disease_id in self.retired_diseases:
            return None
        return {**d, "dbXRefs": [], "__typename": "Disease"}

    def _target(self, ensembl_id: str) -> dict[str, Any]:
        t = self.platform.targets[ensembl_id]
        api: dict[str, Any] = {
            **{k: t[k] for k in ("id", "approvedSymbol", "approvedName", "biotype")},
            "symbolSynonyms": [{"label": s, "source": "synthetic"} for s in t["symbolSynonyms"]],
            "obsoleteSymbols": [{"label": s, "source": "synthetic"} for s in t["obsoleteSymbols"]],
            "tractability": t["tractability"],
            "safetyLiabilities": t["safetyLiabilities"],
            "subcellularLocations": t["subcellularLocations"],
            "targetClass": t["targetClass"],
            "isEssential": t["isEssential"],
            "depMapEssentiality": t["depMapEssentiality"],
            "geneticConstraint": t["geneticConstraint"],
            "prioritisation": {
                "items": [{"key": k, "value": repr(v)} for k, v in t["prioritisation"].items()]
            }
            if t["prioritisation"]
            else None,
            "chemicalProbes": t["chemicalProbes"],
            "mousePhenotypes": t["mousePhenotypes"],
            "pathways": t["pathways"],
            "tep": t["tep"],
            "expressions": [
                {
                    "tissue": {
                        "id": e["tissueId"],
                        "label": e["tissueName"],
                        "organs": [],
                        "anatomicalSystems": [],
                    },
                    "rna": {"value": e["value"], "unit": e["unit"], "level": 1, "zscore": 0},
                    "protein": {"level": 0, "reliability": False, "cellType": []},
                }
                for e in t["expression"]
            ],
            "_record": t,
            "__typename": "Target",
        }
        api["drugAndClinicalCandidates"] = {
            "count": len(t["drugs"]),
            "rows": [
                {
                    "id": f"{t['id']}-{d['drugId']}",
                    "maxClinicalStage": d["stage"],
                    "drug": {"id": d["drugId"], "name": d["name"], "drugType": d["drugType"]},
                    "diseases": [],
                    "clinicalReports": [],
                }
                for d in t["drugs"]
            ],
        }
        return api

    def _map_ids(self, terms: list[str], entity_names: list[str] | None) -> dict[str, Any]:
        mappings = []
        for term in terms:
            hits = []
            key = term.casefold()
            if not entity_names or "target" in entity_names:
                for t in self.platform.targets.values():
                    if not self._has_target(t["id"]):
                        continue
                    if key in (t["id"].casefold(), t["approvedSymbol"].casefold()):
                        score = 10.0
                    elif key in {s.casefold() for s in t["symbolSynonyms"] + t["obsoleteSymbols"]}:
                        score = 5.0
                    else:
                        continue
                    hits.append(
                        _hit(t["id"], t["approvedSymbol"], "target", score, self._target(t["id"]))
                    )
            if not entity_names or "disease" in entity_names:
                for d in self.platform.diseases.values():
                    disease = self._disease(d["id"])
                    if disease is None:
                        continue
                    name = d["name"].casefold()
                    if key in (name, d["id"].casefold()):
                        score = 10.0
                    elif all(w in name.split() for w in key.split()):
                        score = 3.0
                    else:
                        continue
                    hits.append(_hit(d["id"], d["name"], "disease", score, disease))
            hits.sort(key=lambda h: -h["score"])
            mappings.append({"term": term, "hits": hits})
        return {
            "total": sum(len(m["hits"]) for m in mappings),
            "mappings": mappings,
            "aggregations": None,
        }


def _hit(id_: str, name: str, entity: str, score: float, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": id_,
        "name": name,
        "entity": entity,
        "category": [entity.upper()],
        "score": score,
        "multiplier": 1.0,
        "highlights": [],
        "object": obj,
    }


def _page(page: Mapping[str, int] | None, default: int = 25) -> tuple[int, int]:
    index, size = (page or {}).get("index", 0), (page or {}).get("size", default)
    if size > MAX_PAGE:
        raise GraphQLError(f"PaginationSizeError: page size {size} exceeds the maximum {MAX_PAGE}")
    return index, size


def _search(
    root: FakeOpenTargets,
    info: Any,
    queryString: str,
    entityNames: list[str] | None = None,
    page: Any = None,
) -> dict[str, Any]:
    index, size = _page(page)
    hits = root._map_ids([queryString], entityNames)["mappings"][0]["hits"]
    return {
        "total": len(hits),
        "hits": hits[index * size : (index + 1) * size],
        "aggregations": None,
    }


def _associated_diseases(
    source: dict[str, Any], info: Any, Bs: list[str] | None = None, page: Any = None, **_: Any
) -> dict[str, Any]:
    root: FakeOpenTargets = info.root_value
    index, size = _page(page)
    rows = []
    for a in source["_record"]["associations"]:
        disease = root._disease(a["diseaseId"])
        if disease is None or (Bs is not None and a["diseaseId"] not in Bs):
            continue
        rows.append(
            {
                "score": a["score"],
                "novelty": None,
                "disease": disease,
                "datatypeScores": [{"id": k, "score": v} for k, v in a["datatypes"].items()],
                "datasourceScores": [],
            }
        )
    rows.sort(key=lambda r: (-r["score"], r["disease"]["id"]))
    return {"count": len(rows), "datasources": [], "rows": rows[index * size : (index + 1) * size]}


def _known_drugs(
    source: dict[str, Any], info: Any, size: int | None = None, cursor: str | None = None, **_: Any
) -> dict[str, Any]:
    root: FakeOpenTargets = info.root_value
    record = source["_record"]
    size = size or 10
    if size > MAX_PAGE:
        raise GraphQLError(f"PaginationSizeError: size {size} exceeds the maximum {MAX_PAGE}")
    rows = [
        {
            "drugId": d["drugId"],
            "prefName": d["name"],
            "drugType": d["drugType"],
            "phase": d["phase"],
            "status": None,
            "diseaseId": disease_id,
            "disease": root._disease(disease_id),
            "approvedSymbol": record["approvedSymbol"],
            "approvedName": record["approvedName"],
            "label": disease_id,
            "mechanismOfAction": "SYNTHETIC mechanism",
            "targetId": record["id"],
            "targetClass": [],
            "ctIds": [],
            "references": [],
            "urls": [],
        }
        for d in record["drugs"]
        for disease_id in d["indications"]
    ]
    start = int(cursor or 0)
    end = start + size
    return {
        "count": len(rows),
        "cursor": str(end) if end < len(rows) else None,
        "rows": rows[start:end],
        "uniqueDrugs": len({r["drugId"] for r in rows}),
        "uniqueDiseases": len({r["diseaseId"] for r in rows}),
        "uniqueTargets": 1,
    }


def _baseline_expression(source: dict[str, Any], info: Any, page: Any = None) -> dict[str, Any]:
    index, size = _page(page)
    rows = [
        {
            "tissueBiosample": {"biosampleId": e["tissueId"], "biosampleName": e["tissueName"]},
            "datasourceId": "synthetic_expression",
            "datatypeId": "rna_expression",
            "median": e["value"],
            "unit": e["unit"],
            "distribution_score": 0.0,
            "targetId": source["id"],
        }
        for e in source["_record"]["expression"]
    ]
    return {"count": len(rows), "rows": rows[index * size : (index + 1) * size]}


def _depth_and_cost(document: Any, variables: Mapping[str, Any]) -> tuple[int, float]:
    """Server-side limits: selection depth and complexity (ids x page sizes x child cost)."""
    fragments = {d.name.value: d for d in document.definitions if d.kind == "fragment_definition"}

    def walk(selection_set: Any) -> tuple[int, float]:
        depth, cost = 0, 0.0
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                d, c = walk(sel.selection_set)
                args = {
                    a.name.value: value_from_ast_untyped(a.value, dict(variables))
                    for a in sel.arguments or ()
                }
                mult = 1.0
                if isinstance(args.get("ensemblIds"), list):
                    mult = max(len(args["ensemblIds"]), 1)
                elif isinstance(args.get("page"), dict):
                    mult = float(args["page"].get("size") or 25)
                elif isinstance(args.get("size"), int):
                    mult = float(args["size"])
                depth, cost = max(depth, d + 1), cost + (1.0 + c) * mult
            else:
                inner = (
                    fragments[sel.name.value].selection_set
                    if isinstance(sel, FragmentSpreadNode)
                    else sel.selection_set
                )
                assert isinstance(sel, FragmentSpreadNode | InlineFragmentNode)
                d, c = walk(inner)
                depth, cost = max(depth, d), cost + c
        return depth, cost

    ops = [d for d in document.definitions if d.kind == "operation_definition"]
    results = [walk(op.selection_set) for op in ops]
    return max(r[0] for r in results), sum(r[1] for r in results)


_OPERATION = re.compile(rb"(?:query|mutation)\s+(\w+)")


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeOpenTargets
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # silence
        return

    def do_GET(self) -> None:
        self._send(200, LOGIN_PAGE, "text/html; charset=utf-8")

    def do_POST(self) -> None:
        fake = self.server_fake
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        m = _OPERATION.search(body)
        operation = m.group(1).decode() if m else "?"
        with fake._lock:
            fake.counters.posts += 1
            fake.counters.bytes_in += len(body)
            fake.counters.operations.append(operation)
        fault = fake._take_fault(operation)
        kind = fault.kind if fault else None
        p = fault.params if fault else {}
        if kind == "delay":
            time.sleep(p.get("seconds", 0.5))
        if kind == "status":
            headers = {"Retry-After": str(p["retry_after"])} if "retry_after" in p else {}
            payload = json.dumps({"errors": [{"message": f"synthetic HTTP {p['code']}"}]}).encode()
            return self._send(p["code"], payload, "application/json", headers)
        if kind == "html":
            return self._send(p.get("code", 502), HTML_PAGE, "text/html; charset=utf-8")
        if kind == "redirect":
            return self._send(
                302, b"", "text/plain", {"Location": f"{fake.base}/login?next=/api/v4/graphql"}
            )
        status, payload_obj = fake.answer(body)
        if kind == "errors" and status == 200:
            payload_obj.setdefault("errors", []).append(
                {
                    "message": p.get("message", "synthetic resolver timeout"),
                    "path": p.get("path", ["targets", 0, "safetyLiabilities"]),
                }
            )
        data = json.dumps(payload_obj).encode()
        if kind == "truncate":
            return self._send(status, data[: len(data) // 2], "application/json")
        if kind == "cut":
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self._count_out(len(data) // 2)
            self.close_connection = True
            return None
        if kind == "drip":
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            step = int(p.get("chunk", 8))
            try:
                for start in range(0, len(data), step):
                    self._count_out(len(data[start : start + step]))
                    self.wfile.write(data[start : start + step])
                    self.wfile.flush()
                    time.sleep(p.get("interval", 0.05))
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            return None
        return self._send(status, data, "application/json")

    def _count_out(self, n: int) -> None:
        with self.server_fake._lock:
            self.server_fake.counters.bytes_out += n

    def _send(
        self, status: int, data: bytes, ctype: str, headers: Mapping[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        # counted before the write: a client that has read the body must see the count (the
        # other order raced with the client's assertion under load)
        self._count_out(len(data))
        self.wfile.write(data)


# --------------------------------------------------------------------------------------------
# Recorded SYNTHETIC responses for the offline parser tests
# --------------------------------------------------------------------------------------------

RECORDED_IDS = ("ENSG00000181847", "ENSG00000118785", "ENSG00000120659", "ENSG00000000001")


def recorded_response_path(release: str) -> Path:
    """Where the recorded synthetic response for ``release`` lives."""
    from .ot_synthetic import FIXTURES

    return FIXTURES / f"synthetic_response_targets_features_{release}.json"


def record_responses(shared: Path, release: str) -> dict[str, Any]:
    """Run the connector's feature query for the three hand-written seeds (plus one unknown id)
    through the fake and return the raw responses, labelled synthetic."""
    from targetrank.sources.opentargets_documents import load_document
    from targetrank.sources.opentargets_release import field_sets
    from targetrank.tables.opentargets import ReleaseInfo

    fake = FakeOpenTargets(release=release, shared=shared)
    api, data = META[release]
    info = ReleaseInfo(
        f"{api['x']}.{api['y']}.{api['z']}", f"{data['year']}.{data['month']}", "api", "fake"
    )
    sets = field_sets(info)
    diseases = ["MONDO_0004992", "MONDO_0004989", "MONDO_0005159", "MONDO_0005233", "MONDO_0009693"]
    variables: dict[str, Any] = {
        "ids": list(RECORDED_IDS),
        "diseaseIds": diseases,
        "assocPage": {"index": 0, "size": 5},
    }
    if sets.drugs == "knownDrugs":
        variables["knownDrugsSize"] = 100
    doc = load_document(sets.features)
    status, payload = fake.answer(json.dumps({"query": doc.text, "variables": variables}).encode())
    assert status == 200, payload
    return {
        "_comment": "SYNTHETIC response of the loopback fake (tests/support/ot_fake.py) executing "
        f"{doc.name}.graphql against the real {release} schema; the values are invented. "
        "Regenerate with: cd tests && python -m support.ot_fake",
        "release": release,
        "document": doc.name,
        "variables": variables,
        "response": payload,
    }


if __name__ == "__main__":  # pragma: no cover - fixture writer
    import sys

    from targetrank.paths import shared_dir

    root = shared_dir(sys.argv[1] if len(sys.argv) > 1 else None)
    assert root is not None
    for rel in SCHEMA_FILES:
        out = recorded_response_path(rel)
        out.write_text(json.dumps(record_responses(root, rel), indent=1, sort_keys=True) + "\n")
        print(f"wrote {out}")


def fast_client(url: str, cache_dir: Path | None, **overrides: Any) -> Any:
    """An OpenTargetsClient with test-sized backoffs and no rate limit (overridable)."""
    from targetrank.sources.opentargets_client import OpenTargetsClient

    options: dict[str, Any] = {
        "cache": cache_dir is not None,
        "cache_dir": cache_dir,
        "rate_limit": None,
        "retries": 3,
        "backoff_factor": 0.01,
        "max_retry_after": 2.0,
        "timeout": (2.0, 5.0),
        "body_deadline": 5.0,
    }
    options.update(overrides)
    return OpenTargetsClient(url, **options)


def render_records(
    platform: SyntheticPlatform, ids: list[str], disease_ids: list[str], *, release: str = "26.06"
) -> list[dict[str, Any]]:
    """API-shaped target records rendered WITHOUT HTTP or schema (offline tests of the parsers
    against the bulk path). The schema-executing path is tested where ../shared is present."""
    from types import SimpleNamespace

    fake = FakeOpenTargets(platform, release=release)
    info = SimpleNamespace(root_value=fake)
    records = []
    for ensembl_id in ids:
        if ensembl_id not in platform.targets:
            continue
        record = fake._target(ensembl_id)
        record["associatedDiseases"] = _associated_diseases(
            record, info, Bs=disease_ids, page={"index": 0, "size": MAX_PAGE}
        )
        if release == "25.12":
            del record["drugAndClinicalCandidates"]
            record["knownDrugs"] = _known_drugs(record, info, size=MAX_PAGE)
        records.append(record)
    return records
