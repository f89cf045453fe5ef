"""Snow lying in the scene: where it settles, on the coarse grid of :func:`.scene.coarse_scene`.

Snow settles on upward-facing surfaces that traffic does not clear (von Bernuth, Volk &
Bringmann, ITSC 2019, put it where the surface normal points up; here the pop-up layout
stands in for the normals):

- **the road** (layout ``GROUND``): laid out in ground-plane metres (X across, Z along,
  from the flat-road camera), lanes 3.7 m wide, their lines fitted (offset and heading) to
  the painted lane lines seen within 30 m (else the ego lane centred on, and along, the
  camera axis). The ego lane and its neighbours (none beyond a solid line bounding the ego
  lane: the road's edge) carry two **wheel tracks** each (±0.8 m from the lane centre,
  0.4 m wide, flat-bottomed with ragged edges — ruts, tyre spray — meandering a few cm and
  more or less worn along their length) that traffic keeps darker and wet; the strip
  between a lane's tracks holds thinner slush; snow lies longest between the lanes and on
  the shoulders, so lane markings disappear progressively as ``cover`` grows. Lanes
  farther out are untracked (no fan of tracks across the whole road);
- **verges**: the lateral margins of the ground region (the shoulder, ≈ 1.5 m) are white
  out to a ragged line as soon as snow lies at all, and so are grass verges and slopes that
  the colour-based layout calls vertical (grass-coloured regions below the horizon reaching
  the frame's side); specks and ≤ 2-cell slivers the layout calls vertical inside the road
  (litter, tar lines, the bonnet's edge) are road;
- **objects the layout took for road** (a grey or white car on grey asphalt): runs of cells
  much brighter or darker than the row's road and wider than 0.8 m on the ground (lane
  paint is 0.1–0.3 m), in regions that would stand ≥ 0.4 m tall and fill their box (not a
  tar patch or a concrete strip) are not road and get no road snow. The snow thins over
  ~2 cells towards whatever is not road, so the layout's cell-shaped regions show no
  staircase of white blocks;
- **tops of vertical objects** (layout ``VERTICAL``): a thin cap (one grid cell) where
  the cell above is sky or ground and the image has an edge there too (tree crowns, car
  roofs against the road, wall tops; not the layout's staircase risers), and on strong
  horizontal edges inside them running ≥ 9 cells (roofs, ledges), tapered at their ends; box interiors
  never get more than their roof band. Snow never lies on the rest of a vehicle.

Patches have sharp, ragged edges (the noise thresholded over ±0.05 of its std, its finest
octaves making the edge irregular) and are thicker, whiter, inside. Patchiness is isotropic
value noise (four octaves, 2 m down to 0.12 m cells, each rotated by a random angle) on the conformal (log-polar) map of the image about the vanishing
point: locally isotropic in the image, its features shrink towards the vanishing point as
the road's lateral scale f/Z does. (On the flat road plane itself an isotropic albedo map
is foreshortened Z/h times — 4× at 5 m, 40× at 50 m — into horizontal smears; slush and
patches on a used road are drawn out along the lanes by the traffic, and this map keeps
them round in the image instead.) Each octave is faded by the cell's footprint
(exp(−(footprint/cell)²): a pre-filter), so the far road does not alias into moiré.
No radial or periodic pattern: nothing is indexed by image angle alone or repeated.
"""

from __future__ import annotations

import functools
from typing import Any, Mapping, NamedTuple

import numpy as np

from domaug.kit import cv2_module

from .layout import EGO, GROUND, SKY, VERTICAL
from .overcast import luma
from .plane_ops import upsample

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
#: Bright or dark runs on the "ground" wider than this (m) are objects, not lane paint.
OBJECT_WIDTH_M = 0.8
#: Objects on the "ground" stand at least this tall (m; cars 1.4–1.8, a tar patch lies flat).
OBJECT_HEIGHT_M = 0.4
#: Cap on a strong horizontal edge inside a vertical object (a ledge, a roof line): this × cover.
EDGE_CAP = 0.6
#: Noise octaves: (cell size in metres, amplitude).
OCTAVES = ((2.0, 1.0), (0.8, 0.6), (0.32, 0.35), (0.12, 0.2))
#: Gaussian σ (cells) over which the lying snow thins towards what is not road.
FEATHER_CELLS = 1.5
#: Farthest ground distance (m) of the lane geometry (rows nearer the horizon take it).
Z_MAX_M = 200.0


