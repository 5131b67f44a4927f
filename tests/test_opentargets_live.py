"""Live contract check against the real Open Targets API (needs the internet; never in CI)."""

from __future__ import annotations

import pytest

from targetrank.sources.opentargets import OpenTargetsAPI, collect_opentargets
from targetrank.sources.opentargets_client import OpenTargetsClient

pytestmark = pytest.mark.network


def test_live_api_answers_every_table_for_tigit(tmp_path):
    client = OpenTargetsClient(cache_dir=tmp_path)
    tables = collect_opentargets(["ENSG00000181847"], source=OpenTargetsAPI(client))
    assert tables.targets["symbol"].to_list() == ["TIGIT"]
    assert tables.tractability.height > 0
    assert not [w for w in tables.warnings if w.kind == "null_disease"], tables.warnings
