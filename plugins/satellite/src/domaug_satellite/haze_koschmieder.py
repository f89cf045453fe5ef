"""The Koschmieder haze of domaug ≤ 0.x (``satellite.Haze`` with an explicit ``airlight``), kept
so that old pipelines and recorded params replay; deprecated in favour of the Rayleigh +
aerosol model of :mod:`atmosphere`.

Model: ``I = J·t + A·(1−t)`` with ``t_b = exp(−τ_b / cos θ)``, ``τ_b = τ_550·(λ_b/550)^−α``
(He, Sun & Tang, CVPR 2009; Ångström 1929): only the direct beam is attenuated and the
path radiance A is a fixed airlight.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from domaug.kit import block_rows, row_blocks, spread, value_range

from . import band_ops, bands

#: reflectance of an optically thick aerosol layer used by airlight="auto" as a floor
THICK_HAZE_REFLECTANCE = 0.35


def airlight_dn(sample: Mapping[str, Any], airlight, wl: Sequence[float], alpha: float,
                zenith: float) -> list[float]:
    """Path radiance A_b at infinite depth per band, in DN (``bright``, ``dark_object`` or reflectances)."""
    gains, offsets = bands.reflectance_scaling(sample)
    lo, hi = value_range(sample["image"].dtype, sample.get("meta") or {})
    top = [hi if math.isfinite(hi) else (1.0 - o) / g for g, o in zip(gains, offsets)]
    if airlight == "auto":
        return [min((THICK_HAZE_REFLECTANCE - o) / g, t) for g, o, t in zip(gains, offsets, top)]
    if airlight == "bright":
        return [p[0] for p in bands.band_percentiles(sample, [99.5])]
    if airlight == "dark_object":
        mu = math.cos(math.radians(zenith))
        out = []
        for b, (d, w) in enumerate(zip(bands.band_percentiles(sample, [0.5]), wl)):
            t_ref = math.exp(-0.1 * (w / 550.0) ** -alpha / mu)
            z = -offsets[b] / gains[b]
            out.append(min(z + (d[0] - z) / (1.0 - t_ref), top[b]))
        return out
    refl = [airlight] * len(wl) if np.isscalar(airlight) else list(airlight)
    return [(float(r) - o) / g for r, o, g in zip(refl, offsets, gains)]


def koschmieder(out: np.ndarray, tau: np.ndarray, params: Mapping[str, Any], n: int) -> np.ndarray:
    """``I = (J − A_b)·exp(−k_b·τ) + A_b`` in place on ``out`` (H×W×n float), τ the slant field."""
    width = tau.shape[1]
    k = [-(float(params["wavelengths_nm"][b]) / 550.0) ** (-float(params["angstrom"])) for b in range(n)]
    k_row = band_ops.tiled(k, width, out.dtype)
    a_row = band_ops.tiled([float(params["airlight"][b]) for b in range(n)], width, out.dtype)
    rows = band_ops.as_rows(out)
    t = np.empty((block_rows(rows.shape[0], rows.shape[1]), rows.shape[1]), out.dtype)
    for r0, r1 in row_blocks(0, rows.shape[0], rows.shape[1]):
        x, tb = rows[r0:r1], t[:r1 - r0]
        spread(tau[r0:r1], n, tb)
        tb *= k_row
        np.exp(tb, out=tb)
        x -= a_row
        x *= tb
        x += a_row
    return out
