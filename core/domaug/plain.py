"""Conversion of drawn parameters to plain JSON values (so a manifest replays them exactly)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


_SCALARS = frozenset({bool, str, int, float, type(None)})


def plain(value: Any) -> Any:
    """Recursively turn numpy scalars/arrays and tuples into JSON-native values.

    Raises TypeError for anything JSON cannot hold (a transform's params must be data).
    """
    kind = type(value)  # fast paths first: exact built-in types are by far the most common
    if kind in _SCALARS:
        return value
    if kind is dict:  # the common record: scalars and short lists, converted in one pass
        return {k if type(k) is str else str(k): v if type(v) in _SCALARS else plain(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _SCALARS else plain(v) for v in value]
    return _plain_other(value)


def _plain_other(value: Any) -> Any:
    """:func:`plain` for the rarer types: subclasses, numpy values, tuples."""
    if isinstance(value, (bool, str, int, float)):  # subclasses (np.float64 stays as is: a float)
        return value
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):  # dict subclasses
        return {str(k): plain(v) for k, v in value.items()}
    raise TypeError(f"parameter value {value!r} of type {type(value).__name__} is not plain data")


def is_finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
