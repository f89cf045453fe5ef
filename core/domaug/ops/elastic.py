"""Smooth random displacement fields from a coarse control grid, and warping through them.

Model: free-form deformation with a cubic B-spline (Rueckert et al., IEEE TMI 18(8), 1999;
TorchIO's RandomElasticDeformation uses the same idea). A few control points per axis
get random displacement vectors; the dense field is their cubic B-spline interpolation,
evaluated *separably* (one small matrix product per axis), which is what makes it fast:
a dense random field smoothed by a large Gaussian (Simard 2003, Albumentations, MONAI
3-D) costs a full-resolution convolution per component.

Bound: control vectors are drawn uniformly in the unit ball, upsampled (B-spline weights
are non-negative and each row sums to 1, so the dense field is a convex combination of
control vectors), then the whole field is scaled so that its largest vector, measured in
the ellipsoid with semi-axes ``max_disp_px_per_axis``, has norm exactly 1 (minus 1e-5
against rounding). So the peak displacement *equals* the requested maximum and never
exceeds it; with per-axis pixel bounds D / spacing the ellipsoid is a ball of radius D
in physical units.

Convention: the field ``d`` (shape ``(ndim,) + shape``, float32, array-index units)
says where each output pixel samples the input: ``out[i] = in[i + d(i)]``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..lazy import lazy_module
from .resample import CoordSampler

ndi = lazy_module("scipy.ndimage")


def _cubic_bspline(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    out = np.zeros_like(ax)
    inner = ax < 1
    outer = (ax >= 1) & (ax < 2)
    out[inner] = 2.0 / 3.0 - ax[inner] ** 2 + 0.5 * ax[inner] ** 3
    out[outer] = (2.0 - ax[outer]) ** 3 / 6.0
    return out


def bspline_basis(n_out: int, n_ctrl: int) -> np.ndarray:
    """``(n_out, n_ctrl)`` float32 weights of cubic B-spline control points along one axis.

    Control points span the axis from the first to the last pixel centre; rows are
    non-negative and sum to 1 (partition of unity also at the borders).
    """
    t = np.arange(n_out, dtype=np.float64)
    u = t * (n_ctrl - 1) / (n_out - 1) if n_out > 1 else np.zeros(1)
    w = _cubic_bspline(u[:, None] - np.arange(n_ctrl, dtype=np.float64)[None, :])
    w /= w.sum(axis=1, keepdims=True)
    return w.astype(np.float32)


def upsample_control(control: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Evaluate the cubic B-spline with coefficients ``control`` on a dense grid of ``shape``."""
    out = np.asarray(control, dtype=np.float32)
    for axis in reversed(range(len(shape))):
        basis = bspline_basis(int(shape[axis]), out.shape[axis])
        out = np.moveaxis(np.tensordot(basis, out, axes=([1], [axis])), 0, axis)
    return np.ascontiguousarray(out, dtype=np.float32)


def control_vectors(
    rng: np.random.Generator, n_control: Sequence[int], max_disp_px_per_axis: Sequence[float]
) -> np.ndarray:
    """Control displacements ``(ndim,) + n_control``, uniform in the bounding ellipsoid."""
    ndim = len(n_control)
    direction = rng.standard_normal((ndim,) + tuple(n_control))
    norm = np.sqrt((direction**2).sum(axis=0, keepdims=True))
    norm[norm == 0] = 1.0
    radius = rng.random((1,) + tuple(n_control)) ** (1.0 / ndim)
    unit_ball = direction / norm * radius
    scale = np.asarray(max_disp_px_per_axis, dtype=np.float64).reshape((ndim,) + (1,) * ndim)
    return unit_ball * scale


def control_grid_field(
    shape: Sequence[int],
    seed: int,
    n_control: int | Sequence[int] = 6,
    max_disp_px_per_axis: float | Sequence[float] = 4.0,
) -> np.ndarray:
    """A smooth random displacement field ``(ndim,) + shape`` (float32, pixels).

    ``n_control`` control points per axis (>= 2; 4–8 is typical), displacement bounded by
    the ellipsoid ``max_disp_px_per_axis`` (a scalar means the same bound on every axis).
    The same ``seed`` gives the same field. A zero bound gives an exact zero field.
    """
    ndim = len(shape)
    n_ctrl, max_disp = _grid_args(shape, n_control, max_disp_px_per_axis)
    if not any(max_disp):
        return np.zeros((ndim,) + tuple(int(s) for s in shape), dtype=np.float32)
    rng = np.random.default_rng(seed)
    control = control_vectors(rng, n_ctrl, [1.0] * ndim)
    unit = np.empty((ndim,) + tuple(int(v) for v in shape), dtype=np.float32)
    for k in range(ndim):  # one component at a time (no stacked copy)
        unit[k] = upsample_control(control[k], shape)
    return _scale_to_bound(unit, max_disp)


