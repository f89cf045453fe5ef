"""Deprecated: the index-driven kernels of SeasonShift up to domaug-agriculture 0.2 (kept for importers).

SeasonShift now uses the canopy mixture model of :mod:`domaug_agriculture.canopy_model`
(senescence lowers NIR, which the index-driven move below did not guarantee).

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
    """Visible bands moved toward chromaticity ``chroma`` on three H×W planes (R, G, B), H×W fraction map ``t``.

    c' = c + t·(c_t − c) on the chromatic coordinates, brightness R+G+B scaled by
    1 + t·(k_t − 1); a pixel whose largest band would exceed ``full_scale`` is scaled down
    as a whole (its chromaticity kept); black pixels are returned unchanged. New float32 planes.
    """
    R, G, B = (np.ascontiguousarray(p, dtype=np.float32) for p in rgb)
    t = np.ascontiguousarray(t, dtype=np.float32)
    s = np.add(R, G)
    s += B
    ok = s > 0
    all_ok = bool(ok.all())
    inv = s.copy() if all_ok else np.where(ok, s, np.float32(1))
    np.divide(np.float32(1.0), inv, out=inv)
    s_new = np.multiply(t, np.float32(brightness - 1.0))
    s_new += np.float32(1)
    s_new *= s
    tmp = s  # (s is not needed any more: reuse its buffer)
    out = []
    for plane, target in zip((R, G, B), chroma):
        c = np.multiply(plane, inv)
        np.subtract(np.float32(target), c, out=tmp)
        tmp *= t
        c += tmp
        c *= s_new
        out.append(c)
    peak = np.maximum(out[0], out[1], out=tmp)
    np.maximum(peak, out[2], out=peak)
    over = np.flatnonzero(peak > full_scale)
    if over.size:
        scale = np.float32(full_scale) / peak.ravel()[over]
        for o in out:
            o.ravel()[over] *= scale
    if not all_ok:
        for o, p in zip(out, (R, G, B)):
            np.copyto(o, p, where=~ok)
    return out


def solve_nir(red: np.ndarray, ndvi_target: np.ndarray, full_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """NIR' = R·(1+N')/(1−N'); where that exceeds full scale, NIR' = full scale and R is lowered.

    Returns ``(red', nir')`` that reach ``ndvi_target`` exactly (before rounding).
    """
    n = np.clip(ndvi_target, -0.99, 0.99)
    nir = np.add(n, 1.0)
    nir *= red
    one_minus = np.subtract(1.0, n)
    nir /= one_minus
    over = np.flatnonzero(nir > full_scale)
    if over.size:
        red = red.copy()
        nf, rf = nir.reshape(-1), red.reshape(-1)
        no = n.reshape(-1)[over]
        nf[over] = full_scale
        rf[over] = full_scale * (1.0 - no) / (1.0 + no)
    return red, nir
