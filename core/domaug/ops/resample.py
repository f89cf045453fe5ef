"""Resampling that keeps every target consistent: images, masks, valid, fields.

Geometry follows :mod:`domaug.ops.geometry`: continuous coordinates with pixel edges at
integers, homogeneous maps from *output* to *input* coordinates in array-axis order.
A sample point at edge coordinate ``x`` is array index ``i = x - 0.5`` (pixel centres).

A *sampler* says where each output pixel centre falls in the input: an
:class:`AffineSampler` (a matrix; used by Affine, Resize) or a :class:`CoordSampler`
(a dense coordinate array; used by ElasticDeformation). The ``warp_*`` functions apply
one sampler to each kind of target with the right rules:

- images: spline order 0/1/3, per channel; pixels that fall outside the input get the
  meta ``nodata`` value when one is declared, else ``fill`` (default 0). Near invalid
  pixels, linear interpolation is *normalised* (weights of invalid neighbours are
  dropped); cubic interpolation first gives invalid pixels their nearest valid value.
  Either way a nodata value such as -9999 never bleeds into valid output. Valid output pixels are
  kept off the nodata value. The result has the input dtype
  (:func:`domaug.dtypes.restore_dtype`).
- masks: nearest neighbour; outside the input they get ``fill_label`` (default 0,
  background), the one label that may appear that was not in the input.
- valid: nearest neighbour, and False wherever the output samples outside the input.
- fields (depth, transmission): linear, extended with their nearest edge value outside
  (inventing a physical value such as depth 0 or transmission 0 would be worse).

Antialiasing when downsampling: a pure rescaling (Resize) integrates each coarse pixel's
exact footprint (:mod:`domaug.ops.area`: the detector's boxcar, OpenCV's ``INTER_AREA``)
along every shrinking axis, then interpolates along growing ones; other maps that
shrink (a zooming-out Affine) prefilter with a Gaussian of sigma ``(f - 1) / 2`` input
pixels along an axis shrunk by factor ``f`` (scikit-image's choice).

Speed: when OpenCV is available (:mod:`domaug.ops.opencv`, imported lazily) and every
input pixel is valid, images, masks and valid are resampled in their own dtype, all
bands at once (groups of 4), with the same rules: ``cv2.warpAffine`` on a 1-pixel
replicated border (= ``mode="nearest"`` up to half a pixel outside, then the exact
``inside`` cut), ``cv2.resize`` for pure rescaling (``INTER_AREA`` to shrink; a
Gaussian prefilter for warps runs as ``sepFilter2D``), ``cv2.remap`` for coordinate maps, 3-D coordinate maps as
remaps of stacked slice pairs mixed linearly in z. OpenCV's linear interpolation puts
positions on a 1/32-pixel grid (error < 1/64 px); this is used for 8/16-bit images,
for float32 through affine maps, and in-plane for volumes; 2-D float coordinate maps
and float64 keep scipy's exact positions, as does everything with invalid pixels
(normalised interpolation) or cubic order. ``DOMAUG_OPENCV=0`` forces the scipy paths.
Results do not depend on thread counts.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..dtypes import avoid_nodata, restore_dtype, to_float, value_range
from ..lazy import lazy_module
from . import area
from ._resample_cv import fill_where
from .samplers import EPS, AffineSampler, CoordSampler, antialias_sigma, index_affine, scale_matrix

ndi = lazy_module("scipy.ndimage")

__all__ = ["AffineSampler", "CoordSampler", "antialias_sigma", "index_affine", "resize", "scale_matrix",
           "warp_field", "warp_image", "warp_mask", "warp_valid"]

def _channels(array: np.ndarray, spatial_ndim: int) -> list[np.ndarray]:
    if array.ndim == spatial_ndim:
        return [array]
    return [array[..., c] for c in range(array.shape[-1])]


def _stack(parts: list[np.ndarray], like: np.ndarray, spatial_ndim: int) -> np.ndarray:
    if like.ndim == spatial_ndim:
        return parts[0]
    return np.stack(parts, axis=-1)


def _blur(channel: np.ndarray, sigma: Sequence[float] | None) -> np.ndarray:
    if sigma is None or not any(s > 0 for s in sigma):
        return channel
    return ndi.gaussian_filter(channel, sigma=list(sigma), mode="nearest", truncate=3.0)


def warp_image(
    image: np.ndarray,
    sampler: AffineSampler | CoordSampler,
    *,
    spatial_ndim: int,
    order: int = 1,
    meta: Mapping[str, Any] | None = None,
    valid: np.ndarray | None = None,
    fill: float = 0.0,
    antialias: bool = True,
) -> np.ndarray:
    """Resample an image (any bands) through ``sampler``; same dtype out.

    ``valid`` (False = nodata) makes interpolation ignore invalid pixels; output pixels
    that sample outside the input or an invalid pixel get ``meta['nodata']`` if declared
    (outside ones get ``fill`` otherwise).
    """
    meta = meta or {}
    wdtype = np.float64 if image.dtype == np.float64 else np.float32
    if valid is not None and valid.all():
        valid = None
    shrunk = _area_stage(sampler, antialias, order)
    if shrunk is not None:
        return _warp_image_by_area(image, sampler, shrunk, spatial_ndim=spatial_ndim, order=order, meta=meta,
                                   valid=valid, fill=fill)
    sigma = sampler.prefilter_sigma() if antialias and order > 0 else None
    if valid is None:
        fast = _warp_image_native(image, sampler, spatial_ndim, order, meta, fill, sigma, wdtype)
        if fast is not None:
            return fast
    return _warp_image_float(image, sampler, spatial_ndim, order, meta, valid, fill, sigma, wdtype)


def _warp_image_native(image: np.ndarray, sampler: AffineSampler | CoordSampler, spatial_ndim: int, order: int,
                       meta: Mapping[str, Any], fill: float, sigma: Sequence[float] | None,
                       wdtype: type) -> np.ndarray | None:
    """Every input pixel valid: warp in the image's own dtype with OpenCV, or None when it cannot."""
    nodata = meta.get("nodata")
    if nodata is None:
        fast = _warp_image_banded(image, sampler, spatial_ndim, order, meta, fill, sigma, wdtype)
        if fast is not None:
            return fast
    fast = sampler.sample_native(image, order, spatial_ndim, sigma)
    if fast is None:
        return None
    inside = None if sampler.all_inside else sampler.inside
    return _finish_native(fast, image.dtype, inside, meta, nodata, fill, wdtype)


