"""Lens flare kernels: veiling glare falling off as 1/θ² from the sun, and aperture-shaped ghosts.

Pure functions on linear float32 planes (no randomness). Veiling glare follows the
Stiles–Holladay law of the CIE disability glare formula (CIE 146:2002: L_veil = 10·E/θ²,
θ in degrees, 1° < θ < 30°), which also describes the long tail of a camera's glare spread
function behind a windshield (McCann & Rizzi 2007); ghosts are out-of-focus images of the
aperture reflected between lens surfaces and lie on the line through the source image and
the optical centre (Wu et al., ICCV 2021).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from .scene import upsample
from .scratch import buffer

#: Core of the glare law (deg): 1/(θ² + θc²) stays finite at the sun (saturated there anyway).
GLARE_CORE_DEG = 0.8
#: Reference angle (deg) at which ``intensity`` is the veiling glare.
GLARE_REF_DEG = 10.0


def sun_direction(elevation_deg: float, azimuth_deg: float) -> np.ndarray:
    """Unit vector (right, up, forward) of a direction at elevation / azimuth (relative, deg)."""
    e, a = math.radians(elevation_deg), math.radians(azimuth_deg)
    return np.array([math.cos(e) * math.sin(a), math.sin(e), math.cos(e) * math.cos(a)])


def glare_field(shape: tuple[int, int], camera: Mapping[str, float], sun: np.ndarray, intensity: float,
                veil: float) -> np.ndarray:
    """Veiling glare (H×W float32, scratch) of a sun in direction ``sun`` (right, up, forward).

    ``intensity``·(θ_ref² / (θ² + θc²)) + ``veil``, θ the angle between each pixel's ray and the
    sun (so a sun above the frame lights its top edge correctly). Evaluated on a grid of
    ≈ f/200 px (θ steps ≤ 0.3°, far finer than the law's core) and upsampled bilinearly.
    """
    h, w = shape
    f = float(camera["focal_length_px"])
    step = max(1, min(8, int(f / 200.0)))
    hs, ws = max(1, -(-h // step)), max(1, -(-w // step))
    y = (camera["horizon_row"] - (np.arange(hs) + 0.5) * (h / hs)) / f
    x = ((np.arange(ws) + 0.5) * (w / ws) - w / 2.0) / f
    dot = (x[None, :] * sun[0] + y[:, None] * sun[1] + sun[2]) / np.sqrt(x[None, :] ** 2 + y[:, None] ** 2 + 1.0)
    theta = np.degrees(np.arccos(np.clip(dot, -1.0, 1.0)))
    coarse = (intensity * GLARE_REF_DEG**2 / (theta * theta + GLARE_CORE_DEG**2) + veil).astype(np.float32)
    return upsample(coarse, (h, w), out=buffer("flare_glare", (h, w)))


def saturate_disc(planes: list[np.ndarray], row: float, col: float, radius: float) -> None:
    """In place: the sun's disc (centre (row, col), ``radius`` px) saturates every channel."""
    h, w = planes[0].shape
    y0, y1 = int(max(0, math.floor(row - radius))), int(min(h, math.ceil(row + radius + 1)))
    x0, x1 = int(max(0, math.floor(col - radius))), int(min(w, math.ceil(col + radius + 1)))
    if y0 >= y1 or x0 >= x1:
        return
    yy = (np.arange(y0, y1) + 0.5 - row)[:, None]
    xx = (np.arange(x0, x1) + 0.5 - col)[None, :]
    inside = yy * yy + xx * xx <= radius * radius
    for p in planes:
        p[y0:y1, x0:x1][inside] = 50.0


def aperture_radius(yy: np.ndarray, xx: np.ndarray, blades: int, angle: float) -> np.ndarray:
    """The aperture's gauge at offsets (yy, xx): 1 on the edge of a unit regular polygon of
    ``blades`` sides (a circle when ``blades`` < 3) rotated by ``angle`` (rad)."""
    if blades < 3:
        return np.sqrt(yy * yy + xx * xx)
    out = None
    for k in range(blades):  # max of the projections on the side normals
        a = angle + 2.0 * math.pi * k / blades
        proj = xx * np.float32(math.cos(a)) + yy * np.float32(math.sin(a))
        out = proj if out is None else np.maximum(out, proj)
    return out / np.float32(math.cos(math.pi / blades))


def ghost_centre(t: float, sun_row: float, sun_col: float, shape: tuple[int, int]) -> tuple[float, float]:
    """A ghost's centre on the line through the optical centre (image centre) and the sun:
    t = 1 at the sun, 0 at the centre, < 0 mirrored across it."""
    cy, cx = shape[0] / 2.0, shape[1] / 2.0
    return cy + t * (sun_row - cy), cx + t * (sun_col - cx)


def add_ghost(planes: list[np.ndarray], g: Mapping[str, Any], centre: tuple[float, float], blades: int,
              angle: float, peak: float) -> None:
    """In place: one ghost — a soft, aperture-shaped disc of radius ``g['radius']`` with tint
    ``g['tint']``, a little larger in red than in blue (lateral colour), ``peak`` linear at its centre."""
    h, w = planes[0].shape
    gy, gx = centre
    rad = float(g["radius"])
    reach = rad * 1.1 + 2.0
    y0, y1 = int(max(0, math.floor(gy - reach))), int(min(h, math.ceil(gy + reach)))
    x0, x1 = int(max(0, math.floor(gx - reach))), int(min(w, math.ceil(gx + reach)))
    if y0 >= y1 or x0 >= x1 or peak <= 0.0:
        return
    yy = (np.arange(y0, y1, dtype=np.float32) + np.float32(0.5 - gy))[:, None]
    xx = (np.arange(x0, x1, dtype=np.float32) + np.float32(0.5 - gx))[None, :]
    gauge = aperture_radius(yy, xx, blades, angle) / np.float32(rad)
    soft = np.float32(max(0.08, float(g.get("softness", 0.2))))
    for c, p in enumerate(planes):
        scale = np.float32(1.0 + 0.04 * (1 - c))  # R a little larger than G, B smaller
        a = np.clip((scale - gauge) / soft, 0.0, 1.0)
        a = a * a * (3.0 - 2.0 * a)  # smoothstep edge (defocused aperture image)
        if g.get("ring"):
            a *= 0.35 + 0.65 * np.clip((gauge / scale - 0.55) / 0.4, 0.0, 1.0)
        p[y0:y1, x0:x1] += a * np.float32(peak * g["tint"][c])


def shoulder(planes: list[np.ndarray], row: float, col: float, radius: float, knee: float = 0.7) -> None:
    """In place, near (row, col): a camera tone curve's highlight shoulder — identity up to
    ``knee``, then ``knee + s·t/(1 + t)`` with t = (x − knee)/s, s = 1 − knee (slope 1 at the
    knee, saturating at 1) — so the glare rolls off into saturation instead of ending at a hard
    clipping contour. Full strength within ``radius``/2 of the sun, fading out at ``radius``."""
    h, w = planes[0].shape
    y0, y1 = int(max(0, math.floor(row - radius))), int(min(h, math.ceil(row + radius)))
    x0, x1 = int(max(0, math.floor(col - radius))), int(min(w, math.ceil(col + radius)))
    if y0 >= y1 or x0 >= x1:
        return
    yy = (np.arange(y0, y1, dtype=np.float32) + np.float32(0.5 - row))[:, None]
    xx = (np.arange(x0, x1, dtype=np.float32) + np.float32(0.5 - col))[None, :]
    weight = np.clip(2.0 - 2.0 * np.sqrt(yy * yy + xx * xx) / np.float32(radius), 0.0, 1.0)
    span = np.float32(1.0 - knee)
    weight *= span
    for p in planes:
        patch = p[y0:y1, x0:x1]
        t = np.maximum(patch - np.float32(knee), 0.0)
        t /= span
        patch -= weight * (t * t / (1.0 + t))  # x − s·(t − t/(1 + t))
