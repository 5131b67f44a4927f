"""Run folders that never lose work: unique names, safe ``--force``, one writer, early checks.

* Default folders are named ``<UTC timestamp>-<4 hex>``, so two runs started in the same second
  never pick the same folder.
* ``force`` replaces only a folder that holds nothing but a targetrank run (its manifest.json
  and the files that manifest lists); a folder with anything else in it is refused, untouched.
* A writer holds an advisory lock (``.<name>.lock`` beside the folder) from before computing
  until the folder is in place; a second writer to the same folder is refused at once instead
  of overwriting the first one's result.
* Writability is probed (a real create, not ``os.access``, which says yes to root on ``/proc``
  or a read-only mount) before any computing, and failures are explained from their errno.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from targetrank.errors import OutputError

MANIFEST = "manifest.json"
LOCK_SUFFIX = ".lock"

_HELD: dict[Path, tuple[int, int]] = {}  # lock path -> (fd, depth): re-entrant in one process

#: The report page, written after the manifest from the run's files (so not listed in it).
REPORT_FILE = "report.html"


def unique_run_name(now: datetime | None = None) -> str:
    """``20261203T154210Z-3fa9``: sortable by time, unique across runs started together."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(2)}"


def explain_os_error(exc: OSError, where: Path | str) -> tuple[str, str]:
    """``(cause, fix)`` for a failed write, from the errno rather than a guess."""
    reason = exc.strerror or str(exc)
    code = exc.errno
    if code == errno.EROFS:
        return (
            f"{reason}: {where} is on a read-only file system",
            "choose an --out folder on a writable disk",
        )
    if code in (errno.EACCES, errno.EPERM):
        return (
            f"{reason}: no write permission in {where}",
            "choose a writable --out folder, or get write permission there",
        )
    if code in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"{reason}: the disk (or your quota) is full at {where}",
            "free disk space or choose another --out",
        )
    if code in (errno.ENOENT, errno.ENOTDIR, errno.EINVAL):
        return (
            f"{reason}: folders cannot be created in {where} (a special or virtual file system?)",
            "choose an --out folder on a normal disk",
        )
    return f"{reason} in {where}", "choose another --out folder"


def _cannot_write(exc: OSError, where: Path, out: Path | str) -> OutputError:
    """The error for an output folder the OS refuses, before anything was computed."""
    cause, fix = explain_os_error(exc, where)
    return OutputError(
        "Cannot write the output folder",
        input=str(out),
        done="nothing was computed or written",
        cause=cause,
        fix=fix,
    )


def _nearest_existing(path: Path) -> Path:
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def probe_writable(out: Path) -> None:
    """Create and remove a hidden folder where ``out`` will be created; raise if the OS refuses."""
    where = _nearest_existing(out)
    if where.exists() and not where.is_dir():
        raise OutputError(
            "The output folder cannot be created below a file",
            input=str(out),
            done="nothing was computed or written",
            cause=f"{where} is a file",
            fix="choose another --out folder",
        )
    try:
        probe = tempfile.mkdtemp(prefix=".targetrank-probe-", suffix=".partial", dir=where)
        Path(probe).rmdir()
    except OSError as exc:
        raise _cannot_write(exc, where, out) from exc


def foreign_entries(folder: Path) -> list[str] | None:
    """Entries of ``folder`` that its run did not write; ``None`` if it is no run folder at all."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or "targetrank_version" not in manifest:
        return None
    listed = set(manifest.get("files") or {}) | {MANIFEST, REPORT_FILE}
    return sorted(p.name for p in folder.iterdir() if p.name not in listed)


def check_replaceable(out: Path) -> None:
    """With ``--force``: refuse (exit 7) unless ``out`` holds exactly a targetrank run."""
    foreign = foreign_entries(out)
    if foreign is None:
        raise OutputError(
            "Refusing to replace a folder that is not a targetrank run folder",
            input=str(out),
            done="nothing was computed, deleted or overwritten",
            cause=f"it has no targetrank {MANIFEST}; --force only replaces earlier run folders",
            fix="choose a new --out folder (or remove this one yourself)",
        )
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" (+{len(foreign) - 5} more)" if len(foreign) > 5 else ""
        )
        raise OutputError(
            f"Refusing to replace a run folder holding {len(foreign)} file(s) the run did not "
            f"write: {shown}",
            input=str(out),
            done="nothing was computed, deleted or overwritten",
            cause="files were added to the run folder after it was written",
            fix="move those files out of the folder, or choose a new --out folder",
        )


def lock_path(out: Path) -> Path:
    """The lock file of a run folder: a hidden sibling, so the folder itself can be swapped."""
    return out.parent / f".{out.name}{LOCK_SUFFIX}"


@contextlib.contextmanager
def run_folder_lock(out: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the writer's lock on ``out``; a second writer is refused with exit 7 at once.

    The lock is ``flock`` on a hidden sibling file (released by the OS if the process dies, so
    it never goes stale); re-entrant within one process (the CLI and ``write_run`` both take it).
    """
    import fcntl

    path = lock_path(Path(out)).absolute()
    if path in _HELD:
        fd, depth = _HELD[path]
        _HELD[path] = (fd, depth + 1)
        try:
            yield
        finally:
            fd, depth = _HELD[path]
            _HELD[path] = (fd, depth - 1)
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cannot_write(exc, _nearest_existing(path), out) from exc
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise _cannot_write(exc, path.parent, out) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise OutputError(
                "Another targetrank run is writing this output folder",
                input=str(out),
                done="nothing was computed or written; the other run is left to finish",
                cause=f"a second run was started with the same --out (lock {path.name} is held)",
                fix="wait for the other run, or choose another --out",
            ) from exc
        try:  # the previous holder may have unlinked the file between our open and flock
            same = os.fstat(fd).st_ino == path.stat().st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    _HELD[path] = (fd, 1)
    try:
        yield
    finally:
        del _HELD[path]
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)
