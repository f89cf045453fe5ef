"""Falling snow flakes seen by a camera during one exposure (pure kernel: no I/O).

Flakes are placed at random 3-D points in the view frustum between ``near_m`` and
``far_m`` and projected with the pinhole camera:

- **number density** from the visibility: falling snow's extinction is twice the flakes'
  summed cross-section, β = 2·N·⟨A⟩ (geometric optics, extinction efficiency 2; Rasmussen
  et al., J. Appl. Meteor. 38, 1999), with β = ln 20 / V (Koschmieder, 5 % contrast) and
  exponentially distributed diameters of mean D̄ (Gunn & Marshall 1958), ⟨A⟩ = π·D̄²/2,
  so N = β / (π·D̄²). (The snowfall rate for a given visibility scatters by 3–10× with
  crystal type, Rasmussen et al. 1999, so visibility is the parameter.)
- **size** f·D/Z px; **motion** during the exposure: fall 0.5–1.5 m/s (aggregates,
  Locatelli & Hobbs 1974), turbulent drift and wind across, and the ego motion's radial
  flow r·v/Z from the focus of expansion, × the exposure time;
- **defocus**: thin-lens circle of confusion f_px·A·|1/Z − 1/s| (aperture A, focused at
  s = ``focus_m``), so near flakes are large soft discs;
- **opacity**: a flake is opaque while it covers a pixel; its time-integrated coverage
  (π/4·w²) is spread over its blurred, streaked footprint (energy kept), so blurred and
  fast flakes are semi-transparent.

Returns the opacity map φ; the caller blends ``I ← I·(1 − φ) + φ·L_flake`` with the flakes'
radiance (≈ the overcast sky's: they scatter skylight).
"""

from __future__ import annotations

import math

import numpy as np

from .streaks import rasterize_segments

#: Dash-cam lens aperture diameter (m): f ≈ 4–6 mm at f/1.8–2.
APERTURE_M = 0.0025
#: A soft flake's Gaussian is drawn out to this many σ (its tail there: 0.2 % of the peak).
DISC_RADIUS_SIGMAS = 3.5
#: Soft flakes whose window fits a stamp of this many px are splatted in groups; larger ones one by one.
MAX_STAMP = 24


def flakes_per_m3(visibility_m: float, mean_diameter_mm: float) -> float:
    """Number density (m⁻³) of flakes of exponential diameters (mean D̄) giving visibility V:
    N = β/(π·D̄²), β = ln 20 / V (see the module docstring)."""
    beta = math.log(20.0) / float(visibility_m)
    d = float(mean_diameter_mm) * 1e-3
    return beta / (math.pi * d * d)


def _frustum_points(rng: np.random.Generator, n: int, shape: tuple[int, int], focal_px: float, cx: float,
                    cy: float, near_m: float, far_m: float, margin: float = 0.06):
    """``n`` points uniform in the frustum (slightly wider than the frame): (X, Y, Z) m, float32."""
    h, w = shape
    u = rng.random(n, dtype=np.float32)
    z = np.cbrt(u * np.float32(far_m**3 - near_m**3) + np.float32(near_m**3))
    half_w = (0.5 + margin) * w / focal_px
    half_h = (0.5 + margin) * h / focal_px
    x = (rng.random(n, dtype=np.float32) * np.float32(2.0) - np.float32(1.0)) * np.float32(half_w) * z
    y = (rng.random(n, dtype=np.float32) * np.float32(2.0) - np.float32(1.0)) * np.float32(half_h) * z
    x += np.float32((w / 2.0 - cx) / focal_px) * z
    y += np.float32((h / 2.0 - cy) / focal_px) * z
    return x, y, z


