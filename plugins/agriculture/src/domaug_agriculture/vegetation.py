"""Vegetation indices and the vegetation mask every agriculture transform relies on.

- NDVI = (NIR − R) / (NIR + R) (Rouse et al. 1974), for multispectral frames;
- ExG = 2g − r − b on chromatic coordinates r = R/(R+G+B), ... (Woebbecke et al. 1995),
  ExR = 1.4r − g and ExGR = ExG − ExR (Meyer & Camargo Neto 2008), for RGB frames.

:func:`vegetation_mask` is public so users can inspect what the transforms treat as
plants: NDVI > threshold when the frame has red and NIR bands, otherwise ExG (Otsu
threshold) or ExGR > 0 on the red, green and blue bands.

>>> from domaug_agriculture.vegetation import vegetation_mask
>>> plants = vegetation_mask(image, {"band_names": ["blue", "green", "red", "nir", "rededge"]})
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, ParameterError, UnsupportedInputError, as_hwc, row_blocks, validate_sample

from . import _fast, bands

#: NDVI above which a multispectral pixel is a plant (literature: 0.3–0.4).
NDVI_THRESHOLD = 0.3
#: Bounds on the Otsu threshold of ExG so that an all-soil or all-canopy frame is not split in two.
EXG_OTSU_BOUNDS = (0.0, 0.2)

_EPS = 1e-6


def _band(image: np.ndarray, index: int) -> np.ndarray:
    return image[..., index].astype(np.float32)


def ndvi(image: np.ndarray, meta: Mapping[str, Any] | None = None) -> np.ndarray:
    """NDVI = (NIR − R)/(NIR + R) per pixel (float32, 0 where both are 0)."""
    r = _roles(image, meta)
    if "nir" not in r or "red" not in r:
        raise UnsupportedInputError("NDVI needs 'red' and 'nir' bands in meta['band_names']")
    return ndvi_from(_band(image, r["red"]), _band(image, r["nir"]))


def ndvi_from(red: np.ndarray, nir: np.ndarray) -> np.ndarray:
    """NDVI of float red and NIR planes: (NIR − R)/max(NIR + R, ε) where NIR + R > 0, else 0 (float32)."""
    red = np.asarray(red, dtype=np.float32)
    nir = np.asarray(nir, dtype=np.float32)
    den = np.add(nir, red)
    out = np.subtract(nir, red)
    positive = den > 0
    np.maximum(den, np.float32(_EPS), out=den)
    np.divide(out, den, out=out)
    np.copyto(out, np.float32(0.0), where=~positive)
    return out


def _ndvi_above(image: np.ndarray, red: int, nir: int, threshold: float) -> np.ndarray:
    """``ndvi(image) > threshold``, computed in cache-sized blocks of rows (same values)."""
    h, w = image.shape[:2]
    mask = np.empty((h, w), bool)
    for a, b in row_blocks(0, h, w, _fast.BLOCK_VALUES):
        np.greater(ndvi_from(image[a:b, :, red], image[a:b, :, nir]), threshold, out=mask[a:b])
    return mask


def chromatic(image: np.ndarray, meta: Mapping[str, Any] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chromatic coordinates r, g, b = R/(R+G+B), ... (1/3 each for black pixels)."""
    r = _roles(image, meta)
    if not all(k in r for k in ("red", "green", "blue")):
        raise UnsupportedInputError("chromatic coordinates need 'red', 'green' and 'blue' bands")
    R, G, B = (_band(image, r[k]) for k in ("red", "green", "blue"))
    s = R + G + B
    dark = s <= 0
    s = np.where(dark, 1.0, s)
    third = np.float32(1.0 / 3.0)
    return (np.where(dark, third, R / s), np.where(dark, third, G / s), np.where(dark, third, B / s))


def exg(image: np.ndarray, meta: Mapping[str, Any] | None = None) -> np.ndarray:
    """Excess green ExG = 2g − r − b on chromatic coordinates (float32, in [−1, 2])."""
    r, g, b = chromatic(image, meta)
    return (2 * g - r - b).astype(np.float32)


def exgr(image: np.ndarray, meta: Mapping[str, Any] | None = None) -> np.ndarray:
    """ExGR = ExG − ExR with ExR = 1.4r − g; > 0 means plant."""
    r, g, b = chromatic(image, meta)
    return ((2 * g - r - b) - (1.4 * r - g)).astype(np.float32)


