"""Wheel tracks and lane geometry of the snowy road (see :mod:`.snow_cover`): lanes fitted to
the painted lines, the tracked lanes, the tracks' and the between-track strip's weights with
their ragged edges and meander, and the snowy shoulders' weight."""

from __future__ import annotations

import numpy as np

from .snow_surface import _bicubic

LANE_WIDTH_M = 3.7
#: Wheel tracks: ± this from the lane centre (half a passenger car's track width).
TRACK_OFFSET_M = 0.8
#: Width (m) of a wheel track (tyre ≈ 0.2 m plus lateral wander: 0.3–0.6 m).
TRACK_WIDTH_M = 0.4
#: Width (m) of a track's edge ramp, and std (m) of its irregular displacement (ruts, spray).
TRACK_EDGE_M, TRACK_EDGE_NOISE_M = 0.05, 0.07
#: Std (m) of the tracks' lateral meander along the lane.
TRACK_WANDER_M = 0.08
#: Distance (m) within which the tracks' edges and meander are drawn (beyond, a cell spans them).
TRACK_RANGE_M = 40.0
#: Lanes with wheel tracks on each side of the ego lane (its neighbours).
NEIGHBOUR_LANES = 1
#: Width (m) of the snowy shoulder along the ground region's lateral margins.
VERGE_M = 1.5


def lane_tracks(x: np.ndarray, footprint: np.ndarray, edge: np.ndarray | None = None,
                lanes: int | tuple[int, int] = NEIGHBOUR_LANES) -> np.ndarray:
    """Wheel-track weight (0–1) at lateral lane coordinate ``x`` (m; 0 the ego lane's centre):
    flat bands :data:`TRACK_WIDTH_M` wide at ±:data:`TRACK_OFFSET_M` from the centre of the ego
    lane and of ``lanes`` lanes on each side, or of lanes ``lanes[0]``…``lanes[1]`` (none beyond:
    shoulders and lanes farther out keep
    their snow), their edges displaced by ``edge`` (m: ruts and spray) and ramped over the
    cell's ground ``footprint`` (area kept: far tracks merge into their mean, no aliasing)."""
    rel = _lane_offset(x)
    d = np.abs(np.abs(rel) - np.float32(TRACK_OFFSET_M))
    if edge is not None:
        d -= edge
    return _band(d, np.float32(TRACK_WIDTH_M / 2), footprint) * _tracked(x, lanes, footprint)


def lane_bands(x: np.ndarray, footprint: np.ndarray, edge: np.ndarray,
               lanes: int | tuple[int, int] = NEIGHBOUR_LANES) -> tuple[np.ndarray, np.ndarray]:
    """(:func:`lane_tracks`, and the same for the strip between a lane's two tracks) with the
    same ``edge`` (added to the strip's half-width where it narrows the tracks)."""
    rel = np.abs(_lane_offset(x))
    s = np.sqrt(np.float32(TRACK_EDGE_M**2) + footprint * footprint)
    lane = _tracked(x, lanes, footprint)
    d = np.abs(rel - np.float32(TRACK_OFFSET_M)) - edge
    wheel = _band(d, np.float32(TRACK_WIDTH_M / 2), footprint, s) * lane
    rel += edge
    return wheel, _band(rel, np.float32(TRACK_OFFSET_M - TRACK_WIDTH_M / 2), footprint, s, 1) * lane


def _tracked(x: np.ndarray, lanes: int | tuple[int, int], footprint: np.ndarray) -> np.ndarray:
    """0–1: lane coordinate ``x`` lies in the lanes ``lanes`` (±n, or (first, last)), ramped over
    twice the cell's footprint (far away, where the tracks merge into their lane's mean, the
    tracked lanes' edge is no sharp line)."""
    lo, hi = (-lanes, lanes) if isinstance(lanes, int) else lanes
    ramp = np.maximum(np.float32(2.0) * footprint, np.float32(0.05))
    left = np.clip((x - np.float32((lo - 0.5) * LANE_WIDTH_M)) / ramp + np.float32(0.5), 0.0, 1.0)
    return left * np.clip((np.float32((hi + 0.5) * LANE_WIDTH_M) - x) / ramp + np.float32(0.5), 0.0, 1.0)


def _lane_offset(x: np.ndarray) -> np.ndarray:
    """Offset from the nearest lane centre at lane coordinate ``x`` (0: the ego lane's centre)."""
    rel = x + np.float32(LANE_WIDTH_M / 2)  # (x + W/2) mod W − W/2 (np.mod on float32 is ~5× slower)
    rel -= np.floor(rel * np.float32(1.0 / LANE_WIDTH_M)) * np.float32(LANE_WIDTH_M)
    rel -= np.float32(LANE_WIDTH_M / 2)
    return rel


def _band(d: np.ndarray, half: np.float32, footprint: np.ndarray, s: np.ndarray | None = None,
          per_lane: int = 2) -> np.ndarray:
    """1 where ``d`` < ``half`` with a linear edge over s = √(edge² + footprint²); for cells
    wider than the band (s > 2·half) scaled to keep its area, and blended into its lane
    mean (``per_lane`` bands per lane) as the footprint reaches half a lane."""
    if s is None:
        s = np.sqrt(np.float32(TRACK_EDGE_M**2) + footprint * footprint)
    band = np.clip((half - d) / s + np.float32(0.5), 0.0, 1.0)
    s = np.maximum(s, np.float32(2.0) * half)  # the ramp's area is 2·half up to there
    band *= np.float32(2.0) * half * s / np.square(half + np.float32(0.5) * s)
    far = np.clip(footprint * np.float32(2.0 / LANE_WIDTH_M), 0.0, 1.0)
    band += far * (np.float32(2.0 * per_lane * half / LANE_WIDTH_M) - band)
    return band.astype(np.float32, copy=False)