def flake_opacity(
    shape: tuple[int, int],
    *,
    seed: int,
    visibility_m: float,
    mean_diameter_mm: float,
    exposure_s: float,
    focal_px: float,
    horizon_row: float,
    fall_m_s: float = 1.0,
    wind_m_s: float = 0.0,
    ego_speed_m_s: float = 0.0,
    aperture_m: float = APERTURE_M,
    focus_m: float = 30.0,
    near_m: float = 0.3,
    far_m: float = 12.0,
    max_flakes: int = 20000,
    occluder: tuple[np.ndarray, int] | None = None,
    scratch: bool = False,
) -> np.ndarray:
    """Opacity φ (H×W float32, unclipped) of the flakes seen during one exposure (module docstring).
    Flakes beyond ``far_m`` (sub-pixel specks) are left to the haze. More physical flakes than
    ``max_flakes`` are represented by that many, each carrying the opacity of its share.
    ``occluder`` = (distance map in m, its decimation k: pixel (i, j) at full (k·i + k//2,
    k·j + k//2)): flakes behind the scene at their centre are hidden."""
    h, w = shape
    n_phys = flakes_per_m3(visibility_m, mean_diameter_mm) * (w * h / focal_px**2) * (far_m**3 - near_m**3) / 3.0
    n = int(min(max(n_phys, 0.0), max_flakes))
    if n == 0:
        return np.zeros(shape, dtype=np.float32)
    share = np.float32(n_phys / n)
    rng = np.random.default_rng(seed)
    cx, cy = w / 2.0, float(horizon_row)
    flakes = _seen_flakes(rng, n, shape, focal_px, cx, cy, near_m, far_m, mean_diameter_mm, fall_m_s, wind_m_s)
    if occluder is not None:  # a flake behind a car or a wall is not seen
        flakes = _unoccluded(flakes, *occluder)
    z, d_m, fz, u, v, fall, drift = flakes
    t = np.float32(exposure_s)
    # image velocity: (f/Z)·(drift, fall) + radial flow (p − FOE)·v_ego/Z
    dx = (drift * fz + (u - np.float32(cx)) * np.float32(ego_speed_m_s) / z) * t
    dy = (fall * fz + (v - np.float32(cy)) * np.float32(ego_speed_m_s) / z) * t
    width = d_m * fz
    blur = np.float32(focal_px * aperture_m) * np.abs(1.0 / z - np.float32(1.0 / focus_m))
    energy = np.float32(math.pi / 4.0) * width * width * share  # opacity × px² of one flake
    return _draw_flakes(shape, u, v, dx, dy, width + blur, energy, scratch)


def _seen_flakes(rng: np.random.Generator, n: int, shape: tuple[int, int], focal_px: float, cx: float, cy: float,
                 near_m: float, far_m: float, mean_diameter_mm: float, fall_m_s: float, wind_m_s: float) -> tuple:
    """``n`` flakes in the frustum, projected: (Z, diameter m, f/Z, u, v, fall m/s, drift m/s), float32."""
    x, y, z = _frustum_points(rng, n, shape, focal_px, cx, cy, near_m, far_m)
    d_m = np.clip(rng.standard_exponential(n, dtype=np.float32) * np.float32(mean_diameter_mm), 0.5, 25.0) * 1e-3
    fall = (rng.random(n, dtype=np.float32) * np.float32(1.0) + np.float32(0.5)) * np.float32(fall_m_s)
    drift = rng.standard_normal(n, dtype=np.float32) * np.float32(0.4) + np.float32(wind_m_s)
    fz = np.float32(focal_px) / z
    u = np.float32(cx) + x * fz
    v = np.float32(cy) + y * fz
    return z, d_m, fz, u, v, fall, drift


