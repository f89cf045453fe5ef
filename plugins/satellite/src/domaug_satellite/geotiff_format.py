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

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from domaug.kit import (
    Format,
    FormatError,
    check_not_empty,
    check_pixels,
    find_sidecars,
    read_sidecars,
    sidecar_path,
    write_sidecars,
)

from . import geotiff_read, geotiff_write
from .geotiff_meta import GEO_TAGS, MAGICS, tiff_tags, to_cog, wants_cog
from .geotiff_stack import group_band_files, read_stack, write_stack
from .geotiff_windows import GeoTIFFWindowedSink, GeoTIFFWindowedSource


class GeoTIFFFormat(Format):
    """GeoTIFF / GDAL TIFF through rasterio (satellite plugin)."""

    name = "geotiff"
    extensions = (".tif", ".tiff")
    priority = 10

    def sniff(self, path: Path, head: bytes) -> bool:
        return head[:4] in MAGICS and bool(tiff_tags(Path(path), head) & GEO_TAGS)

    def group(self, paths: Sequence[Path]) -> list[list[Path]]:
        """Band files of one product (``x_B2.tif``, ``x_B3.tif``... on one grid) form one item."""
        return group_band_files(paths)

    # -- reading -------------------------------------------------------------------
    def read(self, paths: Sequence[Path]) -> dict[str, Any]:
        if len(paths) > 1:
            return read_stack(self, [Path(p) for p in paths])
        path = Path(paths[0])
        check_not_empty(path)
        ctx = geotiff_read.quiet()
        try:
            sample = self._read_file(path)
        finally:
            ctx.__exit__(None, None, None)
        sample.update(read_sidecars(path, sample["image"].shape[:2]))
        return sample

    def _read_file(self, path: Path) -> dict[str, Any]:
        import rasterio

        try:
            src = rasterio.open(path)
        except rasterio.errors.RasterioIOError as exc:
            raise FormatError(path, f"cannot read as GeoTIFF: {str(exc).splitlines()[0]}") from None
        with src:
            check_pixels(path, (src.height, src.width))
            try:
                meta, keep, alpha = geotiff_read.meta_of(src, path, self.name)
                return geotiff_read.read_pixels(src, path, meta, keep, alpha)
            except FormatError:
                raise
            except Exception as exc:  # noqa: BLE001 - any GDAL decoder error means a broken file
                reason = str(exc.__cause__ or exc).splitlines()[0]
                raise FormatError(path, f"truncated or corrupt GeoTIFF: {reason}") from None

    # -- windowed processing (rasters larger than memory) ---------------------------
    def open_windows(self, paths: Sequence[Path]):
        """A :class:`~domaug_satellite.geotiff_windows.GeoTIFFWindowedSource` of ``paths[0]``."""
        if len(paths) != 1 or find_sidecars(Path(paths[0])):
            return None  # band stacks and input sidecars go through memory
        return GeoTIFFWindowedSource(Path(paths[0]), self.name)

    def create_windows(self, source, dest: Sequence[Path], *, sources: Sequence[Path],
                       provenance: Mapping[str, Any]):
        """A tiled output written window by window with the source's metadata."""
        return GeoTIFFWindowedSink(source, Path(dest[0]), provenance)

    # -- writing -------------------------------------------------------------------
    def write(self, sample: Mapping[str, Any], dest: Sequence[Path], *, sources: Sequence[Path],
              provenance: Mapping[str, Any]) -> list[Path]:
        if len(dest) > 1:
            return write_stack(self, sample, [Path(d) for d in dest], sources=sources, provenance=provenance)
        target = Path(dest[0])
        meta = dict(sample.get("meta") or {})
        ctx = geotiff_read.quiet()
        try:
            self._write_raster(target, sample, meta, provenance)
            written = [target] + [geotiff_write.write_mask(sidecar_path(target, f".{name}.tif"),
                                                           np.asarray(sample[name]), meta)
                                  for name in sorted(sample) if _is_label_map(name)]
        finally:
            ctx.__exit__(None, None, None)
        points = {k: v for k, v in sample.items() if k in ("bboxes", "keypoints")}
        if points:
            written += write_sidecars(points, target, Path(sources[0]) if sources else None)
        return written

    @staticmethod
    def _write_raster(target: Path, sample: Mapping[str, Any], meta: Mapping[str, Any],
                      provenance: Mapping[str, Any]) -> None:
        """The raster itself, through a staging file converted to a COG when asked for one."""
        if not wants_cog(meta):
            geotiff_write.write_raster(target, sample, meta, provenance)
            return
        staging = sidecar_path(target, ".staging.tif")
        try:
            geotiff_write.write_raster(staging, sample, meta, provenance)
            to_cog(staging, target, meta)
        finally:
            staging.unlink(missing_ok=True)


def _is_label_map(name: str) -> bool:
    """Masks written as georeferenced sidecars: ``mask`` and ``*_mask`` but the alpha band."""
    return name == "mask" or (name.endswith("_mask") and name != "alpha_mask")
