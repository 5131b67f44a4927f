"""Errors a person can act on.

Every user-facing failure is a :class:`TargetRankError` that says what failed, on which input,
what was done about it, the likely cause and the fix. Each subclass carries a stable exit code
so the CLI can map failure classes to documented statuses without string matching.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented process exit statuses of the ``targetrank`` command."""

    OK = 0
    INTERNAL = 1  # a bug: please report it (run with --debug for the traceback)
    USAGE = 2  # bad option, unknown strategy, malformed weights/strategy file, empty input
    RESOLUTION = 3  # a target name did not resolve to exactly one human gene
    DATA = 4  # input data or feature tables fail validation
    UPSTREAM = 5  # network, API or download failure (Open Targets, DepMap)
    MODEL = 6  # the ranker could not be trained or scored
    OUTPUT = 7  # the output folder cannot be written, or exists without --force
    INTERRUPTED = 130  # Ctrl-C


class TargetRankError(Exception):
    """Base class: a failure with a one-line, actionable message.

    Args:
        what: What failed, e.g. "Could not resolve 2 of 5 targets".
        input: The input involved (a file, a query, a URL).
        done: What targetrank did about it (e.g. "nothing was written").
        cause: The likely cause.
        fix: How to fix it: a flag, an env var, a command.
    """

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(
        self,
        what: str,
        *,
        input: str | None = None,
        done: str | None = None,
        cause: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.what = what
        self.input = input
        self.done = done
        self.cause = cause
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The whole message on one line, in the order a reader needs it."""
        parts = [self.what.rstrip(".")]
        if self.input:
            parts.append(f"input: {self.input}")
        if self.done:
            parts.append(self.done.rstrip("."))
        if self.cause:
            parts.append(f"likely cause: {self.cause.rstrip('.')}")
        if self.fix:
            parts.append(f"fix: {self.fix.rstrip('.')}")
        return "; ".join(parts) + "."


class UsageError(TargetRankError):
    """Bad arguments or configuration files supplied by the user."""

    exit_code = ExitCode.USAGE


class ResolutionError(TargetRankError):
    """One or more target names did not resolve to exactly one human gene."""

    exit_code = ExitCode.RESOLUTION


class DataError(TargetRankError):
    """A data table or file is missing, malformed or fails its schema."""

    exit_code = ExitCode.DATA


class UpstreamError(TargetRankError):
    """A remote service (Open Targets, DepMap) failed or answered something unusable."""

    exit_code = ExitCode.UPSTREAM


class ModelError(TargetRankError):
    """The ranker could not be fitted or scored on the given data."""

    exit_code = ExitCode.MODEL


class OutputError(TargetRankError):
    """A result could not be written where the user asked."""

    exit_code = ExitCode.OUTPUT
