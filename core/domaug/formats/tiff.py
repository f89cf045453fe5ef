"""Plain TIFF: any band count, 8/16-bit integers, int16, float32/64, multi-page volumes.

Read with tifffile (a scikit-image dependency); compressions that tifffile cannot
decode without ``imagecodecs`` (LZW, PackBits, JPEG) fall back to Pillow. Written
back with the source's band count, dtype, photometric interpretation, planar
configuration, resolution and compression (none, Deflate and LZMA by tifffile;
LZW and PackBits by Pillow for gray/RGB(A); otherwise Deflate), with the provenance
JSON in the ImageDescription tag. A multi-page stack of equal pages is read as a
D×H×W[×C] volume (``meta["spatial_ndim"] = 3``). GeoTIFF files go to the satellite
plugin's format, which sniffs with a higher priority.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import FormatError
from .base import Format
from .common import band_names, check_not_empty, check_pixels, check_sample, describe_head, provenance_text
from .sidecar import read_sidecars, write_sidecars

MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
NATIVE = {"NONE": None, "ADOBE_DEFLATE": "zlib", "DEFLATE": "zlib", "LZMA": "lzma"}
PILLOW = {"LZW": "tiff_lzw", "PACKBITS": "packbits"}


def _compression_name(page) -> str:
    return getattr(page.compression, "name", str(page.compression)).upper()


def _read_tifffile(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """The first series as H×W[×C] (or D×H×W[×C] for a page stack) and its TIFF tags as meta."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        if not tif.series:
            raise FormatError(path, "TIFF holds no image")
        series = tif.series[0]
        page = tif.pages[0]
        axes, shape = series.axes, series.shape
        yx = axes.index("Y")
        check_pixels(path, (int(np.prod(shape[:yx] or [1])) * shape[yx], shape[yx + 1]))
        meta = _page_meta(page, axes, yx)
        image = _decode_series(series, page)
    image, yx = _bands_last(image, axes)
    if yx > 1:
        raise FormatError(path, f"TIFF with axes {series.axes} (more than one stack axis) is not supported")
    if yx == 1:  # one stack axis: a volume, or a single page
        if image.shape[0] == 1:
            image = image[0]
        else:
            meta["spatial_ndim"] = 3
    return image, meta


def _page_meta(page, axes: str, yx: int) -> dict[str, Any]:
    """The tags a write-back reproduces: compression, photometric, planar, extra samples, resolution."""
    photometric = getattr(page.photometric, "name", str(page.photometric)).lower()
    meta: dict[str, Any] = {
        "tiff_compression": _compression_name(page),
        "tiff_photometric": photometric,
        "tiff_planar": "separate" if "S" in axes and axes.index("S") < yx else "contig",
        "tiff_extrasamples": [int(e) for e in (page.extrasamples or ())],
    }
    res = page.tags.get("XResolution"), page.tags.get("YResolution"), page.tags.get("ResolutionUnit")
    if res[0] is not None and res[1] is not None:
        meta["tiff_resolution"] = [list(res[0].value), list(res[1].value), int(res[2].value) if res[2] else 2]
    return meta


def _decode_series(series, page) -> np.ndarray:
    """The series' pixels; :class:`_NeedsPillow` for compressions tifffile cannot decode alone."""
    if _compression_name(page) not in NATIVE and _compression_name(page) in ("LZW", "PACKBITS", "JPEG"):
        raise _NeedsPillow()
    try:
        return series.asarray()
    except Exception as exc:  # noqa: BLE001 - decoder errors mean a broken file
        if "imagecodecs" in str(exc):
            raise _NeedsPillow() from None
        raise


def _bands_last(image: np.ndarray, axes: str) -> tuple[np.ndarray, int]:
    """The image with its sample/channel axes moved last, and the index of its Y axis then."""
    yx = axes.index("Y")
    for ax in ("S", "C"):
        if ax in axes and axes.index(ax) < yx:
            image = np.moveaxis(image, axes.index(ax), -1)
            axes = axes.replace(ax, "") + ax
            yx = axes.index("Y")
    return image, yx


class _NeedsPillow(Exception):
    pass


