"""JPEG: 8-bit gray, RGB and CMYK (Pillow).

Writes quality 95 by default (``meta["jpeg_quality"]`` overrides it) with the
source's chroma subsampling, progressive flag, ICC profile, EXIF block and pixel
density, and the provenance JSON as a JPEG comment (COM segment).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import FormatError
from .base import Format
from .common import check_not_empty, describe_head, provenance_text
from .png import array_to_pillow, image_sample, read_pillow, source_settings, write_call
from .sidecar import write_sidecars

SOI = b"\xff\xd8\xff"
DEFAULT_QUALITY = 95


def _source_encoding(src) -> dict[str, Any]:
    """The source JPEG's chroma subsampling, ICC profile, EXIF, dpi and progressive flag."""
    from PIL import JpegImagePlugin

    options: dict[str, Any] = {}
    sampling = JpegImagePlugin.get_sampling(src)
    if sampling >= 0 and src.mode != "L":
        options["subsampling"] = sampling
    for key in ("icc_profile", "exif", "dpi", "progressive"):
        if src.info.get(key):
            options[key] = src.info[key]
    return options


class JPEGFormat(Format):
    """JPEG / JFIF / EXIF images."""

    name = "jpeg"
    extensions = (".jpg", ".jpeg", ".jpe", ".jfif")

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.startswith(SOI)

    def read(self, paths: Sequence[Path]) -> dict[str, Any]:
        path = Path(paths[0])
        check_not_empty(path)
        with open(path, "rb") as f:
            head = f.read(16)
        if not head.startswith(SOI):
            raise FormatError(path, f"not a JPEG file (starts with {describe_head(head)})")
        image, meta = read_pillow(path, "JPEG")
        return image_sample(path, image, meta, self.name)

    def write(self, sample: Mapping[str, Any], dest: Sequence[Path], *, sources: Sequence[Path],
              provenance: Mapping[str, Any]) -> list[Path]:
        target, source, image, meta = write_call(sample, dest, sources)
        if image.dtype != np.uint8:
            raise FormatError(target, f"cannot write {image.dtype} pixels as JPEG (uint8 only)")
        options: dict[str, Any] = {"quality": int(meta.get("jpeg_quality", DEFAULT_QUALITY))}
        options.update(source_settings(source, _source_encoding, {}))
        options["comment"] = ("domaug " + provenance_text(provenance)).encode("utf-8")[:65000]
        im = array_to_pillow(image, meta, target)
        if im.mode in ("RGBA", "LA"):
            raise FormatError(target, f"JPEG cannot hold an alpha band (image mode {im.mode})")
        im.save(target, format="JPEG", **options)
        return [target] + write_sidecars(sample, target, source)
