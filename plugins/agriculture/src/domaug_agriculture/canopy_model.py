"""Pure kernels of the canopy model behind SeasonShift: a linear mixture of three endmembers.

A pixel's reflectance is a linear mixture (Roberts et al. 1993, *Remote Sens. Environ.*
44:255; Asner & Heidebrecht 2002, *Int. J. Remote Sens.* 23:3939) of green vegetation
(GV), senescent / non-photosynthetic vegetation (NPV: yellow to dry leaves, straw) and soil:

    ρ(λ) = f·[(1 − s)·GV(λ) + s·NPV(λ)] + (1 − f)·Soil(λ)

with f the fractional vegetation cover of the pixel and s the senescent fraction of its
leaves. The endmember spectra are typical values of USGS Spectral Library v7 (Kokaly et al.
2017) spectra of a green crop canopy, dry grass and an agricultural loam, read from plots
(approximate, ±0.02): chlorophyll loss raises red, leaf structure collapse lowers NIR and
the red-edge band (717 nm) a little, NDRE much. The plugin changes a pixel by the ratio of
the new to the old mixture per band, so the per-band gain of uncalibrated DN cancels and
the pixel keeps its texture; f = 0 pixels (soil, roofs, roads, water, walls) are unchanged.
"""

from __future__ import annotations

import numpy as np

#: wavelength nodes (nm) of the endmember spectra (interpolated linearly in between)
NODES_NM = np.array([440, 490, 560, 620, 668, 700, 717, 740, 780, 840, 900, 1000, 1610, 2200], float)
#: green vegetation (crop canopy, LAI ≈ 3): NDVI(668, 840) = 0.86, NDRE(717, 840) = 0.30
GREEN = np.array([0.030, 0.035, 0.085, 0.050, 0.033, 0.090, 0.240, 0.360, 0.430, 0.450, 0.455, 0.445, 0.220, 0.100])
#: senescent / dry vegetation (NPV): NDVI = 0.25, NDRE = 0.15
SENESCENT = np.array([0.060, 0.075, 0.110, 0.140, 0.165, 0.185, 0.200, 0.215, 0.240, 0.270, 0.290, 0.310, 0.400,
                      0.300])
#: dry agricultural soil (loam): NDVI = 0.19
SOIL = np.array([0.060, 0.070, 0.100, 0.120, 0.130, 0.145, 0.150, 0.160, 0.175, 0.190, 0.200, 0.210, 0.300, 0.260])

#: stage → (senescent fraction s of the leaves, factor on the green cover f) at strength 1.
#: green-up: a denser green canopy (LAI up, f × 1.25 within [0, 1]); peak: as imaged;
#: senescence: 70 % of the leaf area yellow to brown; dormant: leaves dry and half shed.
STAGES: dict[str, tuple[float, float]] = {
    "green-up": (0.0, 1.25),
    "peak": (0.0, 1.0),
    "senescence": (0.7, 1.0),
    "dormant": (1.0, 0.5),
}


