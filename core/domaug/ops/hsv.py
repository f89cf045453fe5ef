"""Display-referred colour kernels: BT.601 luma, hexcone HSV, hue rotation, colour jitter steps.

These act on *encoded* (gamma-corrected, display-referred) R′G′B′ values, the way image
editors, JPEG and torchvision/Albumentations colour augmentations do; they model how a
picture's colour rendering varies (white balance, saturation and tone settings), not light.
Models: hexcone HSV (A. R. Smith, "Color gamut transform pairs", SIGGRAPH 1978, with
V = max(R, G, B)); luma Y′ = 0.299 R′ + 0.587 G′ + 0.114 B′ (ITU-R BT.601, as JPEG and
OpenCV's RGB2GRAY use).

Float kernels take R, G, B on the last axis scaled to [0, 1]. The ``*_u8`` kernels work on
C-contiguous uint8 R, G, B with OpenCV (8-bit full-range HSV: 256 hue steps per turn,
table lookups, ``cv2.transform``), rounding after each step like a chain of 8-bit
operations, and return None when OpenCV is unavailable (callers use the float kernels).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..dtypes import full_scale, to_float, value_range
from ..errors import UnsupportedInputError
from . import opencv

#: ITU-R BT.601 luma weights for R′, G′, B′.
LUMA_601 = (0.299, 0.587, 0.114)
#: The colour jitter steps, in their canonical order.
JITTER_STEPS = ("brightness", "contrast", "saturation", "hue")
_ARANGE = np.arange(256, dtype=np.float64)
_IDENTITY = np.arange(256, dtype=np.uint8)


# -- which bands are red, green, blue ---------------------------------------------------
def rgb_band_indices(n_channels: int, has_channels: bool, band_names: Sequence[str] | None,
                     who: str) -> list[int]:
    """Indices of the red, green and blue bands, or UnsupportedInputError saying why not.

    Three bands are R, G, B and four are R, G, B, alpha, unless ``band_names`` says
    otherwise (any order of red/green/blue, plus at most one alpha band, is accepted).
    """
    if not has_channels:
        raise UnsupportedInputError(
            f"{who} needs an RGB image (H×W×3 or RGBA); a single-band image has no hue or saturation")
    if band_names is not None and len(band_names) == n_channels:
        names = [str(b).lower() for b in band_names]
        extra = [b for b in names if b not in ("red", "green", "blue")]
        if all(names.count(c) == 1 for c in ("red", "green", "blue")) and extra in ([], ["alpha"]):
            return [names.index("red"), names.index("green"), names.index("blue")]
        raise UnsupportedInputError(
            f"{who} needs red, green and blue bands (plus an optional alpha), got band_names {list(band_names)}: "
            "hue and saturation are defined for display RGB, not for other bands (e.g. NIR)")
    if n_channels in (3, 4):
        return [0, 1, 2]
    raise UnsupportedInputError(
        f"{who} needs an RGB (3-band) or RGBA (4-band) image, got {n_channels} bands: hue and saturation "
        "are defined for display RGB, not for multispectral data (12-band reflectance has no hue)")


def band_names_of(meta: Mapping[str, Any] | None) -> Sequence[str] | None:
    return (meta or {}).get("band_names")


# -- float kernels (R, G, B in [0, 1] on the last axis) -----------------------------------
def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma Y′ of R′G′B′ values (last axis), in the input's float dtype."""
    w = LUMA_601
    return rgb[..., 0] * w[0] + rgb[..., 1] * w[1] + rgb[..., 2] * w[2]


def mean_luma(rgb: np.ndarray, valid: np.ndarray | None = None) -> float:
    """Mean BT.601 luma over the valid pixels (float64 accumulation; 0 if none)."""
    if valid is not None and not valid.all():
        if not valid.any():
            return 0.0
        rgb = rgb[valid]
    means = rgb.reshape(-1, rgb.shape[-1]).mean(axis=0, dtype=np.float64)
    return float(np.dot(means[:3], LUMA_601))


def saturation_matrix(factor: float) -> np.ndarray:
    """3×3 matrix of ``factor·x + (1 − factor)·Y′(x)``: 0 = grey, 1 = identity, > 1 = vivid."""
    f = float(factor)
    return (f * np.eye(3) + (1.0 - f) * np.outer(np.ones(3), LUMA_601)).astype(np.float32)


