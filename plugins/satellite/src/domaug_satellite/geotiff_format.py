"""GeoTIFF (and GDAL-tagged TIFF) in and out with rasterio, keeping every piece of metadata.

Read: every band with its dtype (H×W×bands); ``meta`` gets ``crs`` (WKT), ``transform``
(GDAL geotransform), ``nodata``, ``band_names`` (roles from descriptions / colour
interpretation), ``wavelengths_nm`` (band tags, when known), ``band_descriptions``,
``scales``/``offsets``/``units``, dataset and per-band ``tags``, ``geotiff_colorinterp``,
``geotiff_profile`` (compression, tiling, interleave, predictor). The dataset mask
(nodata value, internal mask or alpha band) becomes ``valid``; an alpha band is split
off as the ``alpha_mask`` target (moved by spatial transforms, never augmented) and put
back in its place on write. Raw, non-georeferenced TIFFs read without
``NotGeoreferencedWarning``.

Write: same CRS, (updated) transform, nodata, dtype, band count and order, colour
interpretation set *before* any pixel is written (so a 4-band R,G,B,NIR uint8 does not
come back as RGBA, rasterio#3373), descriptions, scales/offsets/units, tags minus stale
``STATISTICS_*``, compression and tiling, and provenance tags ``DOMAUG_PIPELINE``,
``DOMAUG_SEED``, ``DOMAUG_VERSION``, ``DOMAUG_APPLIED``. Cloud-Optimized GeoTIFF output on
request (``DOMAUG_GEOTIFF_COG=1`` or ``meta["geotiff_cog"] = True``). Masks produced by the pipeline
(``cloud_mask``...) are written as georeferenced single-band sidecars
``x.aug0.cloud_mask.tif``; boxes/keypoints as JSON sidecars (core convention).
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from domaug.errors import FormatError
from domaug.formats.base import Format, sidecar_path

from . import geotiff_meta as gm
from .geotiff_meta import GEO_TAGS, MAGICS, tiff_tags, to_cog, wants_cog

SUPPORTED = {"uint8", "uint16", "int16", "float32", "float64"}


def _quiet():
    """Context that silences rasterio's NotGeoreferencedWarning (raw drone frames)."""
    import rasterio.errors

    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
    return ctx


def _is_georeferenced(src) -> bool:
    return src.crs is not None or not src.transform.is_identity


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
    data = src.read([i + 1 for i in keep], window=window)
    dtype = src.dtypes[0]
    if dtype not in SUPPORTED:
        if dtype in ("int8", "uint32", "int32") and data.size and \
                np.iinfo(np.int16).min <= data.min() and data.max() <= np.iinfo(np.uint16).max:
            data = data.astype(np.int16 if data.min() < 0 else np.uint16)
        else:
            raise FormatError(path, f"{dtype} rasters are not supported (uint8, uint16, int16, float32, float64)")
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
    if image.dtype.kind == "f":
        # NaN/±inf pixels (no nodata declared, or a nodata other than NaN) are not data: a pixel
        # with a non-finite value in any band is invalid; its values are kept (written back as is)
        finite = np.isfinite(image)
        if image.ndim == 3:
            finite = finite.all(axis=-1)
        if not finite.all():
            sample["valid"] = finite & sample["valid"] if "valid" in sample else finite
    return sample


def _invalid_is_nonfinite(bands: np.ndarray, valid: np.ndarray) -> bool:
    """True when every invalid pixel holds a non-finite value (NaN/±inf) in some band: the
    pixels then mark themselves (as read), so no mask is added to a file that had none."""
    if bands.dtype.kind != "f":
        return False
    invalid = ~np.asarray(valid, bool)
    if not invalid.any():
        return False
    return bool((~np.isfinite(bands[invalid])).any(axis=-1).all())


