"""Band roles of a drone frame: which channel is blue, green, red, NIR, red edge or alpha.

Roles come from ``meta["band_names"]`` (lower-case: ``blue``, ``green``, ``red``, ``nir``,
``rededge``, ``alpha``, ...), else from ``meta["colorinterp"]`` (rasterio's colour
interpretation names), else by convention: 3 bands are R, G, B. A 4-band uint8 image is
read as R, G, B, Alpha only when its band names or colour interpretation say ``alpha``
(a 4th band may just as well be NIR). The alpha band of an orthomosaic marks the
footprint: pixels with alpha 0 are nodata; transforms never change them and never
augment the alpha band itself.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.errors import UnsupportedInputError
from domaug.targets import layout_of, valid_of

#: Central wavelengths (nm) used when ``meta["wavelengths_nm"]`` is absent
#: (MicaSense RedEdge centres for B, G, R, RE, NIR; Sentinel-2 for SWIR).
ROLE_WAVELENGTH_NM = {
    "blue": 475.0, "green": 560.0, "red": 668.0, "rededge": 717.0, "nir": 840.0,
    "swir1": 1610.0, "swir2": 2200.0, "pan": 600.0, "gray": 560.0, "grey": 560.0,
}
_ALIASES = {"red_edge": "rededge", "re": "rededge", "red-edge": "rededge", "b": "blue", "g": "green",
            "r": "red", "near-infrared": "nir", "nearinfrared": "nir", "alpha_band": "alpha", "undefined": ""}


def _norm(name: Any) -> str:
    n = str(name).strip().lower()
    return _ALIASES.get(n, n)


def band_names(image: np.ndarray, meta: Mapping[str, Any] | None, n_channels: int) -> list[str]:
    """The role name of every channel ('' where unknown)."""
    meta = meta or {}
    for key in ("band_names", "colorinterp", "color_interpretation"):
        names = meta.get(key)
        if names is not None:
            names = [_norm(n) for n in names]
            if len(names) != n_channels:
                raise UnsupportedInputError(
                    f"meta[{key!r}] names {len(names)} bands but the image has {n_channels}"
                )
            return names
    if n_channels == 3:
        return ["red", "green", "blue"]
    if n_channels == 1:
        return [""]
    return [""] * n_channels


def roles(sample: Mapping[str, Any]) -> dict[str, int]:
    """Role → channel index (first occurrence) for the sample's image."""
    lay = layout_of(sample)
    names = band_names(sample["image"], sample.get("meta"), lay.n_channels)
    out: dict[str, int] = {}
    for i, n in enumerate(names):
        if n and n not in out:
            out[n] = i
    return out


def spectral_channels(sample: Mapping[str, Any]) -> list[int]:
    """Channels that carry light (everything but alpha)."""
    lay = layout_of(sample)
    names = band_names(sample["image"], sample.get("meta"), lay.n_channels)
    return [i for i, n in enumerate(names) if n != "alpha"]


def wavelengths(sample: Mapping[str, Any]) -> np.ndarray:
    """Centre wavelength (nm) per channel; 550 nm where unknown (alpha included)."""
    lay = layout_of(sample)
    meta = sample.get("meta") or {}
    if meta.get("wavelengths_nm") is not None and len(meta["wavelengths_nm"]) == lay.n_channels:
        return np.array([float(v) if v else 550.0 for v in meta["wavelengths_nm"]])
    names = band_names(sample["image"], meta, lay.n_channels)
    return np.array([ROLE_WAVELENGTH_NM.get(n, 550.0) for n in names])


def footprint(sample: Mapping[str, Any]) -> np.ndarray | None:
    """Boolean H×W of pixels inside the footprint, or None if all are.

    Inside = ``valid`` (or not ``meta['nodata']``), alpha band > 0, and ``alpha_mask`` > 0
    (the alpha band as a separate target, as the GeoTIFF reader delivers it).
    """
    valid = valid_of(sample)
    alpha_mask = sample.get("alpha_mask")  # the GeoTIFF reader splits the alpha band off
    if alpha_mask is not None:
        valid = (alpha_mask > 0) if valid is None else (valid & (alpha_mask > 0))
    r = roles(sample)
    if "alpha" in r:
        alpha_ok = sample["image"][..., r["alpha"]] > 0
        valid = alpha_ok if valid is None else (valid & alpha_ok)
    if valid is not None and valid.all():
        return None
    return valid


def require_2d(sample: Mapping[str, Any], name: str) -> None:
    """Refuse volumes: drone frames are 2-D (H×W or H×W×bands)."""
    if layout_of(sample).is_volume:
        raise UnsupportedInputError(
            f"{name} works on 2-D drone frames (H×W×bands); got a volume of shape {sample['image'].shape}"
        )


def as_hwc(image: np.ndarray) -> np.ndarray:
    """View a 2-D frame as H×W×C (a single band gets a channel axis)."""
    return image[..., None] if image.ndim == 2 else image


#: GSD assumed when neither a parameter nor meta gives one: 2 cm, a typical crop-scouting
#: flight (an RGB drone at ~70 m, or a MicaSense RedEdge at ~30 m).
DEFAULT_GSD_M = 0.02


def gsd_of(meta: Mapping[str, Any] | None, default: float = DEFAULT_GSD_M) -> float:
    """Ground sample distance in metres: ``meta['gsd_m']``, else a projected geotransform's pixel size, else ``default``.

    (``spacing`` is not used: its unit is not fixed across domains.)
    """
    meta = meta or {}
    if meta.get("gsd_m"):
        return float(meta["gsd_m"])
    tr = meta.get("transform")
    if tr is not None and len(tr) == 6 and float(tr[1]) != 0:
        crs = str(meta.get("crs") or "")
        if "4326" not in crs:  # projected CRS in metres assumed
            return abs(float(tr[1]))
    return float(default)


def require_vegetation_bands(sample: Mapping[str, Any], name: str) -> None:
    """Refuse frames on which no vegetation index can be computed."""
    r = roles(sample)
    if not ({"red", "nir"} <= set(r) or {"red", "green", "blue"} <= set(r)):
        raise UnsupportedInputError(
            f"{name} needs red+nir or red+green+blue bands to find the plants; set meta['band_names'] "
            f"(image shape {sample['image'].shape})"
        )
