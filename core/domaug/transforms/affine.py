"""core.Affine: rotate, scale, translate and shear in the image plane."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from ..errors import ParameterError
from ..ops import geometry, resample
from ..params import check_choice, check_number, check_range, sample_uniform
from ..targets import layout_of
from ..transform import Context
from ..warp import WarpTransform

ORDERS = (0, 1, 3)


def affine_matrix(plane_shape, rotate_deg, scale, shear_deg, tx_px, ty_px) -> np.ndarray:
    """Out→in map (row, col, 1) of a rotation/scale/shear about the plane centre, then a shift.

    Forward in (x, y-down) edge coordinates: ``p' = c + t + R·Sh·S·(p − c)``, with R a
    counter-clockwise rotation as seen on screen, Sh an x-shear ``x += tan(shear)·y``.
    """
    h, w = plane_shape
    th = math.radians(rotate_deg)
    cos, sin = math.cos(th), math.sin(th)
    k = math.tan(math.radians(shear_deg))
    # Forward linear part L = R·Sh·S with R = [[cos, sin], [−sin, cos]], Sh = [[1, k], [0, 1]];
    # its inverse in closed form: L⁻¹ = S⁻¹·Sh⁻¹·R⁻¹ = (1/s)·[[1, −k], [0, 1]]·[[cos, −sin], [sin, cos]].
    inv_s = 1.0 / scale
    l00, l01 = inv_s * (cos - k * sin), inv_s * (-sin - k * cos)
    l10, l11 = inv_s * sin, inv_s * cos
    cx, cy = w / 2, h / 2
    ux, uy = cx + tx_px, cy + ty_px  # p = c + L⁻¹·(p' − c − t)
    bx = cx - (l00 * ux + l01 * uy)
    by = cy - (l10 * ux + l11 * uy)
    # (x, y) → (row, col) order: swap rows and columns of the 2×2 part and the shift
    return np.array([[l11, l10, by], [l01, l00, bx], [0.0, 0.0, 1.0]])


class Affine(WarpTransform):
    """Rotate, scale, shift and shear the scene as a rigid camera/scanner motion would.

    Model: a 2-D affine map about the image centre, resampled once (spline order 0/1/3)
    with a Gaussian antialiasing prefilter when zooming out. Volumes are transformed in
    the row/column plane (every slice alike). Boxes become the hull of their mapped
    corners (clipped; slivers < 1 px dropped); keypoints leaving the image are dropped.
    The GDAL geotransform, voxel affine and spacing in meta are composed with the map,
    so every pixel keeps its place on the ground or in the patient (a rotated
    geotransform is valid GDAL). Pixels uncovered by the motion get meta ``nodata``
    when declared (and ``valid`` False), else ``fill``; masks get ``mask_fill``.

    Parameters
    ----------
    rotate_deg : float or (low, high)
        Counter-clockwise rotation in degrees. Default ±15.
    scale : float or (low, high)
        Isotropic zoom factor (> 1 enlarges content). Default 0.9–1.1.
    translate_frac : float or (low, high)
        Shift as a fraction of width (x) and height (y), each drawn independently.
        Default (when neither translate argument is given) ±0.05.
    translate_px : float or (low, high) or None
        Shift in pixels instead of ``translate_frac`` (give one of them).
    shear_deg : float or (low, high)
        Horizontal shear angle in degrees. Default ±5.
    order : int
        Spline order for images and fields: 0 nearest, 1 linear (default), 3 cubic.
    fill : float
        Image value for uncovered pixels when meta declares no ``nodata``.
    mask_fill : int
        Label for uncovered mask pixels (default 0, background).
    p : float
        Probability of applying.

    Targets: image, mask, valid, field, bboxes, keypoints, meta.
    """

    def __init__(
        self,
        rotate_deg: Any = (-15.0, 15.0),
        scale: Any = (0.9, 1.1),
        translate_frac: Any = None,
        translate_px: Any = None,
        shear_deg: Any = (-5.0, 5.0),
        order: int = 1,
        fill: float = 0.0,
        mask_fill: int = 0,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.rotate_deg = check_range(rotate_deg, "rotate_deg", low=-360, high=360)
        self.scale = check_range(scale, "scale", low=0, low_inclusive=False, high=100)
        if translate_frac is not None and translate_px is not None:
            raise ParameterError(
                f"give translate_frac or translate_px, not both (got {translate_frac!r} and {translate_px!r})"
            )
        frac = (-0.05, 0.05) if translate_frac is None else translate_frac
        self.translate_frac = check_range(frac, "translate_frac", low=-1, high=1)
        self.translate_px = None if translate_px is None else check_range(translate_px, "translate_px")
        self.shear_deg = check_range(shear_deg, "shear_deg", low=-80, high=80)
        self.order = check_choice(order, "order", ORDERS)
        self.fill = float(check_number(fill, "fill"))
        self.mask_fill = int(check_number(mask_fill, "mask_fill", integer=True))

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        lay = layout_of(sample, type(self).prefer_volume)
        h, w = lay.spatial_shape[-2:]
        rotate = sample_uniform(rng, self.rotate_deg)
        scale = sample_uniform(rng, self.scale)
        shear = sample_uniform(rng, self.shear_deg)
        if self.translate_px is not None:
            tx, ty = sample_uniform(rng, self.translate_px), sample_uniform(rng, self.translate_px)
        else:
            tx = sample_uniform(rng, self.translate_frac) * w
            ty = sample_uniform(rng, self.translate_frac) * h
        return {"rotate_deg": rotate, "scale": scale, "shear_deg": shear, "tx_px": tx, "ty_px": ty,
                "order": self.order, "fill": self.fill, "mask_fill": self.mask_fill}

    def matrix(self, params: Mapping[str, Any], sample: Mapping[str, Any]) -> np.ndarray:
        """Out→in map (array-axis order, homogeneous) for ``params`` on ``sample``'s grid."""
        lay = layout_of(sample, type(self).prefer_volume)
        m2 = affine_matrix(lay.spatial_shape[-2:], params["rotate_deg"], params["scale"],
                           params["shear_deg"], params["tx_px"], params["ty_px"])
        return geometry.embed_2d(m2, lay.spatial_ndim)

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        shape = ctx.layout.spatial_shape
        ctx.sampler = resample.AffineSampler(self.matrix(params, sample), shape, shape)
        ctx.order, ctx.fill = int(params.get("order", 1)), float(params.get("fill", 0.0))
        ctx.mask_fill = int(params.get("mask_fill", 0))
        return ctx
