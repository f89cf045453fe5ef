"""A cloud-top height field for cloud types (cumulus cells, stratocumulus decks, cirrus streaks).

Pure kernels (no randomness beyond counter-based hashes of absolute coordinates, no I/O),
so a window of a raster gets the same field as the whole.

Cumulus: thermals on three jittered lattices (cell radii 250–450, 450–750, 750–1000 m, i.e.
diameters 0.5–2 km before the cloud base cuts them; smaller cells more numerous, as the power-law size spectra of
fair-weather cumulus, Wood & Field, J. Climate 24, 2011) each raise a paraboloid dome whose
top is roughened by turbulence (±``texture``·1.5·n/(1 + |n|), n a fractal noise) and whose
margin carries turrets (``lobe_m``: lobed outlines, not ellipses). Stratocumulus is a deck (a
smooth field) of closed convective cells 1–4 km across (a Voronoi pattern, thick in the cell
centres, thin on the rims; Wood, Mon. Wea. Rev. 140, 2012). Cirrus is a
fractal field smeared along the wind (fall streaks). The cloud base is the level that gives
the requested coverage; the geometric thickness above it, D, gives the optical thickness of
an adiabatic water cloud ``τ = τ_ref·(D / D_ref)^(5/3)`` (Brenguier et al., J. Atmos. Sci. 57,
2000), linear in D for ice (cirrus). Cumulus τ_ref = 5–15 at D_ref = 300 m: the adiabatic liquid water
path ½·Γ·D² (Γ ≈ 2 g m⁻³ km⁻¹) = 90 g m⁻² at 0.5–0.8 of adiabatic (entrainment) and r_e = 8–14 µm,
τ = 9·LWP / (5·ρ_w·r_e) (Brenguier et al. 2000).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from domaug.kit import convolve, fractal_noise, line_kernel

from .bands import percentiles
from .pixel_random import pixel_uniform


@dataclass(frozen=True)
class CloudType:
    """A cloud type's defaults: sizes in metres, optical thickness, heights."""

    levels_m: tuple[tuple[float, float], ...]  # cumulus cell radius classes (min, max) in metres
    deck: float                                # weight of the deck field (0: separate cells)
    deck_size_m: float
    streak: float                              # cirrus: streak length / width (0: none)
    coverage: tuple[float, float]
    tau_ref: tuple[float, float]               # τ at D_ref
    depth_ref_m: float
    depth_m: tuple[float, float]               # depth of the largest cells (∝ √radius below)
    base_m: tuple[float, float]                # cloud base height (shadow geometry)
    texture: float
    ice: bool


CLOUD_TYPES: dict[str, CloudType] = {
    "cumulus": CloudType(((250.0, 450.0), (450.0, 750.0), (750.0, 1000.0)), 0.0, 0.0, 0.0, (0.1, 0.4),
                         (5.0, 15.0), 300.0, (300.0, 1000.0), (600.0, 1500.0), 0.2, False),
    "stratocumulus": CloudType((), 1.0, 8000.0, 0.0, (0.6, 0.95), (4.0, 12.0), 300.0, (150.0, 300.0),
                               (500.0, 1500.0), 0.3, False),
    "cirrus": CloudType((), 1.0, 6000.0, 8.0, (0.2, 0.7), (0.3, 1.5), 1000.0, (0.0, 0.0),
                        (8000.0, 11000.0), 0.0, True),
}

#: the cloud base (coverage quantile) is taken on at most this many samples of the full raster
QUANTILE_PX = 1024 * 1024
#: dome profile D·(1 − (d/R)²)^p: p = 1 a paraboloid, smaller p flatter tops and steeper sides
DOME_EXPONENT = 1.0
#: fraction of a lattice cell's half width a cell may use (the rest is jitter room)
LATTICE_PER_RADIUS = 2.8


