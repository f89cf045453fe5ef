"""core.CoarseDropout: occlude random rectangular (or cuboid) regions."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..errors import ParameterError
from ..params import check_number, check_range, sample_int, sample_uniform
from ..targets import layout_of
from ..transform import Context, PixelTransform


class CoarseDropout(PixelTransform):
    """Cut out random axis-aligned holes and fill them with a constant (occlusion/cutout).

    Model: Cutout (DeVries & Taylor, arXiv:1708.04552, 2017): rectangular occluders of
    random position and size; in volumes, cuboids through all spatial axes.

    Parameters
    ----------
    num_holes : int or (low, high)
        Number of holes (at most 10 000). Default (1, 8).
    hole_size_fraction : float or (low, high)
        Side of each hole as a fraction of the image side, drawn per hole and per axis.
        Default (0.05, 0.15). Ignored when ``hole_size_px`` is given.
    hole_size_px : int or (low, high), optional
        Side of each hole in pixels, drawn per hole and per axis.
    fill : float or "mean"
        Value written into holes, in the image's units (0 = black), or ``"mean"``: the
        mean of the valid pixels per band. Default 0.
    mask_fill : int, optional
        If given, holes are also written into every mask target with this label (e.g.
        an ignore index such as 255). Default None: masks are unchanged (the object is
        still there, only hidden), so no new labels appear.
    p : float
        Probability of applying.

    Holes never change nodata pixels (``valid`` False) and a filled pixel never takes
    the nodata value (it is nudged one step away). Targets: image (any bands,
    volumes), masks when ``mask_fill`` is set; other targets pass through. The drawn
    holes are recorded as ``[[start, stop] per axis]`` in pixels.
    """

    def __init__(
        self,
        num_holes=(1, 8),
        hole_size_fraction=(0.05, 0.15),
        hole_size_px=None,
        fill: float | str = 0.0,
        mask_fill: int | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.num_holes = check_range(num_holes, "num_holes", low=0, high=10000, integer=True)
        self.hole_size_fraction = check_range(hole_size_fraction, "hole_size_fraction", low=0, high=1,
                                              low_inclusive=False)
        self.hole_size_px = None if hole_size_px is None else check_range(
            hole_size_px, "hole_size_px", low=1, integer=True)
        if fill != "mean":
            if isinstance(fill, str):
                raise ParameterError(f"fill must be a number or 'mean', got {fill!r}")
            check_number(fill, "fill")
        self.fill = fill
        self.mask_fill = None if mask_fill is None else check_number(mask_fill, "mask_fill", integer=True)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        shape = layout_of(sample).spatial_shape
        holes = []
        for _ in range(sample_int(rng, self.num_holes)):
            hole = []
            for n in shape:
                if self.hole_size_px is not None:
                    size = sample_int(rng, self.hole_size_px)
                else:
                    size = int(round(sample_uniform(rng, self.hole_size_fraction) * n))
                size = min(max(size, 1), n)
                start = int(rng.integers(0, n - size + 1))
                hole.append([start, start + size])
            holes.append(hole)
        return {"holes": holes, "fill": self.fill, "mask_fill": self.mask_fill}

    @staticmethod
    def hole_mask(shape: tuple[int, ...], holes) -> np.ndarray:
        """Boolean spatial mask, True inside any hole."""
        mask = np.zeros(shape, dtype=bool)
        for hole in holes:
            mask[tuple(slice(a, b) for a, b in hole)] = True
        return mask

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        out = image.copy()
        holes = params["holes"]
        if not holes:
            return out
        fill = params.get("fill", 0.0)
        if fill == "mean":
            valid, lay = ctx.valid, ctx.layout
            values = image[valid] if valid is not None else image.reshape((-1, lay.n_channels) if lay.has_channels else -1)
            fill = np.mean(values, axis=0, dtype=np.float64) if values.size else 0.0
        if np.issubdtype(image.dtype, np.integer):
            info = np.iinfo(image.dtype)
            fill = np.clip(np.rint(fill), info.min, info.max)
        fill = np.asarray(fill).astype(image.dtype)
        for hole in holes:
            out[tuple(slice(a, b) for a, b in hole)] = fill
        return out

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        ctx.mask_region = None  # label maps keep their labels unless mask_fill is given
        if params.get("mask_fill") is not None and params["holes"]:
            region = self.hole_mask(ctx.layout.spatial_shape, params["holes"])
            if ctx.valid is not None:
                region &= ctx.valid  # nodata stays nodata in every target
            ctx.mask_region = region
        return ctx

    def apply_to_mask(self, mask: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        if ctx.mask_region is None:
            return mask
        new = mask.copy()
        new[ctx.mask_region] = params["mask_fill"]
        return new
