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


#: Core of the glare law (deg): 1/(θ² + θc²) stays finite at the sun (saturated there anyway).
GLARE_CORE_DEG = 0.8
#: Reference angle (deg) at which ``intensity`` is the veiling glare.
GLARE_REF_DEG = 10.0


def sun_direction(elevation_deg: float, azimuth_deg: float) -> np.ndarray:
    """Unit vector (right, up, forward) of a direction at elevation / azimuth (relative, deg)."""
    e, a = math.radians(elevation_deg), math.radians(azimuth_deg)
    return np.array([math.cos(e) * math.sin(a), math.sin(e), math.cos(e) * math.cos(a)])


def glare_coarse(shape: tuple[int, int], camera: Mapping[str, float], sun: np.ndarray, intensity: float,
                 veil: float) -> np.ndarray:
    """Veiling glare of a sun in direction ``sun`` (right, up, forward) on a coarse grid (hs×ws
    float32, cell centres at (i + ½)·H/hs).

    ``intensity``·(θ_ref² / (θ² + θc²)) + ``veil``, θ the angle between each pixel's ray and the
    sun (so a sun above the frame lights its top edge correctly). The grid step is ≈ f/200 px
    (θ steps ≤ 0.3°, far finer than the law's core); the field is smooth, so it is upsampled
    bilinearly.
    """
    h, w = shape
    f = float(camera["focal_length_px"])
    step = max(1, min(8, int(f / 200.0)))
    hs, ws = max(1, -(-h // step)), max(1, -(-w // step))
    y = ((camera["horizon_row"] - (np.arange(hs) + 0.5) * (h / hs)) / f).astype(np.float32)[:, None]
    x = (((np.arange(ws) + 0.5) * (w / ws) - w / 2.0) / f).astype(np.float32)[None, :]
    s = sun.astype(np.float32)
    dot = (x * s[0] + y * s[1] + s[2]) / np.sqrt(x * x + y * y + np.float32(1.0))
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    theta *= np.float32(180.0 / math.pi)
    theta *= theta
    theta += np.float32(GLARE_CORE_DEG**2)
    return np.float32(intensity * GLARE_REF_DEG**2) / theta + np.float32(veil)


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
    even = blades % 2 == 0  # opposite sides: |projection| on half the normals
    out = None
    for k in range(blades // 2 if even else blades):  # max of the projections on the side normals
        a = angle + 2.0 * math.pi * k / blades
        proj = xx * np.float32(math.cos(a)) + yy * np.float32(math.sin(a))
        if even:
            np.abs(proj, out=proj)
        out = proj if out is None else np.maximum(out, proj, out=out)
    out /= np.float32(math.cos(math.pi / blades))
    return out


def ghost_centre(t: float, sun_row: float, sun_col: float, shape: tuple[int, int]) -> tuple[float, float]:
    """A ghost's centre on the line through the optical centre (image centre) and the sun:
    t = 1 at the sun, 0 at the centre, < 0 mirrored across it."""
    cy, cx = shape[0] / 2.0, shape[1] / 2.0
    return cy + t * (sun_row - cy), cx + t * (sun_col - cx)


def _ghost_light(yy: np.ndarray, xx: np.ndarray, g: Mapping[str, Any], blades: int, angle: float,
                 peak: float) -> np.ndarray:
    """A ghost's light (3×n×m float32) at offsets (yy (n, 1), xx (1, m)) px from its centre."""
    gauge = aperture_radius(yy, xx, blades, angle)
    gauge /= np.float32(float(g["radius"]))
    soft = np.float32(max(0.08, float(g.get("softness", 0.2))))
    light = np.empty((3,) + gauge.shape, np.float32)
    for c in range(3):
        scale = np.float32(1.0 + 0.04 * (1 - c))  # R a little larger than G, B smaller
        a = np.subtract(scale, gauge, out=light[c])
        a /= soft
        np.clip(a, 0.0, 1.0, out=a)
        a *= a * (3.0 - 2.0 * a)  # smoothstep edge (defocused aperture image)
        if g.get("ring"):
            a *= 0.35 + 0.65 * np.clip((gauge / scale - 0.55) / 0.4, 0.0, 1.0)
        a *= np.float32(peak * g["tint"][c])
    return light


def _span(centre: float, reach: float, cell: float, n: int) -> tuple[int, int]:
    """Cells i0:i1 (centres at (i + ½)·cell) within ``reach`` px of ``centre``, clipped to 0:n."""
    return int(max(0, math.floor((centre - reach) / cell - 0.5))), int(min(n, math.ceil((centre + reach) / cell + 0.5)))


def ghost_layer(g: Mapping[str, Any], centre: tuple[float, float], blades: int, angle: float, peak: float,
                shape: tuple[int, int], cell: tuple[float, float] = (1.0, 1.0)
                ) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
    """One ghost — a soft, aperture-shaped disc of radius ``g['radius']`` px with tint ``g['tint']``,
    a little larger in red than in blue (lateral colour), ``peak`` linear at its centre — on a grid
    of ``shape`` cells of ``cell`` px (default: the frame's pixels), as ((i0, i1, j0, j1), light
    (3, i1 − i0, j1 − j0) float32) to add to the cells there; None when it misses the grid."""
    gy, gx = centre
    reach = float(g["radius"]) * 1.1 + 2.0
    (i0, i1), (j0, j1) = _span(gy, reach, cell[0], shape[0]), _span(gx, reach, cell[1], shape[1])
    if i0 >= i1 or j0 >= j1 or peak <= 0.0:
        return None
    yy = ((np.arange(i0, i1, dtype=np.float32) + np.float32(0.5)) * np.float32(cell[0]) - np.float32(gy))[:, None]
    xx = ((np.arange(j0, j1, dtype=np.float32) + np.float32(0.5)) * np.float32(cell[1]) - np.float32(gx))[None, :]
    return (i0, i1, j0, j1), _ghost_light(yy, xx, g, blades, angle, peak)


def flare_layers(shape: tuple[int, int], camera: Mapping[str, float], sun: np.ndarray, intensity: float,
                 veil: float, tint: tuple[float, float, float], ghosts: list, sun_rc: tuple[float, float],
                 blades: int, angle: float) -> tuple[list[np.ndarray], list]:
    """The flare's added light: (three hs×ws float32 planes on the coarse grid of
    :func:`glare_coarse` — the glare × ``tint`` and the soft ghosts —, the other ghosts as
    full-resolution :func:`ghost_layer` patches). Each ghost is ``g['strength']·intensity`` at its
    centre on the line of :func:`ghost_centre`; one whose edge (softness × radius) spans two grid
    cells is drawn on the grid, where it costs 1/step² as much (bilinear upsampling keeps its edge)."""
    glare = glare_coarse(shape, camera, sun, intensity, veil)
    hs, ws = glare.shape
    cell = (shape[0] / hs, shape[1] / ws)
    planes = [glare * np.float32(t) for t in tint]
    fine = []
    for g in ghosts:
        centre = ghost_centre(g["t"], sun_rc[0], sun_rc[1], shape)
        peak = float(g["strength"]) * intensity
        if max(0.08, float(g.get("softness", 0.2))) * float(g["radius"]) >= 2.0 * max(cell):
            layer = ghost_layer(g, centre, blades, angle, peak, (hs, ws), cell)
            if layer is not None:
                (i0, i1, j0, j1), light = layer
                for c in range(3):
                    planes[c][i0:i1, j0:j1] += light[c]
        else:
            layer = ghost_layer(g, centre, blades, angle, peak, shape)
            if layer is not None:
                fine.append(layer)
    return planes, fine


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