def dome_field(rows: np.ndarray, cols: np.ndarray, *, seed: int, levels_px: Sequence[Sequence[float]],
               depth_m: Sequence[float], presence: float, cluster_px: float) -> np.ndarray:
    """Max over the cells of every level of D_i·(1 − (d/R_i)²) (metres, float32) at the
    absolute pixel positions ``rows`` × ``cols`` (1-D, increasing pixel-centre coordinates).

    Each size class puts one candidate cell in each square of two lattices (the second offset
    by half a square) of side 2.8·R_max, radius log-uniform in [R_min, R_max], jittered so that
    it stays inside its square: a pixel meets only its own square's cell. A cell is there with
    probability ``presence``·(1 + n), n a fractal field of ``cluster_px`` (clusters and clear
    gaps); its depth is uniform in ``depth_m`` times √(R / R_largest) (small cells are
    shallower, aspect ≈ 1 as in cumulus humilis); its outline an ellipse of axis ratio 1–1.8 at
    a random orientation (area πR²).
    """
    out = np.zeros((rows.size, cols.size), np.float32)
    r_top = max(hi for _, hi in levels_px)
    for k, (r_min, r_max) in enumerate(2 * [tuple(v) for v in levels_px]):
        lat = LATTICE_PER_RADIUS * r_max
        half = 0.5 * lat if k >= len(levels_px) else 0.0  # the second lattice of a size class: offset by ½
        ii = np.floor((rows + half) / lat).astype(np.int64)
        jj = np.floor((cols + half) / lat).astype(np.int64)
        cells = _lattice_cells(seed + 101 * k, (int(ii[0]), int(jj[0])), (int(ii[-1]) - int(ii[0]) + 1,
                               int(jj[-1]) - int(jj[0]) + 1), (r_min, r_max), lat, half, depth_m, presence,
                               cluster_px, r_top)
        _stamp(out, rows, cols, ii - ii[0], jj - jj[0], cells)
    return out


def _lattice_cells(seed: int, origin, shape, radii, lat: float, half: float, depth_m, presence: float,
                   cluster_px: float, r_top: float) -> dict[str, np.ndarray]:
    """Per lattice square (absolute indices from ``origin``): centre, ellipse form A, B, C of
    d²/R² = A·dy² + B·dx² + C·dy·dx, and depth (0 where no cell)."""
    r_min, r_max = radii
    u = [pixel_uniform(seed + m, shape, origin) for m in range(7)]
    radius = r_min * (r_max / r_min) ** u[0]
    stretch = np.sqrt(1.0 + 0.8 * u[5])  # semi-axes R·s and R/s
    room = lat / 2.0 - radius * stretch
    cy = (np.arange(origin[0], origin[0] + shape[0])[:, None] + 0.5) * lat - half + (2.0 * u[1] - 1.0) * room
    cx = (np.arange(origin[1], origin[1] + shape[1])[None, :] + 0.5) * lat - half + (2.0 * u[2] - 1.0) * room
    cluster = fractal_noise(shape, seed=seed ^ 0xC105, scale_px=cluster_px / lat, octaves=2, persistence=0.5,
                            offset=origin)
    lo, hi = depth_m
    turn = np.pi * u[6]
    c2, s2 = np.cos(turn) ** 2, np.sin(turn) ** 2
    a_s, b_s, r2 = 1.0 / stretch**2, stretch**2, radius * radius
    return {"cy": cy, "cx": cx, "qa": (c2 * a_s + s2 * b_s) / r2, "qb": (s2 * a_s + c2 * b_s) / r2,
            "qc": 2.0 * np.sin(turn) * np.cos(turn) * (a_s - b_s) / r2,
            "depth": (lo + (hi - lo) * u[3]) * np.sqrt(radius / r_top) * (u[4] < presence * (1.0 + cluster))}


def _stamp(out: np.ndarray, rows: np.ndarray, cols: np.ndarray, li: np.ndarray, lj: np.ndarray,
           cells: Mapping[str, np.ndarray]) -> None:
    """``out = max(out, D·max(0, 1 − q))`` one lattice row at a time: along such a band every
    column meets one cell, so the cell constants are 1-D rows and the work is broadcasting."""
    starts = np.flatnonzero(np.diff(li, prepend=-1))
    ends = np.append(starts[1:], li.size)
    f32 = np.float32
    for a, b in zip(starts, ends):
        i = li[a]
        depth = cells["depth"][i][lj].astype(f32)
        if not depth.any():
            continue
        dx = cols - cells["cx"][i][lj]
        qa = cells["qa"][i][lj].astype(f32)
        b2 = (dx * cells["qc"][i][lj]).astype(f32)
        b1 = (dx * dx * cells["qb"][i][lj]).astype(f32)
        dy = (rows[a:b, None] - cells["cy"][i][lj][None, :]).astype(f32)
        q = dy * qa
        q += b2
        q *= dy
        q += b1              # q = A·dy² + C·dy·dx + B·dx²
        np.subtract(f32(1.0), q, out=q)
        np.maximum(q, 0.0, out=q)
        if DOME_EXPONENT != 1.0:
            np.power(q, f32(DOME_EXPONENT), out=q)
        q *= depth
        np.maximum(out[a:b], q, out=out[a:b])


