"""Atomic file and folder writes: a reader sees the old state or the complete new one.

Every export goes through here, so an interrupted run (Ctrl-C, full disk, a crash) never leaves a
half-written file where a user expects a result.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from targetrank.errors import OutputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    On any exception the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


@contextlib.contextmanager
def atomic_open(
    target: str | os.PathLike[str], mode: str = "w", **kwargs: Any
) -> Iterator[IO[Any]]:
    """Open a temporary file for writing; it replaces ``target`` only when closed cleanly."""
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
        kwargs.setdefault("newline", "")
    with atomic_path(target) as tmp, open(tmp, mode, **kwargs) as handle:  # noqa: PTH123
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Build a whole folder in a temporary sibling, then rename it to ``target``.

    With ``overwrite=False`` an existing ``target`` is never replaced (the caller checks first
    and reports it); with ``overwrite=True`` the old folder is swapped out only after the new
    one is complete.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        if target.exists():
            if not overwrite:
                raise FileExistsError(str(target))
            old = target.with_name(f".{target.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(target, old)
            try:
                os.replace(tmp, target)
            except BaseException:
                os.replace(old, target)  # put the previous folder back: never lose both
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def output_errors(
    message: str, *, target: str | os.PathLike[str], done: str, fix: str
) -> Iterator[None]:
    """Turn an ``OSError`` raised by the atomic write inside the block into an :class:`OutputError`.

    The one place that says what a failed write means to the user (``message``, what was kept:
    ``done``, what to do: ``fix``); the cause is the system's reason.
    """
    try:
        yield
    except OSError as exc:
        raise OutputError(
            message, input=str(target), done=done, cause=exc.strerror or str(exc), fix=fix
        ) from exc
