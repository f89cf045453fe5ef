"""Region cues that take road-coloured objects out of the layout's ground (see :mod:`.layout`).

Under an overcast sky a grey car or a hedge has the road's colour, so the colour test calls it
ground and the pop-up model puts it at the horizon. Two cues from the ground-plane geometry
find such objects without a learned classifier:

- **contact shadow** (the vehicle cue of Tzomakas & von Seelen 1998, "Vehicle detection in
  traffic scenes using shadows"): the strip under a vehicle, lit by neither sun nor sky, is far
  darker than the road around it (< :data:`SHADOW_RATIO` × the row's mean ground luminance), as
  wide as a vehicle at that row's distance (width_px = W·(v − v_h)/h on the flat road) and
  topped by something that is not road (texture, much brighter or darker, within a vehicle's
  height above it). A vehicle is taller than the camera (≈ 1.5 m against ≈ 1.3 m), so in its
  columns nothing between its contact row and the horizon is ground;
- **ego band**: see :func:`.ego._ego_mask`.

and two that put back road the colour test leaves out: lane paint (:func:`lane_paint`: white
paint in the sun is up to ten times as bright as asphalt, yellow paint is not grey) and cast
shadows (:func:`shadowed_road`: the road lit by the sky alone, darker and bluer).
"""

from __future__ import annotations

import numpy as np

from domaug.kit import cv2_module

#: A contact shadow is darker than this fraction of the row's mean ground luminance.
SHADOW_RATIO = 0.45
#: Vehicle width (m) and the accepted shadow widths relative to it.
VEHICLE_WIDTH_M = 1.8
SHADOW_WIDTH_RANGE = (0.35, 1.6)
#: A contact shadow is flanked by lit road: at least this fraction of the row's ground luminance.
FLANK_LIT = 0.5
#: Share of non-road pixels required in the window above a shadow (a vehicle's rear).
OBJECT_SHARE = 0.4
#: Height of that window, in vehicle widths: the rear of a vehicle starts right above its shadow.
BODY_WINDOW = 0.4
#: Nearest distance (m) at which the cue is applied (nearer, vehicles are not road-coloured
#: by the colour test anyway, and a dark patch in the near road must not cut the road ahead).
MIN_DISTANCE_M = 5.0