def spectra(wavelengths_nm) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(GV, NPV, soil) reflectance of each band (float64 arrays), by linear interpolation in wavelength."""
    wl = np.asarray(wavelengths_nm, float)
    return tuple(np.interp(wl, NODES_NM, s) for s in (GREEN, SENESCENT, SOIL))  # type: ignore[return-value]


def mixture(f, s, cover, gv, npv, soil):
    """Reflectance of the mixture with cover f·cover (clipped to [0, 1]) and senescent fraction s (per band)."""
    fc = np.clip(f * cover, 0.0, 1.0)
    return fc * ((1.0 - s) * gv + s * npv) + (1.0 - fc) * soil


def stage_ndvi(stage_s: float, cover: float = 1.0, red_nm: float = 668.0, nir_nm: float = 840.0) -> float:
    """NDVI of a fully covered pixel (f = 1) after a shift to senescent fraction s and cover factor ``cover``.

    This is what a requested stage means in NDVI terms: e.g. senescence at strength 1
    (s = 0.7) → 0.44, dormant (s = 1, half the leaves shed) → 0.22, peak/green-up → 0.86.
    """
    gv, npv, soil = spectra([red_nm, nir_nm])
    red, nir = mixture(1.0, stage_s, cover, gv, npv, soil)
    return float((nir - red) / (nir + red))


def senescent_fraction_for_ndvi(target: float, red_nm: float = 668.0, nir_nm: float = 840.0) -> float:
    """The senescent fraction s at which a fully covered pixel has NDVI ``target`` (clipped to [0, 1]).

    NDVI is a ratio of two linear functions of s, so (1 − N)·NIR(s) = (1 + N)·R(s) is linear in s.
    """
    (gr, gn), (nr, nn), _ = spectra([red_nm, nir_nm])
    a = (1.0 - target) * (nn - gn) - (1.0 + target) * (nr - gr)
    b = (1.0 + target) * gr - (1.0 - target) * gn
    return float(np.clip(b / a, 0.0, 1.0)) if a != 0 else 0.0


def green_cover(index: np.ndarray, bare: float, full: float) -> np.ndarray:
    """Fractional green cover f from a vegetation index scaled between bare soil and full canopy (float32).

    f = (VI − VI_soil)/(VI_canopy − VI_soil), clipped to [0, 1] (Gutman & Ignatov 1998, with NDVI).
    """
    span = max(float(full) - float(bare), 1e-3)
    f = np.subtract(index, np.float32(bare), dtype=np.float32)
    f *= np.float32(1.0 / span)
    return np.clip(f, np.float32(0.0), np.float32(1.0), out=f)


def band_gains(f: np.ndarray, t: np.ndarray, stage: tuple[float, float], wavelengths_nm) -> np.ndarray:
    """Per-pixel, per-band gain ρ_new/ρ_old (H×W×C float32) of cover f at fraction t ∈ [0, 1] of the way to ``stage``.

    The imaged canopy is taken as green (s = 0); at t the senescent fraction is t·s_stage
    and the cover factor 1 + t·(c_stage − 1). A pixel with f = 0 gets gain 1 exactly.
    """
    gv, npv, soil = (a.astype(np.float32) for a in spectra(wavelengths_nm))
    s_stage, c_stage = stage
    f3 = f[..., None]
    t3 = t[..., None]
    old = f3 * (gv - soil) + soil
    cover = np.float32(1.0) + t3 * np.float32(c_stage - 1.0)
    fc = np.minimum(f3 * cover, np.float32(1.0))
    leaf = gv + (t3 * np.float32(s_stage)) * (npv - gv)
    new = fc * (leaf - soil) + soil
    new /= old
    return new


#: cover levels of :func:`gain_table` (f quantised to 1/1023: gains move < 0.1 % between levels)
COVER_LEVELS = 1024


def gain_table(timings: np.ndarray, stage: tuple[float, float], wavelengths_nm, carries_light: np.ndarray,
               levels: int = COVER_LEVELS) -> np.ndarray:
    """:func:`band_gains` tabulated: (fields × levels) × C float32, row ``k·levels + q`` for field k at f = q/(levels − 1).

    Channels that carry no light (``carries_light`` False: alpha) get gain 1.
    """
    f = np.linspace(0.0, 1.0, levels, dtype=np.float32)
    t = np.asarray(timings, np.float32)
    ff = np.broadcast_to(f[None, :], (t.size, levels))
    tt = np.broadcast_to(t[:, None], (t.size, levels))
    wl = np.asarray(wavelengths_nm, float)
    table = np.ones((t.size, levels, wl.size), np.float32)
    light = np.asarray(carries_light, bool)
    table[..., light] = band_gains(ff, tt, stage, wl[light])
    return table.reshape(t.size * levels, wl.size)
