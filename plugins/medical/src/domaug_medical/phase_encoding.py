"""The MR phase-encoding axis: its names and how ``auto`` is resolved (``domaug.kit.array_axis``
gives its array axis)."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import check_choice

#: Names of the phase-encoding axis: rows (``vertical``), columns (``horizontal``), slices (``depth``).
PHASE_AXES = ("auto", "vertical", "horizontal", "depth")


def check_phase_axis(value: Any, name: str = "phase_axis") -> str:
    return check_choice(value, name, PHASE_AXES)


def draw_phase_axis(rng: np.random.Generator, choice: str, sample: Mapping[str, Any]) -> str:
    """Resolve ``auto``: DICOM InPlanePhaseEncodingDirection from meta when known, else random in-plane."""
    if choice != "auto":
        return choice
    meta = sample.get("meta") or {}
    pe = str(meta.get("phase_encoding_direction", "")).upper()
    if pe == "COL":
        return "vertical"
    if pe == "ROW":
        return "horizontal"
    return ("vertical", "horizontal")[int(rng.integers(2))]