def _roles(image: np.ndarray, meta: Mapping[str, Any] | None) -> dict[str, int]:
    sample = {"image": image, "meta": dict(meta or {})}
    if image.ndim == 3 and (meta or {}).get("spatial_ndim") is None:
        sample["meta"]["spatial_ndim"] = 2
    return bands.roles(validate_sample(sample))


def vegetation_mask(
    image: np.ndarray,
    meta: Mapping[str, Any] | None = None,
    threshold: float | None = None,
    method: str = "auto",
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean H×W mask of plant pixels.

    Parameters
    ----------
    image : H×W×C array (uint8, uint16, float)
    meta : dict with ``band_names`` (or 3-band RGB by default)
    threshold : float, optional
        NDVI threshold (default 0.3) or ExG threshold (default: Otsu's threshold,
        ``skimage.filters.threshold_otsu``, kept within [0, 0.2]); ignored for ExGR (> 0).
    method : ``"auto"`` (NDVI if red and NIR exist, else ExG), ``"ndvi"``, ``"exg"``, ``"exgr"``
    valid : boolean H×W, optional
        Pixels to consider (nodata/outside-footprint pixels are never vegetation).
    """
    if method not in ("auto", "ndvi", "exg", "exgr"):
        raise ParameterError(f"method must be one of auto, ndvi, exg, exgr, got {method!r}")
    r = _roles(image, meta)
    if "alpha" in r:
        alpha_ok = image[..., r["alpha"]] > 0
        valid = alpha_ok if valid is None else (valid & alpha_ok)
    method = _method_for(r, image.shape) if method == "auto" else method
    if method == "ndvi":
        if "nir" not in r or "red" not in r:
            raise UnsupportedInputError("NDVI needs 'red' and 'nir' bands in meta['band_names']")
        mask = _ndvi_above(image, r["red"], r["nir"], NDVI_THRESHOLD if threshold is None else float(threshold))
    elif method == "exgr":
        mask = exgr(image, meta) > (0.0 if threshold is None else float(threshold))
    else:
        index = exg(image, meta)
        mask = index > (_otsu_exg(index, valid) if threshold is None else float(threshold))
    if valid is not None:
        mask &= valid
    return mask


def _method_for(roles: Mapping[str, int], shape: tuple[int, ...]) -> str:
    """NDVI when the frame has red and NIR, else ExG on red, green and blue."""
    if "nir" in roles and "red" in roles:
        return "ndvi"
    if all(k in roles for k in ("red", "green", "blue")):
        return "exg"
    raise UnsupportedInputError(
        "cannot find vegetation: meta['band_names'] must name 'red' and 'nir', or "
        f"'red', 'green' and 'blue' bands (image shape {shape})"
    )


def _otsu_exg(index: np.ndarray, valid: np.ndarray | None) -> float:
    """Otsu's threshold of the ExG values of the valid pixels, kept within :data:`EXG_OTSU_BOUNDS`."""
    values = index[valid] if valid is not None else index.ravel()
    if not (values.size and values.max() > values.min()):
        return EXG_OTSU_BOUNDS[0]
    from skimage.filters import threshold_otsu

    return float(np.clip(threshold_otsu(values), *EXG_OTSU_BOUNDS))


def sample_vegetation(ctx: Context, threshold: float | None = None) -> np.ndarray:
    """:func:`vegetation_mask` of a prepared context's image, restricted to ``ctx.footprint``."""
    return vegetation_mask(as_hwc(ctx["image"]), _meta_2d(ctx), threshold=threshold, valid=ctx.footprint)


def _meta_2d(sample: Mapping[str, Any]) -> dict:
    meta = dict(sample.get("meta") or {})
    meta["spatial_ndim"] = 2
    if sample["image"].ndim == 2:
        meta.pop("band_names", None)
        meta["band_names"] = [""]
    return meta


def feather(mask: np.ndarray, sigma_px: float, cutoff: float = 1e-3) -> np.ndarray:
    """Soft weight from a boolean mask: Gaussian-blurred, exactly 0 below ``cutoff``."""
    w = mask.astype(np.float32)
    if sigma_px > 0:
        w = _fast.blur_nearest(w, sigma_px, truncate=3.0)
        np.copyto(w, np.float32(0.0), where=w < cutoff)
        np.minimum(w, np.float32(1.0), out=w)  # (≥ 0 already: non-negative weights on a 0/1 mask)
    return w