def closed_cells(rows: np.ndarray, cols: np.ndarray, *, seed: int, cell_px: float) -> np.ndarray:
    """Closed convective cells (a jittered-lattice Voronoi pattern, Worley 1996): 1 − F1/F2 with
    F1, F2 the distances to the nearest and second-nearest cell centre (float32, 1 at a cell's
    centre, 0 on the rims between cells) at the absolute pixel positions ``rows`` × ``cols``."""
    ii = np.floor(rows / cell_px).astype(np.int64)
    jj = np.floor(cols / cell_px).astype(np.int64)
    origin = (int(ii[0]) - 1, int(jj[0]) - 1)
    shape = (int(ii[-1]) - int(ii[0]) + 3, int(jj[-1]) - int(jj[0]) + 3)
    py = (np.arange(origin[0], origin[0] + shape[0])[:, None] + pixel_uniform(seed, shape, origin)) * cell_px
    px = (np.arange(origin[1], origin[1] + shape[1])[None, :] + pixel_uniform(seed + 1, shape, origin)) * cell_px
    li, lj = ii - origin[0], jj - origin[1]
    out = np.empty((rows.size, cols.size), np.float32)
    starts = np.flatnonzero(np.diff(li, prepend=-1))
    for a, b in zip(starts, np.append(starts[1:], li.size)):
        i = li[a]
        f1 = np.full((b - a, cols.size), np.inf, np.float32)
        f2 = f1.copy()
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                dx = (cols - px[i + di][lj + dj]).astype(np.float32)
                dy = (rows[a:b, None] - py[i + di][lj + dj][None, :]).astype(np.float32)
                d = dy * dy
                d += dx * dx
                np.minimum(f2, np.maximum(f1, d), out=f2)
                np.minimum(f1, d, out=f1)
        np.sqrt(f1, out=f1)
        np.sqrt(f2, out=f2)
        f1 /= f2
        np.subtract(np.float32(1.0), f1, out=out[a:b])
    return out


def height_field(shape: Sequence[int], offset: Sequence[int], params: Mapping[str, Any], step: int = 1) -> np.ndarray:
    """Cloud-top height above an arbitrary level (metres, float32) on a grid of ``shape``
    samples every ``step`` pixels from absolute pixel ``offset``; thresholded at the cloud
    base it is the cloud's geometric thickness."""
    h, w = (int(s) for s in shape)
    rows = offset[0] + step * np.arange(h, dtype=np.float64) + step / 2.0
    cols = offset[1] + step * np.arange(w, dtype=np.float64) + step / 2.0
    seed = int(params["seed"])
    field = np.zeros((h, w), np.float32)
    if params["levels_px"]:
        field = dome_field(rows, cols, seed=seed, levels_px=params["levels_px"], depth_m=params["depth_m"],
                           presence=float(params["presence"]), cluster_px=float(params["cluster_px"]))
        if params["texture"] > 0:  # turbulent, cauliflower tops; the thin edges stay smooth
            n = fractal_noise((h, w), seed=seed ^ 0x7E57, scale_px=float(params["texture_scale_px"]) / step,
                              octaves=3, persistence=0.55, offset=_grid_offset(offset, step))
            soft = np.abs(n)  # bounded, 1.5·n/(1 + |n|): turrets and shallow dips, not cracks through the
            soft += np.float32(1.0)  # cell (n reaches ±4σ); exact IEEE operations (np.tanh's SIMD and scalar
            n *= np.float32(1.5)  # paths differ in the last bit, and windows must equal the whole)
            n /= soft
            lobes = _lobes(field, n, float(params.get("lobe_m", 0.0)))
            top = np.float32(0.5 * float(params["depth_m"][1]))
            n *= np.minimum(field, top)
            n *= np.float32(params["texture"]) / top
            n += np.float32(1.0)
            np.maximum(n, 0.0, out=n)
            field *= n
            if lobes is not None:
                field += lobes
                np.maximum(field, 0.0, out=field)
    if params.get("closed_cells_px"):
        cells = closed_cells(rows, cols, seed=seed ^ 0x5C, cell_px=float(params["closed_cells_px"]))
        np.sqrt(cells, out=cells)  # flat-topped cells, thin rims
        if params["texture"] > 0:  # turbulence at a third of the cell size: c·(1 + ½t·n) + ½t·n, the added
            n = fractal_noise((h, w), seed=seed ^ 0x7E57,  # part bends and breaks the rims (a product alone
                              scale_px=float(params["closed_cells_px"]) / 3 / step,  # keeps them on the
                              octaves=4, persistence=0.6, offset=_grid_offset(offset, step))  # Voronoi edges)
            n *= np.float32(0.5 * params["texture"])
            n *= cells + np.float32(1.0)
            cells += n
        cells *= np.float32(params["closed_cells_depth_m"])
        field += cells
    if params["deck"] > 0:
        field += np.float32(params["deck"]) * _deck(h, w, offset, params, step)
    return field