class LyingSnow(NamedTuple):
    """Lying snow on the coarse grid: ``amount`` (0–1 fraction of each cell covered),
    ``texture`` (zero-mean isotropic ground-plane noise, for the snow's albedo) and
    ``tracks`` (0–1 wheel-track weight on the ground, for the wet darkening) and ``ground``
    (bool: the road surface, without the objects the layout mistook for it)."""

    amount: np.ndarray
    texture: np.ndarray
    tracks: np.ndarray
    ground: np.ndarray


def ground_coords(shape: tuple[int, int], k: int, camera: Mapping[str, float],
                  width_px: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, Z, footprint) in metres for the cells of a coarse grid (cell (i, j) = full pixel
    (k·i + k//2, k·j + k//2)) on the flat road Z = f·h/(v + 0.5 − v_h), X = (u + 0.5 − W/2)·Z/f;
    footprint is the ground length one cell spans (k·max(Z, |X|)·Z/(f·h)). Rows at or above
    the horizon get Z = :data:`Z_MAX_M`."""
    hs, ws = shape
    f, vh, ch = float(camera["focal_length_px"]), float(camera["horizon_row"]), float(camera["camera_height_m"])
    v = np.arange(hs, dtype=np.float64) * k + k // 2 + 0.5
    below = v - vh
    z = np.where(below > 0, f * ch / np.maximum(below, 1e-6), Z_MAX_M)
    z = np.minimum(z, Z_MAX_M)
    u = np.arange(ws, dtype=np.float64) * k + k // 2 + 0.5 - width_px / 2.0
    x = (z[:, None] * u[None, :] / f).astype(np.float32)
    # one cell down moves the ground point by k·Z²/(f·h) along Z and k·|X|·Z/(f·h) across
    foot = (k * z[:, None] / (f * ch) * np.maximum(z[:, None], np.abs(x))).astype(np.float32)
    return x, np.broadcast_to(z.astype(np.float32)[:, None], (hs, ws)), foot


def road_surface_coords(shape: tuple[int, int], k: int, camera: Mapping[str, float],
                        width_px: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p, q, footprint) in metres for the cells of a coarse grid: the conformal (log-polar)
    map of the image about the vanishing point, p = h·ln r, q = h·θ (r, θ the polar
    coordinates of the pixel about (W/2, v_h), h the camera height). One pixel spans h/r
    metres in both directions, which on the road's axis (r = f·h/Z) is Z/f: the road's
    lateral ground scale. ``footprint`` is one cell's span, k·h/r."""
    hs, ws = shape
    h_m, vh = float(camera["camera_height_m"]), float(camera["horizon_row"])
    v = (np.arange(hs, dtype=np.float32) * k + k // 2 + 0.5 - np.float32(vh))[:, None]
    u = (np.arange(ws, dtype=np.float32) * k + k // 2 + 0.5 - np.float32(width_px / 2.0))[None, :]
    r = np.maximum(np.hypot(u, v), np.float32(1.0))
    p = np.float32(h_m) * np.log(r)
    q = np.float32(h_m) * np.arctan2(v, u)
    return p, q, (np.float32(k * h_m) / r).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _grid_coords(shape: tuple[int, int], k: int, focal_px: float, horizon_row: float, height_m: float,
                 width_px: int) -> tuple[np.ndarray, ...]:
    """:func:`ground_coords` and :func:`road_surface_coords` of a grid, cached read-only (a
    dataset's frames share one camera: the same grid comes back on every call)."""
    cam = {"focal_length_px": focal_px, "horizon_row": horizon_row, "camera_height_m": height_m}
    out = ground_coords(shape, k, cam, width_px) + road_surface_coords(shape, k, cam, width_px)
    for a in out:
        a.flags.writeable = False
    return out


def surface_noise(p: np.ndarray, q: np.ndarray, footprint: np.ndarray, seed: int) -> np.ndarray:
    """Zero-mean isotropic value noise (float32, ``p``'s shape) at surface coordinates (p, q) m:
    :data:`OCTAVES` of bicubically interpolated Gaussian lattices, each rotated by a random
    angle (no lattice axis survives) and faded by exp(−(footprint/cell)²) (a pre-filter: a
    cell that sees many patches sees their mean)."""
    return _noise(_noise_geometry(p, q, footprint), seed)


def _noise_geometry(p: np.ndarray, q: np.ndarray, footprint: np.ndarray) -> tuple:
    """What :func:`surface_noise` needs of the grid alone: (p, q) centred, the lattice reach
    and each octave's fade (None where it fades out everywhere)."""
    pc, qc = p - np.float32(0.5 * (p.max() + p.min())), q - np.float32(0.5 * (q.max() + q.min()))
    reach = float(np.hypot(np.ptp(p), np.ptp(q))) * 0.5 + 1.0
    fades = []
    for cell, _ in OCTAVES:
        fade = np.exp(-np.square(footprint / np.float32(cell))).astype(np.float32)
        fades.append(fade if (fade > 1e-3).any() else None)
    for a in (pc, qc, *(f for f in fades if f is not None)):
        a.flags.writeable = False  # cached (:func:`_grid_noise_geometry`)
    return pc, qc, reach, tuple(fades)


@functools.lru_cache(maxsize=8)
def _grid_noise_geometry(*key) -> tuple:
    """:func:`_noise_geometry` of every second cell of the grid of ``key`` (see
    :func:`_grid_coords`), cached: it depends on the camera only."""
    _, _, _, p, q, surface_foot = _grid_coords(*key)
    return _noise_geometry(p[::2, ::2], q[::2, ::2], 2.0 * surface_foot[::2, ::2])


def _noise(geometry: tuple, seed: int) -> np.ndarray:
    """:func:`surface_noise` on a grid's :func:`_noise_geometry`."""
    pc, qc, reach, fades = geometry
    rng = np.random.default_rng(seed)
    out = np.zeros(pc.shape, dtype=np.float32)
    for (cell, amp), fade in zip(OCTAVES, fades):
        a = rng.uniform(0.0, 2.0 * np.pi)
        c, s = np.float32(np.cos(a)), np.float32(np.sin(a))
        n = int(np.ceil(2.0 * reach / cell)) + 4
        lattice = rng.standard_normal((n, n), dtype=np.float32)
        if fade is None:
            continue
        mx = ((c * pc - s * qc) + np.float32(reach)) / np.float32(cell) + np.float32(2.0)
        my = ((s * pc + c * qc) + np.float32(reach)) / np.float32(cell) + np.float32(2.0)
        out += _bicubic(lattice, mx.astype(np.float32), my.astype(np.float32)) * fade * np.float32(amp)
    return out


def _bicubic(lattice: np.ndarray, mx: np.ndarray, my: np.ndarray) -> np.ndarray:
    """``lattice`` sampled at (mx, my) (lattice units) with cubic interpolation."""
    if mx.size == 0:
        return np.zeros(mx.shape, dtype=np.float32)
    cv2 = cv2_module()
    if cv2 is not None and mx.shape[1] < 32768:
        return cv2.remap(lattice, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    from scipy.ndimage import map_coordinates

    return map_coordinates(lattice, [my, mx], order=3, mode="mirror").astype(np.float32)


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


def object_tops(labels: np.ndarray, small: np.ndarray) -> np.ndarray:
    """0–1 cap weight on the top cells of vertical objects: a ``VERTICAL`` cell whose upper
    neighbour is sky or ground (two cells: not a hole in a canopy), or that lies just below a
    strong horizontal edge (luminance jump ≥ 40 %, ≥ 6× the horizontal gradient energy over
    5 cells, which stays under 10 % of the luminance: a ledge, not foliage)."""
    vert = labels == VERTICAL
    free = (labels == SKY) | (labels == GROUND)
    open_above = np.zeros_like(vert)
    open_above[2:] = free[1:-1] & free[:-2]  # two free cells above: not a hole in a canopy
    top = vert & open_above
    y = luma(small)
    gy = np.zeros_like(y)
    gy[1:] = y[1:] - y[:-1]
    gx = np.zeros_like(y)
    gx[:, 1:-1] = 0.5 * (y[:, 2:] - y[:, :-2])
    # a ledge: the jump is horizontal over 5 cells across (structure, not foliage texture)
    jyy, jxx = _box_rows(gy * gy, 5), _box_rows(gx * gx, 5)
    rel = np.abs(gy) / (np.maximum(y, np.roll(y, 1, axis=0)) + 1e-3)
    # ... and smooth along its length (a roof line or a wall top, not foliage)
    smooth = jxx < np.square(np.float32(0.1) * y)
    edge = vert & ~open_above & (rel > 0.4) & (jyy > 6.0 * jxx) & smooth
    # a ledge runs on: ≥ 70 % of 9 cells along the row (no cell-sized flecks on panel joints)
    edge &= _box_rows(edge.astype(np.float32), 9) > 0.7
    # a top is where the image has one too (≥ 15 % luminance step to the cell above): the
    # layout's staircase risers (the object continuing above, called sky or ground) get none
    top &= rel > 0.15
    caps = np.where(top, 1.0, np.where(edge, EDGE_CAP, 0.0)).astype(np.float32)
    # ends taper over a cell or two along the row (not cell-shaped)
    return np.minimum(caps, _box_rows(caps, 3)) if caps.any() else caps


def _box_rows(a: np.ndarray, n: int) -> np.ndarray:
    """Mean of ``a`` over ``n`` cells along each row (edges replicated)."""
    cv2 = cv2_module()
    if cv2 is not None and a.shape[1] < 32768 and a.size:  # the same box, float32, one SIMD pass
        return cv2.blur(np.ascontiguousarray(a, dtype=np.float32), (n, 1), borderType=cv2.BORDER_REPLICATE)
    pad = np.pad(a, ((0, 0), (n // 2, n // 2)), mode="edge")
    c = np.cumsum(pad, axis=1, dtype=np.float64)
    c = np.concatenate([np.zeros((a.shape[0], 1)), c], axis=1)
    return ((c[:, n:] - c[:, :-n]) / n).astype(np.float32)


def road_ratio(ground: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Luminance ``y`` over its row's median road luminance (from every step-th ground cell)."""
    hs, ws = ground.shape
    step = max(1, ws // 128)
    ordered = np.sort(np.where(ground[:, ::step], y[:, ::step], np.inf), axis=1)
    n = ground[:, ::step].sum(axis=1)
    med = np.where(n > 0, ordered[np.arange(hs), np.maximum(n - 1, 0) // 2], 0.0).astype(np.float32)
    return y / np.maximum(med, 1e-6)[:, None]


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


def objects_on_ground(ground: np.ndarray, y: np.ndarray, x: np.ndarray,
                      anchor: np.ndarray | None = None) -> np.ndarray:
    """Cells of ``ground`` that are objects the layout took for road (a white or grey car):
    runs along a row of cells ≥ 1.5× brighter or ≤ 0.6× as bright as the row's median road,
    wider than :data:`OBJECT_WIDTH_M` on the ground (lane paint is 0.1–0.3 m wide across
    the lane whatever its angle in the image; a car 1.6–2 m) in ≥ 3 consecutive rows (a
    tar seam across the lane is 1–2), standing ≥ :data:`OBJECT_HEIGHT_M` and filling half
    their box, or touching ``anchor`` (the ego vehicle: its bonnet's wings). ``y`` luminance,
    ``x`` lateral m."""
    hs, ws = ground.shape
    ratio = road_ratio(ground, y)
    odd = ground & ((ratio > 1.5) | (ratio < 0.6))
    pad = np.zeros((hs, ws + 2), dtype=np.int8)
    pad[:, 1:-1] = odd
    d = np.diff(pad, axis=1).ravel()  # +1 at a run's first cell, −1 just past its last
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    rows, c0, c1 = starts // (ws + 1), starts % (ws + 1), ends % (ws + 1)
    wide = np.abs(x[rows, np.minimum(c1, ws - 1)] - x[rows, c0]) > OBJECT_WIDTH_M
    mark = np.zeros((hs, ws + 1), dtype=np.int32)
    np.add.at(mark, (rows[wide], c0[wide]), 1)
    np.add.at(mark, (rows[wide], c1[wide]), -1)
    objects = np.cumsum(mark, axis=1)[:, :ws] > 0
    if objects.any():  # a body is ≥ 3 cells tall: seams, tar lines and kerb shadows are 1–2
        objects = _dilate(objects, (3, 1), erode_first=(3, 1))
    if objects.any():  # ... and stands ≥ 0.4 m tall (a tar patch a few cells deep lies flat)
        objects = _standing(objects, x, OBJECT_HEIGHT_M, fill=0.5, anchor=anchor)  # and fill their box
    if objects.any():  # whole bodies: join the runs of one car, and a cell of margin
        objects = _dilate(_dilate(objects, (5, 3)), (3, 3), erode_first=(5, 3))
    return objects & ground


def _standing(mask: np.ndarray, x: np.ndarray, height_m: float, fill: float = 0.0,
              anchor: np.ndarray | None = None, max_cells: int | None = None) -> np.ndarray:
    """The 8-connected regions of ``mask`` at least ``height_m`` tall if they stood upright on
    the road at their lowest row (whose cells span |x[r, 1] − x[r, 0]| m there, as they would
    upright at that distance) and filling at least ``fill`` of their bounding box, or
    touching ``anchor``, or of more than ``max_cells`` cells."""
    cv2 = cv2_module()
    if cv2 is not None:
        n, comp, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
        top, rows = stats[:, cv2.CC_STAT_TOP], stats[:, cv2.CC_STAT_HEIGHT]
        area = stats[:, cv2.CC_STAT_AREA]
        full = area >= fill * rows * stats[:, cv2.CC_STAT_WIDTH]
    else:
        from scipy.ndimage import find_objects, label

        comp, n = label(mask, np.ones((3, 3), bool))
        slices = find_objects(comp)
        top = np.array([0] + [sl[0].start for sl in slices])
        rows = np.array([mask.shape[0]] + [sl[0].stop - sl[0].start for sl in slices])
        area = np.bincount(comp.ravel(), minlength=n + 1)
        box = rows * np.array([mask.shape[1]] + [sl[1].stop - sl[1].start for sl in slices])
        full = area >= fill * box
        n += 1
    bottom = np.minimum(top + rows - 1, mask.shape[0] - 1)
    cell_m = np.abs(x[bottom, 1] - x[bottom, 0]) if x.shape[1] > 1 else np.ones(n)
    tall = (rows * cell_m >= height_m) & full
    if anchor is not None:
        tall[np.unique(comp[anchor])] = True
    if max_cells is not None:
        tall |= area > max_cells
    tall[0] = False
    return tall[comp]


def _dilate(mask: np.ndarray, size: tuple[int, int], erode_first: tuple[int, int] | None = None) -> np.ndarray:
    """Binary erosion by ``erode_first`` (rows, cols; closing with a preceding dilation) then
    dilation by ``size`` (OpenCV when present, else SciPy; borders never grow objects)."""
    cv2 = cv2_module()
    if cv2 is not None:
        m = mask.astype(np.uint8)
        if erode_first is not None:
            m = cv2.erode(m, np.ones(erode_first, np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=1)
        return cv2.dilate(m, np.ones(size, np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
    from scipy.ndimage import binary_dilation, binary_erosion

    if erode_first is not None:
        mask = binary_erosion(mask, np.ones(erode_first, bool), border_value=1)
    return binary_dilation(mask, np.ones(size, bool))


def saturation(small: np.ndarray) -> np.ndarray:
    """(max − min)/max of the channels of a linear ...×3 array."""
    return _grass_parts(small)[1]


def _grass_parts(small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(hue: green over blue, not red, not black; saturation) of a linear ...×3 array: what
    :func:`grass_coloured` tests, computed once per frame (channel-wise maxima: numpy
    reduces a 3-long last axis ~30× slower)."""
    r, g, b = small[..., 0], small[..., 1], small[..., 2]
    hi = np.maximum(np.maximum(r, g), b)
    sat = (hi - np.minimum(np.minimum(r, g), b)) / (hi + np.float32(1e-6))
    return (g > 1.1 * b) & (r < 2.0 * g) & (hi > 0.04), sat


def grass_coloured(small: np.ndarray, road_sat: float = 0.0,
                   parts: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Cells of the linear frame ``small`` coloured like green or dry grass: green over blue,
    not red, not grey, not black (measured on the overcast frames: green grass sat 0.2–0.6,
    g/b 1.2–1.8, dry grass r/g up to 1.7; a white car g/b ≈ 0.9, a red one r/g > 3). When
    the road itself is grass-coloured and saturated (``road_sat`` ≥ 0.25, its median: a warm
    white balance makes asphalt tan, sat ≈ 0.5 on the Boreas frame), grass must be 0.2 more.
    ``parts``: :func:`_grass_parts` of ``small`` when already computed."""
    hue, sat = _grass_parts(small) if parts is None else parts
    least = 0.15 if road_sat < 0.25 else road_sat + 0.2
    return hue & (sat > least)


def vegetation(labels: np.ndarray, small: np.ndarray, horizon_cell: float, road_sat: float = 0.0,
               parts: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """``VERTICAL`` cells below the horizon coloured like grass or dry grass (green over blue,
    not red, not grey, not black) in regions reaching the frame's left or right edge: verges and slopes
    the colour-based layout calls vertical. Snow lies on them as on the ground (vehicles are
    neutral, red, blue… or inside the frame, and keep their colour). ``road_sat``: see
    :func:`grass_coloured` (``parts`` too)."""
    veg = grass_coloured(small, road_sat, parts)
    below = (np.arange(labels.shape[0]) + 0.5 > horizon_cell)[:, None]
    return side_regions(veg & (labels == VERTICAL) & below)


def side_regions(mask: np.ndarray) -> np.ndarray:
    """The 8-connected regions of ``mask`` that reach the frame's left or right edge (verges
    run off the side of the frame; a car and its reflections do not)."""
    if not mask.any():
        return mask
    cv2 = cv2_module()
    if cv2 is not None:
        comp = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)[1]
    else:
        from scipy.ndimage import label

        comp = label(mask, np.ones((3, 3), bool))[0]
    edge_ids = np.union1d(comp[:, 0], comp[:, -1])
    return np.isin(comp, edge_ids[edge_ids > 0])


def lying_snow(coarse: Mapping[str, Any], camera: Mapping[str, float], width_px: int, cover: float, seed: int,
               boxes: Any = None, small: np.ndarray | None = None) -> LyingSnow:
    """Where snow lies (see the module docstring), on the grid of ``coarse`` (``cover`` 0–1:
    how much has settled; ``width_px`` the full frame's width; ``boxes`` N×≥4 full-res x0 y0
    x1 y1: their interiors stay clear but for a roof band; ``small`` the linear frame on the
    grid, default ``coarse["small"]``)."""
    labels, k = coarse["labels"], int(coarse["k"])
    small = coarse["small"] if small is None else small
    key = (labels.shape, k, float(camera["focal_length_px"]), float(camera["horizon_row"]),
           float(camera["camera_height_m"]), int(width_px))
    # the noise on every second cell, upsampled (its finest octave spans ≥ 4 cells where it shows)
    tex = upsample(_noise(_grid_noise_geometry(*key), seed), labels.shape)
    horizon_cell = float(camera["horizon_row"]) / k - k // 2 / k
    # the ground and the verges lie below the horizon and the first ground row: the rows above
    # (less a margin for the morphology of objects_on_ground) hold caps only
    ground_rows = np.flatnonzero((labels == GROUND).any(axis=1))
    first = min(int(ground_rows[0]) if len(ground_rows) else labels.shape[0], max(0, int(np.floor(horizon_cell))))
    r0 = max(0, first - 8)
    amount = np.zeros(labels.shape, dtype=np.float32)
    tracks = np.zeros(labels.shape, dtype=np.float32)
    ground = np.zeros(labels.shape, dtype=bool)
    x, z, foot = (a[r0:] for a in _grid_coords(*key)[:3])
    _ground_snow(labels[r0:], small[r0:], x, z, foot, tex[r0:], horizon_cell - r0, float(cover),
                 amount[r0:], tracks[r0:], ground[r0:], seed)
    caps = object_tops(labels, small) * np.float32(min(1.0, 1.2 * cover))
    amount = np.maximum(amount, caps)
    if boxes is not None and len(boxes):
        _clear_boxes(amount, np.asarray(boxes, dtype=np.float64)[:, :4] / k, cover)
    return LyingSnow(amount, tex, tracks, ground)


def _ground_snow(labels: np.ndarray, small: np.ndarray, x: np.ndarray, z: np.ndarray, foot: np.ndarray,
                 tex: np.ndarray, horizon_cell: float, cover: float, amount: np.ndarray, tracks: np.ndarray,
                 ground: np.ndarray, seed: int = 0) -> None:
    """Into ``amount``, ``tracks`` and ``ground`` (views of :func:`lying_snow`'s outputs, zero
    on entry): the snow on the road, its verges and wheel tracks and on grass slopes, for the
    rows of the grid given (``x``, ``z``, ``foot``: their ground coordinates, ``tex`` the noise,
    ``horizon_cell`` the horizon in their own rows)."""
    ego = labels == EGO
    # slivers ≤ 2 cells tall that the layout calls vertical between road (or the bonnet) above
    # and below are road (seams, tar lines, the bonnet's edge): no jagged unsnowed dashes
    free = labels == GROUND
    up1, up2, down1, down2 = (_within(free, n, below=b) for b in (False, True) for n in (1, 2))
    vert = labels == VERTICAL
    ground[...] = free | (vert & ((up1 & down2) | (up2 & down1)))
    # ... and so are specks (≤ 16 cells) the layout calls vertical that would stand < 0.3 m
    # (leaves, litter), but not what touches the ego vehicle (its bonnet's wings)
    near_ego = _dilate(ego, (3, 3)) if ego.any() else None
    ground |= vert & ~_standing(vert, x, 0.3, anchor=near_ego, max_cells=16)
    y = luma(small)
    road_sat = 0.0  # a road that is itself grass-coloured (tan asphalt): grass must stand out from it
    parts = _grass_parts(small)
    if ground.any() and grass_coloured(small, parts=parts)[ground].mean() > 0.5:
        road_sat = float(np.median(parts[1][ground]))
    verge_grass = side_regions(ground & grass_coloured(small, road_sat, parts))  # a grass verge the layout calls ground
    ground &= ~(objects_on_ground(ground, y, x, near_ego) & ~verge_grass)  # is no car, and has no wheel tracks
    ratio = road_ratio(ground, y)
    shift, heading = lane_frame(ground, ratio, x, z)
    xl = x - np.float32(shift) - np.float32(heading) * z  # lane coordinates: lines on the painted ones
    lanes = tracked_lanes(ground & (ratio > 2.5), xl, z)
    ground_like = ground | vegetation(labels, small, horizon_cell, road_sat, parts)
    near = int(np.searchsorted(-z[:, 0], -TRACK_RANGE_M))  # rows nearer than that: the tracks resolve there
    edge, wander, stretch = np.zeros_like(xl), np.zeros_like(xl), np.zeros_like(xl)
    edge[near:], wander[near:], stretch[near:] = track_edges(xl[near:], z[near:], foot[near:], seed)
    # the tracks, and the slush between a lane's two tracks (churned by the cars' bodies:
    # thinner than between lanes); both marks vary along the lanes (slush bridges, less used
    # stretches)
    wheel, inner = lane_bands(xl + wander, foot, edge, lanes)
    traffic = np.clip(np.float32(0.6) + np.float32(0.4) * tex + np.float32(0.5) * stretch, 0.1, 1.0)
    np.multiply(wheel * traffic, ground & ~verge_grass, out=tracks)
    inner *= traffic * ground
    patch = np.float32(0.3) * tex
    # patches with sharp, irregular edges: covered where the noise exceeds a threshold set by
    # ``cover`` (about a third of the untracked road at 0.2, nearly all at 0.9), edges of
    # ±0.1 noise std (the finest octaves make them ragged); thicker, whiter, inside
    # traffic clears the tracks first and the strip between them next: snow stays longest
    # between the lanes (over the lines) and on the shoulders
    margin = np.float32(0.55) * tex + np.float32(2.5 * (cover - 0.35)) + np.float32(0.8) * (
        np.float32(0.5) - tracks - np.float32(0.3) * inner)
    untracked = np.clip(np.float32(0.5) + np.float32(10.0) * margin, 0.0, 1.0)
    untracked *= np.clip(np.float32(0.8) + np.float32(0.4) * margin, 0.0, 1.0)
    road = untracked * (1.0 - tracks * np.float32(1.0 - 0.8 * cover)) * (1.0 - inner * np.float32(0.35 * (1.0 - cover)))
    # the shoulder: untracked snow out to a ragged line (wider as more settles), not a ramp
    reach = verge_weight(ground, x) - np.float32(0.5) + np.float32(0.3) * tex + np.float32(0.5 * (cover - 0.5))
    verge = np.clip(np.float32(0.5) + np.float32(5.0) * reach, 0.0, 1.0) * np.clip(
        np.float32(3.5 * cover) + patch, 0.0, 1.0)
    amount[...] = np.where(ground, np.maximum(road, verge), 0.0)
    amount[...] = np.where(ground_like & ~ground, np.clip(np.float32(2.0 * cover) + patch, 0.0, 1.0), amount)
    # the layout's regions are cell-shaped: the snow thins over ~2 cells towards what is not
    # road (objects, the far end's trees and barriers; not the bonnet) instead of a staircase
    amount *= _soft(ground_like | ego, FEATHER_CELLS)


def _within(mask: np.ndarray, n: int, below: bool) -> np.ndarray:
    """Cells with a ``mask`` cell among the ``n`` cells below (``below``) or above them."""
    out = np.zeros_like(mask)
    for i in range(1, n + 1):
        if below:
            out[:-i] |= mask[i:]
        else:
            out[i:] |= mask[:-i]
    return out


def _soft(mask: np.ndarray, sigma: float) -> np.ndarray:
    """``mask`` as float32 blurred by a Gaussian of ``sigma`` cells, zero outside ``mask``
    (edges replicated: the frame's border is no edge)."""
    m = mask.astype(np.float32)
    cv2 = cv2_module()
    if cv2 is not None and m.size and m.shape[1] < 32768:
        soft = cv2.GaussianBlur(m, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    else:
        from scipy.ndimage import gaussian_filter

        soft = gaussian_filter(m, sigma, mode="nearest")
    return soft * m


def _clear_boxes(amount: np.ndarray, boxes: np.ndarray, cover: float) -> None:
    """In place: box interiors clear of snow, their top 10 % (the roof seen from behind or
    ahead) capped with ``cover``."""
    hs, ws = amount.shape
    for x0, y0, x1, y1 in boxes:
        r0, r1 = int(np.clip(np.floor(y0), 0, hs)), int(np.clip(np.ceil(y1), 0, hs))
        c0, c1 = int(np.clip(np.floor(x0), 0, ws)), int(np.clip(np.ceil(x1), 0, ws))
        if r1 <= r0 or c1 <= c0:
            continue
        amount[r0:r1, c0:c1] = 0.0
        amount[r0 : r0 + max(1, (r1 - r0) // 10), c0:c1] = min(1.0, cover)
