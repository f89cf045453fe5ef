"""core.Resize: change the pixel grid while the image keeps covering the same area."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..errors import ParameterError, UnsupportedInputError
from ..ops import resample
from ..params import MAX_AXIS_PX, check_choice, check_range, check_size_px, sample_uniform
from ..targets import layout_of
from ..transform import Context
from ..warp import WarpTransform


#: bounds against giant allocations from a parameter (or a crafted manifest in replay)
MAX_OUTPUT_PIXELS = 1 << 30


def _check_output_size(size) -> None:
    total = 1
    for n in size:
        if not isinstance(n, (int, np.integer)) or not 1 <= int(n) <= MAX_AXIS_PX:
            raise UnsupportedInputError(f"Resize: output size {list(size)} has an axis outside 1..{MAX_AXIS_PX} px")
        total *= int(n)
    if total > MAX_OUTPUT_PIXELS:
        raise UnsupportedInputError(f"Resize: output of {total} pixels ({list(size)}) exceeds the limit of "
                                    f"{MAX_OUTPUT_PIXELS} pixels")


class Resize(WarpTransform):
    """Resample to a coarser or finer grid over the same footprint (a different GSD or voxel size).

    Model: edge-aligned resampling (the image bounds stay put). Shrinking integrates
    each new pixel's exact footprint (the boxcar detector response of a sensor with
    bigger pixels, MTF ``sinc(π f p)``; Schowengerdt 2007 §3.4; OpenCV's ``INTER_AREA``);
    growing interpolates with spline ``order``. Masks and
    valid use nearest neighbour; depth-like fields are interpolated linearly. Meta
    ``spacing`` becomes spacing × in/out per axis and the GDAL geotransform pixel size
    likewise (origin unchanged), so the ground/patient bounds do not move.

    Parameters
    ----------
    height, width : int or None
        Output size in pixels (give both), or use ``scale``.
    depth : int or None
        Output slices for volumes with ``height``/``width`` (default: unchanged).
    scale : float or (low, high) or None
        Factor applied to every spatial axis (volumes: slices too); default 0.5 when no
        pixel size is given. Output sizes are rounded, at least 1 pixel.
    order : int
        Spline order for images: 0, 1 (default) or 3.
    antialias : bool
        Integrate pixel areas when downsampling (default True); False samples the
        input at the new pixel centres (aliasing fine detail).
    p : float
        Probability of applying.

    Targets: image, mask, valid, field, bboxes, keypoints, meta.
    """

    def __init__(self, height: int | None = None, width: int | None = None, depth: int | None = None,
                 scale: Any = None, order: int = 1, antialias: bool = True, p: float = 1.0) -> None:
        super().__init__(p=p)
        self.size_px = check_size_px(height, width, depth, "scale", scale)
        self.scale = check_range(0.5 if scale is None else scale, "scale", low=0, low_inclusive=False, high=64)
        self.order = check_choice(order, "order", (0, 1, 3))
        if not isinstance(antialias, bool):
            raise ParameterError(f"antialias must be True or False, got {antialias!r}")
        self.antialias = antialias

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        shape = layout_of(sample, type(self).prefer_volume).spatial_shape
        if self.size_px is not None:
            wanted = self.size_px[3 - len(shape):]
            size = [have if want is None else int(want) for want, have in zip(wanted, shape)]
        else:
            factor = sample_uniform(rng, self.scale)
            size = [max(1, int(round(n * factor))) for n in shape]
        _check_output_size(size)
        return {"size": size, "order": self.order, "antialias": self.antialias}

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        shape, size = ctx.layout.spatial_shape, tuple(params["size"])
        if len(size) != len(shape):
            raise UnsupportedInputError(f"Resize params are for a {len(size)}-D grid, the image is {len(shape)}-D")
        _check_output_size(size)
        ctx.sampler = resample.AffineSampler.rescaling(shape, size)
        ctx.order, ctx.antialias = int(params.get("order", 1)), bool(params.get("antialias", True))
        ctx.min_box = min(1.0, min(o / i for o, i in zip(size[-2:], shape[-2:])))
        return ctx
