"""driving.MotionBlur: blur from the car's own motion during the exposure (zoom from the FOE, or pan)."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.errors import ParameterError
from domaug.params import check_number, check_range, sample_uniform
from domaug.transform import PixelTransform

from . import radiometry
from .depth import check_camera_args, SKY_DEPTH_M, camera_from, depth_of_sample

MODES = ("radial", "lateral")


def radial_blur(linear: np.ndarray, zoom: np.ndarray, foe: tuple[float, float]) -> np.ndarray:
    """Average each pixel over the segment toward the focus of expansion.

    ``zoom`` (H×W) is the fractional outward motion a = v·T/Z of each pixel during the
    exposure: the pixel at p integrated light from scene points between foe + (p−foe)(1−a)
    and p. Computed by recursive doubling (I ← ½(I + I shifted by D/2ᵏ), nearest
    neighbour), which averages 2ᴷ evenly spaced samples with K passes instead of 2ᴷ;
    each pass touches only the pixels whose shift is at least half a pixel.
    """
    h, w = linear.shape[:2]
    yy = np.arange(h, dtype=np.float32)[:, None]
    xx = np.arange(w, dtype=np.float32)[None, :]
    dy = (-(yy + 0.5 - foe[0]) * zoom).ravel()
    dx = (-(xx + 0.5 - foe[1]) * zoom).ravel()
    mag = np.sqrt(dy * dy + dx * dx)
    longest = float(mag.max()) if mag.size else 0.0
    passes = int(np.clip(math.ceil(math.log2(max(longest, 1.0))), 0, 6))
    if not passes:
        return linear
    planes = np.ascontiguousarray(np.moveaxis(linear, -1, 0)).reshape(3, -1)  # planar: fast 1-D gathers
    for k in range(1, passes + 1):
        frac = np.float32(0.5**k)
        moving = np.flatnonzero(mag * frac >= 0.5).astype(np.int32)
        if not len(moving):
            break
        rows, cols = np.divmod(moving, np.int32(w))
        r = np.clip(rows + np.rint(dy[moving] * frac).astype(np.int32), 0, h - 1)
        c = np.clip(cols + np.rint(dx[moving] * frac).astype(np.int32), 0, w - 1)
        src = r * np.int32(w) + c
        for plane in planes:
            here = plane[moving]
            here += plane[src]
            here *= np.float32(0.5)
            plane[moving] = here
    return np.moveaxis(planes.reshape(3, h, w), 0, -1)


class MotionBlur(PixelTransform):
    """Ego-motion blur: the scene smears away from the focus of expansion as the car drives.

    A forward-moving camera smears each point outward by r·v·T/Z (the near road most, far
    scene and sky not at all); ``lateral`` is the horizontal smear f·ω·T of a turning
    (yawing) camera.

    Model: pinhole optical flow of a translating / rotating camera integrated over the
    exposure (Longuet-Higgins & Prazdny 1980); distance from the ``depth`` target or the
    flat-road prior.

    Parameters
    ----------
    speed_kmh : float or (low, high)
        Ego speed (km/h) for the radial blur.
    exposure_ms : float or (low, high)
        Exposure time (ms).
    mode : str or list of str
        ``"radial"`` (driving forward) or ``"lateral"`` (turning); a list to draw from.
    yaw_rate_deg_s : float or (low, high)
        Turning rate (deg/s) for the lateral blur (+ = turning right).
    focal_length_px, horizon_row, camera_height_m : float or None
        Camera (None: ``meta`` or 0.9·W, 0.58·H, 1.3 m; ``horizon_row="estimate"``: from
        the lane vanishing point); the focus of expansion is
        (horizon row, image centre).

    Targets: image (RGB; uint8/uint16 sRGB, float linear); others pass unchanged.
    """

    def __init__(
        self,
        speed_kmh: Any = (40.0, 130.0),
        exposure_ms: Any = (5.0, 30.0),
        mode: Any = "radial",
        yaw_rate_deg_s: Any = (-30.0, 30.0),
        focal_length_px: float | None = None,
        horizon_row: float | str | None = None,
        camera_height_m: float | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.speed_kmh = check_range(speed_kmh, "speed_kmh", low=0.0, high=400.0)
        self.exposure_ms = check_range(exposure_ms, "exposure_ms", low=0.0, high=1000.0)
        modes = [mode] if isinstance(mode, str) else list(mode)
        if not modes or any(m not in MODES for m in modes):
            raise ParameterError(f"mode must be one of {MODES} or a list of them, got {mode!r}")
        self.modes = modes
        self.yaw_rate_deg_s = check_range(yaw_rate_deg_s, "yaw_rate_deg_s", low=-360.0, high=360.0)
        self.camera_args = check_camera_args(focal_length_px, horizon_row, camera_height_m)

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        radiometry.check_rgb_2d(sample, self.name_for_errors())

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        h, w = sample["image"].shape[:2]
        mode = self.modes[int(rng.integers(len(self.modes)))] if len(self.modes) > 1 else self.modes[0]
        return {
            "mode": mode,
            "speed_kmh": sample_uniform(rng, self.speed_kmh),
            "exposure_ms": sample_uniform(rng, self.exposure_ms),
            "yaw_rate_deg_s": sample_uniform(rng, self.yaw_rate_deg_s),
            "camera": camera_from((h, w), sample.get("meta"), image=sample["image"], **self.camera_args),
        }

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], sample: Mapping[str, Any]) -> np.ndarray:
        meta = sample.get("meta")
        lin = radiometry.decode(image, meta)
        h, w = lin.shape[:2]
        cam = params["camera"]
        t = float(params["exposure_ms"]) * 1e-3
        if params["mode"] == "lateral":
            from scipy.ndimage import uniform_filter1d

            length = abs(cam["focal_length_px"] * math.radians(float(params["yaw_rate_deg_s"])) * t)
            size = int(round(length))
            if size >= 2:
                lin = uniform_filter1d(lin, size=size, axis=1, mode="nearest")
            return radiometry.encode(lin, image, meta)
        travel = float(params["speed_kmh"]) / 3.6 * t  # metres driven during the exposure
        if travel <= 0:
            return radiometry.encode(lin, image, meta)
        dist = depth_of_sample(sample, cam, None)
        zoom = np.float32(travel) / np.maximum(dist, np.float32(travel * 4 + 0.5))  # a ≤ 0.25 (near hood)
        zoom[dist >= SKY_DEPTH_M] = 0.0
        lin = radial_blur(lin, zoom, (cam["horizon_row"], w / 2.0))
        return radiometry.encode(np.ascontiguousarray(lin), image, meta)
