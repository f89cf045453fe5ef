"""Windowed GeoTIFF processing for rasters larger than memory (the format's optional capability).

:class:`GeoTIFFWindowedSource` / :class:`GeoTIFFWindowedSink` implement the core
``WindowedSource`` / ``WindowedSink`` protocols (``domaug.formats.base``). Each window's
sample carries ``meta["window"] = (row_off, col_off, height, width)`` of the window read
(with its halo), ``meta["window_offset"] = (row_off, col_off)`` and ``meta["full_shape"]``
so that random fields and per-pixel noise are evaluated in absolute raster coordinates
(no seams; pixel-wise transforms give exactly the in-memory result).

:func:`run_windowed` is a small driver (used by the benchmark and tests): it draws the
pipeline's parameters once on a decimated overview of the whole raster (so image
statistics describe the whole scene), then replays them with the batch engine's
:func:`domaug.batch.windowed.apply_windows` (the same loop ``domaug run`` uses).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from domaug.kit import apply_windows, find_sidecars, get_transform_class, iter_tiles, sidecar_path

from . import geotiff_read
from .geotiff_write import open_for_write

#: GDAL block cache while streaming (MB): keeps peak memory bounded on huge rasters. GDAL's
#: default is 5 % of the machine's RAM, which a 20000² raster fills (1.4 GB peak on 24 GB;
#: 302 MB with this cap, same speed). A ``GDAL_CACHEMAX`` set by the user wins.
GDAL_CACHE_MB = 128


def _bounded_cache():
    """rasterio.Env capping GDAL's block cache at :data:`GDAL_CACHE_MB` (unless the user set it)."""
    import os

    import rasterio

    if os.environ.get("GDAL_CACHEMAX"):
        return rasterio.Env()
    return rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB)


