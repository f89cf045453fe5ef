"""driving.MotionBlur: blur from the car's own motion during the exposure (zoom from the FOE, or pan)."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, ParameterError, check_range, cv2_module, sample_uniform

from . import radiometry
from .base import DrivingTransform
from .depth import SKY_DEPTH_M, camera_of, check_camera_args
from .layout import EGO
from .scene import coarse_scene, upsample, upsample_mask
from .scratch import buffer

MODES = ("radial", "lateral")
#: Passes of the radial blur sample the nearest pixel where every shift is at least this (px).
NEAREST_MIN_SHIFT_PX = 4.0


def radial_blur(linear: np.ndarray, zoom: np.ndarray, foe: tuple[float, float]) -> np.ndarray:
    """Average each pixel over the segment toward the focus of expansion.

    ``zoom`` (H×W) is the fractional outward motion a = v·T/Z of each pixel during the
    exposure: the pixel at p integrated light from scene points between foe + (p−foe)(1−a)
    and p. Computed by recursive doubling (I ← ½(I + I sampled at p + D/2ᵏ), bilinear),
    which averages 2ᴷ evenly spaced samples with K passes instead of 2ᴷ; pass k only
    touches the rows where a shift may reach half a pixel (bound: the row's largest zoom
    × its farthest column). With OpenCV
    every pass is one ``cv2.remap`` (SIMD bilinear); else ``scipy.ndimage.map_coordinates``.
    ``linear`` (H×W×3 float32) may be overwritten; returns the blurred image.
    """
    h, w = linear.shape[:2]
    if not (h and w):
        return linear
    zoom = np.asarray(zoom, dtype=np.float32)
    row_max, row_min = _row_shift_bounds(zoom, foe)
    moving = np.flatnonzero(row_max >= 1.0)
    passes = int(np.clip(math.ceil(math.log2(max(float(row_max.max()), 1.0))), 0, 6)) if len(moving) else 0
    if not passes:
        return linear
    shift = _Shift(zoom, foe, int(moving[0]), int(moving[-1]) + 1, row_min)
    out = np.ascontiguousarray(linear, dtype=np.float32)
    for k in range(1, passes + 1):
        frac = np.float32(0.5**k)
        rows = np.flatnonzero(row_max * frac >= 0.5)
        if not len(rows):
            break
        shift.average_pass(out, int(rows[0]), int(rows[-1]) + 1, frac)  # rows within the moving ones: frac ≤ ½
    return out


def _row_shift_bounds(zoom: np.ndarray, foe: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the largest shift |D| = a·|p − foe| (max zoom × farthest column) and the
    smallest (min zoom × vertical offset): rows below one pixel never move, so the shift
    field is only built for the rows that do."""
    h, w = zoom.shape
    far_col = max(abs(0.5 - foe[1]), abs(w - 0.5 - foe[1]))
    ry = np.arange(h, dtype=np.float64) + 0.5 - foe[0]
    row_max = zoom.max(axis=1).astype(np.float64) * np.sqrt(ry * ry + far_col * far_col)
    row_min = zoom.min(axis=1).astype(np.float64) * np.abs(ry)  # every pixel of the row moves at least this
    return row_max, row_min