class GeoTIFFFormat(Format):
    """GeoTIFF / GDAL TIFF through rasterio (satellite plugin)."""

    name = "geotiff"
    extensions = (".tif", ".tiff")
    priority = 10

    def sniff(self, path: Path, head: bytes) -> bool:
        return head[:4] in MAGICS and bool(tiff_tags(Path(path), head) & GEO_TAGS)

    def group(self, paths: Sequence[Path]) -> list[list[Path]]:
        """Band files of one product (``x_B2.tif``, ``x_B3.tif``... on one grid) form one item."""
        from .geotiff_stack import group_band_files

        return group_band_files(paths)

    # -- reading -------------------------------------------------------------------
    def read(self, paths: Sequence[Path]) -> dict[str, Any]:
        import rasterio

        from domaug.formats.common import check_not_empty, check_pixels
        from domaug.formats.sidecar import read_sidecars

        if len(paths) > 1:
            from .geotiff_stack import read_stack

            return read_stack(self, [Path(p) for p in paths])
        path = Path(paths[0])
        check_not_empty(path)
        ctx = _quiet()
        try:
            try:
                src = rasterio.open(path)
            except rasterio.errors.RasterioIOError as exc:
                raise FormatError(path, f"cannot read as GeoTIFF: {str(exc).splitlines()[0]}") from None
            with src:
                check_pixels(path, (src.height, src.width))
                try:
                    sample = self._read_open(src, path)
                except FormatError:
                    raise
                except Exception as exc:  # noqa: BLE001 - any GDAL decoder error means a broken file
                    reason = str(exc.__cause__ or exc).splitlines()[0]
                    raise FormatError(path, f"truncated or corrupt GeoTIFF: {reason}") from None
        finally:
            ctx.__exit__(None, None, None)
        sample.update(read_sidecars(path, sample["image"].shape[:2]))
        return sample

    def _read_open(self, src, path: Path) -> dict[str, Any]:
        meta, keep, alpha = self.meta_of(src, path)
        return read_pixels(src, path, meta, keep, alpha)

    def meta_of(self, src, path: Path) -> tuple[dict[str, Any], list[int], list[int]]:
        """(meta, indices of the bands to augment, indices of alpha bands) of an open dataset."""
        from rasterio.enums import ColorInterp

        if len(set(src.dtypes)) > 1:
            raise FormatError(path, f"bands have different dtypes {sorted(set(src.dtypes))}; not supported")
        dtype = src.dtypes[0]
        colorinterp = [ci.name for ci in src.colorinterp]
        alpha = [i for i, ci in enumerate(src.colorinterp) if ci == ColorInterp.alpha]
        keep = [i for i in range(src.count) if i not in alpha]
        if not keep:
            raise FormatError(path, "every band is an alpha band; nothing to augment")
        descriptions = [src.descriptions[i] for i in keep]
        meta: dict[str, Any] = {
            "format": self.name,
            "crs": src.crs.to_wkt() if src.crs is not None else None,
            "transform": list(src.transform.to_gdal()) if _is_georeferenced(src) else None,
            "nodata": gm.nodata_for(dtype if dtype in SUPPORTED else "float64", src.nodata),
            "band_descriptions": [d or "" for d in descriptions],
            "geotiff_colorinterp": colorinterp,
            "geotiff_alpha_index": alpha[0] if alpha else None,
            "geotiff_dtype": dtype,
            "scales": [float(src.scales[i]) for i in keep], "offsets": [float(src.offsets[i]) for i in keep],
            "units": [src.units[i] or "" for i in keep],
            "tags": gm.fresh_tags(src.tags()),
            "band_tags": [gm.fresh_tags(src.tags(i + 1)) for i in range(src.count)],
            "geotiff_profile": gm.profile_of(src),
        }
        roles = gm.band_roles([colorinterp[i] for i in keep], descriptions)
        if roles is not None:
            meta["band_names"] = roles
        wavelengths = [gm.wavelength_from_tags({**src.tags(i + 1), **src.tags(i + 1, ns="IMAGERY")}) for i in keep]
        if any(w is not None for w in wavelengths):
            meta["wavelengths_nm"] = wavelengths
        nbits = src.tags(1, ns="IMAGE_STRUCTURE").get("NBITS")
        if nbits and dtype.startswith("uint"):
            meta["bit_depth"] = int(nbits)
        meta["geotiff_mask"] = _mask_kind(src, keep, alpha)
        if src.overviews(1):
            meta["geotiff_overviews"] = [int(f) for f in src.overviews(1)]
        return meta, keep, alpha

    # -- windowed processing (rasters larger than memory) ---------------------------
    def open_windows(self, paths: Sequence[Path]):
        """A :class:`~domaug_satellite.geotiff_windows.GeoTIFFWindowedSource` of ``paths[0]``."""
        from domaug.formats.sidecar import find_sidecars

        from .geotiff_windows import GeoTIFFWindowedSource

        if len(paths) != 1 or find_sidecars(Path(paths[0])):
            return None  # band stacks and input sidecars go through memory
        return GeoTIFFWindowedSource(self, Path(paths[0]))

    def create_windows(self, source, dest: Sequence[Path], *, sources: Sequence[Path],
                       provenance: Mapping[str, Any]):
        """A tiled output written window by window with the source's metadata."""
        from .geotiff_windows import GeoTIFFWindowedSink

        return GeoTIFFWindowedSink(self, source, Path(dest[0]), provenance)

    # -- writing -------------------------------------------------------------------
    def write(self, sample: Mapping[str, Any], dest: Sequence[Path], *, sources: Sequence[Path],
              provenance: Mapping[str, Any]) -> list[Path]:
        from domaug.formats.sidecar import write_sidecars

        if len(dest) > 1:
            from .geotiff_stack import write_stack

            return write_stack(self, sample, [Path(d) for d in dest], sources=sources, provenance=provenance)
        target = Path(dest[0])
        image = np.asarray(sample["image"])
        meta = dict(sample.get("meta") or {})
        ctx = _quiet()
        try:
            if wants_cog(meta):
                staging = sidecar_path(target, ".staging.tif")
                try:
                    self._write_raster(staging, image, sample, meta, provenance)
                    to_cog(staging, target, meta)
                finally:
                    staging.unlink(missing_ok=True)
            else:
                self._write_raster(target, image, sample, meta, provenance)
            written = [target]
            for name in sorted(sample):
                if name.endswith("_mask") and name != "alpha_mask" or name == "mask":
                    written.append(self._write_mask(sidecar_path(target, f".{name}.tif"),
                                                    np.asarray(sample[name]), meta))
        finally:
            ctx.__exit__(None, None, None)
        points = {k: v for k, v in sample.items() if k in ("bboxes", "keypoints")}
        if points:
            written += write_sidecars(points, target, Path(sources[0]) if sources else None)
        return written

    @staticmethod
    def _profile(meta: Mapping[str, Any], height: int, width: int, count: int, dtype) -> dict[str, Any]:
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

    def _write_raster(self, target: Path, image: np.ndarray, sample: Mapping[str, Any],
                      meta: Mapping[str, Any], provenance: Mapping[str, Any]) -> None:
        bands = image[..., None] if image.ndim == 2 else image
        height, width, n = bands.shape
        alpha = sample.get("alpha_mask")
        valid = sample.get("valid")
        with self.open_for_write(target, meta, height, width, n, image.dtype, alpha is not None,
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

    @contextlib.contextmanager
    def open_for_write(self, target: Path, meta: Mapping[str, Any], height: int, width: int, n: int,
                       dtype, has_alpha: bool, provenance: Mapping[str, Any], tiled: bool = False):
        """Create ``target`` with every piece of metadata set before any pixel is written.

        Yields ``(dataset, order, dtype)``: ``order[j]`` is the image band written as file
        band ``j + 1`` (-1 for the alpha band, kept at its source position).
        """
        import rasterio
        from rasterio.enums import ColorInterp

        alpha_at = meta.get("geotiff_alpha_index") if has_alpha else None
        count = n + (1 if alpha_at is not None else 0)
        order = list(range(n))
        if alpha_at is not None:
            order.insert(min(int(alpha_at), n), -1)
        out_dtype = meta.get("geotiff_dtype") if meta.get("geotiff_dtype") in SUPPORTED else np.dtype(dtype).name
        profile = self._profile(meta, height, width, count, out_dtype)
        if tiled:
            profile.update(tiled=True, blockxsize=512, blockysize=512)
            profile["bigtiff"] = "IF_SAFER"
        profile["alpha"] = "YES" if alpha_at is not None else "UNSPECIFIED"
        ci_names = list(meta.get("geotiff_colorinterp") or [])
        if len(ci_names) != count:
            ci_names = self._default_colorinterp(meta, n, alpha_at)
        descriptions = list(meta.get("band_descriptions") or [])

        def per_band(key, default):
            values = list(meta.get(key) or [])
            return [values[b] if b < len(values) else default for b in range(n)]

        scales, offsets, units = per_band("scales", 1.0), per_band("offsets", 0.0), per_band("units", "")
        band_tags = list(meta.get("band_tags") or [])
        with rasterio.open(target, "w", **profile) as dst:
            dst.colorinterp = [ColorInterp[c] if c in ColorInterp.__members__ else ColorInterp.undefined
                               for c in ci_names]
            full_scales, full_offsets, full_units = [], [], []
            for j, b in enumerate(order):
                if b < 0:
                    full_scales.append(1.0), full_offsets.append(0.0), full_units.append("")
                    continue
                full_scales.append(float(scales[b])), full_offsets.append(float(offsets[b]))
                full_units.append(str(units[b] or ""))
                if b < len(descriptions) and descriptions[b]:
                    dst.set_band_description(j + 1, descriptions[b])
            dst.scales, dst.offsets = full_scales, full_offsets
            if any(full_units):
                dst.units = full_units
            dst.update_tags(**gm.fresh_tags(meta.get("tags") or {}), **gm.provenance_tags(provenance))
            for j in range(count):
                if j < len(band_tags) and band_tags[j]:
                    dst.update_tags(j + 1, **gm.fresh_tags(band_tags[j]))
            yield dst, order, profile["dtype"]
            factors = [int(f) for f in meta.get("geotiff_overviews") or [] if min(height, width) // int(f) >= 1]
            if factors:  # rebuilt from the augmented pixels (GDAL does not copy them)
                from rasterio.enums import Resampling

                dst.build_overviews(factors, Resampling.average)
                dst.update_tags(ns="rio_overview", resampling="average")

    @staticmethod
    def _default_colorinterp(meta: Mapping[str, Any], n: int, alpha_at: int | None) -> list[str]:
        roles = list(meta.get("band_names") or [])
        names = [r if r in ("red", "green", "blue") else ("gray" if n == 1 else "undefined")
                 for r in (roles if len(roles) == n else [None] * n)]
        if alpha_at is not None:
            names.insert(min(int(alpha_at), n), "alpha")
        return names

    @staticmethod
    def _write_mask(path: Path, mask: np.ndarray, meta: Mapping[str, Any]) -> Path:
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
