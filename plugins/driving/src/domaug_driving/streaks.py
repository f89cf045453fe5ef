"""Pure kernels for particles in front of the camera: drop statistics and vectorised streak drawing.

Rain drops and snow flakes are drawn as thick line segments (the path of a particle
during the exposure) into a coverage buffer, all at once: every segment is sampled every
≤ 1 px along it (segments wider than 2 px as parallel thin ones), and each sample is
splatted with ``np.add.at`` to the nearest pixel along the segment's major axis, shared
linearly between the two nearest across it (Xiaolin Wu's antialiased lines), in chunks
of ≤ 2¹⁶ samples that stay in the CPU cache. The area integral (opacity × length × width)
is kept exactly. No per-particle Python loop and no drawing into the input image.
"""

from __future__ import annotations

import math

import numpy as np

from .sensor import add_gaussians


def marshall_palmer_lambda(rain_rate_mm_h: float) -> float:
    """Slope Λ (1/mm) of N(D) = 8000·exp(−Λ·D) m⁻³mm⁻¹, Λ = 4.1·R^−0.21 (Marshall & Palmer 1948)."""
    return 4.1 * float(rain_rate_mm_h) ** -0.21


def drops_per_m3(rain_rate_mm_h: float, d_min_mm: float) -> float:
    """Number density (m⁻³) of drops with diameter ≥ ``d_min_mm`` under Marshall–Palmer."""
    lam = marshall_palmer_lambda(rain_rate_mm_h)
    return 8000.0 / lam * math.exp(-lam * d_min_mm)


def frustum_volume_m3(shape: tuple[int, int], focal_px: float, near_m: float, far_m: float) -> float:
    """Volume seen by an H×W pinhole camera between ``near_m`` and ``far_m``."""
    h, w = shape
    return (w * h / focal_px**2) * (far_m**3 - near_m**3) / 3.0


def terminal_speed_m_s(radius_m: np.ndarray) -> np.ndarray:
    """Rain drop fall speed v ≈ 200·√a (a radius in m, v in m/s; Garg & Nayar 2007)."""
    return 200.0 * np.sqrt(radius_m)


def depths_uniform_in_volume(rng: np.random.Generator, n: int, near_m: float, far_m: float) -> np.ndarray:
    """Depths of ``n`` particles uniformly distributed in a frustum (pdf ∝ Z²)."""
    u = rng.random(n)
    return np.cbrt(near_m**3 + u * (far_m**3 - near_m**3))


