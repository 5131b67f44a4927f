"""Outputs: run folders and feature tables are complete or absent, never half-written.

`targetrank rank` builds the run folder in a hidden sibling and renames it into place; these
cases break that at every step (no permission, a file in the way, an existing folder, Ctrl-C,
a full disk, a failed swap) and check that the user gets the documented exit code, one line,
and no partial folder or hidden temporary anywhere. Cells carrying commas, quotes, newlines,
non-ASCII text or a leading '=' must survive a CSV reader and Excel unchanged.
"""

from __future__ import annotations

import errno
import json
import os
import re
import zipfile
from pathlib import Path

import polars as pl
import pytest
from reliability_checks import assert_failed, assert_succeeded, debris, read_csv_rows, tree

import targetrank
from targetrank.cli import main
from targetrank.errors import OutputError

WEIGHTED = ["--scorer", "weighted", "--targets", "TIGIT,DKK1,OPN", "--strategy", "bone_resident"]


def rank(runner, out, *extra):
    return runner.invoke(main, ["rank", *WEIGHTED, "--out", str(out), "--quiet", *extra])


def no_trace(parent: Path, out: Path) -> None:
    assert not out.exists()
    assert debris(parent) == [], debris(parent)


@pytest.fixture(scope="module")
def ranking():
    return targetrank.rank(
        ["TIGIT", "DKK1", "OPN"], scorer="weighted", strategies=["bone_resident", "immune_subset"]
    )


# ------------------------------------------------------------------ where the folder goes
def test_unwritable_out_found_while_writing_exits_7_with_nothing_left(
    runner, tmp_path, monkeypatch
):
    """The up-front access check passes (root), then the OS refuses: as on a read-only share."""
    import tempfile

    import targetrank._atomic as atomic

    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "share"))

    monkeypatch.setattr(atomic.tempfile, "mkdtemp", refused)
    out = tmp_path / "share" / "run"
    result = rank(runner, out)
    monkeypatch.setattr(atomic.tempfile, "mkdtemp", tempfile.mkdtemp)
    assert_failed(result, 7, "Cannot write the output folder", str(out), "Permission denied",
                  "writable --out")  # fmt: skip
    no_trace(tmp_path, out)


def test_out_that_is_an_existing_file_is_never_replaced(runner, tmp_path, ranking):
    out = tmp_path / "results.csv"
    out.write_text("my own file")
    for extra in ((), ("--force",)):  # the option parser refuses a file: one line, exit 2
        assert_failed(rank(runner, out, *extra), 2, "is a file", "rank --help")
    with pytest.raises(OutputError, match="already exists"):
        ranking.write(out)
    with pytest.raises(OutputError, match="is a file, not a folder"):
        ranking.write(out, force=True)  # the library refuses it too, even with force
    assert out.read_text() == "my own file"
    assert debris(tmp_path) == []


def test_out_below_a_file_exits_7(runner, tmp_path):
    blocker = tmp_path / "outputs"
    blocker.write_text("a file named like the folder")
    out = blocker / "run"
    result = rank(runner, out)
    assert_failed(result, 7, str(out), "--out")
    assert blocker.read_text() == "a file named like the folder" and debris(tmp_path) == []


def test_existing_run_folder_is_never_overwritten_without_force(runner, tmp_path, ranking):
    out = tmp_path / "run"
    assert_succeeded(rank(runner, out))
    (out / "notes.txt").write_text("my annotations")
    before = tree(out)
    assert_failed(rank(runner, out), 7, "already exists", "nothing was computed or overwritten")
    with pytest.raises(OutputError, match="already exists"):
        ranking.write(out)  # the library refuses too
    assert tree(out) == before
    # --force never deletes work the run did not write: the user's notes stop it, untouched
    assert_failed(rank(runner, out, "--force"), 7, "did not write: notes.txt", "move those files")
    assert tree(out) == before
    (out / "notes.txt").unlink()
    assert_succeeded(rank(runner, out, "--force"))  # a pure run folder is replaced as a whole
    assert (out / "ranking.csv").is_file() and debris(tmp_path) == []