#: the lobes fade in over the first this many metres of a cell's height (none outside cells)
LOBE_RAMP_M = 100.0


def _lobes(field: np.ndarray, soft_noise: np.ndarray, lobe_m: float) -> np.ndarray | None:
    """Turrets on a cell's margin: ``lobe_m``·s(n)·min(D / ramp, 1) metres, s halved where < 0 (None when 0), so the
    outline the cloud base cuts is lobed, not an ellipse (the dome's own relief is too steep
    there for the relative texture to move it)."""
    if lobe_m <= 0:
        return None
    lobes = soft_noise * np.float32(0.5)  # turrets rise: dips between them half as deep (max(s, s/2))
    np.maximum(lobes, soft_noise, out=lobes)
    lobes *= np.minimum(field, np.float32(LOBE_RAMP_M))
    lobes *= np.float32(lobe_m / LOBE_RAMP_M)
    return lobes


def _grid_offset(offset: Sequence[int], step: int) -> tuple[int, int]:
    return int(offset[0]) // step, int(offset[1]) // step


def _deck(h: int, w: int, offset: Sequence[int], params: Mapping[str, Any], step: int) -> np.ndarray:
    """A smooth deck (metres): fractal noise of the deck size; for cirrus smeared along the wind."""
    scale = float(params["deck_scale_px"]) / step
    amp = np.float32(params["deck_depth_m"])
    streak = float(params["streak"])
    if streak <= 0:
        n = fractal_noise((h, w), seed=int(params["seed"]) ^ 0xDEC, scale_px=scale, octaves=5, persistence=0.55,
                          offset=_grid_offset(offset, step))
        return (n + np.float32(1.5)) * amp
    seed, wind = int(params["seed"]) ^ 0xC1, float(params["wind_deg"])
    n = _streaks(h, w, _grid_offset(offset, step), seed, scale, streak, wind)
    n *= np.float32(1.0 / _streak_std(seed, scale, streak, wind))  # a constant: windows equal the whole
    return (n + np.float32(1.5)) * amp


def _streaks(h: int, w: int, offset: Sequence[int], seed: int, scale: float, streak: float,
             wind_deg: float) -> np.ndarray:
    """Fractal noise smeared along the wind over half the deck size (cirrus fall streaks)."""
    length = max(3, int(round(scale * 0.5)))  # odd px
    length += 1 - length % 2
    pad = length // 2 + 1
    n = fractal_noise((h + 2 * pad, w + 2 * pad), seed=seed, scale_px=scale / streak ** 0.5,
                      octaves=5, persistence=0.6, offset=(offset[0] - pad, offset[1] - pad))
    return convolve(n, line_kernel(length, wind_deg), 2)[pad:pad + h, pad:pad + w]


