"""Side-by-side timing on a shared machine: interleaved rounds, medians, paired ratios.

Absolute times on a loaded 2-core box drift by 2x within minutes, so every claim is a ratio to
a baseline measured in the same rounds: each round runs every variant once (order rotated, so
none always runs first or last), and a ratio is the median over rounds of ``variant / baseline``
from the same round. Wall and CPU (process) time are both kept: wall over CPU shows how much a
figure was slowed by other users of the machine.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Sample:
    """One timed call."""

    wall: float
    cpu: float
    value: Any = None


@dataclass
class Series:
    """All samples of one variant."""

    name: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def wall(self) -> float:
        """Median wall seconds."""
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        """Median CPU seconds of this process (all its threads)."""
        return statistics.median(s.cpu for s in self.samples)

    @property
    def last(self) -> Any:
        """The value the last call returned."""
        return self.samples[-1].value


def timed(fn: Callable[[], Any]) -> Sample:
    """Run ``fn`` once after a garbage collection; wall and process CPU seconds."""
    gc.collect()
    w0, c0 = time.perf_counter(), time.process_time()
    value = fn()
    return Sample(time.perf_counter() - w0, time.process_time() - c0, value)


def interleave(variants: dict[str, Callable[[], Any]], rounds: int) -> dict[str, Series]:
    """Run every variant once per round, rotating the order between rounds."""
    names = list(variants)
    out = {n: Series(n) for n in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            out[name].samples.append(timed(variants[name]))
    return out


def ratio(series: dict[str, Series], name: str, baseline: str, *, cpu: bool = False) -> float:
    """Median over rounds of ``name / baseline`` (paired by round)."""
    a, b = series[name].samples, series[baseline].samples
    pairs = [(x.cpu / y.cpu) if cpu else (x.wall / y.wall) for x, y in zip(a, b, strict=True)]
    return statistics.median(pairs)


def verdict(value: float, target: float, *, at_most: bool = True) -> str:
    """'met' or 'missed by N %' for a ratio or figure against its target."""
    ok = value <= target if at_most else value >= target
    if ok:
        return "met"
    miss = (value / target - 1) if at_most else (target / value - 1)
    return f"missed by {miss:.0%}"