# ------------------------------------------------------------------ interrupted writes
def test_ctrl_c_in_the_middle_of_writing_leaves_no_folder(runner, tmp_path, monkeypatch):
    import targetrank.export as export

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt  # after ranking.csv, matrix.csv, model card: before the heatmap

    monkeypatch.setattr(export, "write_heatmap", interrupted)
    out = tmp_path / "run"
    result = rank(runner, out)
    assert result.exit_code == 130
    assert result.stderr.strip() == "Interrupted; no partial output was kept."
    no_trace(tmp_path, out)


def test_ctrl_c_while_replacing_with_force_keeps_the_old_folder(runner, tmp_path, monkeypatch):
    import targetrank.export as export

    out = tmp_path / "run"
    assert_succeeded(rank(runner, out))
    before = tree(out)
    monkeypatch.setattr(export, "write_xlsx", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    result = rank(runner, out, "--force", "--format", "csv,xlsx")
    assert result.exit_code == 130
    assert tree(out) == before and debris(tmp_path) == []


def test_full_disk_while_writing_exits_7_and_removes_the_partial_folder(
    runner, tmp_path, monkeypatch
):
    import targetrank.export as export

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export, "write_xlsx", full)
    out = tmp_path / "run"
    result = rank(runner, out, "--format", "csv,xlsx")
    assert_failed(result, 7, "Writing the run folder failed", "No space left on device",
                  "nothing half-written remains", "free disk space")  # fmt: skip
    no_trace(tmp_path, out)


def test_a_failed_swap_with_force_puts_the_old_folder_back(runner, tmp_path, monkeypatch):
    """Ctrl-C at the worst moment: the old folder moved aside, the new one not yet in place."""
    out = tmp_path / "run"
    assert_succeeded(rank(runner, out))
    before = tree(out)
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst) == out and ".partial" in Path(src).name:
            raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    result = rank(runner, out, "--force")
    monkeypatch.setattr(os, "replace", real_replace)
    assert result.exit_code == 130
    assert tree(out) == before  # not only a hidden .run.old copy
    assert debris(tmp_path) == []


def test_a_folder_that_appears_during_the_run_is_not_overwritten(runner, tmp_path, monkeypatch):
    import targetrank.export as export

    out = tmp_path / "run"
    real = export.write_heatmap

    def other_process_writes_there(ranking, path):
        out.mkdir()
        (out / "theirs.txt").write_text("another run's result")
        real(ranking, path)

    monkeypatch.setattr(export, "write_heatmap", other_process_writes_there)
    result = rank(runner, out)
    assert_failed(
        result, 7, "appeared while the run was being written", "existing folder is untouched"
    )
    assert tree(out) == {"theirs.txt": b"another run's result"}
    assert debris(tmp_path) == []