def row_ground_luminance(y: np.ndarray, ground: np.ndarray, rows: tuple[int, int], min_count: int = 8,
                         quantile: float = 0.5) -> np.ndarray:
    """Median (or ``quantile``) luminance of each row's ground pixels (on every second column) for
    ``rows`` = (first, end) (a row with fewer than ``min_count`` takes the nearest row that has
    enough; a median, as dark or bright lumps at the road's edges are ground too); all NaN when
    no row has enough."""
    r0, r1 = rows
    g = ground[r0:r1, ::2]  # every second column: the median of a row is as well defined
    n = np.count_nonzero(g, axis=1)
    ok = n >= min_count
    if not ok.any():
        return np.full(r1 - r0, np.nan)
    vals = np.sort(np.where(g, y[r0:r1, ::2], np.float32(np.inf)), axis=1)
    i = np.arange(r1 - r0)
    if quantile == 0.5:
        med = 0.5 * (vals[i, np.maximum(n - 1, 0) // 2] + vals[i, np.minimum(n // 2, g.shape[1] - 1)])
    else:  # the nearest rank
        med = vals[i, np.clip(np.rint(quantile * (n - 1)).astype(np.int64), 0, g.shape[1] - 1)]
    return np.interp(i, i[ok], med[ok]).astype(np.float32)


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal runs of True: (row, first column, end column), row-major order."""
    pad = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    pad[:, 1:-1] = mask
    r, c = np.nonzero(pad[:, 1:] != pad[:, :-1])  # each row: start, end, start, end, …
    return r[0::2], c[0::2], c[1::2]


def _integral(mask: np.ndarray) -> np.ndarray:
    """The integral image of a bool mask: (H+1)×(W+1) int32, zero first row and column."""
    cv2 = cv2_module()
    if cv2 is not None and mask.size and max(mask.shape) < 32768:
        return cv2.integral(mask.view(np.uint8), sdepth=cv2.CV_32S)
    out = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), dtype=np.int32)
    np.cumsum(np.cumsum(mask, axis=0, dtype=np.int32), axis=1, out=out[1:, 1:])
    return out


def contact_shadow_cut(ground: np.ndarray, y: np.ndarray, textured: np.ndarray, camera: tuple[float, float, float],
                       rows: tuple[int, int], cast: tuple[int, np.ndarray] | None = None) -> np.ndarray:
    """Per column, the grid row of the lowest vehicle contact shadow (0 where none): the ground
    between the horizon and that row is hidden by the vehicle. ``camera`` = (f, v_h, h) in grid
    px and metres; ``rows`` = (first row below the horizon, first ego row); ``textured``:
    pixels more textured than the road; ``cast`` = (first row, mask of the cast shadows on the road
    from that row down): not a vehicle's body."""
    hs, ws = ground.shape
    f, vh, cam_h = camera
    cut = np.zeros(ws, dtype=np.int64)
    r_lo, r_hi = rows
    r_hi = min(r_hi, int(vh + f * cam_h / MIN_DISTANCE_M))
    if r_hi - r_lo < 3:
        return cut
    r_end = min(hs, r_hi + 1)  # the rows worked on: r_lo … r_end - 1 (local row = row - r_lo)
    ref = row_ground_luminance(y, ground, (r_lo, r_end))[:, None]
    if not np.isfinite(ref).all():
        return cut
    yw = y[r_lo:r_end]
    shadows = _vehicle_shadows(yw, ref, (r_lo, r_hi), vh, cam_h)
    if shadows is None:
        return cut
    rr, c0, c1, width, thick = shadows
    # what stands on the shadow, right above it: not road (a vehicle's rear: bright or dark
    # paint, glass, lights; texture where perspective does not pack the road's own)
    top = np.maximum(0, rr - thick)
    near = max(0, int(np.ceil(vh + 0.1 * (hs - vh))) - r_lo)  # perspective packs the road's texture above this row
    cols = _integral(_not_road(yw, ref, textured, cast, (r_lo, r_end, near)))
    # column c's count of ``other`` over rows [a, b): the 4 corners at a, b and c, c + 1
    run = np.repeat(np.arange(len(rr)), width)  # one entry per (shadow, column)
    col = c0[run] + np.arange(len(run)) - np.repeat(np.cumsum(width) - width, width)
    r1, r0 = rr[run], top[run]
    count = cols[r1, col + 1] - cols[r1, col] - cols[r0, col + 1] + cols[r0, col]
    body = count >= OBJECT_SHARE * (rr - top)[run]
    np.maximum.at(cut, col[body], rr[run][body] + r_lo)
    return cut


def _vehicle_shadows(yw: np.ndarray, ref: np.ndarray, rows: tuple[int, int], vh: float, cam_h: float) -> tuple | None:
    """The contact shadows among the dark runs of the rows ``yw`` (from grid row ``rows[0]`` on; runs searched
    above ``rows[1]``; ``ref``: each row's ground luminance): (row, first column, end column, width, height of
    the window above it) of each, local rows; None when there is none. A shadow is as wide as a vehicle at
    its row, flanked by lit road (or the frame's edge) and has lit road under it."""
    ws = yw.shape[1]
    r_lo, r_hi = rows
    rr, c0, c1 = _runs(yw[: r_hi - r_lo] < np.float32(SHADOW_RATIO) * ref[: r_hi - r_lo])
    if not len(rr):
        return None
    dist = rr + r_lo + 0.5 - vh  # rows below the horizon
    # a shadow crossed by lane paint or a bright spot is one shadow: merge runs of a row whose
    # gap is under a fifth of a vehicle's width (a cast shadow across the road then stays wide)
    gap_ok = (rr[1:] == rr[:-1]) & (c0[1:] - c1[:-1] <= np.maximum(1.0, 0.2 * VEHICLE_WIDTH_M * dist[1:] / cam_h))
    starts = np.flatnonzero(np.concatenate([[True], ~gap_ok]))
    rr, c0, c1, dist = rr[starts], c0[starts], np.maximum.reduceat(c1, starts), dist[starts]
    width = c1 - c0
    expected = VEHICLE_WIDTH_M * dist / cam_h  # a vehicle's width (px) at the shadow's row
    ok = (width >= np.maximum(2, SHADOW_WIDTH_RANGE[0] * expected)) & (width <= SHADOW_WIDTH_RANGE[1] * expected)
    # lit road on both sides (or the frame's edge): a wall's or a tree's cast shadow runs on
    # into the dark object that casts it; and lit road under it (its lower edge)
    lit = yw >= np.float32(FLANK_LIT) * ref
    ok &= np.where(c0 > 1, lit[rr, np.maximum(c0 - 2, 0)], True)
    ok &= np.where(c1 < ws - 1, lit[rr, np.minimum(c1 + 1, ws - 1)], True)
    thick = np.maximum(2, np.rint(BODY_WINDOW * expected)).astype(np.int64)
    n = yw.shape[0]
    lit_sum = _integral(yw >= np.float32(SHADOW_RATIO) * ref)  # of the pixels out of shadow
    below, bottom = np.minimum(rr + 1, n), np.minimum(rr + 1 + thick, n)
    ok &= (lit_sum[bottom, c1] - lit_sum[below, c1] - lit_sum[bottom, c0] + lit_sum[below, c0]) >= 2
    if not ok.any():
        return None
    return rr[ok], c0[ok], c1[ok], width[ok], thick[ok]


def _not_road(yw: np.ndarray, ref: np.ndarray, textured: np.ndarray, cast: tuple[int, np.ndarray] | None,
              rows: tuple[int, int, int]) -> np.ndarray:
    """The cells of ``yw`` (grid rows ``rows[0]`` … ``rows[1]`` - 1) that are not road: much brighter or
    darker than their row's ground (``ref``), but not in a ``cast`` shadow, or ``textured`` (from local row
    ``rows[2]`` on, where perspective does not pack the road's texture)."""
    r_lo, r_end, near = rows
    band = yw / np.maximum(ref, np.float32(1e-6))
    other = (band > 1.5) | (band < 0.5)
    if cast is not None:
        c_row, c_mask = cast
        lo = max(r_lo, c_row)
        other[lo - r_lo :] &= ~c_mask[lo - c_row : r_end - c_row]
    if near < r_end - r_lo:
        other[near:] |= textured[r_lo + near : r_end]
    return other


#: A verge is yellower or greener than the road: its blue share (B / (R + G + B)) is at least
#: this much below the road's (grass, soil and dry vegetation against grey asphalt).
VERGE_BLUE_DROP = 0.04
#: A verge may be this many grid cells from the ground (a kerb and the edge line between).
VERGE_GAP_CELLS = 6
#: Smallest verge region, as a fraction of the frame.
VERGE_MIN_AREA = 0.005


def verge_ground(candidates: np.ndarray, small: np.ndarray, ground: np.ndarray, blue_share: float,
                 frame_size: int | None = None) -> np.ndarray:
    """The verges to add to the ground (bool): among ``candidates`` (below the horizon, above the
    ego band, not sky, not road-coloured, no more textured than the road, clear of vehicles),
    the earth-coloured regions (blue share ≥ :data:`VERGE_BLUE_DROP` below the road's
    ``blue_share``) of ≥ :data:`VERGE_MIN_AREA` of the frame (``frame_size`` cells, default the
    arrays' size) that touch the ground. Grass and
    soil beside the road lie on the ground plane; as vertical objects they would stand at the
    road's edge, far too near."""
    from .sky import approx_area, label_components, select_labels

    total = small @ np.ones(3, dtype=np.float32)
    total += np.float32(1e-6)
    earth = candidates & (small[..., 2] < np.float32(blue_share - VERGE_BLUE_DROP) * total)
    labels, n = label_components(earth, 4)
    if n == 0:
        return earth
    area = approx_area(labels, n)
    touch = np.zeros(n + 1, dtype=bool)  # components near the ground (across a kerb, edge paint)
    touch[labels[_grow(ground, VERGE_GAP_CELLS) & earth]] = True
    keep = touch & (area >= VERGE_MIN_AREA * (frame_size or ground.size))
    keep[0] = False
    return select_labels(labels, keep)


def _grow(mask: np.ndarray, cells: int) -> np.ndarray:
    """``mask`` dilated by a (2·cells + 1)² square (``cv2.dilate``, else scipy)."""
    cv2 = cv2_module()
    if cv2 is not None and mask.size and max(mask.shape) < 2**15:
        kernel = np.ones((2 * cells + 1, 2 * cells + 1), np.uint8)
        return cv2.dilate(mask.view(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0).view(bool)
    from scipy.ndimage import binary_dilation

    return binary_dilation(mask, structure=np.ones((2 * cells + 1, 2 * cells + 1), bool))


#: Lane paint spans at most this many metres across a row (a 0.1–0.3 m line seen obliquely);
#: a pedestrian or a pole is as narrow but not brighter than the road as a whole.
PAINT_SPAN_M = 0.6
#: Paint is at least this many times as bright as the road's seed (linear luminance).
PAINT_BRIGHTER = 1.3


def lane_paint(ground: np.ndarray, y: np.ndarray, road_y: float, camera: tuple[float, float, float],
               first_row: int) -> np.ndarray:
    """Lane paint to add to ``ground`` (bool): each horizontal run of non-ground cells at or below
    ``first_row`` with ground on both sides, at most :data:`PAINT_SPAN_M` wide at its row's
    flat-road distance (width_px = span·(v + 0.5 − v_h)/h), half or more of it brighter than
    :data:`PAINT_BRIGHTER` × the road (``road_y``). ``camera`` = (f, v_h, h), grid px and m."""
    hs, ws = ground.shape
    _, vh, cam_h = camera
    out = np.zeros_like(ground)
    if first_row >= hs:
        return out
    rr, c0, c1 = _runs(~ground[first_row:])
    inner = (c0 > 0) & (c1 < ws)  # ground on both sides
    span = PAINT_SPAN_M * (rr + first_row + 0.5 - vh) / cam_h
    inner &= (c1 - c0) <= np.maximum(span, 1.0)
    if not inner.any():
        return out
    rr, c0, c1 = rr[inner], c0[inner], c1[inner]  # rows from first_row
    bright = np.zeros((hs - first_row, ws + 1), dtype=np.int32)  # row-wise running count of bright cells
    np.cumsum(y[first_row:] >= np.float32(PAINT_BRIGHTER * road_y), axis=1, dtype=np.int32, out=bright[:, 1:])
    ok = 2 * (bright[rr, c1] - bright[rr, c0]) >= (c1 - c0)
    rr = rr + first_row
    width = (c1 - c0)[ok]
    run = np.repeat(np.arange(len(width)), width)
    col = np.repeat(c0[ok], width) + np.arange(len(run)) - np.repeat(np.cumsum(width) - width, width)
    out[np.repeat(rr[ok], width), col] = True
    return out


#: A cast shadow on the road is lit by the sky alone: between these fractions of the road's
#: luminance (clear sky: diffuse/global ≈ 0.1–0.3; below 0.03 is a black object, not asphalt) …
SHADOW_LUMINANCE = (0.03, 0.45)
#: … and bluer (skylight): its blue share B/(R+G+B) at least the road's minus this, at most
#: the road's plus :data:`SHADOW_BLUER_MAX`, and its red share at most the road's plus this.
SHADOW_CHROMA_TOL = 0.015
SHADOW_BLUER_MAX = 0.15


def shadowed_road(y: np.ndarray, shares: tuple[np.ndarray, np.ndarray], road: tuple[float, float, float],
                  smooth: np.ndarray, road_mask: np.ndarray) -> np.ndarray:
    """Cast shadows on the road (bool): cells ``SHADOW_LUMINANCE`` × the road's luminance, no
    redder and at most a little less blue than it (``shares`` = red and blue shares per cell,
    ``road`` = the road's luminance, red and blue shares), ``smooth`` (no more textured than
    the road), between the road's lateral edges in their row (:func:`_within_road_rows`: a
    wall's shaded face beside the road is as dark and as blue), in 4-connected regions
    touching ``road_mask``. A vehicle's dark body joined to its contact shadow is taken out
    again by :func:`contact_shadow_cut`."""
    from .sky import label_components, select_labels

    ry, rr, rb = road
    r, b = shares
    cand = (y >= np.float32(SHADOW_LUMINANCE[0] * ry)) & (y < np.float32(SHADOW_LUMINANCE[1] * ry))
    cand &= smooth
    cand &= r <= np.float32(rr + SHADOW_CHROMA_TOL)
    cand &= b >= np.float32(rb - SHADOW_CHROMA_TOL)
    cand &= b <= np.float32(rb + SHADOW_BLUER_MAX)
    rows = np.flatnonzero(cand.any(axis=1))
    if not len(rows):
        return cand
    cand[rows] &= _within_road_rows(road_mask[rows])
    labels, n = label_components(cand, 4)
    touch = np.zeros(n + 1, dtype=bool)
    touch[labels[_grow(road_mask, 1) & cand]] = True
    touch[0] = False
    return select_labels(labels, touch)


def _within_road_rows(road: np.ndarray, tail: float = 0.05) -> np.ndarray:
    """Cells between the road's edges in their row (bool): from the column holding the first
    ``tail`` of the row's road cells to the one holding its last ``tail`` (stray road-coloured
    cells on walls or verges do not widen it). Rows with fewer than 4 road cells: none."""
    hs, ws = road.shape
    count = np.cumsum(road, axis=1, dtype=np.int32)
    n = count[:, -1]
    lo = np.maximum(1, np.ceil(tail * n)).astype(np.int32)
    hi = np.maximum(lo, np.floor((1.0 - tail) * n)).astype(np.int32)
    left = (count < lo[:, None]).sum(axis=1)  # first column where the count reaches lo
    right = (count < hi[:, None]).sum(axis=1)
    cols = np.arange(ws)
    out = (cols[None, :] >= left[:, None]) & (cols[None, :] <= right[:, None])
    out &= (n >= 4)[:, None]
    return out
