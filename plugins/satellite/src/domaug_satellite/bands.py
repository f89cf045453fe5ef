"""Band roles, centre wavelengths, DN↔reflectance scaling and ground pixel size from ``meta``.

Pure helpers shared by the satellite transforms (no randomness, no I/O).

Band roles come from ``meta["band_names"]`` (lower-case: ``blue``, ``green``, ``red``,
``nir``, ``rededge``, ``swir1``, ...). Without names, 3 bands are taken as R,G,B, 4 bands
as R,G,B,NIR, 12 / 13 bands as Sentinel-2 L1C/L2A order (B1–B12 without / with B10),
anything else as unknown (550 nm, spectrally neutral). Wavelengths come from
``meta["wavelengths_nm"]`` (one per band, ``None`` entries allowed) or from the role
through :data:`DEFAULT_WAVELENGTHS_NM` (Sentinel-2 MSI band centres).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from domaug.kit import BandNaming, UnsupportedInputError, is_geographic, layout_of, require_2d, valid_of

#: Default centre wavelength (nm) per band role (Sentinel-2 MSI centres, Landsat-8 close).
DEFAULT_WAVELENGTHS_NM: dict[str, float] = {
    "coastal": 443.0, "aerosol": 443.0, "blue": 490.0, "green": 560.0, "yellow": 600.0,
    "red": 665.0, "rededge": 705.0, "rededge1": 705.0, "rededge2": 740.0, "rededge3": 783.0,
    "nir": 842.0, "nir08": 865.0, "nir_narrow": 865.0, "narrow_nir": 865.0, "watervapour": 945.0,
    "water_vapour": 945.0, "watervapor": 945.0, "cirrus": 1375.0, "swir1": 1610.0,
    "swir16": 1610.0, "swir2": 2190.0, "swir22": 2190.0, "pan": 590.0, "panchromatic": 590.0,
    "gray": 550.0, "grey": 550.0,
}
S2_12 = ["coastal", "blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir",
         "nir08", "watervapour", "swir1", "swir2"]
S2_13 = S2_12[:10] + ["cirrus"] + S2_12[10:]

#: How satellite rasters name their bands: ``meta["band_names"]`` when it names every band;
#: unnamed 3 bands are R,G,B, 4 R,G,B,NIR, 12 / 13 Sentinel-2 L1C/L2A order.
SATELLITE = BandNaming(
    DEFAULT_WAVELENGTHS_NM, unknown="unknown",
    by_count={3: ("red", "green", "blue"), 4: ("red", "green", "blue", "nir"), 12: tuple(S2_12), 13: tuple(S2_13)},
)


def declared_wavelengths_nm(sample: Mapping[str, Any], who: str, hint: str = "") -> list[float]:
    """Centre wavelength (nm) of every band as ``meta`` declares it (``wavelengths_nm``, or
    ``band_names`` whose roles have one); refuses a raster whose bands it cannot tell (no guess
    from the band count)."""
    meta = sample.get("meta") or {}
    n = n_bands(sample)
    given = meta.get("wavelengths_nm")
    given = list(given) if given is not None and len(given) == n else [None] * n
    names = meta.get("band_names")
    roles = [SATELLITE.role_of(x) for x in names] if names is not None and len(names) == n else [None] * n
    out = [float(w) if w else DEFAULT_WAVELENGTHS_NM.get(r or "") for w, r in zip(given, roles)]
    missing = [i for i, w in enumerate(out) if w is None]
    if missing:
        raise UnsupportedInputError(
            f"{who} needs each band's wavelength, unknown for band(s) {missing} of {n}: set meta['wavelengths_nm'] "
            f"(one centre wavelength in nm per band) or meta['band_names'] (blue, green, red, nir, swir1, ...)"
            + (f", or pass {hint}" if hint else ""))
    return [float(w) for w in out]


def require_raster(sample: Mapping[str, Any], who: str) -> None:
    """Satellite transforms work on H×W or H×W×bands images, not volumes."""
    require_2d(sample, f"{who} works on 2-D rasters (H×W or H×W×bands), not volumes")


def n_bands(sample: Mapping[str, Any]) -> int:
    return layout_of(sample).n_channels


#: Percentiles are taken on at most about this many valid pixels per band (a strided subsample).
MAX_PERCENTILE_SAMPLES = 200_000


def band_samples(sample: Mapping[str, Any]) -> list[np.ndarray]:
    """Per band, the finite values of (a strided subsample of) the valid pixels, native dtype.

    Pixels are subsampled before masking, with the stride that leaves about
    :data:`MAX_PERCENTILE_SAMPLES` valid pixels (stride 1, i.e. every valid pixel, below that),
    and all bands are gathered in one pass over the image.
    """
    lay = layout_of(sample)
    image = np.asarray(sample["image"])
    valid = valid_of(sample)
    flat = image.reshape(-1, lay.n_channels) if lay.has_channels else image.reshape(-1, 1)
    n_valid = flat.shape[0] if valid is None else int(np.count_nonzero(valid))
    step = max(1, n_valid // MAX_PERCENTILE_SAMPLES)
    if valid is None:
        sub = flat[::step]
    else:  # row indices of the valid pixels among every step-th one: a single gather
        sel = np.flatnonzero(valid.reshape(-1)[::step])
        sel *= step
        row_bytes = flat.shape[1] * flat.itemsize
        if row_bytes in (1, 2, 4, 8) and flat.flags.c_contiguous:  # a pixel as one machine word
            word = np.dtype(f"u{row_bytes}")
            sub = np.take(flat.view(word).reshape(-1), sel).view(flat.dtype).reshape(-1, flat.shape[1])
        else:
            sub = np.take(flat, sel, axis=0)
    cols = np.ascontiguousarray(sub.T)
    out = []
    for b in range(cols.shape[0]):
        v = cols[b]
        if v.dtype.kind in "fc" and not np.isfinite(v).all():
            v = v[np.isfinite(v)]
        out.append(v)
    return out


def percentiles(values: np.ndarray, q: Sequence[float]) -> list[float]:
    """``np.percentile(values, q)`` (linear method) by one partial sort in the native dtype."""
    n = values.size
    if n == 0:
        return [0.0] * len(q)
    out = []
    for x in q:
        p = min(max(float(x), 0.0), 100.0) / 100.0 * (n - 1)
        i = int(math.floor(p))
        part = np.partition(values, i)  # one kth: numpy is >10x slower with several
        a = float(part[i])
        b = float(part[i + 1:].min()) if p > i and i + 1 < n else a
        out.append(a + (b - a) * (p - i))
    return out


def band_percentiles(sample: Mapping[str, Any], q: Sequence[float],
                     values: Sequence[np.ndarray] | None = None) -> list[list[float]]:
    """Per band, the given percentiles of the valid pixels (``[[p_q0, p_q1, ...], ...]``);
    ``values`` = :func:`band_samples` of the sample when already gathered."""
    return [percentiles(v, q) for v in (values if values is not None else band_samples(sample))]


def reflectance_scaling(sample: Mapping[str, Any],
                        values: Sequence[np.ndarray] | None = None) -> tuple[list[float], list[float]]:
    """Per-band ``(gain, offset)`` with reflectance = DN·gain + offset.

    In order: ``meta["reflectance_gain"]``/``["reflectance_offset"]`` (scalar or per band,
    e.g. Landsat-8 L1: 2e-5 and -0.1 from the MTL file); GeoTIFF ``meta["scales"]`` /
    ``["offsets"]`` when they are not all 1/0; ``meta["full_scale"]`` (DN of reflectance 1);
    uint8 → 1/255; float → 1 if the bright end (99.5th percentile) is below 2.5, else
    1/10000; other integers → ``bit_depth`` full scale when declared, else Landsat-8/9 L1
    scaling (2e-5, −0.1) when the dark end (1st percentile) is above DN 4000 (no L1 pixel
    is darker), else 1/10000 (Sentinel-2 / surface reflectance ×10⁴).
    """
    n = n_bands(sample)
    declared = _declared_scaling(sample.get("meta") or {}, n)
    if declared is not None:
        return declared
    gain, offset = _typical_scaling(sample, values)
    return [gain] * n, [offset] * n


def _declared_scaling(meta: Mapping[str, Any], n: int) -> tuple[list[float], list[float]] | None:
    """The scaling ``meta`` declares (reflectance gain/offset, GeoTIFF scales/offsets, full scale), or None."""
    def per_band(value: Any) -> list[float]:
        if np.isscalar(value):
            return [float(value)] * n
        return [float(v) for v in value][:n]

    if meta.get("reflectance_gain") is not None:
        return per_band(meta["reflectance_gain"]), per_band(meta.get("reflectance_offset", 0.0))
    scales, offsets = meta.get("scales"), meta.get("offsets")
    if scales is not None and len(scales) == n and any(float(s) != 1.0 for s in scales):
        offs = offsets if offsets is not None and len(offsets) == n else [0.0] * n
        return per_band(scales), per_band(offs)
    if meta.get("full_scale") is not None:
        return [1.0 / float(meta["full_scale"])] * n, [0.0] * n
    return None


def _typical_scaling(sample: Mapping[str, Any], values: Sequence[np.ndarray] | None) -> tuple[float, float]:
    """(gain, offset) of every band from the dtype and, for floats and wide integers, the values."""
    meta = sample.get("meta") or {}
    dtype = sample["image"].dtype
    if dtype == np.uint8:
        return 1.0 / 255.0, 0.0
    if meta.get("bit_depth") and np.issubdtype(dtype, np.integer):
        return 1.0 / (2 ** int(meta["bit_depth"]) - 1), 0.0
    if np.issubdtype(dtype, np.floating):
        bright = max(p[0] for p in band_percentiles(sample, [99.5], values))
        return (1.0 if bright < 2.5 else 1e-4), 0.0
    # integers: Landsat-8/9 L1 DN put reflectance 0 at DN 5000 (ρ = 2e-5·DN − 0.1), so even
    # water stays above ~4000; Sentinel-2 / surface-reflectance ×10⁴ products go near 0
    dark = min(p[0] for p in band_percentiles(sample, [1.0], values))
    return (2e-5, -0.1) if dark > 4000 else (1e-4, 0.0)


def ground_matrix(meta: Mapping[str, Any]) -> np.ndarray | None:
    """2×2 matrix (metres east, metres north) per (col, row) pixel step, or None.

    From the GDAL geotransform ``(x0, dx, rx, y0, ry, dy)``; geographic CRSs are turned
    into metres at the raster's origin latitude (spherical Earth, 111 320 m per degree).
    """
    t = meta.get("transform")
    if t is None:
        return None
    x0, dx, rx, y0, ry, dy = [float(v) for v in t]
    m = np.array([[dx, rx], [ry, dy]], dtype=np.float64)
    if is_geographic(meta.get("crs")):
        lat = max(-89.0, min(89.0, y0))
        m[0] *= 111_320.0 * math.cos(math.radians(lat))
        m[1] *= 111_320.0
    if abs(np.linalg.det(m)) < 1e-12:
        return None
    return m


def pixel_size_m(meta: Mapping[str, Any], default: float | None = None) -> float | None:
    """Mean ground sampling distance (m) from the transform, else ``default``."""
    m = ground_matrix(meta)
    if m is None:
        return default
    return float(math.sqrt(abs(np.linalg.det(m))))


def ground_to_pixel(meta: Mapping[str, Any], east_m: float, north_m: float,
                    default_pixel_m: float) -> tuple[float, float]:
    """A ground displacement (metres east, north) as (rows, cols) on the raster grid.

    Without a transform the image is taken north-up with square pixels of
    ``default_pixel_m``.
    """
    m = ground_matrix(meta)
    if m is None:
        return -north_m / default_pixel_m, east_m / default_pixel_m
    col, row = np.linalg.solve(m, np.array([east_m, north_m]))
    return float(row), float(col)


def window_of(sample: Mapping[str, Any]) -> tuple[tuple[int, int], tuple[int, int]]:
    """``((row0, col0), (full_rows, full_cols))`` of the raster this sample is a window of.

    The batch engine sets ``meta["window"]`` (row_off, col_off, height, width) or
    ``meta["window_offset"]``, and ``meta["full_shape"]``, when it processes a large
    raster in windows; random fields are evaluated in absolute pixel
    coordinates of the full raster so that windows join without seams.
    """
    meta = sample.get("meta") or {}
    shape = layout_of(sample).spatial_shape
    off = meta.get("window_offset") or (meta.get("window") or (0, 0))[:2]
    full = meta.get("full_shape") or shape
    return (int(off[0]), int(off[1])), (int(full[0]), int(full[1]))
