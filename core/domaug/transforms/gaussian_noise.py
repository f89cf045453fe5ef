"""core.GaussianNoise: additive white Gaussian sensor noise (read / thermal noise)."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..dtypes import full_scale, to_float
from ..errors import ParameterError
from ..ops.noise import white_normal
from ..params import check_range, draw_seed, sample_uniform
from ..targets import layout_of
from ..transform import Context, PixelTransform


class GaussianNoise(PixelTransform):
    """Add zero-mean white Gaussian noise of a given std (signal-independent read noise).

    Model: additive white Gaussian noise ``y = x + σ·full_scale·n``, ``n ~ N(0, 1)``
    i.i.d. per pixel (the read/thermal term of the EMVA 1288 sensor model). For
    signal-dependent (shot) or Rician MR noise use the domain plugins.

    Parameters
    ----------
    sigma : float or (low, high)
        Noise std as a fraction of full scale (``domaug.dtypes.full_scale``: 255 for
        uint8, 2^bit_depth − 1, 1.0 for floats). Default (0.01, 0.05).
    per_channel : bool
        True (default): independent noise per band (sensor read noise). False: one
        field shared by all bands (luminance-only grain).
    p : float
        Probability of applying.

    Targets: image (any bands, volumes). Integer outputs are rounded and clipped, which
    lowers the measured std slightly near black/white; for them the normal samples come
    from a 2¹⁶-level quantile table (``domaug.ops.noise``), float images get exact
    continuous normals (Box–Muller for float32, ziggurat for float64). Other targets
    pass through.
    """

    def __init__(self, sigma=(0.01, 0.05), per_channel: bool = True, p: float = 1.0) -> None:
        super().__init__(p=p)
        self.sigma = check_range(sigma, "sigma", low=0, high=1)
        if not isinstance(per_channel, bool):
            raise ParameterError(f"per_channel must be True or False, got {per_channel!r}")
        self.per_channel = per_channel

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        return {"sigma": sample_uniform(rng, self.sigma), "per_channel": self.per_channel, "seed": draw_seed(rng)}

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        meta = ctx.get("meta") or {}
        std = float(params["sigma"]) * full_scale(image.dtype, meta)
        if std == 0:
            return to_float(image)
        lay = layout_of(ctx)
        per_pixel = params.get("per_channel", True) or not lay.has_channels
        shape = image.shape if per_pixel else lay.spatial_shape
        work = np.float64 if image.dtype == np.float64 else np.float32
        exact = image.dtype.kind == "f"  # 8/16-bit outputs: fast quantile sampler
        noise = white_normal(int(params["seed"]), shape, work, exact=exact, scale=std)
        if per_pixel:
            fast = _add_saturate(image, noise)
            if fast is not None:
                return fast
            return np.add(noise, image, out=noise)  # float result, rounded by the base class
        return np.add(noise[..., None], image, dtype=work)


def _add_saturate(image: np.ndarray, noise: np.ndarray) -> np.ndarray | None:
    """``image + noise`` rounded half-to-even and saturated to an 8/16-bit dtype, one pass (OpenCV).

    Exactly what rounding and clipping the float32 sum gives (the noise is finite); None
    when OpenCV or the dtype does not allow it.
    """
    from ..ops import opencv

    cv2 = opencv.cv2_module()
    if cv2 is None or image.dtype.kind not in "ui" or noise.dtype != np.float32:
        return None
    depth = opencv.depth_of(image.dtype)
    if depth is None or not image.flags.c_contiguous or image.ndim < 2 or image.size >= 2**31:
        return None
    flat = image.reshape(image.shape[0], -1)
    return cv2.add(flat, noise.reshape(flat.shape), dtype=depth).reshape(image.shape)