def _unoccluded(flakes: tuple, dist: np.ndarray, k: int) -> tuple:
    """The ``flakes`` (see :func:`_seen_flakes`) nearer than the scene's distance ``dist``
    (decimated by ``k``) at their centre."""
    z, _, _, u, v, _, _ = flakes
    i = np.clip(((v - k // 2) / k).astype(np.intp), 0, dist.shape[0] - 1)
    j = np.clip(((u - k // 2) / k).astype(np.intp), 0, dist.shape[1] - 1)
    seen = np.flatnonzero(z < dist[i, j])
    return tuple(a.take(seen) for a in flakes)


def _draw_flakes(shape: tuple[int, int], u, v, dx, dy, thick, energy, scratch: bool) -> np.ndarray:
    """Opacity of flakes centred at (u, v) px moving (dx, dy) px during the exposure, ``thick``
    px across (size plus defocus), each covering ``energy`` opacity × px²: small ones as
    streaks, near ones as soft discs stretched by their motion."""
    length = np.hypot(dx, dy)
    big = thick >= 2.5
    small = ~big
    seg = length + thick
    ext = np.maximum(length, np.float32(1e-6))
    ux = np.where(length > 1e-6, dx / ext, 0.0)
    uy = np.where(length > 1e-6, dy / ext, 1.0)
    alpha = np.minimum(energy / (np.maximum(seg, 1.0) * np.maximum(thick, 1.0)), 0.97)
    out = rasterize_segments(shape, u[small], v[small], (ux * seg)[small], (uy * seg)[small], thick[small],
                             alpha[small], scratch=scratch)
    if big.any():
        # near flakes: soft discs (σ ≈ diameter/2.5) stretched by their motion
        sx = thick[big] / 2.5 + np.abs(dx[big]) / 3.5
        sy = thick[big] / 2.5 + np.abs(dy[big]) / 3.5
        peak = np.minimum(energy[big] / (2.0 * math.pi * sx * sy), 0.97)
        add_soft_discs(out, v[big], u[big], sy, sx, peak)
    return out


def add_soft_discs(out: np.ndarray, cy, cx, sy, sx, peak, chunk: int = 1 << 19) -> np.ndarray:
    """In place: ``out`` (H×W float32) += Σ peak·exp(−½((r+½−cy)/sy)² − ½((c+½−cx)/sx)²)
    within ±:data:`DISC_RADIUS_SIGMAS` σ of each centre. Blobs are grouped by the square stamp
    (a multiple of 4 px) that holds their window, and each group is splatted as separable outer products
    with one ``np.add.at`` (no per-flake Python loop for the few hundred small ones); the few
    larger than :data:`MAX_STAMP` px are added window by window."""
    h, w = out.shape
    f32 = np.float32
    cy, cx, sy, sx, peak = (np.asarray(a, f32).ravel() for a in (cy, cx, sy, sx, peak))
    reach = np.ceil(np.float32(DISC_RADIUS_SIGMAS) * np.maximum(sy, sx))
    stamp = (np.ceil((2.0 * reach + 2.0) / 4.0) * 4.0).astype(np.int64)
    large = np.flatnonzero(stamp > MAX_STAMP)
    if len(large):
        _add_windows(out, cy[large], cx[large], sy[large], sx[large], peak[large])
    # a flat view over the rows of ``out`` (which may be a row-strided view of a larger buffer)
    pitch = out.strides[0] // out.itemsize
    flat = np.lib.stride_tricks.as_strided(out, shape=((h - 1) * pitch + w,), strides=(out.itemsize,))
    for size in np.unique(stamp[stamp <= MAX_STAMP]):
        sel = np.flatnonzero(stamp == size)
        per = max(1, chunk // int(size * size))
        for i in range(0, len(sel), per):
            j = sel[i : i + per]
            gy, ry = _profile(cy[j], sy[j], int(size), h, peak[j])
            gx, rx = _profile(cx[j], sx[j], int(size), w, None)
            idx = ry[:, :, None] * pitch + rx[:, None, :]
            np.add.at(flat, idx.ravel(), (gy[:, :, None] * gx[:, None, :]).ravel())
    return out


def _add_windows(out: np.ndarray, cy, cx, sy, sx, peak) -> None:
    """In place: each blob's separable Gaussian added inside its own ±R σ window (profiles
    computed for all blobs at once; the loop only slices and adds)."""
    h, w = out.shape
    r0 = np.clip(np.ceil(cy - 0.5 - DISC_RADIUS_SIGMAS * sy), 0, h).astype(np.int64)
    r1 = np.clip(np.floor(cy - 0.5 + DISC_RADIUS_SIGMAS * sy) + 1, 0, h).astype(np.int64)
    c0 = np.clip(np.ceil(cx - 0.5 - DISC_RADIUS_SIGMAS * sx), 0, w).astype(np.int64)
    c1 = np.clip(np.floor(cx - 0.5 + DISC_RADIUS_SIGMAS * sx) + 1, 0, w).astype(np.int64)
    ok = np.flatnonzero((r1 > r0) & (c1 > c0))
    if not len(ok):
        return
    cy, cx, sy, sx, peak, r0, r1, c0, c1 = (a[ok] for a in (cy, cx, sy, sx, peak, r0, r1, c0, c1))
    gy, fy = _window_profiles(r0, r1, cy, sy, peak)
    gx, fx = _window_profiles(c0, c1, cx, sx, None)
    for a0, a1, b0, b1, y0, x0 in zip(*(v.tolist() for v in (r0, r1, c0, c1, fy, fx))):
        out[a0:a1, b0:b1] += np.multiply.outer(gy[y0 : y0 + a1 - a0], gx[x0 : x0 + b1 - b0])


def _window_profiles(lo, hi, centre, sigma, scale):
    """Every blob's 1-D Gaussian over its window [lo, hi), concatenated (float32), and the
    offset of each blob's profile."""
    n = hi - lo
    first = np.cumsum(n) - n
    pos = (np.arange(int(n.sum())) - np.repeat(first - lo, n)).astype(np.float32)
    u = (pos + np.repeat(np.float32(0.5) - centre, n)) / np.repeat(sigma, n)
    prof = np.exp(np.float32(-0.5) * u * u)
    if scale is not None:
        prof *= np.repeat(scale, n)
    return prof, first


def _profile(centre: np.ndarray, sigma: np.ndarray, size: int, n: int, scale: np.ndarray | None):
    """The 1-D Gaussian of each blob over a ``size``-px window centred on it (n_blobs×size,
    float32, 0 outside [0, n) and beyond the disc's radius) and the window's pixel indices
    (clipped into the frame)."""
    pos = np.floor(centre).astype(np.int64)[:, None] + (np.arange(size, dtype=np.int64) - size // 2)[None, :]
    u = (pos.astype(np.float32) + np.float32(0.5) - centre[:, None]) / sigma[:, None]
    g = np.exp(np.float32(-0.5) * u * u)
    g[(np.abs(u) > DISC_RADIUS_SIGMAS) | (pos < 0) | (pos >= n)] = 0.0
    if scale is not None:
        g *= scale[:, None]
    return g, np.clip(pos, 0, n - 1)