def track_edges(x: np.ndarray, z: np.ndarray, footprint: np.ndarray, seed: int) -> tuple[np.ndarray, ...]:
    """(edge, wander, stretch) at lane coordinates (x, z) m: the displacement (m) of the wheel
    tracks' edges, Gaussian value noise :data:`TRACK_EDGE_NOISE_M` strong correlated over
    0.15 m across and 1.2 m along the lane (ruts, tyre spray; at most ±⅓ of the track width),
    and the tracks' lateral meander (drivers' lateral wander), :data:`TRACK_WANDER_M` strong
    over 1 m across and 12 m along, and unit noise over 1 m across and 2.5 m along (stretches
    of the tracks more or less worn: slush bridges); the edges' faded by the cell's footprint,
    all three over the last third of :data:`TRACK_RANGE_M`."""
    reach_x = (NEIGHBOUR_LANES + 0.5) * LANE_WIDTH_M + 2.0
    rng = np.random.default_rng(seed)
    out = []
    # faded out over the last third of the range (no line across the road where they stop)
    window = np.clip((np.float32(TRACK_RANGE_M) - z) / np.float32(TRACK_RANGE_M / 3), 0.0, 1.0)
    for (cx, cz), amp in (((0.15, 1.2), TRACK_EDGE_NOISE_M), ((1.0, 12.0), TRACK_WANDER_M), ((1.0, 2.5), 1.0)):
        nx, nz = int(2 * reach_x / cx) + 4, int(TRACK_RANGE_M / cz) + 4
        lattice = rng.standard_normal((nz, nx), dtype=np.float32)
        mx = np.clip((x + np.float32(reach_x)) / np.float32(cx), 0, nx - 1).astype(np.float32)
        my = np.clip(z / np.float32(cz), 0, nz - 1).astype(np.float32)
        # the edges' wiggle averages out in a wide cell; the metre-scale fields need no fade
        fade = np.exp(-np.square(footprint / np.float32(2.0 * cx))) * window if cx < 0.5 else window
        out.append(_bicubic(lattice, mx, my) * fade * np.float32(amp))
    # a rut narrows a track at most to a third (no ring-shaped islands of snow inside it)
    return np.clip(out[0], np.float32(-TRACK_WIDTH_M / 3), np.float32(TRACK_WIDTH_M / 3)), out[1], out[2]


def verge_weight(ground: np.ndarray, x: np.ndarray) -> np.ndarray:
    """0–1 near the lateral margins of each row's ground region (1 at its edge, 0 beyond
    :data:`VERGE_M` inside it): lateral ground distance to the row's first/last ground cell."""
    ws = ground.shape[1]
    has = ground.any(axis=1)
    first = np.where(has, np.argmax(ground, axis=1), 0)
    last = np.where(has, ws - 1 - np.argmax(ground[:, ::-1], axis=1), ws - 1)
    rows = np.arange(ground.shape[0])
    xl, xr = x[rows, first][:, None], x[rows, last][:, None]
    d = np.minimum(np.abs(x - xl), np.abs(xr - x))
    return np.clip(1.0 - d / np.float32(VERGE_M), 0.0, 1.0).astype(np.float32)


def lane_frame(ground: np.ndarray, ratio: np.ndarray, x: np.ndarray, z: np.ndarray) -> tuple[float, float]:
    """(shift m, heading) of the lane grid, its lines at X = shift + heading·Z ± W/2 + n·W,
    fitted to the painted lane lines: the heading (−0.15…0.15, the road's angle to the
    camera axis) and phase maximising the circular coherence of the lateral positions (mod
    the lane width) of lane paint (ground cells ≥ 2.5× as bright as their row's road) within
    30 m; (0, 0) (ego lane centred on the camera, along it) without ≥ 20 paint cells in a
    consistent phase."""
    paint = ground & (ratio > 2.5) & (z < 30.0)
    if paint.sum() < 20:
        return 0.0, 0.0
    step = max(1, int(paint.sum()) // 300)  # 300 cells fix the phase to a few cm
    xs, zs = x[paint][::step].astype(np.float64), z[paint][::step].astype(np.float64)
    headings = np.linspace(-0.15, 0.15, 21)
    phases = np.exp(2j * np.pi * (xs[None, :] - headings[:, None] * zs[None, :]) / LANE_WIDTH_M).mean(axis=1)
    best = int(np.argmax(np.abs(phases)))
    if abs(phases[best]) < 0.3:
        return 0.0, 0.0
    boundary = float(np.angle(phases[best])) / (2.0 * np.pi) * LANE_WIDTH_M  # a lane line at X ≡ this
    return float(boundary % LANE_WIDTH_M - LANE_WIDTH_M / 2), float(headings[best])  # lines at ±W/2 unshifted


def tracked_lanes(paint: np.ndarray, xl: np.ndarray, z: np.ndarray) -> tuple[int, int]:
    """(first, last) lane index with wheel tracks: the ego lane's neighbours, but none beyond
    a solid line bounding the ego lane (the road's edge line: paint within 0.3 m of it in ≥ 60 %
    of the 1 m steps of 6–20 m ahead; a dashed line is painted over a quarter to a third)."""
    out = []
    for side in (-1, 1):
        near = paint & (np.abs(xl - np.float32(side * LANE_WIDTH_M / 2)) < 0.3) & (z >= 6.0) & (z < 20.0)
        steps = np.unique(z[near].astype(np.int32)).size if near.any() else 0
        out.append(0 if steps >= 0.6 * 14 else side * NEIGHBOUR_LANES)
    return out[0], out[1]
