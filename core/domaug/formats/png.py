"""PNG: 1/8/16-bit gray, gray+alpha, RGB, RGBA (Pillow; 16-bit colour by :mod:`.png16`).

Writes the same bit depth and band count back, keeps the ICC profile, the pixel
density and the source's text chunks, and adds a ``domaug`` text chunk holding the
provenance JSON (pipeline hash, seed key, applied transforms with their parameters).
Palette images are read as RGB(A) and written as true colour (an augmented image no
longer fits its palette).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..errors import FormatError
from . import png16
from .base import Format
from .common import band_names, check_not_empty, check_pixels, describe_head, provenance_text
from .sidecar import read_sidecars, write_sidecars

TEXT_KEY = "domaug"


def open_pillow(path: Path, kind: str):
    """``Image.open`` + full decode, with broken files and decompression bombs as FormatError."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
            check_pixels(path, (im.height, im.width))
            im.load()
    except FormatError:
        raise
    except Image.DecompressionBombError as exc:
        raise FormatError(path, f"decompression-bomb guard: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any decoder error means a broken file
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FormatError(path, f"truncated or corrupt {kind}: {msg}") from None
    return im


def read_pillow(path: Path, kind: str) -> tuple[np.ndarray, dict[str, Any]]:
    """Pixels and meta of the image file at ``path`` that Pillow reads as ``kind``."""
    im = open_pillow(path, kind)
    try:
        return pillow_to_array(im, path)
    finally:
        im.close()


def image_sample(path: Path, image: np.ndarray, meta: dict[str, Any], format_name: str) -> dict[str, Any]:
    """The sample of a 2-D image file: image, meta (with its format) and the sidecar targets."""
    meta["format"] = format_name
    sample: dict[str, Any] = {"image": image, "meta": meta}
    sample.update(read_sidecars(path, image.shape[:2]))
    return sample


def write_call(sample: Mapping[str, Any], dest: Sequence[Path],
               sources: Sequence[Path]) -> tuple[Path, Path | None, np.ndarray, Mapping[str, Any]]:
    """(output path, source path or None, pixels, meta) of a 2-D image format's write call."""
    return Path(dest[0]), (Path(sources[0]) if sources else None), np.asarray(sample["image"]), \
        sample.get("meta") or {}


def source_settings(source: Path | None, read: Callable[[Any], Any], default: Any) -> Any:
    """``read(im)`` on the source opened by Pillow (encoder settings to carry over), else ``default``."""
    if source is None or not source.exists():
        return default
    try:
        from PIL import Image

        with Image.open(source) as src:
            return read(src)
    except Exception:  # noqa: BLE001 - the source was read once already; settings are optional
        return default


def pillow_to_array(im, path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Pixels and meta (bit_depth, band_names, source_mode) of a decoded Pillow image."""
    mode = im.mode
    meta: dict[str, Any] = {"source_mode": mode}
    if mode == "1":
        im = im.convert("L")
    elif mode in ("P", "PA"):
        im = im.convert("RGBA" if ("transparency" in im.info or mode == "PA") else "RGB")
    elif mode not in ("L", "LA", "RGB", "RGBA", "I;16", "I;16B", "I;16L", "I", "CMYK"):
        raise FormatError(path, f"unsupported image mode {mode}")
    arr = np.asarray(im)
    if mode == "I":
        if arr.min() < 0 or arr.max() > 65535:
            raise FormatError(path, "32-bit integer pixels outside 0..65535 are not supported")
        arr = arr.astype(np.uint16)
    elif arr.dtype != np.uint8 and mode.startswith("I;16"):
        arr = arr.astype(np.uint16)
    meta["bit_depth"] = 16 if arr.dtype == np.uint16 else 8
    names = band_names(1 if arr.ndim == 2 else arr.shape[2], im.mode)
    if names and arr.ndim == 3:
        meta["band_names"] = names
    return np.ascontiguousarray(arr), meta


def array_to_pillow(image: np.ndarray, meta: Mapping[str, Any], path: Path):
    from PIL import Image

    if image.dtype == np.uint16:
        if image.ndim != 2:
            raise FormatError(path, "16-bit colour goes through the png16 codec")
        return Image.fromarray(np.ascontiguousarray(image))
    if image.dtype != np.uint8:
        raise FormatError(path, f"cannot write {image.dtype} pixels as PNG (uint8 or uint16 only)")
    if meta.get("source_mode") == "CMYK" and image.ndim == 3 and image.shape[2] == 4:
        return Image.frombytes("CMYK", (image.shape[1], image.shape[0]), np.ascontiguousarray(image).tobytes())
    im = Image.fromarray(np.ascontiguousarray(image))
    if meta.get("source_mode") == "1" and image.ndim == 2:
        im = im.point(lambda v: 255 if v >= 128 else 0).convert("1")
    return im


class PNGFormat(Format):
    """Portable Network Graphics."""

    name = "png"
    extensions = (".png",)

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.startswith(png16.SIGNATURE)

    def read(self, paths: Sequence[Path]) -> dict[str, Any]:
        path = Path(paths[0])
        check_not_empty(path)
        data_head = open(path, "rb").read(64)
        if not data_head.startswith(png16.SIGNATURE):
            raise FormatError(path, f"not a PNG file (starts with {describe_head(data_head)})")
        hdr = png16.header(data_head)
        if hdr is None:
            raise FormatError(path, "truncated PNG (no complete IHDR header)")
        width, height, depth, ctype, _ = hdr
        check_pixels(path, (height, width))
        if depth == 16 and ctype in (2, 4, 6):
            image, _text = png16.read16(path, path.read_bytes())
            meta = {"bit_depth": 16, "source_mode": {2: "RGB;16", 4: "LA;16", 6: "RGBA;16"}[ctype]}
            names = band_names(image.shape[2])
            if names:
                meta["band_names"] = names
        else:
            image, meta = read_pillow(path, "PNG")
        return image_sample(path, image, meta, self.name)

    def write(self, sample: Mapping[str, Any], dest: Sequence[Path], *, sources: Sequence[Path],
              provenance: Mapping[str, Any]) -> list[Path]:
        from PIL import PngImagePlugin

        target, source, image, meta = write_call(sample, dest, sources)
        text, icc, dpi = source_settings(source, lambda src: (
            {k: v for k, v in getattr(src, "text", {}).items() if isinstance(v, str)},
            src.info.get("icc_profile"), src.info.get("dpi")), ({}, None, None))
        text.pop(TEXT_KEY, None)
        text[TEXT_KEY] = provenance_text(provenance)
        if image.dtype == np.uint16 and image.ndim == 3:
            png16.write16(target, image, text)
        else:
            im = array_to_pillow(image, meta, target)
            info = PngImagePlugin.PngInfo()
            for key, value in text.items():
                info.add_text(key, value)
            options: dict[str, Any] = {"pnginfo": info}
            if icc:
                options["icc_profile"] = icc
            if dpi:
                options["dpi"] = dpi
            im.save(target, format="PNG", **options)
        return [target] + write_sidecars(sample, target, source)