def _grid_args(shape: Sequence[int], n_control: int | Sequence[int],
               max_disp_px_per_axis: float | Sequence[float]) -> tuple[list[int], list[float]]:
    """Control points and displacement bound per axis, checked (a scalar applies to every axis)."""
    ndim = len(shape)
    n_ctrl = [int(n_control)] * ndim if np.isscalar(n_control) else [int(v) for v in n_control]
    max_disp = [float(max_disp_px_per_axis)] * ndim if np.isscalar(max_disp_px_per_axis) \
        else [float(v) for v in max_disp_px_per_axis]
    if len(n_ctrl) != ndim or len(max_disp) != ndim:
        raise ValueError(f"n_control and max_disp_px_per_axis need {ndim} entries for shape {tuple(shape)}")
    if any(n < 2 for n in n_ctrl):
        raise ValueError(f"n_control must be >= 2 per axis, got {n_ctrl}")
    return n_ctrl, max_disp


def _scale_to_bound(unit: np.ndarray, max_disp: Sequence[float]) -> np.ndarray:
    """Scale ``unit`` in place so its largest vector in the ellipsoid norm of semi-axes
    ``max_disp`` has norm exactly 1 (minus 1e-5); an all-zero field stays zero."""
    ndim = unit.shape[0]
    moving = [k for k in range(ndim) if max_disp[k] > 0]
    norm2 = np.zeros(unit.shape[1:], dtype=np.float32)
    sq = np.empty_like(norm2)
    for k in moving:
        norm2 += np.square(unit[k], out=sq)
    peak = float(np.sqrt(norm2.max(), dtype=np.float64))
    if peak == 0.0:
        return np.zeros_like(unit)
    for k in range(ndim):  # 1e-5 margin: float32 rounding can never push it over the bound
        unit[k] *= np.float32(max_disp[k] / peak * (1.0 - 1e-5))
    return unit


def coordinates(field: np.ndarray, inplace: bool = False) -> np.ndarray:
    """Sampling coordinates (array indices, float32): the identity grid plus ``field``.

    ``inplace=True`` reuses a float32 ``field``'s memory (the field is consumed).
    """
    shape = field.shape[1:]
    inplace = inplace and field.dtype == np.float32 and field.flags.c_contiguous
    coords = field if inplace else np.empty(field.shape, dtype=np.float32)
    for k, n in enumerate(shape):
        axis = np.arange(n, dtype=np.float32).reshape([-1 if j == k else 1 for j in range(len(shape))])
        np.add(field[k], axis, out=coords[k])
    return coords


def sampler(field: np.ndarray, inplace: bool = False) -> CoordSampler:
    """A :class:`~domaug.ops.resample.CoordSampler` for the ``warp_*`` helpers of resample.

    ``inplace=True`` turns ``field`` itself into the coordinates (saves 3 volumes in 3-D).
    """
    return CoordSampler(coordinates(field, inplace=inplace), field.shape[1:])


def warp(array: np.ndarray, field: np.ndarray, order: int = 1, spatial_ndim: int | None = None,
         fill: float = 0.0) -> np.ndarray:
    """Warp a plain array (spatial axes first, optional trailing channels) through ``field``.

    ``order`` 0 for labels, 1 (default) or 3 for intensities; pixels sampling outside
    the input get ``fill``. The result has ``array``'s dtype (rounded and clipped for
    integers). For nodata-aware warping use :func:`domaug.ops.resample.warp_image`.
    """
    from .resample import warp_image, warp_mask

    spatial_ndim = field.shape[0] if spatial_ndim is None else spatial_ndim
    s = sampler(field)
    if order == 0 and np.issubdtype(array.dtype, np.integer) and array.ndim == spatial_ndim:
        return warp_mask(array, s, fill_label=int(fill))
    return warp_image(array, s, spatial_ndim=spatial_ndim, order=order, fill=fill, antialias=False)


def invert_points(points_idx: np.ndarray, field: np.ndarray, iterations: int = 30) -> np.ndarray:
    """Where input points (array-index coordinates, ``(N, ndim)``) land in the output.

    Solves ``y + d(y) = x`` by fixed-point iteration ``y ← x − d(y)`` with ``d``
    interpolated linearly; converges for folding-free fields (|∇d| < 1).
    """
    x = np.asarray(points_idx, dtype=np.float64)
    if x.size == 0:
        return x.copy()
    y = x.copy()
    ndim = field.shape[0]
    for _ in range(iterations):
        d = np.stack([ndi.map_coordinates(field[k], y.T, order=1, mode="nearest") for k in range(ndim)], 1)
        y_new = x - d
        if np.max(np.abs(y_new - y)) < 1e-4:
            y = y_new
            break
        y = y_new
    return y
