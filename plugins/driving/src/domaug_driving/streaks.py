"""Pure kernels for particles in front of the camera: drop statistics and vectorised streak drawing.

Rain drops and snow flakes are drawn as thick line segments (the path of a particle
during the exposure) into a coverage buffer, all at once, as Xiaolin Wu's antialiased
lines: one sample per pixel along the segment's major axis, weighted by the overlap of
that pixel with the segment (partial at the ends), shared linearly between the two
nearest pixels across it (segments wider than 2 px as parallel thin ones), splatted with
one ``np.add.at`` per chunk of ≤ 2¹⁴ samples (float32, scratch buffers: cache-resident,
no page faults). Segments that miss the frame are dropped first and pixels beyond its
1-px margin are never generated. The area integral (opacity × length × width) is kept
exactly. No per-particle Python loop and no drawing into the input image."""

from __future__ import annotations

import math

import numpy as np

from .scratch import buffer


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
    """Depths (float32) of ``n`` particles uniformly distributed in a frustum (pdf ∝ Z²)."""
    u = rng.random(n, dtype=np.float32)
    return np.cbrt(u * (far_m**3 - near_m**3) + near_m**3)


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

    Coordinates put pixel (r, c) on [c, c + 1) × [r, r + 1). ``coverage`` is the opacity
    each segment adds per pixel it fully covers: its area integral coverage·max(length, 1)·
    max(width, 1) is kept exactly (minus what falls outside the frame). Returns the summed
    opacity per pixel (H×W float32 view, not clipped; with ``scratch`` a view of this
    thread's scratch buffer, valid until the next call).
    """
    h, w = shape
    f32 = np.float32
    segs = tuple(np.asarray(a, dtype=f32).ravel() for a in (cx, cy, dx, dy, width, coverage))
    cx, cy, dx, dy, width, coverage = _visible(segs, h, w)
    length = np.hypot(dx, dy)
    total = coverage * np.maximum(length, 1.0) * np.maximum(width, 1.0)  # area integral of each segment
    cx, cy, dx, dy, total = _thin_lines(cx, cy, dx, dy, width, length, total)
    wp = w + 3
    # a buffer with a margin (1 px before, 2 after) for the taps just outside the frame;
    # the frame is returned as a view (no copy)
    if scratch:  # reused: no page faults (see scratch)
        out = buffer("coverage", ((h + 3) * wp,), zero=True)
    else:
        out = np.zeros((h + 3) * wp, dtype=np.float32)
    frame = out.reshape(h + 3, wp)[1 : h + 1, 1 : w + 1]
    steep = np.abs(dy) >= np.abs(dx)
    budget = [int(max_points)]
    for is_steep in (True, False):
        idx = np.flatnonzero(steep == is_steep)
        if len(idx):
            sub = (lambda a: a) if len(idx) == len(steep) else (lambda a: a.take(idx))  # noqa: E731
            mc, nc, dm, dn, n_major, n_minor = (cy, cx, dy, dx, h, w) if is_steep else (cx, cy, dx, dy, w, h)
            _draw_lines(out, wp, is_steep, sub(mc), sub(nc), sub(dm), sub(dn), sub(total), n_major, n_minor, budget)
    return frame


def _visible(segs: tuple[np.ndarray, ...], h: int, w: int) -> tuple[np.ndarray, ...]:
    """(cx, cy, dx, dy, width, coverage) of the segments whose footprint meets the frame
    (those that miss it cost nothing further: a third of the rain)."""
    cx, cy, dx, dy, width, _ = segs
    ex, ey = np.abs(dx) * 0.5 + width * 0.5 + 2.0, np.abs(dy) * 0.5 + width * 0.5 + 2.0
    seen = np.flatnonzero((cx + ex >= 0) & (cx - ex <= w) & (cy + ey >= 0) & (cy - ey <= h))
    if len(seen) < len(cx):
        return tuple(a.take(seen) for a in segs)
    return segs


def _thin_lines(cx, cy, dx, dy, width, length, total):
    """The segments as lines the two-tap splat can draw: it spreads a line over 2 px
    across, so wider segments become m = ⌈width⌉ − 1 parallel lines, each carrying 1/m of
    the integral. Returns (cx, cy, dx, dy, total) of the lines."""
    f32 = np.float32
    m = np.maximum(np.ceil(width).astype(np.int32) - 1, 1)
    wide = np.flatnonzero(m > 1)
    if not len(wide):
        return cx, cy, dx, dy, total
    mw = m[wide]
    rep = lambda a: np.repeat(a[wide], mw)  # noqa: E731
    j = np.arange(int(mw.sum())) - np.repeat(np.cumsum(mw) - mw, mw)
    off = rep(width) * ((j + 0.5) / np.repeat(mw, mw) - 0.5)  # offset across, from the centre line
    lw = np.maximum(rep(length), 1e-30)
    ux, uy = np.where(lw > 1e-30, rep(dx) / lw, 0.0), np.where(lw > 1e-30, rep(dy) / lw, 1.0)
    narrow = np.flatnonzero(m == 1)
    return tuple(np.concatenate([a[narrow], b.astype(f32)]) for a, b in (
        (cx, rep(cx) - off * uy), (cy, rep(cy) + off * ux), (dx, rep(dx)), (dy, rep(dy)), (total, rep(total / m))))


def _draw_lines(out, wp, steep, mc, nc, dm, dn, total, n_major, n_minor, budget, chunk=16384):
    """Lines along their major axis (rows when ``steep``): one sample per major-axis pixel,
    weighted by the overlap of that pixel with the segment (partial at the ends; the extent
    is at least 1 px, centred), at the minor position of the pixel centre, shared linearly
    between the two nearest minor pixels (Xiaolin Wu's antialiased lines). Pixels whose
    taps would leave the 1-px margin are not generated, so no per-sample clipping."""
    spans = _line_spans(mc, nc, dm, dn, total, n_major, n_minor, budget)
    if spans is None:
        return
    lo, hi, count, a, b, slope, dens, n0 = spans
    w_lo = dens * (np.minimum(b, lo + 1.0) - np.maximum(a, lo))  # end pixels: partial overlap
    w_hi = dens * (np.minimum(b, hi + 1.0) - np.maximum(a, hi))
    n_lo = n0 + lo * slope + 1.0  # + 1: the margin
    major_step, minor_step = (int(wp), 1) if steep else (1, int(wp))
    start = (lo + 1.0).astype(np.int32) * np.int32(major_step)  # flat index of the first pixel's row/column
    ends = np.cumsum(count, dtype=np.int32)
    cuts = np.searchsorted(ends, np.arange(chunk, int(ends[-1]), chunk), side="right")
    bounds = [0] + sorted({int(c) for c in cuts if 0 < c < len(count)}) + [len(count)]
    size = int(np.max(np.diff(np.concatenate([[0], ends[np.array(bounds[1:]) - 1]]))))
    splat = _Splat(size, major_step, minor_step, max(size, 2 * chunk))
    for s0, s1 in zip(bounds[:-1], bounds[1:]):
        splat.add(out, count[s0:s1], start[s0:s1], slope[s0:s1], n_lo[s0:s1], dens[s0:s1], w_lo[s0:s1], w_hi[s0:s1])


def _line_spans(mc, nc, dm, dn, total, n_major, n_minor, budget):
    """The major-axis pixel span [lo, hi] of each line, clipped so that both minor taps stay
    in the 1-px margin, and what drawing it needs: (lo, hi, count, a, b, slope, dens, n0)
    of the lines with pixels (within the ``budget`` of samples, which it spends), or None."""
    ext = np.maximum(np.abs(dm), 1.0)
    a, b = mc - 0.5 * ext, mc + 0.5 * ext  # major extent [a, b]
    slope = np.where(dm != 0.0, dn / np.where(dm != 0.0, dm, 1.0), 0.0)
    dens = total / ext  # opacity·px per unit of major extent
    lo = np.floor(a)
    hi = np.maximum(lo, np.ceil(b) - 1.0)
    # minor pixel-centre coordinate at major pixel i: (nc − ½) + (i + ½ − mc)·slope; its taps
    # must stay in [−1, n_minor]: keep it in [−0.95, n_minor − 0.05] (float32 rounding < 0.005)
    n0 = nc - 0.5 + (0.5 - mc) * slope
    with np.errstate(divide="ignore", invalid="ignore"):
        e1 = (-0.95 - n0) / slope
        e2 = (n_minor - 0.05 - n0) / slope
    flat = slope == 0.0
    inside = (n0 >= -0.95) & (n0 <= n_minor - 0.05)
    lo = np.maximum(lo, np.where(flat, -np.inf, np.ceil(np.minimum(e1, e2))))
    hi = np.minimum(hi, np.where(flat, np.inf, np.floor(np.maximum(e1, e2))))
    lo, hi = np.maximum(lo, -1.0), np.minimum(hi, float(n_major))  # margin rows −1 and n_major
    count = np.where((~flat | inside) & (hi >= lo), hi - lo + 1.0, 0.0).astype(np.int32)
    keep = count > 0
    if budget[0] < int(count.sum(dtype=np.int64)):  # keep memory bounded: drop the last segments
        keep &= np.cumsum(count, dtype=np.int64) <= budget[0]
    idx = np.flatnonzero(keep)
    if not len(idx):
        return None
    spans = (lo, hi, count, a, b, slope, dens, n0)
    if len(idx) < len(keep):
        spans = tuple(v.take(idx) for v in spans)
    budget[0] -= int(spans[2].sum(dtype=np.int64))
    return spans


class _Splat:
    """Adds chunks of lines (≤ ``cap`` samples) into a flat buffer: both taps of every
    sample with one ``np.add.at`` (float32 scratch buffers: cache-resident, no page faults)."""

    def __init__(self, size: int, major_step: int, minor_step: int, cap: int) -> None:
        self.ramp = np.arange(size, dtype=np.float32)  # running sample index in the chunk
        self.ramp_major = np.arange(size, dtype=np.int32) * np.int32(major_step)
        self.major_step, self.minor_step = major_step, minor_step
        # a chunk ends after the segment crossing its nominal end: ≤ size ≤ cap samples
        self.index = buffer("splat_index", (2 * cap,), np.int32)
        self.value = buffer("splat_value", (2 * cap,), np.float32)
        self.minor = buffer("splat_minor", (cap,), np.float32)

    def add(self, out, cnt, start, sl, n_lo, dens, w_lo, w_hi) -> None:
        """One chunk: lines with ``cnt`` samples from flat index ``start``, minor position
        ``n_lo`` + i·``sl``, weight ``dens`` per sample (``w_lo``/``w_hi`` at the ends)."""
        f32 = np.float32
        index, value = self.index, self.value
        first = np.cumsum(cnt, dtype=np.int32) - cnt
        n = int(first[-1] + cnt[-1])
        rep = lambda v: np.repeat(v, cnt)  # noqa: E731
        base, far = index[:n], index[n : 2 * n]
        np.add(rep(start - first * np.int32(self.major_step)), self.ramp_major[:n], out=base)
        minor = np.multiply(self.ramp[:n], rep(sl), out=self.minor[:n])  # (ramp − first)·slope + n_lo; error < 0.005 px
        minor += rep(n_lo - first.astype(f32) * sl)  # float32: int32·float32 would be float64
        low = np.floor(minor)
        frac = np.subtract(minor, low, out=value[n : 2 * n])
        tap = low.astype(np.int32)
        if self.minor_step != 1:
            tap *= np.int32(self.minor_step)
        base += tap
        np.add(base, np.int32(self.minor_step), out=far)
        wgt = rep(dens)
        wgt[first + cnt - 1] = w_hi
        wgt[first] = w_lo
        frac *= wgt
        np.subtract(wgt, frac, out=value[:n])
        np.add.at(out, index[: 2 * n], value[: 2 * n])


def _particle_draws(shape, focal_px, near_m, far_m, per_m3: float, cap: int, seed: int):
    """(rng, n drawn, opacity share per drawn particle) for ``per_m3`` particles per m³ in
    the frustum; more physical particles than ``cap`` are represented by ``cap`` of them."""
    n_phys = per_m3 * frustum_volume_m3(shape, focal_px, near_m, far_m)
    n = int(min(max(n_phys, 0.0), cap))
    return np.random.default_rng(seed), n, (n_phys / n if n else 0.0)


def _uniform32(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    """``n`` float32 draws uniform in [low, high)."""
    u = rng.random(n, dtype=np.float32)
    u *= high - low
    u += low
    return u


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
    # float32 throughout: positions are good to 1e-4 px, and 20 000-drop arrays stay small
    diameter_mm = np.minimum(rng.standard_exponential(n, dtype=np.float32) * (1.0 / lam) + d_min_mm, 6.0)
    radius_m = diameter_mm * 0.5e-3
    z = depths_uniform_in_volume(rng, n, near_m, far_m)
    cx = _uniform32(rng, -0.1 * w, 1.1 * w, n)
    cy = _uniform32(rng, -0.1 * h, 1.1 * h, n)
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