def blend_saturation(rgb: np.ndarray, factor: float) -> np.ndarray:
    """Blend every pixel toward its own luma (unclipped; grey pixels are fixed points)."""
    y = luma(rgb)
    y *= rgb.dtype.type(1.0 - factor)
    out = rgb * rgb.dtype.type(factor)
    out += y[..., None]
    return out


def rgb_to_hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hexcone HSV (Smith 1978): hue in turns [0, 1), saturation (V − min)/V, value max."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    v = np.maximum(np.maximum(r, g), b)
    chroma = v - np.minimum(np.minimum(r, g), b)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(v > 0, chroma / v, 0).astype(v.dtype, copy=False)
        c = np.where(chroma > 0, chroma, 1)
        # sector by the largest channel; distance from its primary in sixths of a turn
        h = np.where(v == r, (g - b) / c, np.where(v == g, (b - r) / c + 2, (r - g) / c + 4))
    h *= h.dtype.type(1 / 6)
    h %= 1.0
    h[chroma <= 0] = 0
    return h.astype(v.dtype, copy=False), s, v


def hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Inverse hexcone: channel = V − V·S·clip(min(k, 4 − k), 0, 1), k = (n + 6H) mod 6, n = 5, 3, 1."""
    h6 = h * h.dtype.type(6)
    vs = v * s
    out = np.empty(h.shape + (3,), dtype=v.dtype)
    for channel, n in enumerate((5, 3, 1)):
        k = h6 + h6.dtype.type(n)
        k %= 6
        ramp = np.minimum(k, 4 - k)
        np.clip(ramp, 0, 1, out=ramp)
        ramp *= vs
        np.subtract(v, ramp, out=out[..., channel])
    return out


def shift_hsv(rgb: np.ndarray, hue_turns: float = 0.0, saturation_shift: float = 0.0,
              value_shift: float = 0.0) -> np.ndarray:
    """Rotate hue by ``hue_turns`` and add to saturation and value (both clipped to [0, 1]).

    Neutral pixels (saturation 0) stay neutral: adding saturation to a grey would invent
    a hue. Input values are taken as they are (clip them to [0, 1] first).
    """
    cv2 = opencv.cv2_module() if _fits_cv(rgb, np.float32) else None
    if cv2 is not None:  # OpenCV's float HSV: the same hexcone, H in degrees, ~10× faster
        hsv = cv2.cvtColor(rgb.reshape(-1, rgb.shape[-2], 3), cv2.COLOR_RGB2HSV)
        if hue_turns:
            hue = hsv[..., 0]
            hue += np.float32(hue_turns % 1.0 * 360.0)  # in [0, 720): OpenCV wraps [360, 720)
        if saturation_shift:
            sat = hsv[..., 1]
            np.add(sat, np.float32(saturation_shift), out=sat, where=sat > 0)
        if value_shift:
            hsv[..., 2] += np.float32(value_shift)
        if saturation_shift or value_shift:
            np.clip(hsv[..., 1:], 0, 1, out=hsv[..., 1:])
        return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB, dst=hsv).reshape(rgb.shape)
    h, s, v = rgb_to_hsv(rgb)
    if hue_turns:
        h += h.dtype.type(hue_turns)
        h %= 1.0
    if saturation_shift:
        grey = s <= 0
        s = np.clip(s + s.dtype.type(saturation_shift), 0, 1)
        s[grey] = 0
    if value_shift:
        v = np.clip(v + v.dtype.type(value_shift), 0, 1)
    return hsv_to_rgb(h, s, v)


def jitter_float(rgb: np.ndarray, order: Sequence[str], factors: Mapping[str, float],
                 valid: np.ndarray | None = None) -> np.ndarray:
    """The colour jitter steps in ``order`` on R′G′B′ in [0, 1], clipped after each step.

    brightness ``x·b``; contrast ``c·x + (1 − c)·mean Y′`` (mean over valid pixels);
    saturation ``s·x + (1 − s)·Y′(x)``; hue: rotate the HSV hue by ``h`` turns. Steps
    at their identity value are skipped; returns a new array.
    """
    x = np.array(rgb, copy=True)
    for step in order:
        f = float(factors[step])
        if step == "brightness" and f != 1.0:
            x *= x.dtype.type(f)
        elif step == "contrast" and f != 1.0:
            m = mean_luma(x, valid)
            x *= x.dtype.type(f)
            x += x.dtype.type((1.0 - f) * m)
        elif step == "saturation" and f != 1.0:
            cv2 = opencv.cv2_module() if _fits_cv(x, np.float32) else None
            if cv2 is not None:
                flat = x.reshape(-1, x.shape[-2], 3)
                x = cv2.transform(flat, saturation_matrix(f), dst=flat).reshape(x.shape)
            else:
                x = blend_saturation(x, f)
        elif step == "hue" and f % 1.0 != 0.0:
            np.clip(x, 0, 1, out=x)  # HSV needs display values
            x = shift_hsv(x, hue_turns=f)
        else:
            continue
        np.clip(x, 0, 1, out=x)
    return x


# -- uint8 kernels (OpenCV; None without it) ---------------------------------------------
# Each kernel writes one fresh output buffer and then works in place in it: on a busy
# machine every extra full-size temporary costs more (page faults) than the arithmetic.
def _table(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _lookup(src: np.ndarray, table: np.ndarray, inplace: bool) -> np.ndarray:
    """``table[src]`` (uint8, C-contiguous), written into ``src`` itself when ``inplace``."""
    out = opencv.lut8(src, table, out=src if inplace else None)
    if out is None:
        return np.take(table, src, out=src if inplace else None)
    return out


def hsv_tables_u8(hue_turns: float = 0.0, saturation_shift: float = 0.0,
                  value_shift: float = 0.0) -> list[np.ndarray | None]:
    """Tables for OpenCV's 8-bit full-range H (1/256 turn, mod 256), S and V (None = identity).

    S and V are shifted by ``shift·255`` and clipped; S = 0 stays 0 (neutral stays neutral).
    """
    k = int(round(hue_turns * 256)) % 256
    hue = ((np.arange(256) + k) % 256).astype(np.uint8) if k else None
    sat = _table(_ARANGE + saturation_shift * 255.0)
    sat[0] = 0
    val = _table(_ARANGE + value_shift * 255.0)
    return [hue, None if np.array_equal(sat, _IDENTITY) else sat, None if np.array_equal(val, _IDENTITY) else val]


def shift_hsv_u8(rgb: np.ndarray, tables: Sequence[np.ndarray | None],
                 out: np.ndarray | None = None) -> np.ndarray | None:
    """Apply H, S, V tables (:func:`hsv_tables_u8`) in 8-bit full-range HSV; None without OpenCV.

    ``rgb`` is C-contiguous uint8 with R, G, B on the last axis; the result goes to ``out``
    (which may be ``rgb`` itself) or a new array. All-None tables give a copy.
    """
    cv2 = opencv.cv2_module()
    if cv2 is None or not _fits_cv(rgb):
        return None
    if all(t is None for t in tables):
        return rgb.copy() if out is None else _copy_into(rgb, out)
    src = rgb.reshape(-1, rgb.shape[-2], 3)
    hsv = cv2.cvtColor(src, cv2.COLOR_RGB2HSV_FULL, dst=None if out is None else out.reshape(src.shape))
    planes = cv2.split(hsv)  # contiguous planes: byte-table lookups at memory speed
    for plane, table in zip(planes, tables):
        if table is not None:
            _lookup(plane, table, True)
    cv2.merge(planes, dst=hsv)
    cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB_FULL, dst=hsv)
    return hsv.reshape(rgb.shape)


def _copy_into(src: np.ndarray, out: np.ndarray) -> np.ndarray:
    if out is not src:
        np.copyto(out, src)
    return out


def _fits_cv(rgb: np.ndarray, dtype: type = np.uint8) -> bool:
    return (rgb.dtype == dtype and rgb.ndim >= 3 and rgb.shape[-1] == 3 and rgb.size > 0
            and rgb.flags.c_contiguous and rgb.size < 2**31)


def mean_luma_u8(rgb: np.ndarray, valid: np.ndarray | None, cv2: Any) -> float:
    """Mean BT.601 luma of uint8 R, G, B over the valid pixels (OpenCV per-channel means)."""
    flat = rgb.reshape(-1, rgb.shape[-2], 3)
    if valid is None or valid.all():
        means = cv2.mean(flat)
    elif not valid.any():
        return 0.0
    else:
        means = cv2.mean(flat, mask=np.ascontiguousarray(valid, dtype=np.uint8).reshape(flat.shape[:2]))
    return float(np.dot(means[:3], LUMA_601))


def jitter_u8(rgb: np.ndarray, order: Sequence[str], factors: Mapping[str, float],
              valid: np.ndarray | None = None) -> np.ndarray | None:
    """:func:`jitter_float` on uint8 R, G, B with 8-bit steps (rounded and clipped after each).

    Brightness and contrast are 256-entry tables (consecutive ones composed into one),
    saturation a 3×3 ``cv2.transform``, hue an 8-bit HSV round trip. None without OpenCV.
    """
    cv2 = opencv.cv2_module()
    if cv2 is None or not _fits_cv(rgb):
        return None
    chain = _Chain8(rgb, cv2)
    for step in order:
        chain.step(step, float(factors[step]), valid)
    return chain.result()


class _Chain8:
    """A chain of 8-bit colour steps on ``rgb``: the buffer they write (ours, once a step has
    written one) and a 256-entry table not applied yet (consecutive tables compose into one)."""

    def __init__(self, rgb: np.ndarray, cv2: Any) -> None:
        self.rgb, self.cv2 = rgb, cv2
        self.out: np.ndarray | None = None
        self.pending: np.ndarray | None = None

    def table(self, table: np.ndarray) -> None:
        """Queue a per-value table after the pending one."""
        self.pending = table if self.pending is None else table[self.pending]

    def current(self) -> np.ndarray:
        """The image so far (the pending table applied)."""
        if self.pending is not None:
            self.out = _lookup(self.rgb if self.out is None else self.out, self.pending, self.out is not None)
            self.pending = None
        return self.rgb if self.out is None else self.out

    def step(self, step: str, f: float, valid: np.ndarray | None) -> None:
        """One jitter step at factor ``f`` (skipped at its identity value)."""
        if step == "brightness" and f != 1.0:
            self.table(_table(_ARANGE * f))
        elif step == "contrast" and f != 1.0:
            m = mean_luma_u8(self.current(), valid, self.cv2)
            self.table(_table(_ARANGE * f + (1.0 - f) * m))
        elif step == "saturation" and f != 1.0:
            src = self.current().reshape(-1, self.rgb.shape[-2], 3)
            dst = None if self.out is None else self.out.reshape(src.shape)
            self.out = self.cv2.transform(src, saturation_matrix(f), dst=dst).reshape(self.rgb.shape)
        elif step == "hue" and int(round(f * 256)) % 256:
            self.out = shift_hsv_u8(self.current(), hsv_tables_u8(hue_turns=f), out=self.out)

    def result(self) -> np.ndarray:
        """The chain's output: a new array even when every step was skipped."""
        self.current()
        return self.rgb.copy() if self.out is None else self.out


