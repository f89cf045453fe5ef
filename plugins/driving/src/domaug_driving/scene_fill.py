"""The frame as the physics sees it: nodata and non-finite pixels filled, so that scene statistics
(sky, airlight, the horizon estimate) never depend on what nodata pixels hold."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, fill_invalid, valid_of


def scene_of(sample: Mapping[str, Any]) -> dict:
    """The call's sample as the physics sees it (a shallow copy): nodata and non-finite
    pixels replaced by the mean colour of the others.

    Scene statistics (sky, airlight, drop radiance) and blurs then never see a nodata
    value or a NaN; :meth:`PixelTransform.finish_image` puts the original nodata pixels
    back afterwards.
    """
    image = sample["image"]
    valid = sample.valid if isinstance(sample, Context) else valid_of(sample)
    if np.issubdtype(image.dtype, np.floating):
        finite = np.isfinite(image).all(axis=-1)
        if not finite.all():
            valid = finite if valid is None else (valid & finite)
    return {**sample, "image": fill_invalid(image, valid)}  # a copy, never the context itself: no reference cycle