def _read_pillow(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    from .png import open_pillow

    im = open_pillow(path, "TIFF")
    arr = np.asarray(im)
    if im.mode == "I" and arr.min() >= 0 and arr.max() < 65536:
        arr = arr.astype(np.uint16)
    compression = str(im.info.get("compression", "raw")).upper()
    meta = {"tiff_compression": {"TIFF_LZW": "LZW", "PACKBITS": "PACKBITS"}.get(compression, compression),
            "tiff_photometric": "rgb" if arr.ndim == 3 else "minisblack",
            "tiff_planar": "contig", "tiff_extrasamples": [2] if im.mode == "RGBA" else []}
    im.close()
    return np.ascontiguousarray(arr), meta


class TIFFFormat(Format):
    """Tagged Image File Format (plain, not GeoTIFF)."""

    name = "tiff"
    extensions = (".tif", ".tiff")

    def sniff(self, path: Path, head: bytes) -> bool:
        return head[:4] in MAGICS

    def read(self, paths: Sequence[Path]) -> dict[str, Any]:
        path = Path(paths[0])
        _check_magic(path)
        image, meta = _decode(path)
        image = _supported_dtype(image)
        meta["format"] = self.name
        spatial = _describe_bands(image, meta)
        sample: dict[str, Any] = {"image": image, "meta": meta}
        check_sample(path, sample)  # before sidecars: a broken header may give no pixels or uint32
        sample.update(read_sidecars(path, spatial))
        return sample

    def write(self, sample: Mapping[str, Any], dest: Sequence[Path], *, sources: Sequence[Path],
              provenance: Mapping[str, Any]) -> list[Path]:
        target = Path(dest[0])
        source = Path(sources[0]) if sources else None
        image = np.ascontiguousarray(sample["image"])
        meta = sample.get("meta") or {}
        compression = str(meta.get("tiff_compression", "NONE")).upper()
        description = provenance_text(provenance)
        volume = meta.get("spatial_ndim") == 3
        n_bands = image.shape[-1] if image.ndim == (4 if volume else 3) else 1
        if _pillow_writes(image, compression, volume, n_bands):
            _write_pillow(image, target, compression, description)
        else:
            _write_tifffile(image, target, meta, compression, description, n_bands)
        return [target] + write_sidecars(sample, target, source)


# -- reading steps ----------------------------------------------------------------------------
def _check_magic(path: Path) -> None:
    """Refuse an empty file or one without a TIFF signature."""
    check_not_empty(path)
    with open(path, "rb") as f:
        head = f.read(8)
    if head[:4] not in MAGICS:
        raise FormatError(path, f"not a TIFF file (starts with {describe_head(head)})")


def _decode(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Pixels and meta by tifffile, else Pillow; any decoder error is one FormatError line."""
    try:
        try:
            return _read_tifffile(path)
        except _NeedsPillow:
            return _read_pillow(path)
    except FormatError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder error means a broken file
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FormatError(path, f"truncated or corrupt TIFF: {msg}") from None


def _supported_dtype(image: np.ndarray) -> np.ndarray:
    """int32 that fits int16 as int16 (Pillow's mode I), bilevel as uint8."""
    if image.dtype == np.int32 and image.min() >= -32768 and image.max() < 32768:
        image = image.astype(np.int16)
    if image.dtype.kind == "b":
        image = image.astype(np.uint8)
    return image


def _describe_bands(image: np.ndarray, meta: dict[str, Any]) -> tuple[int, ...]:
    """Add bit depth and obvious band names to ``meta``; return the spatial shape."""
    if image.dtype.kind in "ui":
        meta["bit_depth"] = image.dtype.itemsize * 8
    spatial = image.shape[:3] if meta.get("spatial_ndim") == 3 else image.shape[:2]
    n_bands = image.shape[len(spatial)] if image.ndim > len(spatial) else 1
    names = band_names(n_bands) if meta.get("tiff_photometric") == "rgb" or n_bands == 1 else None
    if names and image.ndim > len(spatial):
        meta["band_names"] = names
    return spatial


# -- writing steps ----------------------------------------------------------------------------
def _pillow_writes(image: np.ndarray, compression: str, volume: bool, n_bands: int) -> bool:
    """LZW and PackBits go through Pillow, which writes them for 8/16-bit gray and 8-bit RGB(A) only."""
    return (compression in PILLOW and not volume and image.dtype in (np.uint8, np.uint16)
            and (n_bands in (3, 4) and image.dtype == np.uint8 or n_bands == 1))


def _write_pillow(image: np.ndarray, target: Path, compression: str, description: str) -> None:
    from PIL import Image

    im = Image.fromarray(image)
    im.save(target, format="TIFF", compression=PILLOW[compression], description=description)


def _write_tifffile(image: np.ndarray, target: Path, meta: Mapping[str, Any], compression: str,
                    description: str, n_bands: int) -> None:
    import tifffile

    options = _tifffile_options(meta, compression, description, n_bands)
    data = image
    if n_bands > 1 and options.get("planarconfig") == "separate":
        data = np.moveaxis(image, -1, -3)
    tifffile.imwrite(target, data, **options)


def _tifffile_options(meta: Mapping[str, Any], compression: str, description: str, n_bands: int
                      ) -> dict[str, Any]:
    """tifffile.imwrite keywords reproducing the source's tags (unknown compressions → Deflate)."""
    photometric = meta.get("tiff_photometric", "minisblack")
    if photometric not in ("rgb", "minisblack", "miniswhite") or (photometric == "rgb" and n_bands < 3):
        photometric = "minisblack"
    options: dict[str, Any] = {
        "photometric": photometric,
        "compression": NATIVE.get(compression, "zlib"),
        "description": description,
        "metadata": None,
        "software": "domaug",
    }
    if n_bands > 1:
        options["planarconfig"] = meta.get("tiff_planar", "contig")
        extra = meta.get("tiff_extrasamples") or []
        base = 3 if photometric == "rgb" else 1
        if n_bands > base:
            options["extrasamples"] = (list(extra) + [0] * n_bands)[: n_bands - base]
    res = meta.get("tiff_resolution")
    if res:
        options["resolution"] = (tuple(res[0]), tuple(res[1]))
        options["resolutionunit"] = int(res[2])
    return options