@functools.lru_cache(maxsize=16)
def _streak_std(seed: int, scale: float, streak: float, wind_deg: float) -> float:
    """The std of :func:`_streaks` on a fixed reference patch (four smears wide, 256–1024 px):
    one normalisation for every window of a raster (a window's own std would leave seams)."""
    side = int(min(1024, max(256, 2 * scale)))
    return max(float(_streaks(side, side, (0, 0), seed, scale, streak, wind_deg).std()), 1e-6)


@functools.lru_cache(maxsize=16)
def _base_cached(key: tuple, full_shape: tuple[int, int], coverage: float) -> float:
    params = dict(key)
    h, w = full_shape
    k = max(1, math.ceil(math.sqrt(h * w / QUANTILE_PX)))  # ≤ 1 Mpx of samples for the quantile
    field = height_field((max(1, h // k), max(1, w // k)), (0, 0), params, step=k)
    return _quantile_base(field, coverage, float(params["visible_depth_m"]))


def _quantile_base(field: np.ndarray, coverage: float, visible_depth: float) -> float:
    """Cloud base so that field − base ≥ visible_depth on a fraction ``coverage`` of ``field``."""
    if coverage <= 0:
        return float(field.max()) + 1.0
    if coverage >= 1:
        return float(field.min()) - visible_depth - 1.0
    flat = field.reshape(-1)
    if float(flat.min()) < 0.0:
        return percentiles(flat, [100.0 * (1.0 - coverage)])[0] - visible_depth
    # separate cells: where no cell is there is no cloud, whatever the coverage (base ≥ 0)
    return max(_nonnegative_quantile(flat, 1.0 - coverage) - visible_depth, 0.0)


def _nonnegative_quantile(flat: np.ndarray, q: float) -> float:
    """``np.quantile(flat, q)`` (linear) of values ≥ 0, sorting only the positive ones (the
    clear sky between cumulus cells is most of the raster)."""
    pos = flat[flat > 0]
    zeros = flat.size - pos.size
    p = q * (flat.size - 1)
    i = int(math.floor(p))
    if i >= zeros:  # the i-th and (i+1)-th smallest are both positive: a partial sort of the positives
        return percentiles(pos, [100.0 * (p - zeros) / max(pos.size - 1, 1)])[0] if pos.size > 1 else float(pos[0])
    if p == i or i + 1 < zeros:
        return 0.0
    return float(pos.min()) * (p - i)  # between the last zero and the smallest positive


def cloud_base(params: Mapping[str, Any], full_shape: Sequence[int], whole: np.ndarray | None = None) -> float:
    """The level (m) above which a fraction ``coverage`` of the full raster is visible cloud
    (thickness ≥ ``visible_depth_m``); from ``whole`` when the field of the full raster is at
    hand, else from the field on a ≤ 1 Mpx grid (the same for every window)."""
    coverage = float(params["coverage"])
    if whole is not None:
        return _quantile_base(whole, coverage, float(params["visible_depth_m"]))
    key = tuple(sorted((k, _hashable(v)) for k, v in params.items() if k in FIELD_KEYS))
    return _base_cached(key, (int(full_shape[0]), int(full_shape[1])), coverage)


#: the params the height field depends on
FIELD_KEYS = ("seed", "levels_px", "depth_m", "presence", "cluster_px", "closed_cells_px", "closed_cells_depth_m",
              "pixel_m", "texture", "texture_scale_px", "lobe_m", "deck",
              "deck_scale_px", "deck_depth_m", "streak", "wind_deg", "visible_depth_m")


def _hashable(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return tuple(_hashable(x) for x in v)
    return v


def optical_thickness(depth_m: np.ndarray, tau_ref: float, depth_ref_m: float, ice: bool) -> np.ndarray:
    """τ of a cloud of geometric thickness D (in place): τ_ref·(D/D_ref)^(5/3) (adiabatic
    water cloud), τ_ref·D/D_ref (ice)."""
    depth_m /= np.float32(depth_ref_m)
    if not ice:  # x^(5/3) = x·∛x²
        c = np.cbrt(depth_m)
        c *= c
        depth_m *= c
    depth_m *= np.float32(tau_ref)
    return depth_m
