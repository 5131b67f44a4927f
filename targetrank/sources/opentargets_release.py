"""Open Targets release discovery: which field set a served release needs, and release pins.

The API validates the whole document first, so one unknown field gives HTTP 400 for everything.
The field set is picked from ``meta`` for the release the endpoint serves: 26.03 replaced
``knownDrugs`` with ``drugAndClinicalCandidates``; API 26.6.1 replaced ``expressions`` with
``baselineExpression``. A schema that disagrees with its ``meta`` is told in those terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from targetrank.config import ENV_OT_ENDPOINT
from targetrank.errors import UpstreamError
from targetrank.sources.opentargets_client import SchemaMismatchError
from targetrank.tables.opentargets import ReleaseInfo

#: Release boundaries of the field sets (API version tuples).
DRUG_CANDIDATES_SINCE = (26, 3, 0)  # knownDrugs -> drugAndClinicalCandidates
BASELINE_EXPRESSION_SINCE = (26, 6, 1)  # expressions -> baselineExpression


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
            f"point --endpoint (or {ENV_OT_ENDPOINT}) at a deployment whose meta matches its "
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
