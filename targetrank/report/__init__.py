"""``report.html``: the self-contained page a translational team opens instead of a terminal.

Built from a run folder's own files, so it is written with the run (inside the same atomic
folder write) and can be rebuilt later with ``targetrank report RUN_DIR``.
"""

from __future__ import annotations

from pathlib import Path

from targetrank.report.collect import TOP_N, ReportData, collect, linkify
from targetrank.report.render import render, script_json
from targetrank.runfolder import REPORT_FILE

__all__ = [
    "REPORT_FILE",
    "TOP_N",
    "ReportData",
    "build_report",
    "linkify",
    "script_json",
    "write_report",
]


def build_report(
    run_dir: str | Path, *, top_n: int = TOP_N, folder: str | Path | None = None
) -> str:
    """The report page of the run folder ``run_dir`` as HTML text (``folder``: the path shown)."""
    return render(collect(run_dir, top_n=top_n, folder=folder))


def write_report(run_dir: str | Path, out: str | Path | None = None, *, top_n: int = TOP_N) -> Path:
    """Write ``report.html`` (atomically: temp file then rename) and return its path."""
    from targetrank._atomic import atomic_open, output_errors

    target = Path(out) if out is not None else Path(run_dir) / REPORT_FILE
    page = build_report(run_dir, top_n=top_n)
    with (
        output_errors(
            "Cannot write the report",
            target=target,
            done="no report was written; any previous report.html is untouched",
            fix="free disk space or choose a writable --out",
        ),
        atomic_open(target) as fh,
    ):
        fh.write(page)
    return target
