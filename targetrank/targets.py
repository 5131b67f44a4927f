"""Reading target lists the way people write them (slides, spreadsheets, text files)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from targetrank.errors import DataError, UsageError


def split_targets(values: Iterable[str]) -> list[str]:
    """Split comma-, semicolon- or whitespace-separated target strings into names.

    ``["TIGIT,DKK1", "OPN"]`` gives ``["TIGIT", "DKK1", "OPN"]``. Spaces inside a name are not
    supported on the command line (quote-free names are the norm for genes); use a file for
    names such as "cathepsin K".
    """
    out: list[str] = []
    for value in values:
        for part in value.replace(";", ",").split(","):
            out += [p for p in part.split() if p]
    return out


def read_targets_file(path: str | os.PathLike[str]) -> list[str]:
    """Read a target list: one name per line or comma/tab-separated; ``#`` starts a comment.

    Handles a UTF-8 byte-order mark, CRLF line endings, blank lines and a header line named
    ``target``/``symbol``/``gene``/``query``. Names may contain spaces ("cathepsin K").
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise UsageError(
            "Cannot read the targets file",
            input=str(file),
            done="nothing was computed",
            cause=exc.strerror or str(exc),
            fix="check the path given to --targets-file",
        ) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            "The targets file is not UTF-8 text",
            input=f"{file} (byte {exc.start})",
            done="nothing was computed",
            cause="it was saved in another encoding or is a binary file (e.g. .xlsx)",
            fix="save it as UTF-8 text or CSV with one target per line",
        ) from exc
    names: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        for part in line.replace("\t", ",").replace(";", ",").split(","):
            name = part.strip().strip('"').strip("'").strip()
            if name:
                names.append(name)
    if names and names[0].lower() in {"target", "targets", "symbol", "gene", "query", "name"}:
        names = names[1:]
    if not names:
        raise UsageError(
            "The targets file lists no targets",
            input=str(file),
            done="nothing was computed",
            cause="the file is empty or holds only blank lines, comments or a header",
            fix="put one target per line, e.g. TIGIT",
        )
    return names
