"""core.JPEGCompression: lossy JPEG re-encoding artefacts (8×8 blocking, ringing, chroma loss)."""

from __future__ import annotations

import io
from typing import Any, Mapping

import numpy as np

from ..dtypes import to_float
from ..ops.nodata import fill_invalid
from ..params import check_range, sample_int
from ..targets import Layout
from ..transform import Context, PixelTransform


def jpeg_roundtrip(plane: np.ndarray, quality: int) -> np.ndarray:
    """Encode an H×W or H×W×3 (RGB) uint8 array as baseline JPEG and decode it.

    libjpeg(-turbo) through OpenCV when available (RGB↔BGR swapped around the codec, so
    the colour transform sees true RGB; byte-identical to Pillow's 4:2:0 output at the
    same quality), else through Pillow.
    """
    from ..ops import opencv

    cv2 = opencv.cv2_module()
    if cv2 is not None:
        colour = plane.ndim == 3
        src = cv2.cvtColor(plane, cv2.COLOR_RGB2BGR) if colour else np.ascontiguousarray(plane)
        ok, buffer = cv2.imencode(".jpg", src, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if ok:
            rgb_flag = getattr(cv2, "IMREAD_COLOR_RGB", None) if colour else None  # OpenCV >= 4.10
            if rgb_flag is not None:  # libjpeg writes RGB directly: one channel swap fewer
                return cv2.imdecode(buffer, rgb_flag)
            decoded = cv2.imdecode(buffer, cv2.IMREAD_COLOR if colour else cv2.IMREAD_GRAYSCALE)
            return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB) if colour else decoded
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(plane).save(buffer, format="JPEG", quality=int(quality))
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded)


class JPEGCompression(PixelTransform):
    """Degrade by a real lossy JPEG encode/decode (blocking at 8×8, ringing, chroma blur).

    Model: ISO/IEC 10918-1 baseline JPEG (DCT quantisation, 4:2:0 chroma subsampling for
    colour) through Pillow/libjpeg, quality on the IJG 1–100 scale.

    - uint8 with 1 or 3 bands: the image is re-encoded exactly as a camera/web pipeline
      would (3 bands are treated as RGB).
    - Anything else (uint16/int16/float, other band counts, volumes): JPEG only stores
      8-bit 1- or 3-channel planes, so each band group (3 bands as colour, otherwise
      each band in grey) of each 2-D plane is rendered to 8 bits with a linear stretch
      over its valid min..max (the whole array's range, so volume slices agree),
      encoded, and only the codec's artefact ``decoded − rendered`` is added back,
      scaled to the data's units. Precision beyond 8 bits is kept; the artefact
      amplitude matches an 8-bit JPEG of the stretched rendering.

    Parameters
    ----------
    quality : int or (low, high)
        IJG quality 1–95 (lower = stronger artefacts). Default (30, 70).
    p : float
        Probability of applying.

    Nodata pixels (``valid`` False) are filled with each band's valid mean before encoding,
    so they never leak into valid pixels of the same 8×8 block; they are restored after.

    Targets: image; every other target passes through.
    """

    def __init__(self, quality=(30, 70), p: float = 1.0) -> None:
        super().__init__(p=p)
        self.quality = check_range(quality, "quality", low=1, high=95, integer=True)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        return {"quality": sample_int(rng, self.quality)}

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        quality = int(params["quality"])
        lay, valid = ctx.layout, ctx.valid
        # the codec must not see nodata (NaN/−9999/0 would ring into valid pixels of the same
        # 8×8 block): nodata pixels hold each band's valid mean; the base puts them back
        if image.dtype == np.uint8 and not lay.is_volume and lay.n_channels in (1, 3):
            image = fill_invalid(image, valid)
            plane = image[..., 0] if image.ndim == 3 and lay.n_channels == 1 else image
            return jpeg_roundtrip(plane, quality).reshape(image.shape)
        out = fill_invalid(to_float(image), valid)
        return _add_codec_artefacts(out, image.dtype == np.uint8, lay, valid, quality)


def _add_codec_artefacts(out: np.ndarray, from_u8: bool, lay: Layout, valid: np.ndarray | None,
                         quality: int) -> np.ndarray:
    """Add, in place, the artefact of encoding each band group of each plane of ``out`` (float)."""
    n = lay.n_channels
    planes = out.reshape((-1,) + out.shape[lay.spatial_ndim - 2:]) if lay.is_volume else out[None]
    groups = [slice(0, 3)] if n == 3 else [slice(c, c + 1) for c in range(n)]
    for group in groups:
        # one contiguous copy per band group: per-plane work then stays in cache instead of
        # striding over every band of an interleaved H×W×C array
        band = planes if not lay.has_channels else np.ascontiguousarray(planes[..., group])
        lo, hi = (0.0, 255.0) if from_u8 else _stretch(band if lay.is_volume else band[0], valid)
        _add_plane_artefacts(band, lo, (hi - lo) / 255.0 if hi > lo else 1.0, from_u8, quality)
        if lay.has_channels:
            planes[..., group] = band
    return out


def _add_plane_artefacts(band: np.ndarray, lo: float, scale: float, from_u8: bool, quality: int) -> None:
    """For each plane of ``band``: render to 8 bits (``lo`` + ``scale`` per step), encode, add
    ``decoded − rendered`` back in the data's units (in place)."""
    for k in range(band.shape[0]):
        plane = band[k]
        r8 = plane.astype(np.uint8) if from_u8 else _render8(plane, lo, scale)
        squeeze = r8.ndim == 3 and r8.shape[-1] == 1
        dec = jpeg_roundtrip(r8[..., 0] if squeeze else r8, quality).reshape(r8.shape)
        artefact = dec.astype(plane.dtype)
        artefact -= r8
        artefact *= np.asarray(scale, plane.dtype)
        plane += artefact


def _render8(plane: np.ndarray, lo: float, scale: float) -> np.ndarray:
    """Linear stretch to 0..255, rounded; NaN → 0, ±inf clipped (8-bit rendering for the codec)."""
    t = plane - np.asarray(lo, plane.dtype)
    t *= np.asarray(1.0 / scale, plane.dtype)
    np.clip(t, 0, 255, out=t)
    if t.size and np.isnan(np.min(t)):
        t[np.isnan(t)] = 0
    np.rint(t, out=t)
    return t.astype(np.uint8)


def _stretch(values: np.ndarray, valid) -> tuple[float, float]:
    """The 8-bit rendering range of a band group (spatial axes first): valid finite min..max."""
    if valid is not None:
        values = values[valid]
    if values.size == 0:
        return 0.0, 1.0
    lo, hi = float(np.min(values)), float(np.max(values))
    if not (np.isfinite(lo) and np.isfinite(hi)):  # NaN/inf present: only finite values count
        values = values[np.isfinite(values)]
        if values.size == 0:
            return 0.0, 1.0
        lo, hi = float(values.min()), float(values.max())
    return lo, hi