# -- running a kernel on the R, G, B bands of an image -------------------------------------
def apply_to_rgb(image: np.ndarray, meta: Mapping[str, Any] | None, indices: Sequence[int],
                 kernel_u8, kernel_float) -> np.ndarray:
    """Run a colour kernel on the red, green, blue bands of ``image``; other bands untouched.

    8-bit images at full scale 255 go to ``kernel_u8(rgb uint8)`` (which may return None:
    no OpenCV); everything else to ``kernel_float(rgb / full_scale)`` (float32, float64 for
    float64 input), whose [0, 1] result is scaled back. Returns the input dtype (uint8 path)
    or a float array for :func:`domaug.dtypes.finish`.
    """
    fs = full_scale(image.dtype, meta)
    indices = list(indices)
    plain = image.shape[-1] == 3 and indices == [0, 1, 2]
    if image.dtype == np.uint8 and fs == 255.0 and value_range(image.dtype, meta) == (0.0, 255.0):
        rgb = np.ascontiguousarray(image if plain else image[..., indices])
        result = kernel_u8(rgb)
        if result is not None:
            if plain:
                return result
            out = image.copy()
            out[..., indices] = result
            return out
    work = to_float(image)
    rgb = work if plain else work[..., indices]
    if fs != 1.0:
        rgb /= rgb.dtype.type(fs)
    result = kernel_float(rgb)
    if fs != 1.0:
        result *= result.dtype.type(fs)
    if plain:
        return result
    work[..., indices] = result
    return work
