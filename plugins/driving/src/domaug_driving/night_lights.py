"""The light of a night road on the scene layout's coarse grid: low-beam headlamps, street lamps on
poles, vehicle tail lights and the night sky, in photometric units (cd, lux, cd/m²).

Geometry is the flat-road camera of :mod:`.camera` (x right, y down, z ahead; the camera
``camera_height_m`` above the road, the principal point at the image centre column and the
horizon row). Every coarse cell of the layout is a 3-D point (its distance along the ray):
ground cells face up, vertical cells (cars, trees, walls) stand facing the camera, sky cells
are self-luminous. A point source of intensity I lights a surface at distance r with
E = I·cos(incidence)/r² (the inverse-square cosine law). Pure kernels, no randomness.
"""

from __future__ import annotations

import numpy as np

from .layout import GROUND, VERTICAL
from .sky import label_components

#: Low-beam headlamps (ECE R112-like, right-hand traffic): lamp height and half spacing (m),
#: lamps 1.5 m ahead of a windscreen camera; the horizontal part of the cut-off 0.57° below the
#: horizontal (1 % down), the kerb-side part rising at 15°; ≈ 350 cd above the cut-off (B50L).
HEADLAMP_HEIGHT_M = 0.65
HEADLAMP_HALF_SPACING_M = 0.75
HEADLAMP_AHEAD_M = 1.5
CUTOFF_DOWN_DEG = 0.57
KINK_DEG = 15.0
KINK_TOP_DEG = 1.5
CUTOFF_WIDTH_DEG = 0.25
GLARE_CD = 350.0
#: Street-lamp arm reaching over the road (m) and the luminaire's intensity toward a camera far
#: down the road (semi-cut-off optics), as a fraction of its downward peak.
ARM_M = 1.5
HEAD_VIEW_FRACTION = 0.15
#: Physical source sizes (m, equivalent radius) for the size of the unblurred core.
LAMP_RADIUS_M = 0.15
TAIL_LIGHT_RADIUS_M = 0.06
#: Tail lights: height above the road (m) and inset from the vehicle's sides (fraction of its width).
TAIL_LIGHT_HEIGHT_M = 0.9
TAIL_LIGHT_INSET = 0.12
#: Vehicles found in the layout: width (m) and lateral reach (m) of a car on the road.
VEHICLE_WIDTH_M = (1.4, 2.7)
VEHICLE_LATERAL_M = 9.0
VEHICLE_MAX_M = 120.0


