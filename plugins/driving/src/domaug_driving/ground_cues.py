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
- **ego band**: see :func:`.layout._ego_mask`.
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


def row_ground_luminance(y: np.ndarray, ground: np.ndarray, rows: tuple[int, int], min_count: int = 8) -> np.ndarray:
    """Median luminance of each row's ground pixels for ``rows`` = (first, end) (a row with fewer
    than ``min_count`` takes the nearest row that has enough; a median, as dark or bright lumps
    at the road's edges are ground too); all NaN when no row has enough."""
    r0, r1 = rows
    g = ground[r0:r1]
    n = np.count_nonzero(g, axis=1)
    ok = n >= min_count
    if not ok.any():
        return np.full(r1 - r0, np.nan)
    vals = np.sort(np.where(g, y[r0:r1], np.float32(np.inf)), axis=1)
    i = np.arange(r1 - r0)
    med = 0.5 * (vals[i, np.maximum(n - 1, 0) // 2] + vals[i, np.minimum(n // 2, g.shape[1] - 1)])
    return np.interp(i, i[ok], med[ok]).astype(np.float32)


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Horizontal runs of True: (row, first column, end column), row-major order."""
    pad = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    pad[:, 1:-1] = mask
    d = np.diff(pad, axis=1)
    r0, c0 = np.nonzero(d == 1)
    _, c1 = np.nonzero(d == -1)
    return r0, c0, c1


def contact_shadow_cut(ground: np.ndarray, y: np.ndarray, textured: np.ndarray, camera: tuple[float, float, float],
                       rows: tuple[int, int]) -> np.ndarray:
    """Per column, the grid row of the lowest vehicle contact shadow (0 where none): the ground
    between the horizon and that row is hidden by the vehicle. ``camera`` = (f, v_h, h) in grid
    px and metres; ``rows`` = (first row below the horizon, first ego row); ``textured``:
    pixels more textured than the road."""
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
    rr, c0, c1 = _runs(yw[: r_hi - r_lo] < np.float32(SHADOW_RATIO) * ref[: r_hi - r_lo])
    if not len(rr):
        return cut
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
    n = r_end - r_lo
    lit_sum = np.zeros((n + 1, ws + 1), dtype=np.int32)  # integral image of the pixels out of shadow
    np.cumsum(np.cumsum(yw >= np.float32(SHADOW_RATIO) * ref, axis=0, dtype=np.int32), axis=1, out=lit_sum[1:, 1:])
    below, bottom = np.minimum(rr + 1, n), np.minimum(rr + 1 + thick, n)
    ok &= (lit_sum[bottom, c1] - lit_sum[below, c1] - lit_sum[bottom, c0] + lit_sum[below, c0]) >= 2
    if not ok.any():
        return cut
    rr, c0, c1, width, thick = rr[ok], c0[ok], c1[ok], width[ok], thick[ok]
    # what stands on the shadow, right above it: not road (a vehicle's rear: bright or dark
    # paint, glass, lights; texture where perspective does not pack the road's own)
    top = np.maximum(0, rr - thick)
    band = yw / np.maximum(ref, np.float32(1e-6))
    other = (band > 1.5) | (band < 0.5)
    near = max(0, int(np.ceil(vh + 0.1 * (hs - vh))) - r_lo)  # perspective packs the road's texture above this row
    if near < n:
        other[near:] |= textured[r_lo + near : r_end]
    cols = np.zeros((n + 1, ws), dtype=np.int32)  # column sums of ``other`` above each row
    np.cumsum(other, axis=0, dtype=np.int32, out=cols[1:])
    run = np.repeat(np.arange(len(rr)), width)  # one entry per (shadow, column)
    col = c0[run] + np.arange(len(run)) - np.repeat(np.cumsum(width) - width, width)
    body = (cols[rr[run], col] - cols[top[run], col]) >= OBJECT_SHARE * (rr - top)[run]
    np.maximum.at(cut, col[body], rr[run][body] + r_lo)
    return cut
    zone = slice(r_lo, r_hi)
    dark = y[zone] < np.float32(SHADOW_RATIO) * ref[zone, None].astype(np.float32)
    rr, c0, c1 = _runs(dark)
    if not len(rr):
        return cut
    rr = rr + r_lo
    # a shadow crossed by lane paint or a bright spot is one shadow: merge runs of a row whose
    # gap is under a fifth of a vehicle's width (a cast shadow across the road then stays wide)
    gap_ok = (rr[1:] == rr[:-1]) & (c0[1:] - c1[:-1] <= np.maximum(1.0, 0.2 * VEHICLE_WIDTH_M * (rr[1:] + 0.5 - vh) / cam_h))
    starts = np.flatnonzero(np.concatenate([[True], ~gap_ok]))
    rr, c0, c1 = rr[starts], c0[starts], np.maximum.reduceat(c1, starts)
    width = c1 - c0
    expected = VEHICLE_WIDTH_M * (rr + 0.5 - vh) / cam_h  # a vehicle's width (px) at the shadow's row
    ok = (width >= np.maximum(2, SHADOW_WIDTH_RANGE[0] * expected)) & (width <= SHADOW_WIDTH_RANGE[1] * expected)
    # lit road on both sides (or the frame's edge): a wall's or a tree's cast shadow runs on
    # into the dark object that casts it
    lit_row = y[rr] >= np.float32(FLANK_LIT) * ref[rr, None].astype(np.float32)
    left = np.where(c0 > 1, lit_row[np.arange(len(rr)), np.maximum(c0 - 2, 0)], True)
    right = np.where(c1 < ws - 1, lit_row[np.arange(len(rr)), np.minimum(c1 + 1, ws - 1)], True)
    ok &= left & right
    if not ok.any():
        return cut
    rr, c0, c1, expected = rr[ok], c0[ok], c1[ok], expected[ok]
    # what stands on the shadow: right above it (a vehicle's rear), unlike the road just below it
    # (the road beyond a cast shadow looks like the road before it; a vehicle's body does not)
    thick = np.maximum(2, np.rint(BODY_WINDOW * expected)).astype(np.int64)
    top = np.maximum(r_lo, rr - thick)
    lit = y >= np.float32(SHADOW_RATIO) * ref[:, None].astype(np.float32)  # not in shadow
    near = int(np.ceil(vh + 0.1 * (hs - vh)))  # perspective packs the road's texture above this row
    for r, t, a, b, n in zip(rr, top, c0, c1, thick):
        if not ground[t:r, a:b].any():  # nothing called ground above it: nothing to correct
            continue
        below = y[r + 1 : min(hs, r + 1 + n), a:b][lit[r + 1 : min(hs, r + 1 + n), a:b]]
        if below.size < 2:  # the shadow goes on: not its lower edge
            continue
        road = np.maximum(float(np.median(below)), ref[t:r, None])  # the road beyond a cast shadow is lit
        win = y[t:r, a:b]
        other = (win > 1.5 * road) | (win < 0.5 * road)
        if r > near:
            other |= textured[t:r, a:b] & (np.arange(t, r) >= near)[:, None]
        body = np.count_nonzero(other, axis=0) >= OBJECT_SHARE * (r - t)
        np.maximum(cut[a:b], np.where(body, r, 0), out=cut[a:b])
    return cut


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
    from .sky import label_components, select_labels

    total = small @ np.ones(3, dtype=np.float32)
    total += np.float32(1e-6)
    earth = candidates & (small[..., 2] < np.float32(blue_share - VERGE_BLUE_DROP) * total)
    labels, n = label_components(earth, 4)
    if n == 0:
        return earth
    area = np.bincount(labels.ravel(), minlength=n + 1)
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