def _warp_image_banded(image: np.ndarray, sampler: AffineSampler | CoordSampler, spatial_ndim: int, order: int,
                       meta: Mapping[str, Any], fill: float, sigma: Sequence[float] | None,
                       wdtype: type) -> np.ndarray | None:
    """Integer warps whose uncovered pixels take ``fill``: the warp's constant border
    already holds it beyond a thin band along the edge; set only that band. None when
    this does not apply (small, 3-D, float, a resize or a coordinate map)."""
    if not (spatial_ndim == 2 and image.dtype.kind in "ui" and isinstance(sampler, AffineSampler)
            and not sampler._resize and image.shape[0] * image.shape[1] >= BAND_MIN_PIXELS):
        return None
    value = _fill_value(image.dtype, meta, None, fill)
    fast = sampler.sample_native(image, order, spatial_ndim, sigma, border_value=float(value))
    if fast is None:
        return None
    if not sampler.all_inside:
        fast.reshape(-1, *fast.shape[2:])[sampler.outside_band()] = value
    return _finish_native(fast, image.dtype, None, meta, None, fill, wdtype)


def _warp_image_float(image: np.ndarray, sampler: AffineSampler | CoordSampler, spatial_ndim: int, order: int,
                      meta: Mapping[str, Any], valid: np.ndarray | None, fill: float,
                      sigma: Sequence[float] | None, wdtype: type) -> np.ndarray:
    """The scipy path, channel by channel in float: invalid pixels never weigh in (see the module doc)."""
    channels = _channels(image, spatial_ndim)
    weighted = valid is not None and order > 0
    if valid is not None and order > 1:
        # Cubic weights go negative, so normalising by them is unstable: give invalid
        # pixels their nearest valid neighbour's value instead, then interpolate plainly.
        channels = _nearest_valid_filled(channels, valid)
        weighted = False
    den = weight = None
    if weighted:
        den = sampler.sample(_blur(valid.astype(wdtype), sigma), order)
        weight = den > EPS
    out = np.empty(sampler.out_shape + image.shape[spatial_ndim:], dtype=wdtype)
    for c, raw in enumerate(channels):
        ch = np.ascontiguousarray(raw, dtype=wdtype)
        if weight is not None:
            res = _sample_normalised(sampler, ch, valid, den, weight, sigma, order, wdtype)
        else:
            res = sampler.sample(_blur(ch, sigma), order)
        if image.ndim == spatial_ndim:
            out[...] = res
        else:
            out[..., c] = res
    out_valid = warp_valid(valid, sampler) if valid is not None else sampler.inside
    return _finish_float(out, image, ~sampler.inside, out_valid, meta, fill)


