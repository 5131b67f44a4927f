"""What every reliability case asserts about the user-visible outcome.

A failure is: the documented exit code, exactly one ``Error:`` line on stderr that says what
failed, on which input, what was done and the fix, no traceback, and no partial or temporary
file anywhere the command writes.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

#: Names that atomic writers give their temporary files and folders (see targetrank/_atomic.py
#: and pooch): a crash or failure must leave none of them behind.
DEBRIS_MARKERS = (".tmp", ".partial", ".old")


def assert_failed(result: Any, code: int, *needles: str) -> str:
    """The CLI exited with ``code`` and printed one actionable line holding every needle."""
    assert result.exit_code == code, (
        f"exit {result.exit_code}, expected {code}\nstdout: {result.stdout}\n"
        f"stderr: {result.stderr}\nexception: {result.exception!r}"
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    line = lines[0]
    assert line.startswith("Error: "), line
    assert "Traceback" not in result.output
    assert "fix: " in line, f"no fix in: {line}"
    for needle in needles:
        assert needle in line, f"{needle!r} not in: {line}"
    return line


def assert_succeeded(result: Any) -> None:
    assert result.exit_code == 0, (
        f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}\n"
        f"exception: {result.exception!r}"
    )


def debris(*folders: Path) -> list[str]:
    """Hidden temporary files/folders left anywhere under ``folders`` (atomic-write leftovers)."""
    found = []
    for folder in folders:
        if not folder.exists():
            continue
        for path in folder.rglob("*"):
            name = path.name
            hidden_temp = name.startswith(".") and any(m in name for m in DEBRIS_MARKERS)
            pooch_temp = name.startswith("tmp") and path.is_file()  # NamedTemporaryFile
            if hidden_temp or pooch_temp:
                found.append(str(path.relative_to(folder)))
    return sorted(found)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (to prove a folder was left untouched)."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """A CSV as a spreadsheet or R would read it: the stdlib reader, UTF-8, quoted fields."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def csv_text_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))