def test_depmap_table_and_manifest_are_replaced_together_or_not_at_all(
    runner, portal, tmp_path, monkeypatch
):
    """fsync reports ENOSPC (delayed allocation): the old table must stay beside its manifest."""
    import targetrank._atomic as atomic

    args = ["fetch", "depmap", "--endpoint", portal.root, "--release", "24Q4",
            "--no-expression", "--out", str(tmp_path / "dm"), "--cache-dir", str(tmp_path / "c")]  # fmt: skip
    assert_succeeded(runner.invoke(main, [*args, "--targets", "TIGIT,DKK1"]))
    before = tree(tmp_path / "dm")

    def fsync(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    result = runner.invoke(main, [*args, "--targets", "TIGIT,DKK1,SPP1"])
    monkeypatch.undo()
    assert_failed(result, 7, "Cannot write the DepMap feature table", "No space left on device")
    assert tree(tmp_path / "dm") == before  # same two genes, same manifest
    assert debris(tmp_path / "dm") == []


# ------------------------------------------------------------------ cell contents
NASTY = [
    'comma, "quotes" and a\nnewline',
    "ümlaut, café, 骨转移, α-β — naïve",
    '=HYPERLINK("http://attacker.invalid","click")',
    "+1; -1; @SUM(A1)",
    "  leading and trailing spaces  ",
    "tab\there; semicolon; 'single'",
    "http://example.invalid/path?q=1",
]


def test_text_cells_round_trip_through_csv_and_xlsx(ranking, tmp_path):
    import fastexcel

    n = ranking.table.height
    table = ranking.table.with_columns(
        pl.Series("query", [NASTY[i % len(NASTY)] for i in range(n)]),
        pl.Series("top_drivers", [NASTY[(i + 1) % len(NASTY)] for i in range(n)]),
        pl.Series("citations", [NASTY[(i + 2) % len(NASTY)] for i in range(n)]),
    )
    nasty = ranking.__class__(**{**ranking.__dict__, "table": table})
    out = nasty.write(tmp_path / "run", formats=["csv", "xlsx"])

    rows = read_csv_rows(out / "ranking.csv")
    for column in ("query", "top_drivers", "citations"):
        assert [r[column] for r in rows] == table[column].to_list()
    assert (out / "ranking.csv").read_bytes().decode("utf-8")  # UTF-8, no BOM needed to read

    book = fastexcel.read_excel(out / "ranking.xlsx")
    assert book.sheet_names == ["README", "bone_resident", "immune_subset"]
    for strategy in ("bone_resident", "immune_subset"):
        sheet = pl.read_excel(out / "ranking.xlsx", sheet_name=strategy)
        expected = table.filter(pl.col("strategy") == strategy)
        for column in ("query", "top_drivers", "citations"):
            assert sheet[column].to_list() == expected[column].to_list()
    assert no_formulas(out / "ranking.xlsx")


def no_formulas(path: Path) -> bool:
    """No cell of the workbook is a formula (text starting with '=' must stay text)."""
    with zipfile.ZipFile(path) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
        return not any(re.search(rb"<f>|<f ", book.read(n)) for n in sheets)


STRATEGY_IDS = [
    'bone, "resident"\nosteoclast: RANKL/OPG [custom]',
    '=HYPERLINK("http://attacker.invalid","x")',
    "Knochenmark-Nische: Osteozyten, Osteoblasten und ihre Liganden",
    "Knochenmark-Nische: Osteozyten, Osteoblasten und ihre Rezeptoren",
    "免疫微环境",
]


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # heatmap labels: CJK boxes
def test_custom_strategy_ids_with_any_text_reach_every_export_intact(runner, tmp_path):
    """A shared strategy file carries commas, quotes, newlines, non-ASCII, a formula and
    sheet-illegal characters (/ : [ ]) into the CSV, matrix, XLSX and manifest."""
    import fastexcel

    blocks = []
    for sid in STRATEGY_IDS:
        blocks.append(
            f'[[strategy]]\nid = {json.dumps(sid)}\ntitle = "t"\ndescription = "d"\n'
            'compartments = []\nmodalities = ["antibody"]\n[strategy.weights]\nsc_marker = 0.5\n'
            "is_surface = 0.5\n"
        )
    path = tmp_path / "strategies.toml"
    path.write_text('seed_panel = ["TIGIT"]\n' + "".join(blocks), encoding="utf-8")
    out = tmp_path / "run"
    result = runner.invoke(
        main, ["rank", "--scorer", "weighted", "--strategies", str(path), "--targets",
               "TIGIT,DKK1", "--out", str(out), "--format", "csv,xlsx", "--quiet"],
    )  # fmt: skip
    assert_succeeded(result)

    rows = read_csv_rows(out / "ranking.csv")
    assert list(dict.fromkeys(r["strategy"] for r in rows)) == STRATEGY_IDS
    matrix_header = next(iter(read_csv_rows(out / "matrix.csv")))
    assert list(matrix_header)[2:] == STRATEGY_IDS
    assert json.loads((out / "manifest.json").read_text())["strategies"] == STRATEGY_IDS

    book = fastexcel.read_excel(out / "ranking.xlsx")
    sheets = book.sheet_names[1:]
    assert len(sheets) == len(set(s.lower() for s in sheets)) == len(STRATEGY_IDS)
    assert all(len(s) <= 31 and not re.search(r"[\[\]:*?/\\\n]", s) for s in sheets)
    for sheet, sid in zip(sheets, STRATEGY_IDS, strict=True):
        assert set(pl.read_excel(out / "ranking.xlsx", sheet_name=sheet)["strategy"]) == {sid}
    assert no_formulas(out / "ranking.xlsx")
    assert debris(tmp_path) == []
