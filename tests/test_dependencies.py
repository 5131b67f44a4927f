"""The lower bounds in pyproject.toml are versions the suite has passed with, not guesses."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _lower_bounds() -> dict[str, Version]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    bounds = {}
    for line in project["dependencies"]:
        req = Requirement(line)
        floors = [Version(s.version) for s in req.specifier if s.operator == ">="]
        assert floors, f"{req.name} has no lower bound in pyproject.toml"
        bounds[req.name.lower()] = max(floors)
    return bounds


def _pins() -> dict[str, Version]:
    pins = {}
    for line in (ROOT / ".ci" / "minimum-versions.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.strip().lower()] = Version(version)
    return pins


def test_every_lower_bound_is_the_release_pinned_in_the_minimum_versions_file():
    bounds, pins = _lower_bounds(), _pins()
    assert set(pins) == set(bounds), "pin every runtime dependency, and only those"
    for name, floor in bounds.items():
        pin = pins[name]
        # a bound raised without re-running the suite at the floor (or the reverse) fails here
        assert pin >= floor, (name, str(pin), str(floor))
        assert pin.release[:2] == floor.release[:2], (name, str(pin), str(floor))