def cell_points(dist: np.ndarray, camera: dict, k: int, width: int, labels: np.ndarray | None = None,
                offset: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, Y, Z) in metres of each cell of a grid (cell (i, j) = full pixel (k·i + o, k·j + o),
    o = ``offset``, default k//2):
    lateral, height above the road, ahead; from the distance along the ray.

    With ``labels``, vertical cells in columns with no ground below them (which the layout
    stands at the bottom row, metres away: a tree behind a barrier) take the distance ahead of
    the nearest vertical cell in their row that does stand on the ground."""
    hs, ws = dist.shape
    f, vh, ch = camera["focal_length_px"], camera["horizon_row"], camera["camera_height_m"]
    o = k // 2 if offset is None else offset
    xn = ((np.arange(ws) * k + o + 0.5 - width / 2) / f).astype(np.float32)[None, :]
    yn = ((np.arange(hs) * k + o + 0.5 - vh) / f).astype(np.float32)[:, None]
    z = dist / np.sqrt(np.float32(1.0) + xn * xn + yn * yn)
    if labels is not None:
        z = _stand_floating(z, labels)
    return xn * z, np.float32(ch) - yn * z, z


def _stand_floating(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``z`` with vertical cells that have no ground below them in their column given the
    distance of the nearest (in the row) vertical cell that has."""
    ground_below = np.flip(np.logical_or.accumulate(np.flip(labels == GROUND, 0), axis=0), 0)
    vertical = labels == VERTICAL
    bad = vertical & ~ground_below
    good = vertical & ground_below
    if not bad.any() or not good.any():
        return z
    ws = z.shape[1]
    cols = np.arange(ws)[None, :]
    left = np.maximum.accumulate(np.where(good, cols, -1), axis=1)
    right = np.flip(np.minimum.accumulate(np.flip(np.where(good, cols, 2 * ws), 1), axis=1), 1)
    use_left = (left >= 0) & ((right >= ws) | (cols - left <= right - cols))
    src = np.where(use_left, left, right)
    ok = bad & (src >= 0) & (src < ws)
    rows = np.nonzero(ok)[0]
    out = z.copy()
    out[ok] = z[rows, src[ok]]
    return out


def headlamp_intensity(down_deg: np.ndarray, right_deg: np.ndarray, peak_cd: float,
                       traffic: str = "right") -> np.ndarray:
    """Low-beam intensity (cd) toward ``down_deg`` below the horizontal and ``right_deg`` to the right.

    A hot spot just below the cut-off (1.5° down, 2° to the kerb side, σ 10° across and a 25°
    spread), falling below it (σ 4° beyond 1.5° down); above the cut-off line — horizontal at
    0.57° down on the oncoming side, rising at 15° on the kerb side to 1.5° up — only the glare
    level (≤ 350 cd toward the oncoming side, falling sideways and upward). Mirrored for
    left-hand traffic.
    """
    kerb = right_deg if traffic == "right" else -right_deg
    cutoff = np.maximum(CUTOFF_DOWN_DEG - np.maximum(kerb, 0.0) * np.tan(np.radians(KINK_DEG)), -KINK_TOP_DEG)
    across = 0.8 * np.exp(-0.5 * ((kerb - 2.0) / 10.0) ** 2) + 0.2 * np.exp(-0.5 * (kerb / 25.0) ** 2)
    below = np.exp(-0.5 * (np.maximum(down_deg - 1.5, 0.0) / 4.0) ** 2)
    lit = np.clip((down_deg - cutoff) / CUTOFF_WIDTH_DEG + 0.5, 0.0, 1.0)
    beam = peak_cd * across * below
    glare = GLARE_CD * np.exp(-0.5 * (kerb / 15.0) ** 2) * np.exp(-np.maximum(-down_deg, 0.0) / 4.0)
    return (glare + (beam - glare) * lit).astype(np.float32)


def surfaces(pts, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """How each cell takes light: (ground weight, vertical weight, normal x, normal z). Ground
    faces up (Lambert); vertical cells face the camera when near its axis and turn to face the
    road beyond 2–5 m to the side (walls, barriers, tree lines), with a wrapped 0.5·(1 + cos)
    response (rough objects: foliage, cars); their lowest 0.5 m blends into the ground (kerbs,
    paint and stains the layout calls vertical). Sky and hood: no direct light."""
    x, y, _ = pts
    vertical = labels == VERTICAL
    f32 = np.float32
    wg = np.where(labels == GROUND, f32(1.0), np.where(vertical, np.clip(f32(1.0) - y / f32(0.5), 0.0, 1.0), f32(0.0)))
    wv = np.where(vertical, f32(0.5) * (f32(1.0) - wg), f32(0.0))
    side = np.clip((np.abs(x) - f32(2.0)) / f32(3.0), 0.0, 1.0)
    nx, nz = -np.sign(x) * side, side - f32(1.0)
    norm = np.sqrt(nx * nx + nz * nz) + f32(1e-6)
    return wg.astype(f32), wv.astype(f32), (nx / norm).astype(f32), (nz / norm).astype(f32)


def _received(dx, h, dz, r, surf) -> np.ndarray:
    """r·cos(incidence) of light from a source ``h`` m above the cell, (dx, dz) m before it:
    Lambert on the ground, wrapped on vertical cells (see :func:`surfaces`)."""
    wg, wv, nx, nz = surf
    g = nx * dx
    g += nz * dz
    np.subtract(r, g, out=g)
    g *= wv
    g += wg * np.maximum(h, np.float32(0.0))
    return g


def headlight_irradiance(pts, surf, peak_cd: float, traffic: str) -> np.ndarray:
    """Illuminance (lux) of the two low-beam lamps on the cells (inverse square × cosine)."""
    x, y, z = pts
    e = np.zeros(x.shape, np.float32)
    h = np.float32(HEADLAMP_HEIGHT_M) - y
    dz = z - np.float32(HEADLAMP_AHEAD_M)
    ahead = dz > 0
    for side in (-1.0, 1.0):
        dx = x - np.float32(side * HEADLAMP_HALF_SPACING_M)
        horiz = np.sqrt(dx * dx + dz * dz) + np.float32(1e-3)
        r2 = horiz * horiz + h * h
        r = np.sqrt(r2)
        down = np.degrees(np.arctan2(h, horiz))
        right = np.degrees(np.arctan2(dx, np.maximum(dz, np.float32(1e-3))))
        i = np.where(ahead, headlamp_intensity(down, right, peak_cd, traffic), np.float32(0.0))
        e += i * _received(dx, h, dz, r, surf) / (r2 * r)
    return e


#: A road luminaire's intensity profile: cos and sin² of 65° (its peak angle from the nadir).
_COS65, _SIN2_65 = 0.42262, 0.82139


def luminaire_intensity(cos_nadir: np.ndarray, peak_cd: float) -> np.ndarray:
    """A road luminaire's intensity (cd) at cos(angle from the nadir): a wide 'bat-wing' rising
    from 0.6·peak at the nadir to the peak at 65°, then a semi-cut-off falling as (cos/cos 65°)²
    to 0 at 90° (no light toward the sky)."""
    c = np.asarray(cos_nadir, np.float32)
    wing = np.minimum((np.float32(1.0) - c * c) * np.float32(0.4 / _SIN2_65), np.float32(0.4))
    wing += np.float32(0.6)
    cut = np.clip(c * np.float32(1.0 / _COS65), 0.0, 1.0)
    wing *= cut * cut
    wing *= np.float32(peak_cd)
    return wing


def lamp_irradiance(pts, surf, lamps: np.ndarray, peak_cd: float) -> np.ndarray:
    """Illuminance (lux) of street lamps (rows: head X, head height, Z in m) on the cells."""
    e = np.zeros(pts[0].shape, np.float32)
    for lx, lh, lz in np.asarray(lamps, np.float32):
        e += one_lamp(pts, surf, lx, lh, lz, peak_cd)
    return e


def one_lamp(pts, surf, lx, lh, lz, peak_cd: float) -> np.ndarray:
    """Illuminance (lux) of one street lamp with its head at (``lx``, ``lh``, ``lz``) m (scalars,
    or arrays broadcasting with the cells: one lamp per cell)."""
    x, y, z = pts
    dx, dz, h = x - lx, z - lz, lh - y
    r2 = dx * dx
    r2 += dz * dz
    r2 += h * h
    r2 += np.float32(1e-2)
    r = np.sqrt(r2)
    g = _received(dx, h, dz, r, surf)
    g *= luminaire_intensity(h / r, peak_cd)
    r2 *= r
    g /= r2
    return g


def lamp_positions(spacing_m: float, phase: float, offset_left_m: float, offset_right_m: float,
                   arrangement: str, max_m: float = 200.0) -> list[list[float]]:
    """Street lamps along a straight road: [pole X, head X, pole height scale (1), Z] per lamp (m).

    ``arrangement``: single-sided ``"left"`` / ``"right"``, ``"opposite"`` (pairs) or
    ``"staggered"`` (the far side shifted by half a spacing); the first lamp ``phase``·spacing
    ahead of the camera (one spacing behind it too: its pool reaches into view)."""
    sides = {"left": [(-1, 0.0)], "right": [(1, 0.0)], "opposite": [(-1, 0.0), (1, 0.0)],
             "staggered": [(1, 0.0), (-1, 0.5)]}[arrangement]
    out = []
    for side, shift in sides:
        off = offset_left_m if side < 0 else offset_right_m
        z = (phase + shift) % 1.0 * spacing_m - spacing_m
        while z <= max_m:
            out.append([side * off, side * (off - ARM_M), z])
            z += spacing_m
    return out


def project(x, y_up, z, camera: dict, width: int):
    """Image (row, col) of a 3-D point (m; y above the road); z must be > 0."""
    f, vh, ch = camera["focal_length_px"], camera["horizon_row"], camera["camera_height_m"]
    return vh + f * (ch - y_up) / z, width / 2 + f * x / z


def vehicles_in_layout(labels: np.ndarray, camera: dict, k: int, width: int) -> list[tuple[float, float, float]]:
    """Vehicles the layout finds standing on the road: (left col, right col, contact row) in full
    pixels, for each compact vertical region below the horizon, inside the frame, that touches
    the ground along ≥ 70 % of its bottom, is 1.4–2.7 m wide at the distance of its contact row,
    ≥ 0.5 m tall and within 9 m of the camera's axis (a car, van or truck ahead; a wall, verge
    or tree line is wider, cut by the frame's edge or off the road)."""
    from scipy.ndimage import find_objects

    hs, ws = labels.shape
    f, vh, ch = camera["focal_length_px"] / k, camera["horizon_row"] / k, camera["camera_height_m"]
    top = int(np.clip(np.ceil(vh), 0, hs))
    below = labels == VERTICAL
    below[:top] = False
    comp, n = label_components(below, 4)
    found = []
    for i, sl in enumerate(find_objects(comp) if n else []):
        if sl is None:
            continue
        r0, r1, c0, c1 = sl[0].start, sl[0].stop, sl[1].start, sl[1].stop
        if r1 - vh < 0.5 or r1 >= hs or c0 == 0 or c1 >= ws:  # cut by the frame: size unknown
            continue
        z = f * ch / (r1 - vh)
        width_m, lateral = (c1 - c0) * z / f, ((c0 + c1) / 2 + 0.5 - width / (2 * k)) * z / f
        on_road = (labels[r1, c0:c1] == GROUND).mean() >= 0.7
        solid = (comp[sl] == i + 1).mean() >= 0.5
        if (VEHICLE_WIDTH_M[0] <= width_m <= VEHICLE_WIDTH_M[1] and abs(lateral) <= VEHICLE_LATERAL_M
                and z <= VEHICLE_MAX_M and on_road and solid and (r1 - r0) * z / f >= 0.5):
            found.append((float(c0 * k), float(c1 * k), float(r1 * k)))
    return found


def sky_luminance(rows: np.ndarray, camera: dict, zenith_cd_m2: float, glow: float) -> np.ndarray:
    """Night-sky luminance (cd/m²) per image row: the zenith level raised toward the horizon by
    the city's sky glow, L = L_z·(1 + glow·exp(−e/5°)) at elevation e above the horizon."""
    elev = np.degrees(np.arctan2(camera["horizon_row"] - rows, camera["focal_length_px"]))
    return (zenith_cd_m2 * (1.0 + glow * np.exp(-np.maximum(elev, 0.0) / 5.0))).astype(np.float32)


#: The lens's own blur (σ, px) of a point source: a dash-cam lens and its anti-aliasing spread a
#: point over ≈ 2–3 photosites, so a distant lamp is not sampled by one colour site of the mosaic.
LENS_BLUR_PX = 1.0


def psf_glows(rows, cols, flux, core_px, colours, glare_fraction: float, width: int):
    """A light source through the lens: (centres, sigmas, colours) of Gaussian glows whose pixel
    sums conserve each source's flux (pixel-sum units): the core (1 − g) at its own size, the
    halo g split between a 0.6 %- and a 3 %-of-width Gaussian (scatter and veiling glare); the
    core never sharper than :data:`LENS_BLUR_PX`."""
    centres, sigmas, peaks = [], [], []
    halo = ((0.6, max(2.0, 0.006 * width)), (0.4, max(4.0, 0.03 * width)))
    for r, c, phi, s, col in zip(rows, cols, flux, core_px, colours):
        parts = [(1.0 - glare_fraction, max(float(s), LENS_BLUR_PX))] + [(glare_fraction * a, b) for a, b in halo]
        for frac, sig in parts:
            centres.append((r, c))
            sigmas.append(sig)
            peaks.append(np.asarray(col, np.float32) * np.float32(frac * phi / (2 * np.pi * sig * sig)))
    return (np.asarray(centres, np.float64).reshape(-1, 2), np.asarray(sigmas, np.float64),
            np.asarray(peaks, np.float32).reshape(-1, 3))
