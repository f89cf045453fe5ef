"""Reading an open GeoTIFF dataset: its ``meta`` and the pixels of the whole raster or a window.

Used by the format (:mod:`geotiff_format`), band stacks (:mod:`geotiff_stack`) and windowed
processing (:mod:`geotiff_windows`); rasterio objects are passed in, rasterio itself is
imported lazily.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from domaug.kit import FormatError

from . import geotiff_meta as gm

SUPPORTED = {"uint8", "uint16", "int16", "float32", "float64"}


def quiet():
    """An entered context that silences rasterio's NotGeoreferencedWarning (raw drone frames);
    the caller exits it (``ctx.__exit__(None, None, None)``)."""
    import rasterio.errors

    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
    return ctx


def band_layout(src, path: Path) -> tuple[list[int], list[int]]:
    """(indices of the bands to augment, indices of the alpha bands) of an open dataset."""
    from rasterio.enums import ColorInterp

    if len(set(src.dtypes)) > 1:
        raise FormatError(path, f"bands have different dtypes {sorted(set(src.dtypes))}; not supported")
    alpha = [i for i, ci in enumerate(src.colorinterp) if ci == ColorInterp.alpha]
    keep = [i for i in range(src.count) if i not in alpha]
    if not keep:
        raise FormatError(path, "every band is an alpha band; nothing to augment")
    return keep, alpha


def meta_of(src, path: Path, fmt_name: str) -> tuple[dict[str, Any], list[int], list[int]]:
    """(meta, indices of the bands to augment, indices of alpha bands) of an open dataset."""
    keep, alpha = band_layout(src, path)
    descriptions = [src.descriptions[i] for i in keep]
    colorinterp = [ci.name for ci in src.colorinterp]
    meta: dict[str, Any] = {"format": fmt_name, **_grid_facts(src)}
    meta.update(_band_lists(src, keep, alpha, descriptions, colorinterp))
    meta.update(_band_facts(src, keep, [colorinterp[i] for i in keep], descriptions))
    meta["geotiff_mask"] = _mask_kind(src, keep, alpha)
    if src.overviews(1):
        meta["geotiff_overviews"] = [int(f) for f in src.overviews(1)]
    return meta, keep, alpha


def _grid_facts(src) -> dict[str, Any]:
    """``crs`` (WKT), ``transform`` (GDAL geotransform; None for a raw TIFF) and ``nodata``."""
    dtype = src.dtypes[0]
    georeferenced = src.crs is not None or not src.transform.is_identity
    return {
        "crs": src.crs.to_wkt() if src.crs is not None else None,
        "transform": list(src.transform.to_gdal()) if georeferenced else None,
        "nodata": gm.nodata_for(dtype if dtype in SUPPORTED else "float64", src.nodata),
    }


def _band_lists(src, keep: list[int], alpha: list[int], descriptions: list[str | None],
                colorinterp: list[str]) -> dict[str, Any]:
    """Per-band metadata as read (descriptions, colour interpretation, scaling, units, tags) and
    the creation profile, so that writing puts every piece back."""
    return {
        "band_descriptions": [d or "" for d in descriptions],
        "geotiff_colorinterp": colorinterp,
        "geotiff_alpha_index": alpha[0] if alpha else None,
        "geotiff_dtype": src.dtypes[0],
        "scales": [float(src.scales[i]) for i in keep], "offsets": [float(src.offsets[i]) for i in keep],
        "units": [src.units[i] or "" for i in keep],
        "tags": gm.fresh_tags(src.tags()),
        "band_tags": [gm.fresh_tags(src.tags(i + 1)) for i in range(src.count)],
        "geotiff_profile": gm.profile_of(src),
    }


def _band_facts(src, keep: list[int], colorinterp: list[str], descriptions: list[str | None]) -> dict[str, Any]:
    """``band_names``, ``wavelengths_nm`` and ``bit_depth`` where the file tells them."""
    facts: dict[str, Any] = {}
    roles = gm.band_roles(colorinterp, descriptions)
    if roles is not None:
        facts["band_names"] = roles
    wavelengths = [gm.wavelength_from_tags({**src.tags(i + 1), **src.tags(i + 1, ns="IMAGERY")}) for i in keep]
    if any(w is not None for w in wavelengths):
        facts["wavelengths_nm"] = wavelengths
    nbits = src.tags(1, ns="IMAGE_STRUCTURE").get("NBITS")
    if nbits and src.dtypes[0].startswith("uint"):
        facts["bit_depth"] = int(nbits)
    return facts


def _mask_kind(src, keep: list[int], alpha: list[int]) -> str | None:
    from rasterio.enums import MaskFlags

    flags = src.mask_flag_enums[keep[0]]
    if alpha:
        return "alpha"
    if src.nodata is not None:
        return "nodata"
    if MaskFlags.per_dataset in flags and MaskFlags.all_valid not in flags:
        return "internal"
    return None


def read_pixels(src, path: Path, meta: dict[str, Any], keep: list[int], alpha: list[int],
                window=None, keep_valid: bool = False) -> dict[str, Any]:
    """The sample (image H×W[×C], valid, alpha_mask) of a whole dataset or a ``rasterio`` window.

    ``valid`` is left out when every pixel is valid, unless ``keep_valid`` (windows: the
    mask is at hand, and transforms need not derive it from ``meta["nodata"]`` again)."""
    data = _supported(src.read([i + 1 for i in keep], window=window), src.dtypes[0], path)
    image = data[0] if len(keep) == 1 else np.ascontiguousarray(np.moveaxis(data, 0, -1))
    sample: dict[str, Any] = {"image": image, "meta": meta}
    kind = meta.get("geotiff_mask")
    if kind == "alpha":
        band = src.read(alpha[0] + 1, window=window)
        sample["alpha_mask"] = band
        sample["valid"] = band > 0
    elif kind in ("nodata", "internal"):
        valid = src.dataset_mask(window=window) > 0
        if kind == "internal" or keep_valid or not valid.all():
            sample["valid"] = valid
    finite = _finite_pixels(image)
    if finite is not None:
        sample["valid"] = finite & sample["valid"] if "valid" in sample else finite
    return sample


def _supported(data: np.ndarray, dtype: str, path: Path) -> np.ndarray:
    """The pixels in a supported dtype: 8/32-bit integers that fit in 16 bits are narrowed."""
    if dtype in SUPPORTED:
        return data
    if dtype in ("int8", "uint32", "int32") and data.size and \
            np.iinfo(np.int16).min <= data.min() and data.max() <= np.iinfo(np.uint16).max:
        return data.astype(np.int16 if data.min() < 0 else np.uint16)
    raise FormatError(path, f"{dtype} rasters are not supported (uint8, uint16, int16, float32, float64)")


def _finite_pixels(image: np.ndarray) -> np.ndarray | None:
    """For float rasters with NaN/±inf: the pixels finite in every band (the others are not
    data, whatever nodata says; their values are kept and written back as is). Else None."""
    if image.dtype.kind != "f":
        return None
    finite = np.isfinite(image)
    if image.ndim == 3:
        finite = finite.all(axis=-1)
    return None if finite.all() else finite
