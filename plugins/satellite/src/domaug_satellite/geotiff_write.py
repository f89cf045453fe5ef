"""Writing a GeoTIFF with every piece of the source's metadata, set before any pixel is written.

Same CRS, (updated) transform, nodata, dtype, band count and order (an alpha band back at
its source position), colour interpretation set first (so a 4-band R,G,B,NIR uint8 does
not come back as RGBA, rasterio#3373), descriptions, scales/offsets/units, tags minus
stale ``STATISTICS_*``, compression and tiling, provenance tags, and overviews rebuilt
from the augmented pixels. Used by :mod:`geotiff_format` and :mod:`geotiff_windows`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from . import geotiff_meta as gm
from .geotiff_read import SUPPORTED


def base_profile(meta: Mapping[str, Any], height: int, width: int, count: int, dtype) -> dict[str, Any]:
    """The creation profile: the source's options (tiling dropped when a block exceeds the
    raster), CRS, transform and nodata from ``meta``."""
    from rasterio.transform import Affine

    profile: dict[str, Any] = {"driver": "GTiff", "height": height, "width": width, "count": count,
                               "dtype": np.dtype(dtype).name}
    for key, value in (meta.get("geotiff_profile") or {}).items():
        profile[key] = value
    if profile.get("tiled"):
        bx, by = int(profile.get("blockxsize", 256)), int(profile.get("blockysize", 256))
        if bx > width or by > height:
            profile.pop("blockxsize", None), profile.pop("blockysize", None)
            profile["tiled"] = False
    else:
        profile.pop("blockxsize", None), profile.pop("blockysize", None)
    if meta.get("crs") is not None:
        profile["crs"] = meta["crs"]
    if meta.get("transform") is not None:
        profile["transform"] = Affine.from_gdal(*[float(v) for v in meta["transform"]])
    if meta.get("nodata") is not None:
        profile["nodata"] = gm.nodata_for(dtype, meta["nodata"])
    profile.pop("photometric", None)
    return profile


@contextlib.contextmanager
def open_for_write(target: Path, meta: Mapping[str, Any], height: int, width: int, n: int, dtype,
                   has_alpha: bool, provenance: Mapping[str, Any], tiled: bool = False):
    """Create ``target`` with every piece of metadata set before any pixel is written.

    Yields ``(dataset, order, dtype)``: ``order[j]`` is the image band written as file
    band ``j + 1`` (-1 for the alpha band, kept at its source position).
    """
    import rasterio

    alpha_at = meta.get("geotiff_alpha_index") if has_alpha else None
    order = list(range(n))
    if alpha_at is not None:
        order.insert(min(int(alpha_at), n), -1)
    out_dtype = meta.get("geotiff_dtype") if meta.get("geotiff_dtype") in SUPPORTED else np.dtype(dtype).name
    profile = base_profile(meta, height, width, len(order), out_dtype)
    if tiled:
        profile.update(tiled=True, blockxsize=512, blockysize=512)
        profile["bigtiff"] = "IF_SAFER"
    profile["alpha"] = "YES" if alpha_at is not None else "UNSPECIFIED"
    with rasterio.open(target, "w", **profile) as dst:
        dst.colorinterp = _colorinterp(meta, n, alpha_at, len(order))
        _describe_bands(dst, meta, order)
        dst.update_tags(**gm.fresh_tags(meta.get("tags") or {}), **gm.provenance_tags(provenance))
        band_tags = list(meta.get("band_tags") or [])
        for j in range(len(order)):
            if j < len(band_tags) and band_tags[j]:
                dst.update_tags(j + 1, **gm.fresh_tags(band_tags[j]))
        yield dst, order, profile["dtype"]
        _rebuild_overviews(dst, meta, height, width)


def _colorinterp(meta: Mapping[str, Any], n: int, alpha_at: int | None, count: int) -> list:
    """The source's colour interpretation, else R/G/B from the band roles (gray for one band)."""
    from rasterio.enums import ColorInterp

    names = list(meta.get("geotiff_colorinterp") or [])
    if len(names) != count:
        roles = list(meta.get("band_names") or [])
        names = [r if r in ("red", "green", "blue") else ("gray" if n == 1 else "undefined")
                 for r in (roles if len(roles) == n else [None] * n)]
        if alpha_at is not None:
            names.insert(min(int(alpha_at), n), "alpha")
    return [ColorInterp[c] if c in ColorInterp.__members__ else ColorInterp.undefined for c in names]