def _nearest_valid_filled(channels: list[np.ndarray], valid: np.ndarray) -> list[np.ndarray]:
    """Each channel with every invalid pixel holding its nearest valid pixel's value."""
    if not valid.any():
        return channels
    nearest = ndi.distance_transform_edt(~valid, return_distances=False, return_indices=True)
    return [ch[tuple(nearest)] for ch in channels]


def _sample_normalised(sampler: AffineSampler | CoordSampler, ch: np.ndarray, valid: np.ndarray, den: np.ndarray,
                       weight: np.ndarray, sigma: Sequence[float] | None, order: int, wdtype: type) -> np.ndarray:
    """Normalised interpolation of one channel: ``S(x·v) / S(v)`` (``den`` = ``S(v)``, ``weight``
    = ``den > 0``), plain interpolation where no valid pixel contributes."""
    num = sampler.sample(_blur(np.where(valid, ch, 0).astype(wdtype), sigma), order)
    with np.errstate(invalid="ignore", divide="ignore"):
        res = num / np.where(weight, den, 1)
    if not weight.all():  # no valid neighbour at all: plain interpolation
        res = np.where(weight, res, sampler.sample(_blur(ch, sigma), order))
    return res


#: From this many pixels, filling only the edge band beats a full inside mask (fixed cost ~20 µs).
BAND_MIN_PIXELS = 1 << 16


def _finish_float(out: np.ndarray, image: np.ndarray, outside: np.ndarray, out_valid: np.ndarray,
                  meta: Mapping[str, Any], fill: float) -> np.ndarray:
    """Fill uncovered/invalid output pixels, come back to the input dtype, keep valid ones off nodata."""
    nodata = meta.get("nodata")
    bad = outside if nodata is None else ~out_valid
    if bad.any():
        value = float(nodata) if nodata is not None else float(fill)
        out[bad] = value
    result = restore_dtype(out, image.dtype, meta)
    if result is image:
        result = result.copy()
    if nodata is not None:
        if bad.any() and np.issubdtype(result.dtype, np.integer) and _fits(nodata, result.dtype):
            result[bad] = result.dtype.type(nodata)  # even outside a declared valid_range
        result = avoid_nodata(result, out_valid, nodata, meta)
    return result


def _area_stage(sampler: AffineSampler | CoordSampler, antialias: bool, order: int) -> tuple[int, ...] | None:
    """The grid to integrate to first when ``sampler`` rescales down along some axis (else None)."""
    if not antialias or order == 0 or not isinstance(sampler, AffineSampler) or not sampler.is_rescale:
        return None
    shrunk = area.shrunk_shape(sampler.in_shape, sampler.out_shape)
    return None if shrunk == sampler.in_shape else shrunk


def _rest(shrunk: tuple[int, ...], out_shape: tuple[int, ...]) -> AffineSampler | None:
    """The interpolating rescale left after integrating (axes that grow), or None."""
    if shrunk == out_shape:
        return None
    return AffineSampler.rescaling(shrunk, out_shape)