def rasterize_segments(
    shape: tuple[int, int],
    cx: np.ndarray,
    cy: np.ndarray,
    dx: np.ndarray,
    dy: np.ndarray,
    width: np.ndarray,
    coverage: np.ndarray,
    max_points: int = 4_000_000,
    scratch: bool = False,
) -> np.ndarray:
    """Draw thick segments centred at (cx, cy) with extent (dx, dy) px and width ``width`` px.

    ``coverage`` is the opacity each segment adds per pixel it fully covers (its area
    integral is coverage·length·width). Returns the summed opacity per pixel
    (H×W float32 view, not clipped; with ``scratch`` a view of this thread's scratch buffer,
    valid until the next call). Segments are sampled every ≤1 px along and across.
    """
    h, w = shape
    length = np.hypot(dx, dy)
    n_along = np.ceil(length).astype(np.int64) + 1
    # the two-tap splat spreads a sample over 2 px across: one sample covers widths ≤ 2 px
    n_across = np.maximum(np.ceil(width).astype(np.int64) - 1, 1)
    counts = n_along * n_across
    total = int(counts.sum())
    if total > max_points:  # keep memory bounded: drop the faintest work first
        keep = np.cumsum(counts) <= max_points
        cx, cy, dx, dy, width, coverage = (a[keep] for a in (cx, cy, dx, dy, width, coverage))
        length, n_along, n_across, counts = length[keep], n_along[keep], n_across[keep], counts[keep]
        total = int(counts.sum())
    wp = w + 3
    # a buffer with a margin (1 px before, 2 after): points outside the frame are clipped into
    # the margin, so no masks are needed; the frame is returned as a view (no copy)
    if scratch:  # reused: no page faults (see scratch)
        from .scratch import buffer

        out = buffer("coverage", ((h + 3) * wp,), zero=True)
    else:
        out = np.zeros((h + 3) * wp, dtype=np.float32)
    frame = out.reshape(h + 3, wp)[1 : h + 1, 1 : w + 1]
    if total == 0:
        return frame
    # per-segment constants first (cheap)
    inv = 1.0 / np.maximum(length, 1e-6)
    ux = np.where(length > 1e-6, dx * inv, 0.0)
    uy = np.where(length > 1e-6, dy * inv, 1.0)
    # a segment with n_across samples across is n_across thin parallel segments
    wide = n_across > 1
    if wide.any():
        m = n_across
        j = np.arange(int(m.sum())) - np.repeat(np.cumsum(m) - m, m)
        rep = lambda a: np.repeat(a, m)  # noqa: E731
        off = rep(width) * ((j + 0.5) / rep(m) - 0.5)  # offset across, from the centre line
        cx, cy = rep(cx) - off * rep(uy), rep(cy) + off * rep(ux)
        dx, dy, ux, uy, length, n_along = rep(dx), rep(dy), rep(ux), rep(uy), rep(length), rep(n_along)
        width, coverage = rep(width / m), rep(coverage)
    step_along = np.where(n_along > 1, 1.0 / np.maximum(n_along - 1, 1), 0.0)
    # sample i of a segment: start + i·d/(n_along − 1), start = c − d/2 (the centre for a
    # single sample), in pixel-centre coordinates + 1 px for the margin (then ≥ 0 after
    # clipping, so truncation is floor)
    sx = cx - np.where(n_along > 1, 0.5 * dx, 0.0) + 0.5
    sy = cy - np.where(n_along > 1, 0.5 * dy, 0.0) + 0.5
    ax, ay = dx * step_along, dy * step_along
    # each sample stands for (length/n_along)·width px² of the segment
    wseg = coverage * (np.maximum(length, 1.0) / n_along) * np.maximum(width, 1.0)
    # two-tap splats (Xiaolin Wu): each sample goes to the nearest pixel along the segment's
    # major axis and is shared linearly between the two nearest pixels across it
    steep = np.abs(dy) >= np.abs(dx)
    for group in (np.flatnonzero(steep), np.flatnonzero(~steep)):
        if len(group):
            _splat(out, wp, h, w, bool(steep[group[0]]), n_along[group], sx[group], sy[group], ax[group],
                   ay[group], wseg[group])
    return frame


