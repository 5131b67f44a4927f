"""Shared CLI plumbing: error rendering, exit codes, progress on stderr, plain tables."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

from targetrank.config import ENV_CACHE
from targetrank.errors import ExitCode, TargetRankError

EXIT_CODES_HELP = """\b
Exit codes:
  0  success
  1  internal error (a bug; rerun with --debug and report it)
  2  usage: bad option, unknown strategy, malformed weights/strategy file, empty input
  3  resolution: a target did not resolve to exactly one human gene
  4  data: an input or feature table is missing or fails validation
  5  upstream: network, API or download failure (Open Targets, DepMap)
  6  model: the ranker could not be trained or scored
  7  output: the output folder cannot be written, or exists (use --force)
  130 interrupted
"""


class TargetRankGroup(click.Group):
    """A click group that turns library errors into one line on stderr and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; map :class:`TargetRankError` to its documented exit code."""
        debug = bool(ctx.params.get("debug"))
        try:
            return super().invoke(ctx)
        except TargetRankError as exc:
            if debug:
                raise
            click.secho(f"Error: {exc.message}", err=True, fg="red")
            ctx.exit(int(exc.exit_code))
        except click.UsageError as exc:  # a subcommand's option: one line too, with the fix
            if debug:
                raise
            where = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
            message = exc.format_message().rstrip(".")
            sep = " " if message.endswith("?") else "; "
            click.secho(f"Error: {message}{sep}fix: see `{where} --help`.", err=True, fg="red")
            ctx.exit(int(ExitCode.USAGE))
        except KeyboardInterrupt:
            if debug:
                raise
            click.echo("Interrupted; no partial output was kept.", err=True)
            ctx.exit(int(ExitCode.INTERRUPTED))


def interactive() -> bool:
    """Progress is drawn only for a person watching a terminal."""
    return sys.stderr.isatty()


@contextmanager
def progress_callback(label: str, enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A ``(step, done, total)`` callback drawing one click progress bar on stderr."""
    if not enabled:
        yield lambda _step, _done, _total: None
        return
    state: dict[str, Any] = {"bar": None, "done": 0}

    def update(step: str, done: int, total: int) -> None:
        bar = state["bar"]
        if bar is None or bar.length != total:
            if bar is not None:
                bar.render_finish()
            bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
            bar.render_progress()
            state["bar"], state["done"] = bar, 0
        bar.label = f"{label}: {step}"
        bar.update(max(done - state["done"], 0))
        state["done"] = done

    try:
        yield update
    finally:
        if state["bar"] is not None:
            state["bar"].render_finish()


def echo_notice(message: str) -> None:
    """The CLI's notice callback: one line on stderr (the library never prints)."""
    click.echo(f"Note: {message}", err=True)


def cache_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--cache-dir`` and ``--no-cache`` for commands that train the LightGBM ranker."""
    command = click.option(
        "--no-cache",
        "no_cache",
        is_flag=True,
        help="Retrain the models instead of reusing the model cache (same results, slower).",
    )(command)
    return click.option(
        "--cache-dir",
        type=click.Path(file_okay=False),
        envvar=ENV_CACHE,
        help="Cache root; trained models are kept in its models/ folder "
        "[default: TARGETRANK_CACHE_DIR or the platform cache folder].",
    )(command)


DRAWS_HELP = (
    "Background draws the LightGBM ranker averages per strategy (default 6, measured better "
    "than 3 over seeds 0-29): more draws give a list that moves less from seed to seed, fewer "
    "fit faster (3: about 0.9x the time of a default run). Recorded in the manifest, so `rerun` "
    "uses it."
)


def draws_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--draws`` for commands that train the LightGBM ranker (``RankerConfig.n_repeats``)."""
    return click.option("--draws", type=click.IntRange(min=1), default=None, help=DRAWS_HELP)(
        command
    )


def ranker_choice(scorer: str, *, draws: int | None = None, refits: int | None = None) -> Any:
    """The ``--scorer`` name, or the LightGBM ranker with ``--draws`` / ``--refits`` set.

    Those options tune the LightGBM ranker only; with another scorer they are a usage error
    rather than silently ignored.
    """
    flags = {"draws": draws, "refits": refits}
    given = " ".join(f"--{flag} {value}" for flag, value in flags.items() if value is not None)
    if not given:
        return scorer
    if scorer != "lightgbm":
        from targetrank.errors import UsageError

        raise UsageError(
            f"{given} tunes the LightGBM ranker, not the '{scorer}' scorer",
            input=f"--scorer {scorer} {given}",
            done="nothing was computed",
            fix="drop the option, or use --scorer lightgbm",
        )
    from targetrank.model.lightgbm_scorer import LightGBMScorer

    options = {"n_repeats": draws, "n_refits": refits}  # RankerConfig's names
    return LightGBMScorer(**{k: v for k, v in options.items() if v is not None})


def render_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], max_width: int = 60
) -> str:
    """A plain, fixed-width text table (no colours, safe to paste into a notebook or email)."""

    def cell(value: Any) -> str:
        text = "" if value is None else str(value)
        text = text.replace("\n", " ")
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    cells = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)
