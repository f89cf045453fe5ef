"""core.MotionBlur: camera or object motion during the exposure (linear motion PSF)."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..errors import ParameterError, UnsupportedInputError
from ..ops import psf
from ..params import check_range, sample_uniform
from ..targets import layout_of, valid_of
from ..transform import Context, PixelTransform


class MotionBlur(PixelTransform):
    """Smear by uniform linear motion during the exposure.

    Model: the image integrated over a straight path of constant speed, i.e. convolution
    with a normalised line PSF of the travelled length (Gonzalez & Woods, §5.6); the line
    is anti-aliased (bilinear splatting) so sub-pixel lengths and any angle are exact.

    Parameters
    ----------
    length_px : float or (low, high)
        Distance travelled during the exposure, in pixels (at most 1024). Default (5, 15).
    angle_deg : float or (low, high)
        Direction of motion, degrees counter-clockwise from the +x axis as seen on
        screen (0 = horizontal, 90 = vertical). Default (0, 180) (a line PSF is symmetric).
    antialias : bool
        Anti-aliased line PSF (default True: two taps per pixel step, exact sub-pixel
        position). False puts each step on the nearest pixel (one tap per step, as
        OpenCV-drawn kernels; about half the cost, the line's direction quantised).
    p : float
        Probability of applying.

    Nodata pixels are excluded by normalised convolution (no fill value bleeds in).

    Targets: 2-D images with any number of bands; volumes are refused (exposure motion
    is a 2-D camera effect). Every other target passes through.
    """

    def __init__(self, length_px=(5.0, 15.0), angle_deg=(0.0, 180.0), antialias: bool = True,
                 p: float = 1.0) -> None:
        super().__init__(p=p)
        self.length_px = check_range(length_px, "length_px", low=0, high=1024)
        self.angle_deg = check_range(angle_deg, "angle_deg", low=-360, high=360)
        if not isinstance(antialias, bool):
            raise ParameterError(f"antialias must be True or False, got {antialias!r}")
        self.antialias = antialias

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        if layout_of(sample).is_volume:
            raise UnsupportedInputError("MotionBlur models a 2-D camera exposure; it does not apply to volumes")

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        params = {"length_px": sample_uniform(rng, self.length_px), "angle_deg": sample_uniform(rng, self.angle_deg)}
        if not self.antialias:
            params["antialias"] = False
        return params

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        kernel = psf.line_kernel(params["length_px"], params["angle_deg"], bool(params.get("antialias", True)))
        if kernel.size == 1:
            return image.copy()
        return psf.masked_filter(image, valid_of(ctx), lambda a: psf.convolve(a, kernel, spatial_ndim=2, integer_out=True))
