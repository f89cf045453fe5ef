"""core.ElasticDeformation: smooth local warping from a coarse B-spline control grid."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..errors import ParameterError, UnsupportedInputError
from ..ops import elastic
from ..params import check_choice, check_number, check_range, draw_seed, sample_uniform
from ..targets import kind_of, layout_of
from ..transform import Context
from ..warp import WarpTransform, require_plane

_BOX_SAMPLES = 16  # points per box side for the deformed-box hull


class ElasticDeformation(WarpTransform):
    """Smoothly bend the image, as soft tissue deforms or a lens/mount wobbles locally.

    Model: free-form deformation with cubic B-splines (Rueckert et al., IEEE TMI 1999):
    ``n_control`` points per axis get random displacement vectors; the dense field is
    their separable B-spline interpolation, scaled so that its largest displacement is
    exactly ``max_displacement_*`` (drawn per call; never exceeded). 2-D images
    and 3-D volumes (all three axes move). Images are resampled once (order 1 default),
    masks and valid with nearest neighbour; uncovered pixels get meta ``nodata`` (and
    valid False) or ``fill``, masks ``mask_fill``. Keypoints move to where their pixel
    went (fixed-point inversion of the field; points whose pixel leaves the image are
    dropped); a box becomes the hull of its moved boundary (16 points per side),
    clipped. Meta is unchanged (the grid itself does not change).

    Parameters
    ----------
    max_displacement_px : float or (low, high) or None
        Largest displacement in pixels. Default (2, 8) when no mm value is given.
    max_displacement_mm : float or (low, high) or None
        Largest displacement in physical units of meta ``spacing`` (default spacing 1).
    n_control : int
        Control points per axis (>= 4, 4–8 typical; more = more local bends).
    order : int
        Spline order for images: 0, 1 (default) or 3.
    fill : float
        Image value for uncovered pixels when meta declares no ``nodata``.
    mask_fill : int
        Label for uncovered mask pixels (default 0).
    p : float
        Probability of applying.

    Targets: image, mask, valid, field, bboxes, keypoints (2-D), meta.
    """

    def __init__(self, max_displacement_px: Any = None, max_displacement_mm: Any = None, n_control: int = 6,
                 order: int = 1, fill: float = 0.0, mask_fill: int = 0, p: float = 1.0) -> None:
        super().__init__(p=p)
        if max_displacement_px is not None and max_displacement_mm is not None:
            raise ParameterError(
                "give max_displacement_px or max_displacement_mm, not both "
                f"(got {max_displacement_px!r} and {max_displacement_mm!r})"
            )
        self.unit = "mm" if max_displacement_mm is not None else "px"
        value = max_displacement_mm if self.unit == "mm" else (
            (2.0, 8.0) if max_displacement_px is None else max_displacement_px)
        self.max_displacement = check_range(value, f"max_displacement_{self.unit}", low=0)
        self.n_control = check_number(n_control, "n_control", low=4, high=64, integer=True)
        self.order = check_choice(order, "order", (0, 1, 3))
        self.fill = float(check_number(fill, "fill"))
        self.mask_fill = int(check_number(mask_fill, "mask_fill", integer=True))

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        lay = layout_of(sample, type(self).prefer_volume)
        magnitude = sample_uniform(rng, self.max_displacement)
        if self.unit == "mm":
            spacing = (sample.get("meta") or {}).get("spacing") or [1.0] * lay.spatial_ndim
            if len(spacing) != lay.spatial_ndim:
                raise UnsupportedInputError(
                    f"meta spacing {list(spacing)} does not match the {lay.spatial_ndim}-D grid"
                )
            per_axis = [magnitude / float(s) for s in spacing]
        else:
            per_axis = [magnitude] * lay.spatial_ndim
        return {"seed": draw_seed(rng), "max_disp_px": per_axis, "n_control": self.n_control,
                "order": self.order, "fill": self.fill, "mask_fill": self.mask_fill}

    @staticmethod
    def field(params: Mapping[str, Any], shape) -> np.ndarray:
        """The dense displacement field (array-index units) the params describe."""
        if len(params["max_disp_px"]) != len(shape):
            raise UnsupportedInputError(
                f"ElasticDeformation params are for a {len(params['max_disp_px'])}-D grid, "
                f"the image is {len(shape)}-D"
            )
        return elastic.control_grid_field(shape, seed=int(params["seed"]), n_control=int(params["n_control"]),
                                          max_disp_px_per_axis=params["max_disp_px"])

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        for name in ("bboxes", "keypoints"):
            if name in sample:
                require_plane(ctx, name)
        points = any(name != "applied" and kind_of(name) in ("bboxes", "keypoints") for name in sample)
        ctx.field = self.field(params, ctx.layout.spatial_shape)
        if not ctx.field.any():  # zero displacement: exact identity
            ctx.unchanged = True
            return ctx
        ctx.sampler = elastic.sampler(ctx.field, inplace=not points)  # boxes/points still need the field
        ctx.order, ctx.fill = int(params.get("order", 1)), float(params.get("fill", 0.0))
        ctx.mask_fill, ctx.antialias = int(params.get("mask_fill", 0)), False
        return ctx

    def apply_to_keypoints(self, keypoints: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return self._keypoints(keypoints, ctx.field, ctx.layout.spatial_shape)

    def apply_to_bboxes(self, bboxes: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return self._bboxes(bboxes, ctx.field, ctx.layout.spatial_shape)

    def apply_to_meta(self, meta: Mapping[str, Any], params: Mapping[str, Any], ctx: Context) -> dict:
        return dict(meta)

    @staticmethod
    def _move_xy(xy: np.ndarray, field: np.ndarray) -> np.ndarray:
        """Input (x, y) edge coordinates → output (x, y) through the inverted field."""
        idx = xy[:, ::-1] - 0.5
        return elastic.invert_points(idx, field)[:, ::-1] + 0.5

    def _keypoints(self, keypoints: np.ndarray, field: np.ndarray, shape) -> np.ndarray:
        if keypoints.size == 0:
            return keypoints.copy()
        k = keypoints.astype(np.float64, copy=True)
        h, w = shape
        inside_before = (k[:, 0] >= 0) & (k[:, 0] < w) & (k[:, 1] >= 0) & (k[:, 1] < h)
        k[:, :2] = self._move_xy(k[:, :2], field)
        inside = inside_before & (k[:, 0] >= 0) & (k[:, 0] < w) & (k[:, 1] >= 0) & (k[:, 1] < h)
        return k[inside]

    def _bboxes(self, bboxes: np.ndarray, field: np.ndarray, shape) -> np.ndarray:
        if bboxes.size == 0:
            return bboxes.copy()
        b = bboxes.astype(np.float64, copy=True)
        t = np.linspace(0.0, 1.0, _BOX_SAMPLES)
        x0, y0, x1, y1 = (b[:, i : i + 1] for i in range(4))
        xs = np.concatenate([x0 + (x1 - x0) * t, x0 + (x1 - x0) * t, np.repeat(x0, len(t), 1),
                             np.repeat(x1, len(t), 1)], axis=1)
        ys = np.concatenate([np.repeat(y0, len(t), 1), np.repeat(y1, len(t), 1), y0 + (y1 - y0) * t,
                             y0 + (y1 - y0) * t], axis=1)
        moved = self._move_xy(np.stack([xs.ravel(), ys.ravel()], 1), field).reshape(len(b), -1, 2)
        h, w = shape
        b[:, 0] = np.clip(moved[:, :, 0].min(1), 0, w)
        b[:, 1] = np.clip(moved[:, :, 1].min(1), 0, h)
        b[:, 2] = np.clip(moved[:, :, 0].max(1), 0, w)
        b[:, 3] = np.clip(moved[:, :, 1].max(1), 0, h)
        keep = ((b[:, 2] - b[:, 0]) >= 1.0) & ((b[:, 3] - b[:, 1]) >= 1.0)
        out = b[keep]
        return out.astype(bboxes.dtype) if np.issubdtype(bboxes.dtype, np.floating) else out
