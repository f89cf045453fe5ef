"""Panels of the realism gallery (``domaug gallery medical``): what the transforms read from the image.

Beside each CT slice: the lesion host (soft tissue 0–150 HU, :func:`.lesion.host_region`)
and the bone that ``ElasticDeformation`` keeps rigid (:func:`.rigid.bone_mask`), and the
noise map σ₀(x) that ``LowDoseCT`` calibrates to (:func:`.noise_estimate.noise_map`).
Beside an MR slice: the signal region lesions are placed in. Volumes show their middle
slice, as the gallery does. Registered by the plugin's ``register_gallery_panels`` hook.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from . import lesion, noise_estimate, rigid
from ._base import medical_layout, spacing_mm
from .intensity import filled_float, looks_like_ct

#: overlay colours: lesion host, rigid bone
HOST_RGB = (60, 200, 90)
BONE_RGB = (250, 150, 40)
#: σ₀ shown from black (0 HU) to white (this many HU)
NOISE_TOP_HU = 40.0


def panels(sample: Mapping[str, Any]) -> list[tuple[np.ndarray, list[str]]]:
    """The CT host/bone and noise-map panels, or the MR host panel (none for colour images)."""
    lay = medical_layout(sample)
    if lay.has_channels:
        return []
    image = filled_float(np.asarray(sample["image"]), sample)
    spacing = spacing_mm(sample, lay)
    valid = sample.get("valid")
    if lay.is_volume:
        mid = image.shape[0] // 2
        image, spacing = image[mid], spacing[-2:]
        valid = None if valid is None else np.asarray(valid)[mid]
    if not looks_like_ct(sample):
        host = lesion.host_region(image, "signal", spacing)
        return [(_overlay(_gray(image, *_percentile_window(image)), [(host, HOST_RGB)]),
                 ["lesion host (green)", "MR: signal above Otsu"])]
    host = lesion.host_region(image, "soft_tissue", spacing)
    bone = rigid.bone_mask(image, 300.0, spacing)
    cells = [(_overlay(_gray(image, -160.0, 240.0), [(host, HOST_RGB), (bone, BONE_RGB)]),
              ["lesion host: 0-150 HU (green)", "rigid bone > 300 HU (orange)"])]
    sigma, info = noise_estimate.noise_map(image, spacing, valid)
    cells.append((_gray(sigma, 0.0, NOISE_TOP_HU),
                   ["LowDoseCT noise map s0(x)", f"median {info['sigma_hu']:.1f} HU; white = {NOISE_TOP_HU:g} HU"]))
    return cells


def _percentile_window(image: np.ndarray) -> tuple[float, float]:
    lo, hi = (float(v) for v in np.percentile(image, [1.0, 99.0])) if image.size else (0.0, 1.0)
    return lo, max(hi, lo + 1e-6)


def _gray(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """``values`` from ``low`` (black) to ``high`` (white), H×W×3 uint8."""
    t = np.clip((np.asarray(values, np.float32) - low) / (high - low), 0.0, 1.0)
    g = np.rint(t * 255).astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=-1)


def _overlay(rgb: np.ndarray, layers) -> np.ndarray:
    """``rgb`` dimmed, each (mask, colour) blended in at 55 %."""
    out = rgb.astype(np.float32) * 0.6
    for mask, colour in layers:
        out[mask] = 0.45 * out[mask] + 0.55 * np.asarray(colour, np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)
