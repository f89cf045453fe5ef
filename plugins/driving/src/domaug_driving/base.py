"""The base of every driving transform: RGB camera frames only, nodata kept out of the physics."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.dtypes import finish
from domaug.targets import valid_of
from domaug.transform import PixelTransform

from . import radiometry
from .depth import camera_from
from .radiometry import check_rgb_2d


def fill_invalid(sample: Mapping[str, Any]) -> Mapping[str, Any]:
    """The sample with nodata (and non-finite) pixels replaced by the mean colour of the rest.

    Scene statistics (sky, airlight, drop radiance) and blurs then never see a nodata
    value or a NaN; the base class puts the original nodata pixels back afterwards.
    Returns ``sample`` itself when there is nothing to fill.
    """
    image = sample["image"]
    valid = valid_of(sample)
    bad = None if valid is None else ~valid
    if np.issubdtype(image.dtype, np.floating):
        nonfinite = ~np.isfinite(image).all(axis=-1)
        if nonfinite.any():
            bad = nonfinite if bad is None else (bad | nonfinite)
    if bad is None or not bad.any():
        return sample
    good = ~bad
    fill = image[good].mean(axis=0) if good.any() else np.zeros(image.shape[-1])
    filled = image.copy()
    filled[bad] = fill.astype(image.dtype) if np.issubdtype(image.dtype, np.floating) else np.rint(fill).astype(image.dtype)
    return {**sample, "image": filled}


class DrivingTransform(PixelTransform):
    """A pixel-level driving effect on a 2-D RGB frame (see :mod:`domaug_driving.radiometry`)."""

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        check_rgb_2d(sample, self.name_for_errors())

    #: Set by transforms that take focal_length_px / horizon_row / camera_height_m.
    camera_args: dict

    def camera(self, sample: Mapping[str, Any]) -> dict:
        """The camera (focal length, horizon row, height) of ``sample`` for ``make_params``."""
        image = sample["image"]
        return camera_from(image.shape[:2], sample.get("meta"), image=image, **self.camera_args)

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], sample: Mapping[str, Any]) -> np.ndarray:
        """Decode to linear light, :meth:`apply_to_linear`, encode back to the input's transfer."""
        meta = sample.get("meta")
        if type(self).apply_to_planes is not DrivingTransform.apply_to_planes:
            planes = self.apply_to_planes(radiometry.decode_planes(image, meta), params, sample)
            return radiometry.encode_planes(planes, image, meta)
        work = None
        if radiometry.encode_is_fresh(image, meta):  # encode returns a new array: the work may be reused
            from .scratch import buffer

            work = buffer("linear", image.shape)
        linear = self.apply_to_linear(radiometry.decode(image, meta, out=work), params, sample)
        return radiometry.encode(np.ascontiguousarray(linear), image, meta)

    def apply_to_planes(self, planes: list[np.ndarray], params: Mapping[str, Any],
                        sample: Mapping[str, Any]) -> list[np.ndarray]:
        """The effect on linear float32 radiance as three H×W planes (R, G, B; working
        copies that may be modified). Transforms that implement it skip the interleaved
        :meth:`apply_to_linear`: per-pixel fields then multiply each plane directly."""
        raise NotImplementedError

    def apply_to_linear(self, linear: np.ndarray, params: Mapping[str, Any], sample: Mapping[str, Any]) -> np.ndarray:
        """The effect on linear float32 radiance (H×W×3, a working copy that may be modified)."""
        raise NotImplementedError(f"{type(self).__name__} implements apply_to_image or apply_to_linear")

    def render(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> tuple[np.ndarray, dict]:
        """The effect on a nodata-free sample: (image result, extra targets to add)."""
        return self.apply_to_image(sample["image"], params, sample), {}

    def apply(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> dict:
        work = fill_invalid(sample)
        result, extra = self.render(work, params)
        if result is sample["image"]:
            result = result.copy()
        out = dict(sample)
        out["image"] = finish(result, sample, valid_of(sample))
        out.update(extra)
        return out
