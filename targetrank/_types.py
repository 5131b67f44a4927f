"""Small shared types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from targetrank.__about__ import __version__

#: ``progress(step, done, total)``: the library reports progress through this callback and
#: never prints; the CLI adapts it to a progress bar on stderr (only when interactive).
ProgressCallback = Callable[[str, int, int], None]


def no_progress(step: str, done: int, total: int) -> None:
    """The default progress callback: silence."""
    return None


#: Fewest bootstrap resamples (of the evaluated targets) whose 2.5/97.5 % percentiles are
#: distinct order statistics: with fewer, a "95 % interval" is the sample's minimum and maximum
#: (or NaN with none at all).
MIN_RESAMPLES = 20


#: ``notice(message)``: a one-line message for the user (e.g. a refused model cache file); the
#: library never prints it, the CLI writes it to stderr.
NoticeCallback = Callable[[str], None]


def no_notice(message: str) -> None:
    """The default notice callback: silence."""
    return None


def utc_timestamp(when: datetime | None = None) -> str:
    """The one timestamp spelling of every manifest: ISO 8601 UTC to the second, ``Z`` suffix."""
    return (when or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def manifest_stamp() -> dict[str, str]:
    """What every manifest a run writes starts with: the version and the creation time."""
    return {"targetrank_version": __version__, "created_utc": utc_timestamp()}