def _warp_image_by_area(image: np.ndarray, sampler: AffineSampler, shrunk: tuple[int, ...], *, spatial_ndim: int,
                        order: int, meta: Mapping[str, Any], valid: np.ndarray | None, fill: float) -> np.ndarray:
    """Rescale by pixel integration (:mod:`domaug.ops.area`) on shrinking axes, interpolation on growing ones.

    With invalid pixels the integration is normalised (only valid area counts); the
    output's nodata pixels are exactly those of ``warp_valid(valid, sampler)``.
    """
    rest = _rest(shrunk, sampler.out_shape)
    inner_meta = {k: v for k, v in meta.items() if k != "nodata"} if meta else meta
    if valid is None:
        small = area.integrate_native(image, shrunk, spatial_ndim)
        if small is not None:
            if rest is None:  # nothing declared: the integrated pixels are the result
                return _finish_native(small, image.dtype, None, meta, meta.get("nodata"), fill, np.float32) \
                    if meta else small
            return warp_image(small, rest, spatial_ndim=spatial_ndim, order=order, meta=meta, fill=fill,
                              antialias=False)
        small = area.integrate(image, shrunk, spatial_ndim)
        if rest is not None:
            small = warp_image(small, rest, spatial_ndim=spatial_ndim, order=order, meta=inner_meta, fill=fill,
                               antialias=False)
        return _finish_float(small, image, np.zeros(sampler.out_shape, bool), sampler.inside, meta, fill)
    den = area.integrate(valid.view(np.uint8), shrunk, spatial_ndim)
    has = den > EPS
    per_pixel = (lambda a: a[..., None]) if image.ndim > spatial_ndim else (lambda a: a)
    num = area.integrate(np.where(per_pixel(valid), image, 0), shrunk, spatial_ndim)
    with np.errstate(invalid="ignore", divide="ignore"):
        small = np.where(per_pixel(has), num / per_pixel(np.where(has, den, 1)),
                         area.integrate(image, shrunk, spatial_ndim))
    if rest is not None:
        small = warp_image(small, rest, spatial_ndim=spatial_ndim, order=order, meta=inner_meta, valid=has,
                           fill=fill, antialias=False)
    out_valid = warp_valid(valid, sampler)
    return _finish_float(small, image, np.zeros(sampler.out_shape, bool), out_valid, meta, fill)


def _finish_native(out: np.ndarray, dtype: np.dtype, inside: np.ndarray | None, meta: Mapping[str, Any],
                   nodata: Any, fill: float, wdtype: type) -> np.ndarray:
    """Same finishing as the float path for an image warped in its own dtype (all input valid)."""
    lo, hi = value_range(dtype, meta)
    if meta.get("valid_range") is not None or meta.get("bit_depth"):
        full_lo, full_hi = value_range(dtype)
        if lo > full_lo or hi < full_hi:  # a declared bit depth / valid range: clip as restore_dtype does
            np.clip(out, out.dtype.type(max(lo, full_lo)), out.dtype.type(min(hi, full_hi)), out=out)
    bad = None if inside is None else ~inside
    if bad is not None and bad.any():
        fill_where(out, bad, _fill_value(dtype, meta, nodata, fill))
    if nodata is not None:
        out = avoid_nodata(out, inside, nodata, meta)
    return out


def _fill_value(dtype: np.dtype, meta: Mapping[str, Any], nodata: Any, fill: float) -> Any:
    """What an uncovered pixel holds in ``dtype``: nodata if declared, else ``fill`` as restore_dtype makes it."""
    lo, hi = value_range(dtype, meta)
    value = float(nodata) if nodata is not None else float(fill)
    if dtype.kind in "ui":  # as restore_dtype: round, clip (NaN → low end)
        value = dtype.type(lo if np.isnan(value) else min(max(float(np.rint(value)), lo), hi))
    else:
        value = dtype.type(min(max(value, lo), hi) if not np.isnan(value) else value)
    if nodata is not None and np.issubdtype(dtype, np.integer) and _fits(nodata, dtype):
        value = dtype.type(nodata)  # even outside a declared valid_range
    return value


def _fits(value: float, dtype: np.dtype) -> bool:
    if np.isnan(value):
        return False
    info = np.iinfo(dtype)
    return info.min <= value <= info.max and float(value).is_integer()


