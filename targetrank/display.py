"""How values and feature names read in the terminal, the report and the explanation tables."""

from __future__ import annotations

from typing import Any

import numpy as np


def fmt_value(value: Any) -> str:
    """A value as a person reads it: ``missing`` for null/NaN, 3 significant digits for floats."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "missing"
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        if value.lower() in ("true", "false") or number.is_integer():
            return value
        value = number
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def plain_name(feature: str, specs: dict[str, Any]) -> str:
    """The plain-language name of a model feature (``specs``: the feature registry's specs)."""
    from targetrank.model.prior import PRIOR_COLUMN

    if feature == PRIOR_COLUMN:
        return "precedence prior (level-1 model, out-of-fold)"
    if feature.startswith("strategy_is_"):
        return f"strategy is {feature.removeprefix('strategy_is_')}"
    spec = specs.get(feature)
    return spec.plain_name if spec is not None else feature
