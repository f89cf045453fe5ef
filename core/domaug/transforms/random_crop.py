"""core.RandomCrop: cut a random window out of the image and every spatial target."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..errors import UnsupportedInputError
from ..ops import geometry
from ..params import check_range, check_size_px, sample_uniform
from ..targets import layout_of
from ..transform import Context, SpatialTransform
from ..warp import require_plane


#: no sensor has more pixels along an axis: larger values are refused when the pipeline is built


class RandomCrop(SpatialTransform):
    """Cut a random window, as a smaller sensor or a tile of a larger scene would see it.

    Model: a pure translation of the grid (no resampling, values exact). The GDAL
    geotransform origin and the voxel affine move to the window's corner (pixel size
    unchanged), so every kept pixel keeps its place in the world. Boxes are clipped to
    the window and dropped when less than 1 px remains; keypoints outside are dropped.

    Parameters
    ----------
    height, width : int or None
        Window size in pixels (give both, or neither to use ``size_frac``).
    depth : int or None
        Window depth in slices for volumes (default: all slices with ``height``/``width``).
    size_frac : float or (low, high) or None
        Window size as a fraction of every spatial axis (volumes: slices too), drawn once
        per call. Default 0.75 when no pixel size is given.
    p : float
        Probability of applying.

    Targets: image, mask, valid, field, bboxes, keypoints, meta. A pixel window larger
    than the image is refused with a clear error.
    """

    def __init__(self, height: int | None = None, width: int | None = None, depth: int | None = None,
                 size_frac: Any = None, p: float = 1.0) -> None:
        super().__init__(p=p)
        self.size_px = check_size_px(height, width, depth, "size_frac", size_frac)
        self.size_frac = check_range(0.75 if size_frac is None else size_frac, "size_frac",
                                     low=0, low_inclusive=False, high=1)

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        if self.size_px is None:
            return
        shape = layout_of(sample, type(self).prefer_volume).spatial_shape
        wanted = self.size_px[3 - len(shape):]
        for axis_name, want, have in zip(("depth", "height", "width")[3 - len(shape):], wanted, shape):
            if want is not None and want > have:
                raise UnsupportedInputError(
                    f"RandomCrop {axis_name}={want} is larger than the image ({have} px along that axis)"
                )

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        shape = layout_of(sample, type(self).prefer_volume).spatial_shape
        if self.size_px is not None:
            wanted = self.size_px[3 - len(shape):]
            size = [have if want is None else min(int(want), have) for want, have in zip(wanted, shape)]
        else:
            frac = sample_uniform(rng, self.size_frac)
            size = [max(1, min(n, int(round(frac * n)))) for n in shape]
        start = [int(rng.integers(0, n - s + 1)) for n, s in zip(shape, size)]
        return {"start": start, "size": size}

    @staticmethod
    def matrix(params: Mapping[str, Any]) -> np.ndarray:
        """Out→in map of the crop: a translation by the window's start."""
        n = len(params["start"])
        m = np.eye(n + 1)
        m[:n, n] = params["start"]
        return m

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        start, size = params["start"], params["size"]
        if len(start) != ctx.layout.spatial_ndim:
            raise UnsupportedInputError(
                f"RandomCrop params are for a {len(start)}-D grid, the image is {ctx.layout.spatial_ndim}-D"
            )
        ctx.window = tuple(slice(s, s + n) for s, n in zip(start, size))
        ctx.matrix = self.matrix(params)
        return ctx

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return np.ascontiguousarray(image[ctx.window])

    apply_to_mask = apply_to_valid = apply_to_field = apply_to_image

    def apply_to_bboxes(self, bboxes: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        require_plane(ctx, "bboxes")
        return geometry.transform_bboxes(bboxes, ctx.matrix, params["size"])

    def apply_to_keypoints(self, keypoints: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        require_plane(ctx, "keypoints")
        return geometry.transform_keypoints(keypoints, ctx.matrix, params["size"])

    def apply_to_meta(self, meta: Mapping[str, Any], params: Mapping[str, Any], ctx: Context) -> dict:
        return geometry.update_meta(meta, ctx.matrix, ctx.layout.spatial_ndim)
