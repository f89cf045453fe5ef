"""Parameter validation and sampling helpers shared by every transform.

Conventions (the ones Albumentations users know): a scalar means *fixed*, a pair
``(low, high)`` means *sampled uniformly* per call; names carry their unit
(``visibility_m``, ``sigma_mm``). Errors name the parameter, what was expected and
what was given.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import numpy as np

from .errors import ParameterError

Range = tuple[float, float]


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_probability(p: Any, name: str = "p") -> float:
    """Return ``p`` as float after checking it lies in [0, 1]."""
    if not _is_number(p) or not 0.0 <= float(p) <= 1.0:
        raise ParameterError(f"{name} must be a probability in [0, 1], got {p!r}")
    return float(p)


def _check_bounds(v: float, name: str, low, high, low_inclusive, high_inclusive) -> None:
    if not math.isfinite(v):
        raise ParameterError(f"{name} must be finite, got {v!r}")
    if low is not None and (v < low or (v == low and not low_inclusive)):
        op = ">=" if low_inclusive else ">"
        raise ParameterError(f"{name} must be {op} {low}, got {v!r}")
    if high is not None and (v > high or (v == high and not high_inclusive)):
        op = "<=" if high_inclusive else "<"
        raise ParameterError(f"{name} must be {op} {high}, got {v!r}")


def check_number(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    integer: bool = False,
) -> float | int:
    """Check a single number (not a range) and return it as float (or int)."""
    if not _is_number(value):
        raise ParameterError(f"{name} must be a number, got {value!r}")
    if integer and float(value) != int(value):
        raise ParameterError(f"{name} must be an integer, got {value!r}")
    v = int(value) if integer else float(value)
    _check_bounds(v, name, low, high, low_inclusive, high_inclusive)
    return v


def check_range(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    integer: bool = False,
) -> Range:
    """Normalise a scalar-or-pair parameter to a ``(low, high)`` tuple.

    >>> check_range(300, "visibility_m", low=0, low_inclusive=False)
    (300.0, 300.0)
    >>> check_range([50, 1000], "visibility_m", low=0)
    (50.0, 1000.0)
    """
    if _is_number(value):
        pair: Sequence = (value, value)
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_number(v) for v in value):
        pair = value
    else:
        raise ParameterError(
            f"{name} must be a number or a (low, high) pair of numbers, got {value!r}"
        )
    lo = check_number(pair[0], name, low=low, high=high, low_inclusive=low_inclusive,
                      high_inclusive=high_inclusive, integer=integer)
    hi = check_number(pair[1], name, low=low, high=high, low_inclusive=low_inclusive,
                      high_inclusive=high_inclusive, integer=integer)
    if lo > hi:
        raise ParameterError(f"{name} must be (low, high) with low <= high, got {tuple(value)!r}")
    return (lo, hi)


def check_choice(value: Any, name: str, choices: Sequence) -> Any:
    """Check ``value`` is one of ``choices``."""
    if value not in choices:
        raise ParameterError(f"{name} must be one of {list(choices)!r}, got {value!r}")
    return value


def sample_uniform(rng: np.random.Generator, bounds: Range) -> float:
    """Draw from ``bounds``; a fixed value (low == high) consumes no randomness."""
    lo, hi = bounds
    if lo == hi:
        return float(lo)
    return lo + (hi - lo) * rng.random()  # what rng.uniform computes, bit for bit, 3× cheaper


def sample_log_uniform(rng: np.random.Generator, bounds: Range) -> float:
    """Draw log-uniformly from positive ``bounds`` (for scales spanning decades)."""
    lo, hi = bounds
    if lo == hi:
        return float(lo)
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def sample_int(rng: np.random.Generator, bounds: Range) -> int:
    """Draw an integer uniformly from the closed interval ``bounds``."""
    lo, hi = int(bounds[0]), int(bounds[1])
    if lo == hi:
        return lo
    return int(rng.integers(lo, hi + 1))


def draw_seed(rng: np.random.Generator) -> int:
    """A 63-bit seed for a large random field, so params stay small and replay exactly."""
    return int(rng.integers(0, 2**63 - 1))


#: the largest output axis a size parameter may ask for (guards against giant allocations)
MAX_AXIS_PX = 1 << 20


def check_size_px(height: Any, width: Any, depth: Any, other: str, other_value: Any) -> list | None:
    """Validate an explicit ``height``/``width`` (and optional ``depth``) size in pixels.

    Both or neither of height and width; not together with the alternative parameter
    ``other`` (``scale``, ``size_frac``). Returns ``[depth or None, height, width]`` or None.
    """
    if (height is None) != (width is None):
        raise ParameterError(f"give both height and width (pixels), got height={height!r}, width={width!r}")
    if height is not None and other_value is not None:
        raise ParameterError(
            f"give height/width or {other}, not both (got {height!r}, {width!r}, {other_value!r})"
        )
    if depth is not None and height is None:
        raise ParameterError("depth needs height and width (pixels)")
    if height is None:
        return None
    return [None if depth is None else check_number(depth, "depth", low=1, high=MAX_AXIS_PX, integer=True),
            check_number(height, "height", low=1, high=MAX_AXIS_PX, integer=True),
            check_number(width, "width", low=1, high=MAX_AXIS_PX, integer=True)]
