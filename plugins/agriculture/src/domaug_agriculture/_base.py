"""Shared plumbing of the drone-frame pixel transforms: 2-D only, alpha and footprint kept bit-exact.

:class:`AgriPixelTransform` prepares what every agriculture pixel transform asks of a
frame (band roles, wavelengths, footprint, full scale, whether the DN are sRGB-coded);
the functions below turn a frame into the float working copy that ``apply_to_image``
works on, and that copy into linear light and back.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from domaug.kit import (Context, PixelTransform, UnsupportedInputError, as_hwc, full_scale, masked_copy, row_blocks,
                        to_float)

from . import bands, light
from ._fast import BLOCK_VALUES


class AgriPixelTransform(PixelTransform):
    """A pixel transform on drone frames.

    Subclasses implement ``apply_to_image(image, params, ctx)`` on the float H×W×C
    :func:`working_copy` of the frame (all channels, alpha included: they may ignore it)
    and return an H×W×C float result. The base refuses volumes; its context carries
    ``roles``, ``spectral`` (channels that carry light), ``wavelengths`` (nm),
    ``footprint`` (H×W bool or None), ``full_scale``, ``coded`` (sRGB-coded 8-bit photo),
    and ``signed``. The finished image has the alpha channel (``ctx.untouched_bands``) and
    every pixel outside the footprint (alpha 0, ``valid`` False or ``meta['nodata']``:
    ``ctx.untouched``, which a subclass's ``prepare`` may extend) put back bit-exact in the
    input dtype.
    """

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        bands.require_frame(sample, self.name_for_errors())

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        dtype = ctx["image"].dtype
        ctx.roles = bands.roles(ctx)
        ctx.spectral = bands.spectral_channels(ctx)
        ctx.wavelengths = np.array(bands.DRONE.wavelengths_nm(ctx))
        ctx.footprint = bands.frame_footprint(ctx)
        ctx.full_scale = full_scale(dtype, ctx.meta)
        ctx.coded = light.is_display_coded(dtype, ctx.roles)
        ctx.signed = dtype.kind in "fi"  # values may be negative
        ctx.black_level = black_level(ctx.meta, as_hwc(ctx["image"]).shape[-1], ctx.coded)
        # outside the footprint and the alpha band come back bit-exact (PixelTransform.finish_image)
        ctx.untouched = None if ctx.footprint is None else ~ctx.footprint
        alpha = ctx.roles.get("alpha")
        ctx.untouched_bands = () if alpha is None else (alpha,)
        return ctx


def black_level(meta: Mapping[str, Any] | None, channels: int, coded: bool) -> np.ndarray | None:
    """Per-channel dark offset of linear DN (``meta['black_level']``: a number or one per band), or None.

    Raw camera DN = black level + gain·radiance (MicaSense RedEdge: 4800, EXIF BlackLevel);
    gains of light apply to DN − black level. Ignored for display-coded 8-bit photos.
    """
    bl = (meta or {}).get("black_level")
    if bl is None or coded:
        return None
    arr = np.broadcast_to(np.asarray(bl, np.float32).reshape(-1), (channels,)) if np.ndim(bl) == 0 or \
        len(np.ravel(bl)) == 1 else np.asarray(bl, np.float32).reshape(-1)
    if arr.shape != (channels,):
        raise UnsupportedInputError(f"meta['black_level'] has {arr.size} values for a {channels}-band image")
    return None if not arr.any() else np.ascontiguousarray(arr)


def working_copy(image: np.ndarray, ctx: Context) -> np.ndarray:
    """Float H×W×C copy of the image with every pixel outside the footprint (and NaN/inf) set to 0.

    Outside the footprint the values mean nothing (NaN, -9999): zeroing them keeps
    footprint-weighted filters (weight 0 there) from turning NaN·0 into NaN.
    """
    hwc = as_hwc(image)
    fp = ctx.footprint
    if fp is None:
        x = to_float(hwc)
    else:
        x = masked_copy(hwc, fp)
        if x.dtype not in (np.float32, np.float64):
            x = x.astype(np.float32)
    if hwc.dtype.kind == "f" and x.size:
        with np.errstate(over="ignore", invalid="ignore"):
            finite = np.isfinite(np.minimum.reduce(x, axis=None) + np.maximum.reduce(x, axis=None))
        if not finite:  # NaN/inf somewhere (or a huge range): zero the non-finite values
            np.copyto(x, 0.0, where=~np.isfinite(x))
    return x


def to_linear(x: np.ndarray, ctx: Context) -> np.ndarray:
    """Working copy → linear light in [0, 1]·(full scale units) (sRGB-decoded for 8-bit photos).

    Light adds and multiplies in linear units; 8-bit RGB photos are display-coded. Reuses ``x``.
    """
    return light.decode(x, ctx.full_scale, ctx.coded)


def from_linear(y: np.ndarray, ctx: Context) -> np.ndarray:
    return light.encode(y, ctx.full_scale, ctx.coded)


def to_linear_units(x: np.ndarray, ctx: Context) -> np.ndarray:
    """Working copy → linear light for gains and convolutions only (reuses ``x``).

    Like :func:`to_linear` but without the division by full scale for linear DN (an
    operation linear in x does not need it): sRGB-decoded [0, 1] for display-coded
    photos, else the DN themselves, negatives clipped to 0.
    """
    if ctx.coded:
        return light.decode(x, ctx.full_scale, True)
    bl = getattr(ctx, "black_level", None)
    if bl is not None:  # gains apply to the signal above the dark offset
        x -= bl
        np.maximum(x, 0.0, out=x)
    elif ctx.signed:
        np.maximum(x, 0.0, out=x)
    return x


def from_linear_units(y: np.ndarray, ctx: Context, clip: bool = True) -> np.ndarray:
    """Inverse of :func:`to_linear_units`; ``clip=False`` when ``y`` cannot be negative."""
    if ctx.coded:
        return light.encode(y, ctx.full_scale, True)
    if clip:
        np.maximum(y, 0.0, out=y)
    bl = getattr(ctx, "black_level", None)
    if bl is not None:
        y += bl
    return y


def map_linear(x: np.ndarray, ctx: Context, fn: Callable[[np.ndarray, int, int], np.ndarray]) -> np.ndarray:
    """Run ``fn(lin, a, b)`` on cache-sized blocks of rows ``a:b`` of ``x`` in linear units; in place.

    ``fn`` gets the block in linear light (:func:`to_linear_units`) and returns new
    non-negative linear values (a gain ≥ 0), which are encoded back into ``x``.
    Per-pixel chains of numpy operations run 2–3× faster on blocks that stay in cache.
    """
    for a, b in row_blocks(0, x.shape[0], x.shape[1] * x.shape[2], BLOCK_VALUES):
        block = x[a:b]
        out = from_linear_units(fn(to_linear_units(block, ctx), a, b), ctx, clip=False)
        if out is not block:
            block[...] = out
    return x