def warp_mask(mask: np.ndarray, sampler: AffineSampler | CoordSampler, *, fill_label: int = 0) -> np.ndarray:
    """Nearest-neighbour resampling of a label map; outside the input → ``fill_label``."""
    nd = len(sampler.out_shape)
    fast = sampler.sample_native(mask, 0, nd) if mask.ndim == nd else None
    if fast is not None:
        if not sampler.all_inside:
            fill_where(fast, ~sampler.inside, fill_label)
        return fast
    src = mask.view(np.uint8) if mask.dtype == bool else mask
    out = sampler.sample(src, 0)
    outside = ~sampler.inside
    if outside.any():
        out[outside] = fill_label
    return out.astype(bool) if mask.dtype == bool else out.astype(mask.dtype, copy=False)


def warp_valid(valid: np.ndarray | None, sampler: AffineSampler | CoordSampler) -> np.ndarray:
    """Nearest-neighbour resampling of the valid mask; False outside the input."""
    if valid is None:
        return sampler.inside.copy()
    fast = sampler.sample_native(valid, 0, len(sampler.out_shape))
    out = fast if fast is not None else sampler.sample(valid.view(np.uint8), 0).astype(bool)
    return out & sampler.inside


def warp_field(
    field: np.ndarray,
    sampler: AffineSampler | CoordSampler,
    *,
    spatial_ndim: int,
    order: int = 1,
    antialias: bool = True,
) -> np.ndarray:
    """Linear resampling of a physical per-pixel field, edge-extended outside the input."""
    work = field.astype(np.float64 if field.dtype == np.float64 else np.float32)
    shrunk = _area_stage(sampler, antialias, order)
    if shrunk is not None:  # pixel integration on shrinking axes (as images), then interpolation
        small = area.integrate_native(work, shrunk, spatial_ndim)
        work = area.integrate(work, shrunk, spatial_ndim) if small is None else small
        rest = _rest(shrunk, sampler.out_shape)
        if rest is not None:
            work = warp_field(work, rest, spatial_ndim=spatial_ndim, order=order, antialias=False)
        if np.issubdtype(field.dtype, np.floating):
            return work.astype(field.dtype, copy=False)
        return restore_dtype(work, field.dtype)
    sigma = sampler.prefilter_sigma() if antialias and order > 0 else None
    if isinstance(sampler, AffineSampler) and work.dtype == np.float32:
        fast = sampler.sample_native(work, order, spatial_ndim, sigma, extend=True)
        if fast is not None:
            return fast.astype(field.dtype, copy=False) if np.issubdtype(field.dtype, np.floating) \
                else restore_dtype(fast, field.dtype)
    parts = [sampler.sample(_blur(ch, sigma), order) for ch in _channels(work, spatial_ndim)]
    out = _stack(parts, work, spatial_ndim)
    if np.issubdtype(field.dtype, np.floating):
        return out.astype(field.dtype, copy=False)
    return restore_dtype(out, field.dtype)


def resize(
    array: np.ndarray,
    out_shape: Sequence[int],
    *,
    spatial_ndim: int,
    order: int = 1,
    antialias: bool = True,
) -> np.ndarray:
    """Resize the spatial axes of ``array`` to ``out_shape`` keeping its bounds (same dtype).

    Downsampling integrates pixel areas (:mod:`domaug.ops.area`) unless ``order == 0`` or
    ``antialias=False``.
    """
    in_shape = array.shape[:spatial_ndim]
    out_shape = tuple(int(v) for v in out_shape)
    if antialias and order > 0:
        shrunk = area.shrunk_shape(in_shape, out_shape)
        if shrunk != tuple(in_shape):  # pixel integration first (see domaug.ops.area)
            small = area.integrate_native(array, shrunk, spatial_ndim)
            if small is None:
                small = restore_dtype(area.integrate(array, shrunk, spatial_ndim), array.dtype)
            return small if shrunk == out_shape else resize(small, out_shape, spatial_ndim=spatial_ndim,
                                                            order=order, antialias=False)
    sampler = AffineSampler.rescaling(in_shape, out_shape)
    fast = sampler.sample_native(array, order, spatial_ndim, None)
    if fast is not None:
        return fast
    if order == 0:
        parts = [sampler.sample(ch, 0) for ch in _channels(array, spatial_ndim)]
        return _stack(parts, array, spatial_ndim).astype(array.dtype, copy=False)
    work = to_float(array)
    parts = [sampler.sample(ch, order) for ch in _channels(work, spatial_ndim)]
    return restore_dtype(_stack(parts, work, spatial_ndim), array.dtype)
