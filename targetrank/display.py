"""How values and feature names read in the terminal, the report and the explanation tables."""

from __future__ import annotations

from typing import Any

import numpy as np

from targetrank.features.strategy import NETWORK_SHARE

#: Shown instead of "missing" for ``sc_network`` in a strategy whose file does not set
#: ``network = true``: null there by design, not a data gap (the LightGBM ranker books what the
#: trees make of that null under the strategy, "strategy is <id>", not under this feature).
NETWORK_OFF = "not used in this strategy (its file does not set network = true)"


def shown_value(feature: str, value: Any, *, network: bool | None = None) -> str:
    """:func:`fmt_value`, except for a STRING share the strategy switches off (``network``)."""
    text = fmt_value(value)
    if feature == NETWORK_SHARE and network is False and text == "missing":
        return NETWORK_OFF
    return text


def fmt_value(value: Any) -> str:
    """A value as a person reads it: ``missing`` for null/NaN, 3 significant digits for floats."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "missing"
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        if value.lower() in ("true", "false") or (number.is_integer() and value.isdigit()):
            return value  # "0.0" read back from a file reads as the float 0.0 does: "0"
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