class _Shift:
    """The shift field D = −a·(p − foe) of the moving rows m0..m1, and one averaging pass
    along it (scratch buffers of H rows: one size for every call, no page faults)."""

    def __init__(self, zoom: np.ndarray, foe: tuple[float, float], m0: int, m1: int, row_min: np.ndarray) -> None:
        h, w = zoom.shape
        self.yy = np.arange(h, dtype=np.float32)[:, None]
        self.xx = np.arange(w, dtype=np.float32)[None, :]
        n = m1 - m0
        self.dy = np.multiply(zoom[m0:m1], -(self.yy[m0:m1] + np.float32(0.5 - foe[0])), out=buffer("mb_dy", (h, w))[:n])
        self.dx = np.multiply(zoom[m0:m1], -(self.xx + np.float32(0.5 - foe[1])), out=buffer("mb_dx", (h, w))[:n])
        self.m0, self.row_min, self.shape = m0, row_min, (h, w)
        self.cv2 = cv2_module()

    def average_pass(self, out: np.ndarray, r0: int, r1: int, frac: np.float32) -> None:
        """In place on rows r0..r1 of ``out``: I ← ½(I + I sampled at p + frac·D)."""
        h, w = self.shape
        m0 = self.m0
        map_x = np.multiply(self.dx[r0 - m0 : r1 - m0], frac, out=buffer("mb_map_x", (h, w))[: r1 - r0])
        map_x += self.xx
        map_y = np.multiply(self.dy[r0 - m0 : r1 - m0], frac, out=buffer("mb_map_y", (h, w))[: r1 - r0])
        map_y += self.yy[r0:r1]
        # rows where every pixel moves ≥ NEAREST_MIN_SHIFT_PX in this pass (the near road, at
        # the bottom) take the nearest sample (3× faster; ≤ ½ px off a ≥ 4 px step), the rest bilinear
        near = self.row_min[r0:r1] * frac >= NEAREST_MIN_SHIFT_PX
        split = r1 - r0 - (int(np.argmin(near[::-1])) if not near.all() else r1 - r0)
        moved = buffer("mb_moved", (h, w, 3))[: r1 - r0]
        for a, b, order in ((0, split, 1), (split, r1 - r0, 0)):
            if a < b:
                self._sample(out, map_x[a:b], map_y[a:b], order, moved[a:b])
        band = out[r0:r1]
        if self.cv2 is not None:  # ½·I + ½·moved: exactly (I + moved)·½ (halving is exact), one pass
            self.cv2.addWeighted(band, 0.5, moved, 0.5, 0.0, dst=band)
        else:
            band += moved
            band *= np.float32(0.5)

    def _sample(self, image: np.ndarray, map_x: np.ndarray, map_y: np.ndarray, order: int, dst: np.ndarray) -> None:
        """``dst`` ← ``image`` at (map_y, map_x): bilinear (order 1) or nearest (0), edges replicated."""
        cv2 = self.cv2
        if cv2 is not None:
            cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR if order else cv2.INTER_NEAREST, dst=dst,
                      borderMode=cv2.BORDER_REPLICATE)
            return
        from scipy.ndimage import map_coordinates

        for c in range(3):
            dst[:, :, c] = map_coordinates(image[..., c], [map_y, map_x], order=order, mode="nearest")


class MotionBlur(DrivingTransform):
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

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        h, w = sample["image"].shape[:2]
        mode = self.modes[int(rng.integers(len(self.modes)))] if len(self.modes) > 1 else self.modes[0]
        return {
            "mode": mode,
            "speed_kmh": sample_uniform(rng, self.speed_kmh),
            "exposure_ms": sample_uniform(rng, self.exposure_ms),
            "yaw_rate_deg_s": sample_uniform(rng, self.yaw_rate_deg_s),
            "camera": camera_of(sample, self.camera_args),
        }

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        frame, meta = ctx.scene["image"], ctx.meta
        lin = radiometry.decode_work(frame, meta, "linear")
        if params["mode"] == "lateral":
            lin = _lateral_blur(lin, params)
        else:
            lin = _radial_ego_blur(lin, params, ctx.scene)
        return radiometry.encode(np.ascontiguousarray(lin), image, meta)


def _lateral_blur(lin: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    """The horizontal smear f·ω·T of a yawing camera: a box of that length along rows."""
    t = float(params["exposure_ms"]) * 1e-3
    length = abs(params["camera"]["focal_length_px"] * math.radians(float(params["yaw_rate_deg_s"])) * t)
    size = int(round(length))
    cv2 = cv2_module()
    if size >= 2 and cv2 is not None:  # same window and edges as uniform_filter1d
        lin = cv2.blur(lin, (size, 1), borderType=cv2.BORDER_REPLICATE)
    elif size >= 2:
        from scipy.ndimage import uniform_filter1d

        lin = uniform_filter1d(lin, size=size, axis=1, mode="nearest")
    return lin


def _radial_ego_blur(lin: np.ndarray, params: Mapping[str, Any], scene: Mapping[str, Any]) -> np.ndarray:
    """The zoom blur of a camera driving forward: each pixel smeared toward the focus of
    expansion by a = v·T/Z (distance from the scene's depth or the flat-road prior)."""
    h, w = lin.shape[:2]
    cam = params["camera"]
    travel = float(params["speed_kmh"]) / 3.6 * (float(params["exposure_ms"]) * 1e-3)  # metres driven
    if travel <= 0:
        return lin
    coarse = coarse_scene(scene, cam, grid_px=128)  # zoom is smooth: computed on a coarse grid, upsampled
    dist = coarse["dist"]
    zoom = np.float32(travel) / np.maximum(dist, np.float32(travel * 4 + 0.5))  # a ≤ 0.25 (near road)
    zoom[dist >= SKY_DEPTH_M] = 0.0
    ego = coarse["labels"] == EGO  # the hood / dashboard moves with the camera: it stays sharp
    zoom[ego if ego.shape == zoom.shape else upsample_mask(ego, zoom.shape)] = 0.0
    if not coarse["full"]:
        zoom = upsample(zoom, (h, w), out=buffer("mb_zoom", (h, w)))
    return radial_blur(lin, zoom, (cam["horizon_row"], w / 2.0))