class GeoTIFFWindowedSource:
    """An open GeoTIFF read window by window (alpha split off, valid from the dataset mask).

    While open, GDAL's block cache is capped (:data:`GDAL_CACHE_MB`), also for the sink's
    writes (the batch engine closes the sink first)."""

    def __init__(self, path: Path, fmt_name: str = "geotiff") -> None:
        import rasterio

        self.path = Path(path)
        self._ctx = contextlib.ExitStack()
        self._ctx.push(geotiff_read.quiet())  # already entered: only its exit is pushed
        self._ctx.enter_context(_bounded_cache())
        try:
            self.src = rasterio.open(self.path)
        except BaseException:
            self._ctx.close()
            raise
        self.meta, self.keep, self.alpha = geotiff_read.meta_of(self.src, self.path, fmt_name)
        h, w = self.src.height, self.src.width
        self.meta["full_shape"] = [h, w]
        self.shape = (h, w) if len(self.keep) == 1 else (h, w, len(self.keep))
        self.dtype = np.dtype(self.src.dtypes[0])

    def iter_windows(self, tile: int, halo: int):
        return iter_tiles(self.shape[0], self.shape[1], tile, halo)

    def read_sample(self, window: Sequence[int]) -> dict[str, Any]:
        """Image, valid and alpha_mask of ``window`` = (row_off, col_off, height, width).

        ``valid`` (the dataset mask) is there whenever the raster declares nodata or a mask,
        even if the window is all valid: each transform would otherwise re-derive it."""
        from rasterio.windows import Window

        r, c, h, w = (int(v) for v in window)
        meta = dict(self.meta, window=[r, c, h, w], window_offset=[r, c])
        return geotiff_read.read_pixels(self.src, self.path, meta, self.keep, self.alpha, window=Window(c, r, w, h),
                           keep_valid=True)

    def read(self, window: Sequence[int]) -> np.ndarray:
        return self.read_sample(window)["image"]

    def overview(self, max_pixels: int = 512 * 512) -> dict[str, Any]:
        """A nearest-neighbour decimated sample of the whole raster (meta of the full grid)."""
        from rasterio.enums import Resampling

        h, w = self.shape[:2]
        k = max(1, int(np.ceil(np.sqrt(h * w / max_pixels))))
        out_shape = (len(self.keep), max(1, h // k), max(1, w // k))
        data = self.src.read([i + 1 for i in self.keep], out_shape=out_shape, resampling=Resampling.nearest)
        image = data[0] if len(self.keep) == 1 else np.ascontiguousarray(np.moveaxis(data, 0, -1))
        return {"image": image, "meta": dict(self.meta)}

    def close(self) -> None:
        self.src.close()
        self._ctx.close()


class GeoTIFFWindowedSink:
    """The output GeoTIFF (tiled 512×512) written window by window; alpha/mask copied from the source."""

    def __init__(self, source: GeoTIFFWindowedSource, dest: Path, provenance: Mapping[str, Any]) -> None:
        self.source = source
        self.dest = Path(dest)
        h, w = source.shape[:2]
        n = 1 if len(source.shape) == 2 else source.shape[2]
        self._cm = open_for_write(self.dest, source.meta, h, w, n, source.dtype, bool(source.alpha),
                                      provenance, tiled=True)
        self.dst, self.order, self.out_dtype = self._cm.__enter__()
        self._closed = False
        self._masks: dict[str, Any] = {}

    def write(self, window: Sequence[int], pixels: np.ndarray) -> None:
        from rasterio.windows import Window

        r, c, h, w = (int(v) for v in window)
        win = Window(c, r, w, h)
        bands = pixels[..., None] if pixels.ndim == 2 else pixels
        for j, b in enumerate(self.order):
            if b < 0:
                self.dst.write(self.source.src.read(self.source.alpha[0] + 1, window=win), j + 1, window=win)
            else:
                self.dst.write(np.ascontiguousarray(bands[..., b]).astype(self.out_dtype, copy=False), j + 1,
                               window=win)
        if self.source.meta.get("geotiff_mask") == "internal":
            self.dst.write_mask(self.source.src.dataset_mask(window=win), window=win)

    def write_targets(self, window: Sequence[int], targets: Mapping[str, np.ndarray]) -> None:
        """Store label maps produced by the pipeline (``cloud_mask``...) for ``window`` as
        georeferenced sidecars ``x.aug0.<name>.tif`` (uint8; created on first use)."""
        import rasterio
        from rasterio.transform import Affine
        from rasterio.windows import Window

        r, c, h, w = (int(v) for v in window)
        for name, labels in sorted(targets.items()):
            if not (name == "mask" or name.endswith("_mask")) or name == "alpha_mask":
                continue
            if name not in self._masks:
                meta = self.source.meta
                profile = {"driver": "GTiff", "height": self.source.shape[0], "width": self.source.shape[1],
                           "count": 1, "dtype": "uint8", "tiled": True, "blockxsize": 512, "blockysize": 512,
                           "compress": "deflate"}
                if meta.get("crs") is not None:
                    profile["crs"] = meta["crs"]
                if meta.get("transform") is not None:
                    profile["transform"] = Affine.from_gdal(*[float(v) for v in meta["transform"]])
                self._masks[name] = rasterio.open(sidecar_path(self.dest, f".{name}.tif"), "w", **profile)
            self._masks[name].write(np.asarray(labels).astype(np.uint8), 1, window=Window(c, r, w, h))

    def close(self) -> list[Path]:
        written = [self.dest]
        if not self._closed:
            self._closed = True
            self._cm.__exit__(None, None, None)
        for mask in self._masks.values():
            if not mask.closed:
                mask.close()
            written.append(Path(mask.name))
        return written

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


def _require_window_safe(applied: Sequence[Mapping[str, Any]]) -> None:
    for rec in applied:
        if not getattr(get_transform_class(rec["name"]), "window_safe", False):
            raise ValueError(f"{rec['name']} cannot run window by window (it is not window_safe)")


def run_windowed(pipeline, source_path: Path, dest_path: Path, *, seed: int | None = None,
                 applied: Sequence[Mapping[str, Any]] | None = None, tile: int = 1024,
                 provenance: Mapping[str, Any] | None = None) -> list[dict]:
    """Augment a large GeoTIFF window by window; returns the ``applied`` records used.

    Parameters are drawn once by ``pipeline`` on an overview of the raster (or taken from
    ``applied``), then the batch engine's :func:`domaug.batch.windowed.apply_windows`
    replays them window by window (grown by the pipeline's halo) into a tiled output.
    """
    if find_sidecars(Path(source_path)):
        raise ValueError(f"{source_path} has sidecars: augment it in memory (domaug run)")
    source = GeoTIFFWindowedSource(Path(source_path))  # caps GDAL's block cache while open
    try:
        if applied is None:
            applied = pipeline(rng=seed, **source.overview())["applied"]
        applied = [dict(a) for a in applied]
        _require_window_safe(applied)
        sink = GeoTIFFWindowedSink(source, Path(dest_path), provenance or {"applied": applied})
        try:
            apply_windows(source, sink, applied, tile=tile)
        except BaseException:
            sink.abort()
            raise
        sink.close()
    finally:
        source.close()
    return applied
