"""`targetrank resolve`: output formats and one test per exit status."""

from __future__ import annotations

import csv
import io
import json

from targetrank.cli import main


def test_resolve_issue_example_exit_0(runner):
    args = "resolve OPN RANKL RANK OPG PD-1 PD-L1 TIM-3 CD155 YKL-40 ENSG00000181847.11 6696"
    result = runner.invoke(main, args.split())
    assert result.exit_code == 0, result.output
    for symbol in ["SPP1", "TNFSF11", "TNFRSF11A", "TNFRSF11B", "PDCD1", "CD274", "HAVCR2", "PVR"]:
        assert symbol in result.stdout


def test_resolve_csv_round_trips(runner):
    result = runner.invoke(main, ["resolve", "OPN", "PD-1", "--format", "csv"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["symbol"] for r in rows] == ["SPP1", "PDCD1"]
    assert set(rows[0]) >= {"query", "status", "symbol", "ensembl_id", "entrez_id", "note"}


def test_resolve_json(runner):
    result = runner.invoke(main, ["resolve", "TIGIT", "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data[0]["symbol"] == "TIGIT" and data[0]["status"] == "approved"


def test_resolve_non_human_exit_3(runner):
    result = runner.invoke(main, ["resolve", "CHI3L3"])
    assert result.exit_code == 3
    assert "non_human" in result.stdout
    assert "CHI3L1" in result.stdout and "CHI3L2" in result.stdout


def test_resolve_unknown_exit_3_with_suggestions(runner):
    result = runner.invoke(main, ["resolve", "NOTAGENE", "--format", "csv"])
    assert result.exit_code == 3
    assert "did you mean" in result.stdout


def test_resolve_nothing_is_usage_exit_2(runner):
    result = runner.invoke(main, ["resolve"])
    assert result.exit_code == 2
    assert "No targets were given" in result.stderr


def test_resolve_targets_file(runner, tmp_path):
    path = tmp_path / "panel.txt"
    path.write_bytes(
        "\ufefftarget\r\n# seed panel\r\nTIGIT\r\n\r\nOPN, RANKL\r\ncathepsin K\r\n".encode()
    )
    result = runner.invoke(main, ["resolve", "--targets-file", str(path), "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["symbol"] for r in rows] == ["TIGIT", "SPP1", "TNFSF11", "CTSK"]


def test_resolve_empty_targets_file_exit_2(runner, tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("# nothing here\n\n")
    result = runner.invoke(main, ["resolve", "--targets-file", str(path)])
    assert result.exit_code == 2
    assert "lists no targets" in result.stderr


def test_missing_snapshot_is_data_exit_4(runner, tmp_path, monkeypatch):
    import targetrank.resolver as r

    monkeypatch.setenv("TARGETRANK_SNAPSHOT", str(tmp_path))
    monkeypatch.setattr(r, "_DEFAULT", None)
    result = runner.invoke(main, ["resolve", "TIGIT"])
    assert result.exit_code == 4
    assert "gene index" in result.stderr and "snapshot build" in result.stderr


def test_python_dash_m_entry_point():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "targetrank", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "targetrank" in out.stdout
