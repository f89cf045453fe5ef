"""Pure kernels of the phenology (season) shift: no randomness, no I/O.

Two index-preserving moves, each exact on its index:

- visible bands: chromatic coordinates c = (r, g, b) move linearly toward a stage colour
  c_t, ``c' = c + t·(c_t − c)``, with the brightness R+G+B scaled by ``1 + t·(k_t − 1)``.
  ExG = 2g − r − b is linear in c, so ``ExG' = ExG + t·(ExG_t − ExG)`` exactly;
- NIR: NDVI moves toward the stage NDVI, ``N' = N + t·(N_t − N)``, and NIR is solved with
  the (new) red fixed: ``NIR' = R'·(1 + N')/(1 − N')``; red edge scales with NIR.
"""

from __future__ import annotations

import numpy as np

#: stage → target NDVI, target chromaticity (r, g, b) of the leaves, brightness factor.
#: green-up: the flush of new growth (greener than now); peak: full canopy;
#: senescence: chlorophyll loss, yellow-orange leaves, red reflectance up, NIR down;
#: dormant: brown, dry residue. Chromaticities are of sunlit canopy in white-balanced
#: 8-bit photographs (the Pix4D sample's canopy sits at about (0.36, 0.40, 0.24)).
STAGES: dict[str, dict] = {
    "green-up": {"ndvi": 0.90, "chroma": (0.29, 0.49, 0.22), "brightness": 1.05},
    "peak": {"ndvi": 0.85, "chroma": (0.31, 0.45, 0.24), "brightness": 1.00},
    "senescence": {"ndvi": 0.35, "chroma": (0.46, 0.36, 0.18), "brightness": 1.10},
    "dormant": {"ndvi": 0.15, "chroma": (0.43, 0.32, 0.25), "brightness": 0.90},
}


def stage_exg(stage: str) -> float:
    r, g, b = STAGES[stage]["chroma"]
    return 2 * g - r - b


def shift_visible_planes(rgb: list, t: np.ndarray, chroma, brightness: float, full_scale: float) -> list:
    """:func:`shift_visible` on three H×W planes (R, G, B) with an H×W fraction map ``t``."""
    R, G, B = rgb
    s = R + G + B
    ok = s > 0
    inv = np.float32(1.0) / np.where(ok, s, np.float32(1))
    s_new = s * (np.float32(1) + t * np.float32(brightness - 1.0))
    out = []
    for plane, target in zip((R, G, B), chroma):
        c = plane * inv
        out.append((c + t * (np.float32(target) - c)) * s_new)
    peak = np.maximum(np.maximum(out[0], out[1]), out[2])
    over = peak > full_scale
    if over.any():
        scale = np.where(over, np.float32(full_scale) / np.where(over, peak, np.float32(1)), np.float32(1))
        out = [o * scale for o in out]
    return [np.where(ok, o, p) for o, p in zip(out, (R, G, B))]


def solve_nir(red: np.ndarray, ndvi_target: np.ndarray, full_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """NIR' = R·(1+N')/(1−N'); where that exceeds full scale, NIR' = full scale and R is lowered.

    Returns ``(red', nir')`` that reach ``ndvi_target`` exactly (before rounding).
    """
    n = np.clip(ndvi_target, -0.99, 0.99)
    nir = red * (1.0 + n) / (1.0 - n)
    over = nir > full_scale
    if over.any():
        nir = np.where(over, full_scale, nir)
        red = np.where(over, full_scale * (1.0 - n) / (1.0 + n), red)
    return red, nir