def _describe_bands(dst, meta: Mapping[str, Any], order: Sequence[int]) -> None:
    """Descriptions, scales, offsets and units of the image bands (the alpha band: 1, 0, none)."""
    n = sum(1 for b in order if b >= 0)

    def per_band(key, default):
        values = list(meta.get(key) or [])
        return [values[b] if b < len(values) else default for b in range(n)]

    descriptions = per_band("band_descriptions", "")
    for j, b in enumerate(order):
        if b >= 0 and descriptions[b]:
            dst.set_band_description(j + 1, descriptions[b])
    dst.scales = _in_file_order(per_band("scales", 1.0), order, 1.0, float)
    dst.offsets = _in_file_order(per_band("offsets", 0.0), order, 0.0, float)
    units = _in_file_order(per_band("units", ""), order, "", lambda u: str(u or ""))
    if any(units):
        dst.units = units


def _in_file_order(values: Sequence[Any], order: Sequence[int], alpha_value: Any, cast) -> list:
    """Per-image-band values in file band order (``alpha_value`` for the alpha band)."""
    return [alpha_value if b < 0 else cast(values[b]) for b in order]


def _rebuild_overviews(dst, meta: Mapping[str, Any], height: int, width: int) -> None:
    """The source's overview levels, rebuilt from the augmented pixels (GDAL does not copy them)."""
    factors = [int(f) for f in meta.get("geotiff_overviews") or [] if min(height, width) // int(f) >= 1]
    if factors:
        from rasterio.enums import Resampling

        dst.build_overviews(factors, Resampling.average)
        dst.update_tags(ns="rio_overview", resampling="average")


def write_raster(target: Path, sample: Mapping[str, Any], meta: Mapping[str, Any],
                 provenance: Mapping[str, Any]) -> None:
    """The image (with ``alpha_mask`` back in place, 0 on invalid pixels) into ``target``; an
    internal mask when ``valid`` holds pixels that neither nodata nor NaN mark."""
    image = np.asarray(sample["image"])
    bands = image[..., None] if image.ndim == 2 else image
    height, width, n = bands.shape
    alpha = sample.get("alpha_mask")
    valid = sample.get("valid")
    with open_for_write(target, meta, height, width, n, image.dtype, alpha is not None,
                        provenance) as (dst, order, dtype):
        for j, b in enumerate(order):
            if b < 0:
                a = np.asarray(alpha)
                if valid is not None:
                    a = np.where(valid, a, 0).astype(a.dtype)
                dst.write(a.astype(dtype, copy=False), j + 1)
            else:
                dst.write(np.ascontiguousarray(bands[..., b]).astype(dtype, copy=False), j + 1)
        if valid is not None and alpha is None and meta.get("nodata") is None \
                and not _invalid_is_nonfinite(bands, valid):
            dst.write_mask(np.where(valid, 255, 0).astype(np.uint8))


def _invalid_is_nonfinite(bands: np.ndarray, valid: np.ndarray) -> bool:
    """True when every invalid pixel holds a non-finite value (NaN/±inf) in some band: the
    pixels then mark themselves (as read), so no mask is added to a file that had none."""
    if bands.dtype.kind != "f":
        return False
    invalid = ~np.asarray(valid, bool)
    if not invalid.any():
        return False
    return bool((~np.isfinite(bands[invalid])).any(axis=-1).all())


def write_mask(path: Path, mask: np.ndarray, meta: Mapping[str, Any]) -> Path:
    """A label map as a georeferenced single-band sidecar (uint8, uint16 or int32 as its values need)."""
    import rasterio
    from rasterio.transform import Affine

    dtype = "uint8" if mask.size == 0 or (mask.min() >= 0 and mask.max() < 256) else (
        "uint16" if mask.min() >= 0 and mask.max() < 65536 else "int32")
    profile: dict[str, Any] = {"driver": "GTiff", "height": mask.shape[0], "width": mask.shape[1], "count": 1,
                               "dtype": dtype, "compress": "deflate"}
    if meta.get("crs") is not None:
        profile["crs"] = meta["crs"]
    if meta.get("transform") is not None:
        profile["transform"] = Affine.from_gdal(*[float(v) for v in meta["transform"]])
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(mask.astype(dtype), 1)
    return path
