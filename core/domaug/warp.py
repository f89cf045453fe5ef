"""WarpTransform: a spatial transform whose every target follows one resampling map."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .errors import UnsupportedInputError
from .ops import geometry, resample
from .targets import NEAREST_FIELDS
from .transform import Context, SpatialTransform


class WarpTransform(SpatialTransform):
    """Moves every target through one map built once per call in :meth:`prepare`.

    A subclass's ``prepare`` calls ``super().prepare`` and sets ``ctx.sampler`` (a
    :class:`~domaug.kit.AffineSampler` or the coordinate sampler of a dense field); it may
    also set ``ctx.order`` (image spline order, default 1), ``ctx.fill`` (image value for
    uncovered pixels when meta declares no nodata, default 0), ``ctx.mask_fill`` (label
    for uncovered mask pixels, default 0), ``ctx.antialias`` (Gaussian/area prefilter when
    shrinking, default True) and ``ctx.min_box`` (boxes thinner than this in output pixels
    are dropped, default 1). Images keep their dtype and nodata; masks are resampled by
    nearest neighbour; fields linearly (at least), those declared ``nearest`` (depth) by nearest neighbour; boxes become the hull of their mapped
    corners; meta geometry (geotransform, spacing, affine) is composed with the map.
    """

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        ctx.order, ctx.fill, ctx.mask_fill, ctx.antialias, ctx.min_box = 1, 0.0, 0, True, 1.0
        return ctx

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return resample.warp_image(image, ctx.sampler, spatial_ndim=ctx.layout.spatial_ndim, order=ctx.order,
                                   meta=ctx.meta, valid=ctx.valid, fill=ctx.fill, antialias=ctx.antialias)

    def apply_to_mask(self, mask: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return resample.warp_mask(mask, ctx.sampler, fill_label=ctx.mask_fill)

    def apply_to_valid(self, valid: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return resample.warp_valid(valid, ctx.sampler)

    def apply_to_field(self, field: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        if ctx.__dict__.get("target") in NEAREST_FIELDS:  # a measurement with holes (depth): nearest sample
            return resample.warp_field(field, ctx.sampler, spatial_ndim=ctx.layout.spatial_ndim, order=0,
                                       antialias=False)
        return resample.warp_field(field, ctx.sampler, spatial_ndim=ctx.layout.spatial_ndim,
                                   order=max(ctx.order, 1), antialias=ctx.antialias)

    def apply_to_bboxes(self, bboxes: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        require_plane(ctx, "bboxes")
        return geometry.transform_bboxes(bboxes, ctx.sampler.out_to_in, ctx.sampler.out_shape,
                                         min_size=ctx.min_box)

    def apply_to_keypoints(self, keypoints: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        require_plane(ctx, "keypoints")
        return geometry.transform_keypoints(keypoints, ctx.sampler.out_to_in, ctx.sampler.out_shape)

    def apply_to_meta(self, meta: Mapping[str, Any], params: Mapping[str, Any], ctx: Context) -> dict:
        return geometry.update_meta(meta, ctx.sampler.out_to_in, ctx.layout.spatial_ndim)


def require_plane(ctx: Context, name: str) -> None:
    """Boxes and keypoints are 2-D (x, y): refuse them beside a volume."""
    if ctx.layout.is_volume:
        raise UnsupportedInputError(f"{name} are 2-D (x, y); they cannot accompany a volume")
