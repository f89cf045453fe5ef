"""driving.SunGlare: a low sun in (or near) the frame — glare halo, veiling glare, lens ghosts."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, ParameterError, check_number, check_range, sample_int, sample_uniform

from . import radiometry
from .base import DrivingTransform
from .depth import camera_of, check_camera_args
from .scratch import buffer

#: Ghost tints (anti-reflection coatings leave green, amber and violet reflections).
GHOST_TINTS = ((0.6, 1.0, 0.7), (1.0, 0.8, 0.5), (0.8, 0.6, 1.0), (0.7, 0.9, 1.0))


def sun_pixel(elevation_deg: float, azimuth_deg: float, camera: Mapping[str, float], width: int) -> tuple[float, float]:
    """Image (row, col) of the sun for a level camera: row = v_h − f·tan(el), col = c_x + f·tan(az)."""
    f = camera["focal_length_px"]
    row = camera["horizon_row"] - f * math.tan(math.radians(elevation_deg))
    col = width / 2.0 + f * math.tan(math.radians(azimuth_deg)) / math.cos(math.radians(elevation_deg))
    return row, col


class SunGlare(DrivingTransform):
    """Sun glare: a saturated sun, its scattered halo, a veil over the whole frame, and ghosts.

    Model: the glare spread of a lens and windshield falls off about as 1/θ² from the
    source (CIE 1999 glare spread function, Stiles–Holladay), plus a uniform veiling glare
    that lifts the blacks (contrast loss); reflective ghosts lie on the line through the
    source and the optical centre, mirrored across it (Wu et al., ICCV 2021). Added in
    linear light, then the sensor saturates.

    Parameters
    ----------
    sun_elevation_deg, sun_azimuth_deg : float or (low, high)
        Sun above the horizon and to the right of the heading (deg). The Udacity camera
        (vertical FOV ≈ 34°) sees the sun only below ≈ 17°.
    sun_position : (x, y) or None
        Sun position as fractions of width and height, overriding the angles.
    intensity : float or (low, high)
        Glare strength: halo peak (× full scale) at one disc radius from the sun.
    veil : float or (low, high)
        Uniform veiling glare added everywhere (fraction of full scale, linear).
    ghosts : int or (low, high)
        Number of ghost reflections.
    focal_length_px, horizon_row : float or None
        Camera (None: ``meta`` or 0.9·W, 0.58·H;
        ``horizon_row="estimate"``: from the lane vanishing point).

    Targets: image (RGB; uint8/uint16 sRGB, float linear); others pass unchanged.
    """

    def __init__(
        self,
        sun_elevation_deg: Any = (2.0, 15.0),
        sun_azimuth_deg: Any = (-25.0, 25.0),
        sun_position: Any = None,
        intensity: Any = (0.5, 1.5),
        veil: Any = (0.01, 0.06),
        ghosts: Any = (3, 8),
        focal_length_px: float | None = None,
        horizon_row: float | str | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.sun_elevation_deg = check_range(sun_elevation_deg, "sun_elevation_deg", low=-10.0, high=89.0)
        self.sun_azimuth_deg = check_range(sun_azimuth_deg, "sun_azimuth_deg", low=-89.0, high=89.0)
        if sun_position is not None:
            sun_position = [check_number(v, "sun_position", low=-1.0, high=2.0) for v in sun_position]
            if len(sun_position) != 2:
                raise ParameterError(f"sun_position must be (x, y) fractions, got {sun_position!r}")
        self.sun_position = sun_position
        self.intensity = check_range(intensity, "intensity", low=0.0, high=100.0)
        self.veil = check_range(veil, "veil", low=0.0, high=1.0)
        self.ghosts = check_range(ghosts, "ghosts", low=0, high=50, integer=True)
        self.camera_args = check_camera_args(focal_length_px, horizon_row, None)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        h, w = sample["image"].shape[:2]
        cam = camera_of(sample, self.camera_args)
        el = sample_uniform(rng, self.sun_elevation_deg)
        az = sample_uniform(rng, self.sun_azimuth_deg)
        if self.sun_position is not None:
            row, col = self.sun_position[1] * h, self.sun_position[0] * w
        else:
            row, col = sun_pixel(el, az, cam, w)
        ghosts = []
        for _ in range(sample_int(rng, self.ghosts)):
            ghosts.append({
                "t": float(rng.uniform(-1.6, 0.7)),  # position on the line: 1 = sun, 0 = centre, <0 mirrored
                "radius": float(rng.uniform(0.01, 0.08) * max(h, w)),
                "strength": float(rng.uniform(0.03, 0.12)),
                "tint": list(GHOST_TINTS[int(rng.integers(len(GHOST_TINTS)))]),
                "ring": bool(rng.random() < 0.3),
            })
        return {
            "sun_row": row,
            "sun_col": col,
            "sun_elevation_deg": el,
            "sun_azimuth_deg": az,
            "disc_radius_px": max(1.5, cam["focal_length_px"] * math.tan(math.radians(0.27))),
            "intensity": sample_uniform(rng, self.intensity),
            "veil": sample_uniform(rng, self.veil),
            "ghosts": ghosts,
        }

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        frame, meta = ctx.scene["image"], ctx.meta
        h, w = frame.shape[:2]
        lin = radiometry.decode_work(frame, meta, "sun_linear")
        sr, sc = float(params["sun_row"]), float(params["sun_col"])
        r0 = float(params["disc_radius_px"])
        rows = (np.arange(h, dtype=np.float32) + 0.5 - sr) ** 2
        cols = (np.arange(w, dtype=np.float32) + 0.5 - sc) ** 2
        r2 = np.add(rows[:, None], cols[None, :], out=buffer("sun_r2", (h, w)))  # frame-sized: scratch
        glare, tmp = _halo(r2, r0, params["intensity"], params["veil"], max(h, w))
        warm = (1.0, 0.93, 0.8)  # low sun: reddened by air mass
        for c in range(3):  # per channel with scalar factors (fast inner loops)
            lin[..., c] += np.multiply(glare, np.float32(warm[c]), out=tmp)
        # the disc itself saturates the sensor
        dy0, dy1 = int(max(0, np.floor(sr - r0))), int(min(h, np.ceil(sr + r0 + 1)))
        dx0, dx1 = int(max(0, np.floor(sc - r0))), int(min(w, np.ceil(sc + r0 + 1)))
        if dy0 < dy1 and dx0 < dx1:
            lin[dy0:dy1, dx0:dx1][r2[dy0:dy1, dx0:dx1] <= r0 * r0] = 50.0
        for g in params["ghosts"]:
            _add_ghost(lin, g, sr, sc, params["intensity"])
        np.minimum(lin, 1.0, out=lin)  # the sensor saturates
        return radiometry.encode(lin, image, meta)


def _halo(r2: np.ndarray, r0: float, intensity: float, veil: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The glare (H×W, scratch) at squared distance ``r2`` from the sun, and a scratch plane.

    Halo ∝ 1/(1 + (r/s)²) (≈ 1/θ² far out) at two scales: the lens's narrow corona
    (s = 3 disc radii) and the broad scatter of windshield and lens (s = 12 % of the
    frame), plus the uniform veil.
    """
    k = np.float32(intensity)
    wide = np.float32((0.12 * size) ** 2)
    glare = np.divide(r2, np.float32(9.0 * r0 * r0), out=buffer("sun_glare", r2.shape))
    np.add(np.float32(1.0), glare, out=glare)
    np.divide(k, glare, out=glare)  # k / (1 + r²/(3·r0)²)
    tmp = np.divide(r2, wide, out=buffer("sun_tmp", r2.shape))
    np.add(np.float32(1.0), tmp, out=tmp)
    glare += np.divide(k * np.float32(0.35), tmp, out=tmp)  # 0.35·k / (1 + r²/wide)
    glare += np.float32(veil)
    return glare, tmp


def _add_ghost(lin: np.ndarray, g: Mapping[str, Any], sr: float, sc: float, intensity: float) -> None:
    """In place: one lens ghost (a soft disc or ring) on the line from the sun through the centre."""
    h, w = lin.shape[:2]
    cy, cx = h / 2.0, w / 2.0
    gy = cy + g["t"] * (sr - cy)
    gx = cx + g["t"] * (sc - cx)
    rad = g["radius"]
    y0, y1 = int(max(0, np.floor(gy - rad - 2))), int(min(h, np.ceil(gy + rad + 2)))
    x0, x1 = int(max(0, np.floor(gx - rad - 2))), int(min(w, np.ceil(gx + rad + 2)))
    if y0 >= y1 or x0 >= x1:
        return
    yy = np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5 - gy
    xx = np.arange(x0, x1, dtype=np.float32)[None, :] + 0.5 - gx
    rho = np.sqrt(yy * yy + xx * xx) / rad
    edge = np.clip((1.0 - rho) / 0.15, 0.0, 1.0)  # soft-edged disc
    shape = edge * (rho > 0.75) if g["ring"] else edge
    lin[y0:y1, x0:x1] += (shape * g["strength"] * intensity)[..., None] * np.asarray(g["tint"], np.float32)
