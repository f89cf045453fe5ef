"""The base of every driving transform: RGB camera frames only, nodata kept out of the physics."""

from __future__ import annotations

from typing import Any, Mapping

from domaug.kit import Context, PixelTransform

from .radiometry import check_rgb_2d
from .scene_fill import scene_of


class DrivingTransform(PixelTransform):
    """A pixel-level driving effect on a 2-D RGB frame (see :mod:`domaug_driving.radiometry`).

    :meth:`prepare` gives every call ``ctx.scene``, the sample with its nodata pixels
    filled (:func:`scene_of`). A subclass draws in ``make_params`` (the camera with
    :func:`domaug_driving.depth.camera_of`) and implements ``apply_to_image(image, params,
    ctx)``: decode ``ctx.scene["image"]`` to linear light (:func:`.radiometry.decode_planes`,
    :func:`.radiometry.decode_work`), apply the effect, encode back to ``image``'s encoding
    (:func:`.radiometry.encode_planes`, :func:`.radiometry.encode`). Targets it creates go
    into ``ctx.new_targets``; every other target passes unchanged.
    """

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        check_rgb_2d(sample, self.name_for_errors())

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        ctx.scene = scene_of(ctx)
        return ctx
