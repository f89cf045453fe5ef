"""Small helpers shared by the core formats: checks, band names, provenance text."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..errors import FormatError

#: default decompression-bomb limit in pixels (per band); ``DOMAUG_MAX_PIXELS`` overrides it
DEFAULT_MAX_PIXELS = 1 << 28


def max_pixels() -> int:
    """The decompression-bomb guard: largest pixel count (H×W×D) a reader accepts."""
    value = os.environ.get("DOMAUG_MAX_PIXELS")
    try:
        return int(value) if value else DEFAULT_MAX_PIXELS
    except ValueError:
        return DEFAULT_MAX_PIXELS


def check_pixels(path: Path, shape: tuple[int, ...], spatial: int = 2) -> None:
    """Refuse images whose spatial size exceeds :func:`max_pixels` (before decoding them)."""
    n = int(np.prod([int(s) for s in shape[:spatial]], dtype=np.float64))
    limit = max_pixels()
    if n > limit:
        dims = "×".join(str(int(s)) for s in shape[:spatial])
        raise FormatError(
            path,
            f"image is {dims} = {n} pixels, above the decompression-bomb limit of {limit} "
            "(set DOMAUG_MAX_PIXELS to allow it)",
        )


def check_not_empty(path: Path) -> int:
    """The file size; a zero-byte file is a FormatError."""
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise FormatError(path, f"cannot open: {exc.strerror or exc}") from None
    if size == 0:
        raise FormatError(path, "empty file (0 bytes)")
    return size


def head_of(path: Path, n: int = 4096) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def describe_head(head: bytes) -> str:
    """A short printable view of a file's first bytes for error messages."""
    return repr(head[:12])


def band_names(n_channels: int, mode: str | None = None) -> list[str] | None:
    """Obvious band roles for a plain image: gray, RGB, RGBA, gray+alpha."""
    if mode == "CMYK" and n_channels == 4:
        return ["cyan", "magenta", "yellow", "black"]
    return {
        1: ["gray"],
        2: ["gray", "alpha"],
        3: ["red", "green", "blue"],
        4: ["red", "green", "blue", "alpha"],
    }.get(n_channels)


def provenance_text(provenance: Mapping[str, Any]) -> str:
    """Compact canonical JSON of a provenance record (for text chunks, comments, tags)."""
    return json.dumps(dict(provenance), sort_keys=True, separators=(",", ":"))


def as_uint(image: np.ndarray, path: Path, allowed=(np.uint8, np.uint16)) -> np.ndarray:
    """The image in the same integer dtype it was read with; refuses impossible dtypes."""
    if image.dtype.type not in allowed:
        names = ", ".join(np.dtype(a).name for a in allowed)
        raise FormatError(path, f"cannot write {image.dtype} pixels in this format (supports {names})")
    return np.ascontiguousarray(image)


_TARGET_NAME = __import__("re").compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def check_sample(path: Path, sample: dict[str, Any]) -> dict[str, Any]:
    """Refuse, as a one-line :class:`FormatError` naming ``path``, a decoded sample that
    domaug cannot work on: no pixels (an axis of length 0), an unsupported pixel type
    (e.g. uint32 from a corrupted TIFF header), target names that are not plain
    identifiers (they become output file names), or targets that do not fit the image."""
    from ..errors import DomaugError
    from ..targets import SUPPORTED_DTYPES, validate_sample

    image = sample.get("image")
    if not isinstance(image, np.ndarray):
        raise FormatError(path, "no image data")
    if image.size == 0:
        raise FormatError(path, f"image has no pixels (shape {'×'.join(map(str, image.shape))})")
    if image.dtype.type not in SUPPORTED_DTYPES:
        raise FormatError(path, f"pixel type {image.dtype} is not supported "
                                "(uint8, uint16, int16, float32, float64)")
    for name in sample:
        if not _TARGET_NAME.match(str(name)):
            raise FormatError(path, f"target name {str(name)[:40]!r} is not a plain identifier")
    try:
        validate_sample(sample)
    except DomaugError as exc:
        raise FormatError(path, str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    return sample
