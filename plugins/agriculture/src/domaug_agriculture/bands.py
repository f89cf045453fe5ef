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

import math
from typing import Any, Mapping

import numpy as np

from domaug.kit import BandNaming, UnsupportedInputError, footprint, is_geographic, require_2d

#: Central wavelengths (nm) used when ``meta["wavelengths_nm"]`` is absent
#: (MicaSense RedEdge centres for B, G, R, RE, NIR; Sentinel-2 for SWIR).
ROLE_WAVELENGTH_NM = {
    "blue": 475.0, "green": 560.0, "red": 668.0, "rededge": 717.0, "nir": 840.0,
    "swir1": 1610.0, "swir2": 2200.0, "pan": 600.0, "gray": 560.0, "grey": 560.0,
}
_ALIASES = {"red_edge": "rededge", "re": "rededge", "red-edge": "rededge", "b": "blue", "g": "green",
            "r": "red", "near-infrared": "nir", "nearinfrared": "nir", "alpha_band": "alpha", "undefined": ""}

#: How drone frames name their bands: ``band_names``, else rasterio's colour interpretation
#: (a list of the wrong length is an error); unnamed 3-band frames are R, G, B.
DRONE = BandNaming(ROLE_WAVELENGTH_NM, aliases=_ALIASES, strict=True,
                   meta_keys=("band_names", "colorinterp", "color_interpretation"))


def roles(sample: Mapping[str, Any]) -> dict[str, int]:
    """Role → channel index (first occurrence) for the sample's image."""
    return DRONE.roles(sample)


def spectral_channels(sample: Mapping[str, Any]) -> list[int]:
    """Channels that carry light (everything but alpha)."""
    return [i for i, n in enumerate(DRONE.names(sample)) if n != "alpha"]


def frame_footprint(sample: Mapping[str, Any]) -> np.ndarray | None:
    """Boolean H×W of pixels inside the footprint, or None if all are.

    Inside = ``valid`` (or not ``meta['nodata']``), alpha band > 0, and ``alpha_mask`` > 0
    (the alpha band as a separate target, as the GeoTIFF reader delivers it).
    """
    return footprint(sample, roles(sample).get("alpha"))


def require_frame(sample: Mapping[str, Any], name: str) -> None:
    """Refuse volumes: drone frames are 2-D (H×W or H×W×bands)."""
    require_2d(sample, f"{name} works on 2-D drone frames (H×W×bands); got a volume of shape {{shape}}")


#: GSD assumed when neither a parameter nor meta gives one: 2 cm, a typical crop-scouting
#: flight (an RGB drone at ~70 m, or a MicaSense RedEdge at ~30 m).
DEFAULT_GSD_M = 0.02


def gsd_of(meta: Mapping[str, Any] | None, default: float = DEFAULT_GSD_M) -> float:
    """Ground sample distance in metres: ``meta['gsd_m']``, else the geotransform's pixel size, else ``default``.

    The pixel size ``√|det|`` of the GDAL geotransform is in metres for a projected CRS
    (WKT ``PROJCS``/``PROJCRS``, ``EPSG:326xx``...); a geographic CRS (degrees) is turned
    into metres at the origin latitude (111 320 m per degree). ``spacing`` is not used:
    its unit is not fixed across domains.
    """
    meta = meta or {}
    if meta.get("gsd_m"):
        return float(meta["gsd_m"])
    tr = meta.get("transform")
    if tr is None or len(tr) != 6:
        return float(default)
    _, dx, rx, y0, ry, dy = (float(v) for v in tr)
    if is_geographic(meta.get("crs")):
        lat = math.radians(max(-89.0, min(89.0, y0)))
        dx, rx, ry, dy = (dx * 111_320.0 * math.cos(lat), rx * 111_320.0 * math.cos(lat), ry * 111_320.0,
                          dy * 111_320.0)
    size = math.sqrt(abs(dx * dy - rx * ry))
    return size if size > 0 and math.isfinite(size) else float(default)


def require_vegetation_bands(sample: Mapping[str, Any], name: str) -> None:
    """Refuse frames on which no vegetation index can be computed."""
    r = roles(sample)
    if not ({"red", "nir"} <= set(r) or {"red", "green", "blue"} <= set(r)):
        raise UnsupportedInputError(
            f"{name} needs red+nir or red+green+blue bands to find the plants; set meta['band_names'] "
            f"(image shape {sample['image'].shape})"
        )
