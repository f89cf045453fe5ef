"""core.Flip: mirror the image and every spatial target."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import ParameterError, UnsupportedInputError
from ..ops import geometry, opencv
from ..transform import Context, SpatialTransform

AXES = ("horizontal", "vertical", "depth")


class Flip(SpatialTransform):
    """Mirror along one axis: left–right (``horizontal``), up–down (``vertical``) or slices (``depth``).

    A pure re-indexing: no interpolation, so values and labels are kept exactly. Boxes
    and keypoints are mirrored; a GDAL geotransform or voxel affine in meta is updated so
    that every pixel keeps its position on the ground or in the patient.

    Parameters
    ----------
    axis : str or list of str
        ``"horizontal"``, ``"vertical"``, ``"depth"`` (volumes), or a list to draw one from.
    p : float
        Probability of applying.
    """

    def __init__(self, axis: str | Sequence[str] = "horizontal", p: float = 1.0) -> None:
        super().__init__(p=p)
        choices = [axis] if isinstance(axis, str) else list(axis)
        if not choices or any(a not in AXES for a in choices):
            raise ParameterError(f"axis must be one of {AXES} or a list of them, got {axis!r}")
        self.axes = choices

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        axis = self.axes[0] if len(self.axes) == 1 else self.axes[int(rng.integers(len(self.axes)))]
        return {"axis": axis}

    @staticmethod
    def _array_axis(axis: str, spatial_ndim: int) -> int:
        return geometry.array_axis(axis, spatial_ndim, "Flip(axis='depth')")

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        ctx.axis = self._array_axis(params["axis"], ctx.layout.spatial_ndim)
        return ctx

    def _flip(self, array: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return opencv.flip(array, ctx.axis)

    apply_to_image = apply_to_mask = apply_to_field = apply_to_valid = _flip

    @staticmethod
    def _matrix(ctx: Context) -> np.ndarray:
        return geometry.flip_matrix(ctx.layout.spatial_shape, [ctx.axis])

    def apply_to_bboxes(self, bboxes: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        if ctx.layout.is_volume:
            raise UnsupportedInputError("bboxes are 2-D; they cannot accompany a volume")
        return geometry.transform_bboxes(bboxes, self._matrix(ctx), ctx.layout.spatial_shape)

    def apply_to_keypoints(self, keypoints: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        if ctx.layout.is_volume:
            raise UnsupportedInputError("keypoints are 2-D (x, y); they cannot accompany a volume")
        return geometry.transform_keypoints(keypoints, self._matrix(ctx), ctx.layout.spatial_shape)

    def apply_to_meta(self, meta: Mapping[str, Any], params: Mapping[str, Any], ctx: Context) -> dict:
        return geometry.update_meta(meta, self._matrix(ctx), ctx.layout.spatial_ndim)
