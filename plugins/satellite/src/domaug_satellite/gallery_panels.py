"""Panels of the realism gallery (``domaug gallery satellite``): the cloud types the defaults do not show.

The gallery runs every transform at its defaults, so CloudCover appears with cumulus only.
Beside each multiband input with named red, green and blue bands, these panels show
CloudCover's stratocumulus deck and cirrus streaks (seed 0) in true colour, stretched from the
input's 2 % to the larger of its 98 % and the clouded image's 99 % (the deck's texture stays
visible). Registered by the plugin's ``register_gallery_panels`` hook.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

import domaug

#: the cloud types shown as panels (cumulus is the default and has its own row)
PANEL_PRESETS = ("stratocumulus", "cirrus")


def panels(sample: Mapping[str, Any]) -> list[tuple[np.ndarray, list[str]]]:
    """True-colour panels of CloudCover at :data:`PANEL_PRESETS` (none without named RGB bands)."""
    image = np.asarray(sample["image"])
    names = [str(n).lower() for n in (sample.get("meta") or {}).get("band_names") or ()]
    if image.ndim != 3 or not {"red", "green", "blue"} <= set(names[:image.shape[-1]]):
        return []
    rgb = [names.index(c) for c in ("red", "green", "blue")]
    valid = sample.get("valid")
    pixels = image[..., rgb][valid] if valid is not None else image[..., rgb].reshape(-1, 3)
    lo, hi = (float(v) for v in np.percentile(pixels.astype(np.float64), [2.0, 98.0]))
    cells = []
    for preset in PANEL_PRESETS:
        out = domaug.get_transform("satellite.CloudCover", preset=preset)(**sample, rng=0)
        p = out["applied"][0]["params"]
        top = max(hi, float(np.percentile(out["image"][..., rgb][valid] if valid is not None
                                          else out["image"][..., rgb], 99.0)))
        caption = [f"satellite.CloudCover preset={preset}", "seed=0 (panel; true colour, input's 2 % to cloud 99 %)",
                   f"coverage={p['coverage']:.2f} tau_ref={p['tau_ref']:.1f} cloud_height_m={p['cloud_height_m']:.0f}"]
        cells.append((_stretch(out["image"][..., rgb], lo, top), caption))
    return cells


def _stretch(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Linear stretch of ``values`` from [lo, hi] to 0–255 (H×W×3 uint8)."""
    scaled = (values.astype(np.float32) - np.float32(lo)) * np.float32(255.0 / max(hi - lo, 1e-12))
    return np.ascontiguousarray(np.clip(scaled, 0.0, 255.0).astype(np.uint8))