def _splat(out, wp, h, w, steep, counts, sx, sy, ax, ay, wseg, chunk=65536):
    """Add ``counts[i]`` samples (sx + k·ax, sy + k·ay), k = 0…counts−1, of weight ``wseg[i]``
    into the flat margin buffer ``out`` (row pitch ``wp``) as two-tap splats."""
    f32 = np.float32
    ends = np.cumsum(counts)
    total = int(ends[-1])
    cuts = np.searchsorted(ends, np.arange(1, total // chunk + 1) * chunk, side="right")
    bounds = [0] + sorted(set(int(c) for c in cuts if 0 < c < len(counts))) + [len(counts)]
    ramp = np.arange(max(int(np.max(np.diff(np.concatenate([[0], ends[np.array(bounds[1:]) - 1]])))), 1), dtype=f32)
    hi_x, hi_y = f32(w + 1), f32(h + 1)
    step = np.int32(1 if steep else wp)
    for s0, s1 in zip(bounds[:-1], bounds[1:]):
        cnt = counts[s0:s1]
        first = (np.cumsum(cnt) - cnt).astype(np.float64)
        n = int(cnt.sum())
        if n == 0:
            continue
        rep = lambda a: np.repeat(a.astype(f32), cnt)  # noqa: E731  per-point copies (sequential: fast)
        # x = sx + (g − first)·ax with g the running index in the chunk
        g = ramp[:n]
        x = rep(ax[s0:s1])
        y = rep(ay[s0:s1])
        wgt = rep(wseg[s0:s1])
        x *= g
        y *= g
        x += rep(sx[s0:s1] - first * ax[s0:s1])
        y += rep(sy[s0:s1] - first * ay[s0:s1])
        np.clip(x, 0.0, hi_x, out=x)
        np.clip(y, 0.0, hi_y, out=y)
        major, minor = (y, x) if steep else (x, y)
        major += f32(0.5)  # rounded along the segment
        mi = minor.astype(np.int32)
        frac = minor - mi.astype(f32)
        base = y.astype(np.int32) * np.int32(wp) if steep else mi * np.int32(wp)
        base += mi if steep else x.astype(np.int32)
        frac *= wgt
        wgt -= frac
        np.add.at(out, base, wgt)
        base += step
        np.add.at(out, base, frac)


def _particle_draws(shape, focal_px, near_m, far_m, per_m3: float, cap: int, seed: int):
    """(rng, n drawn, opacity share per drawn particle) for ``per_m3`` particles per m³ in
    the frustum; more physical particles than ``cap`` are represented by ``cap`` of them."""
    n_phys = per_m3 * frustum_volume_m3(shape, focal_px, near_m, far_m)
    n = int(min(max(n_phys, 0.0), cap))
    return np.random.default_rng(seed), n, (n_phys / n if n else 0.0)


def _image_motion(cx, cy, z, lateral_m_s, fall_m_s, ego_speed_m_s, focal_px, horizon_row, w, exposure_s):
    """Image displacement (dx, dy) px during the exposure of particles at (cx, cy), depth z:
    (f/Z)·(lateral, fall) plus the radial flow r·v_ego/Z away from the focus of expansion."""
    vx = focal_px * lateral_m_s / z + (cx - w / 2.0) * ego_speed_m_s / z
    vy = focal_px * fall_m_s / z + (cy - horizon_row) * ego_speed_m_s / z
    return vx * exposure_s, vy * exposure_s


def defocus_px(focal_px: float, aperture_m: float, depth_m: np.ndarray) -> np.ndarray:
    """Blur-circle diameter (px) of a point at ``depth_m`` for a lens focused at infinity: f·A/Z."""
    return focal_px * aperture_m / depth_m


def rain_coverage(
    shape: tuple[int, int],
    *,
    seed: int,
    rain_rate_mm_h: float,
    exposure_s: float,
    wind_m_s: float,
    ego_speed_m_s: float,
    focal_px: float,
    horizon_row: float,
    aperture_m: float = 0.002,
    near_m: float = 0.5,
    far_m: float = 8.0,
    d_min_mm: float = 1.0,
    max_streaks: int = 30000,
    scratch: bool = False,
) -> np.ndarray:
    """Opacity map (H×W float32, unclipped) of rain streaks seen during one exposure.

    Garg & Nayar (IJCV 2007): Marshall–Palmer drop sizes (D ≥ ``d_min_mm``), uniform in the
    view frustum between ``near_m`` and ``far_m``; fall speed 200·√a; image motion
    (f/Z)·(wind, fall) plus the radial flow r·v_ego/Z away from the focus of expansion;
    streak length |v|·T, width f·D/Z widened by defocus f·A/Z; per-pixel opacity τ/T with
    τ = √a/50 s, spread over the widened streak. More drops than ``max_streaks`` are
    represented by that many, each carrying a proportional share of opacity.
    """
    h, w = shape
    rng, n, share = _particle_draws(shape, focal_px, near_m, far_m, drops_per_m3(rain_rate_mm_h, d_min_mm),
                                    max_streaks, seed)
    if n == 0:
        return np.zeros(shape, dtype=np.float32)
    lam = marshall_palmer_lambda(rain_rate_mm_h)
    diameter_mm = np.minimum(d_min_mm + rng.exponential(1.0 / lam, n), 6.0)
    radius_m = diameter_mm * 0.5e-3
    z = depths_uniform_in_volume(rng, n, near_m, far_m)
    cx = rng.uniform(-0.1 * w, 1.1 * w, n)
    cy = rng.uniform(-0.1 * h, 1.1 * h, n)
    fall = terminal_speed_m_s(radius_m)
    dx, dy = _image_motion(cx, cy, z, wind_m_s, fall, ego_speed_m_s, focal_px, horizon_row, w, exposure_s)
    length = np.hypot(dx, dy)
    width = focal_px * diameter_mm * 1e-3 / z
    blur = defocus_px(focal_px, aperture_m, z)
    tau = np.sqrt(radius_m) / 50.0
    alpha = np.minimum(tau / exposure_s, 1.0) * np.minimum(width, 1.0) * share
    # spread the drop's opacity over its defocused footprint (energy kept)
    lw, ww = np.maximum(length, 1.0), np.maximum(width, 1.0)
    alpha *= (lw * ww) / ((lw + blur) * (ww + blur))
    grow = 1.0 + blur / np.maximum(length, 1e-6)
    return rasterize_segments(shape, cx, cy, dx * grow, dy * grow, width + blur, alpha, scratch=scratch)


def snow_coverage(
    shape: tuple[int, int],
    *,
    seed: int,
    extinction_per_m: float,
    mean_diameter_mm: float,
    exposure_s: float,
    fall_m_s: float,
    wind_m_s: float,
    ego_speed_m_s: float,
    focal_px: float,
    horizon_row: float,
    aperture_m: float = 0.002,
    near_m: float = 0.4,
    far_m: float = 15.0,
    max_flakes: int = 20000,
    scratch: bool = False,
) -> np.ndarray:
    """Opacity map (H×W float32, unclipped) of falling snow flakes seen during one exposure.

    Flake count from the extinction it causes: β = N·2π⟨r²⟩ (large particles, extinction
    efficiency 2), so N = β / (2π⟨r²⟩); exponential sizes (Gunn & Marshall 1958) of mean
    ``mean_diameter_mm``; uniform in the frustum; slow fall (0.5–1.5 m/s) with turbulent
    jitter, so most flakes are blobs, streaks only with long exposure or ego speed;
    opaque flakes (α 0.9) spread over their defocus blur f·A/Z.
    """
    h, w = shape
    mean_r2 = 2.0 * (mean_diameter_mm * 0.5e-3) ** 2  # E[r²] of an exponential radius
    rng, n, share = _particle_draws(shape, focal_px, near_m, far_m, extinction_per_m / (2.0 * math.pi * mean_r2),
                                    max_flakes, seed)
    if n == 0:
        return np.zeros(shape, dtype=np.float32)
    diameter_m = np.clip(rng.exponential(mean_diameter_mm, n), 0.5, 20.0) * 1e-3
    z = depths_uniform_in_volume(rng, n, near_m, far_m)
    cx = rng.uniform(-0.05 * w, 1.05 * w, n)
    cy = rng.uniform(-0.05 * h, 1.05 * h, n)
    fall = fall_m_s * rng.uniform(0.6, 1.4, n)
    drift = wind_m_s + rng.normal(0.0, 0.5, n)  # turbulence
    dx, dy = _image_motion(cx, cy, z, drift, fall, ego_speed_m_s, focal_px, horizon_row, w, exposure_s)
    length = np.hypot(dx, dy)
    width = focal_px * diameter_m / z
    blur = defocus_px(focal_px, aperture_m, z)
    # a blob is a segment as long as it is wide, plus its motion, widened by defocus
    ext = np.maximum(length, 1e-6)
    ux = np.where(length > 1e-6, dx / ext, 0.0)
    uy = np.where(length > 1e-6, dy / ext, 1.0)
    seg = length + width + blur
    thick = width + blur
    # time-integrated opacity of an opaque moving disc = 0.9 × its area (π/4·w²), spread
    # over the drawn footprint
    alpha = 0.9 * (math.pi / 4.0) * width**2 * share / (np.maximum(seg, 1.0) * np.maximum(thick, 1.0))
    # near, defocused flakes (≥ 3 px) are soft round blobs: separable Gaussians (one matrix
    # product for all of them); the rest are drawn as short segments
    big = thick >= 3.0
    out = rasterize_segments(shape, cx[~big], cy[~big], (ux * seg)[~big], (uy * seg)[~big], thick[~big],
                             np.minimum(alpha, 0.95)[~big], scratch=scratch)
    if big.any():
        sx = thick[big] / 2.5 + np.abs(dx[big]) / 3.5
        sy = thick[big] / 2.5 + np.abs(dy[big]) / 3.5
        energy = 0.9 * (math.pi / 4.0) * width[big] ** 2 * share
        peak = np.minimum(energy / (2.0 * math.pi * sx * sy), 0.95)
        add_gaussians(out, cy[big], cx[big], sy, sx, peak)
    return out
