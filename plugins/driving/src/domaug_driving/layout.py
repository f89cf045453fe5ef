"""The scene layout without a depth map: sky, ground, ego vehicle, and vertical objects standing on
the ground (the "pop-up" scene of Hoiem, Efros & Hebert, SIGGRAPH 2005). See :mod:`.depth`."""

from __future__ import annotations

import functools
from typing import Any, Mapping, NamedTuple

import numpy as np

from domaug.kit import cv2_module


from .camera import (CAP_M, SKY_DEPTH_M, box_filter, camera_from, decimate, grid_step, ground_plane_depth, ray_factor,
                     stand_boxes)
from .ground_cues import contact_shadow_cut, lane_paint, row_ground_luminance, shadowed_road, verge_ground
from .radiometry import decode
from .sky import approx_area, label_components, planes_of, select_labels, sky_from_small

#: Layout labels (uint8): sky, ground, vertical object, ego vehicle (hood / dashboard).
SKY, GROUND, VERTICAL, EGO = 1, 2, 3, 4
#: The ego vehicle's faint top edge is searched below this fraction of the height (the hoods and
#: dashboards of the five reference frames start at 0.72–0.93·H; a stop line higher up is road).
EGO_EDGE_FROM = 0.65
#: A verge (grass, soil) may be this many times as textured as the road (grass blades).
VERGE_TEXTURE = 5.0
#: Verges count as ground up to this distance (m): nearer the horizon a slope or a bank (which
#: the flat-road model cannot see) would send what stands on them hundreds of metres away.
VERGE_MAX_M = 60.0
#: In each row, a vertical object's contact row is pulled to the nearer contact of the columns
#: beside it across gaps narrower than this fraction of the width: a tree's crown overhangs the
#: far road beyond its trunk, and the columns of that overhang must not stand at the horizon
#: (a stripe of 300 m fog across the crown); the price is that far background seen through
#: such a gap takes the nearer depth.
CONTACT_GAP = 0.12
#: Short side (cells) of the grid the layout is computed on (:func:`.camera.grid_step`; then upsampled).
LAYOUT_GRID_PX = 256


class Layout(NamedTuple):
    """A scene layout: ``labels`` (uint8 H×W of :data:`SKY`, :data:`GROUND`,
    :data:`VERTICAL`, :data:`EGO`) and ``depth`` (float32 H×W, metres along each ray)."""

    labels: np.ndarray
    depth: np.ndarray


def _seed_stats(y: np.ndarray, r: np.ndarray, b: np.ndarray, texture: np.ndarray, seed: tuple) -> tuple:
    """The road's sunlit colour and texture over the ``seed`` window: medians of ``y``, ``r``,
    ``b`` and the 75th percentile of ``texture`` over its cells within ×0.6–1.5 of the 75th
    percentile of its luminance (a cast shadow over part of the seed is not the road's colour;
    a wholly lit seed gives ≈ its plain medians)."""
    ys = y[seed].ravel()
    n = ys.size
    y75 = float(np.partition(ys, int(0.75 * (n - 1)))[int(0.75 * (n - 1))])
    lit = (ys >= np.float32(0.6 * y75)) & (ys <= np.float32(1.5 * y75))
    vals = np.stack([ys[lit], r[seed].ravel()[lit], b[seed].ravel()[lit], texture[seed].ravel()[lit]])
    m = vals.shape[1]
    if m == 0:
        return y75, float(np.median(r[seed])), float(np.median(b[seed])), float(np.percentile(texture[seed], 75))
    i50, i75 = m // 2, int(0.75 * (m - 1))
    vals.partition(sorted({i50, i75}), axis=1)
    return float(vals[0, i50]), float(vals[1, i50]), float(vals[2, i50]), float(vals[3, i75])


def _luminance(small: np.ndarray, first_row: int) -> tuple[np.ndarray, np.ndarray]:
    """Linear luminance Y of ``small`` and the square root (perceptual: local contrast, texture)
    of its rows from ``first_row`` on."""
    y = small @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    q = np.maximum(y[first_row:], np.float32(0.0))
    return y, np.sqrt(q, out=q)


def _road_like(planes: tuple, vh: float, y: np.ndarray, q: np.ndarray, sunny: bool, shadow_rows: float) -> tuple:
    """Pixels coloured like the road's seed band, and no more textured, or its cast shadows
    (:func:`.ground_cues.shadowed_road`) (bool, the grid of ``planes``, the R, G, B planes;
    ``y``, ``q`` from :func:`_luminance`; shadows only when ``sunny``, ``shadow_rows`` or more below the horizon),
    the local texture, the road's texture (its 75th percentile in the seed band), the road's
    blue share B / (R + G + B), its luminance and the shadows (bool, or None). Close to
    the horizon (the first 10 % of the rows below it) perspective packs the road's texture:
    only colour counts there."""
    hs, ws = y.shape
    total = planes[0] + planes[1]
    total += planes[2]
    total += np.float32(1e-3)
    r, b = planes[0] / total, planes[2] / total
    grad = np.zeros((hs, ws), dtype=np.float32)
    np.abs(np.subtract(q[1:], q[:-1], out=grad[:-1]), out=grad[:-1])
    gx = np.zeros((hs, ws), dtype=np.float32)
    np.abs(np.subtract(q[:, 1:], q[:, :-1], out=gx[:, :-1]), out=gx[:, :-1])
    grad += gx
    texture = box_filter(grad, 3)
    v0 = int(np.clip(vh + 0.25 * (hs - vh), 0, hs - 1))
    v1 = int(np.clip(vh + 0.50 * (hs - vh), v0 + 1, hs))
    c0, c1 = int(0.3 * ws), max(int(0.7 * ws), int(0.3 * ws) + 1)
    yr, rr, br, tr = _seed_stats(y, r, b, texture, (slice(v0, v1, 2), slice(c0, c1, 2)))  # every 4th cell
    out = y >= 0.45 * yr
    out &= y <= 6.0 * yr + 1e-3
    out &= np.abs(r - rr) < 0.1
    out &= np.abs(b - br) < 0.1
    smooth = texture <= 2.0 * tr + 0.01
    near_horizon = max(0, min(hs, int(np.ceil(vh + 0.1 * (hs - vh)))))
    out[near_horizon:] &= smooth[near_horizon:]
    if near_horizon > 0:  # no texture test there: a white car is much brighter than the road in its row
        row_y = row_ground_luminance(y, out, (0, near_horizon), quantile=0.75)
        if np.isfinite(row_y).all():
            limit = np.float32(NEAR_HORIZON_BRIGHTER) * row_y[:, None].astype(np.float32)
            out[:near_horizon] &= y[:near_horizon] <= limit
    shadow = None
    if sunny:  # cast shadows need direct sun
        near = np.arange(hs)[:, None] >= vh + shadow_rows  # rows nearer than VERGE_MAX_M
        shadow = shadowed_road(y, (r, b), (yr, rr, br), smooth & near, out)
        out |= shadow
    return out, texture, tr, br, yr, shadow


#: Close to the horizon, where perspective packs the road's texture and only colour counts, a
#: road cell is at most this many times as bright as the 75th percentile of the road cells of its
#: row (the far road brightens with haze and grazing view, row by row, and may be two materials,
#: asphalt and concrete; a white car stands out of its row).
NEAR_HORIZON_BRIGHTER = 1.8


#: A sky is clear (direct sun, cast shadows) when its blue / red ratio in linear light exceeds
#: this (the five reference frames: clear 2.2–2.6, comma2k19's overcast 1.8).
CLEAR_SKY_BLUE_RED = 2.0


def _clear_sky(planes: tuple, sky: np.ndarray) -> bool:
    """Whether the frame's sky (≥ 8 of every 4th cell) is clear blue (``planes``: R, G, B)."""
    pick = sky[: planes[0].shape[0] : 2, ::2]
    n = np.count_nonzero(pick)
    if n < 8:
        return False
    red, blue = (float(p[: pick.shape[0] * 2 : 2, ::2][pick].sum()) for p in (planes[0], planes[2]))
    return blue > CLEAR_SKY_BLUE_RED * max(red, 1e-6 * n)


#: A bright, smooth hood (a white bonnet bulging into view) is followed up each column from the
#: ego band's top edge by up to this fraction of the height (other non-road cells: 4 %).
EGO_BRIGHT_RISE = 0.15
#: … when it is this many times as bright as the road and at least this fraction of the width wide.
EGO_BRIGHT = 2.0
EGO_BRIGHT_WIDTH = 0.2
#: Across the hood, a gap narrower than this fraction of the width (a vent, a seam) does not split it.
EGO_BRIDGE_WIDTH = 0.03
#: Lane paint touching the hood (a steep line in view) is narrower along the rows than this fraction of the
#: width; the hood's body, wing tips included, is wider (its outline is followed without the paint).
EGO_PAINT_WIDTH = 0.05
#: … and its shaded wings are still this many times as bright as the road, and neutral (a blue share
#: B / (R + G + B) of at least EGO_NEUTRAL_BLUE: white or grey paint, not yellow lane paint nor asphalt).
EGO_LIGHT = 2.5
EGO_NEUTRAL_BLUE = 0.225


def _ego_mask(road: np.ndarray, q: np.ndarray, vh: float, bright: np.ndarray,
              light: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The hood / dashboard band at the bottom (bool; see the module docstring) and each
    column's first ego row (the height when the column has none). ``q``: √ luminance;
    ``bright``: cells far brighter than the road and smooth (a white hood); ``light``: bright neutral
    cells, textured or not (:func:`_light_neutral`: the hood's outline, wings included)."""
    hs, ws = road.shape
    ego = np.zeros((hs, ws), dtype=bool)
    first = np.full(ws, hs, dtype=np.int64)
    lowest = max(int(np.ceil(vh)) + 2, int(0.6 * hs))
    if lowest >= hs - 1:
        return ego, first
    frac = np.count_nonzero(road, axis=1) / ws
    top = hs
    while top > lowest and frac[top - 1] < 0.3:
        top -= 1
    # the hood's or dashboard's top edge: a horizontal edge across most of the width, far
    # stronger than the road's rows (which only have lane paint and seams)
    step = max(1, hs // 128)
    gy = q[2 * step :] - q[: -2 * step]  # row r + step
    strong = np.count_nonzero(np.abs(gy) > 0.08, axis=1) / ws
    rows = np.arange(step, hs - step)
    road_rows = (rows > vh + 2) & (rows < lowest)
    if road_rows.any():
        zone = rows >= lowest
        if zone.any() and strong[zone].max() >= max(0.5, 4.0 * float(np.median(strong[road_rows]))):
            cand = rows[zone][strong[zone] >= 0.5]
            top = min(top, int(cand.min()) + step)
        # a faint but even edge: a grey dashboard or a curved hood brightens or darkens the rows
        # below it across most of the width at once, which the road's paint and seams do not
        # (in each third of the width: a curved hood's crest is not its edge at the sides)
        mean = gy.mean(axis=1)
        start = int(np.searchsorted(rows, max(lowest, EGO_EDGE_FROM * hs)))
        strong_mean = np.abs(mean[start:]) >= max(0.02, 2.0 * float(np.median(np.abs(mean[road_rows]))))
        if strong_mean.any():
            lo = start + int(np.argmax(strong_mean))  # rows above the first candidate cannot be it
            part = gy[lo:] * np.where(mean[lo:] >= 0, np.float32(1), np.float32(-1))[:, None] > 0.01
            even = np.min([t.mean(axis=1) for t in np.array_split(part, 3, axis=1)], axis=0)
            edge = strong_mean[lo - start :] & (even >= 0.5)
            if edge.any():
                top = min(top, int(rows[lo + int(np.argmax(edge))]) + step)
    if top >= hs:
        return ego, first
    ext = max(1, int(0.04 * hs))
    # follow the hood's curved edge up each column: the run of non-road cells above ``top``
    rise = _run_up(~road[max(top - ext, 0) : top])
    lo = max(top - max(ext, int(EGO_BRIGHT_RISE * hs)), lowest)
    if top - lo > ext:
        # … or of a white hood, its vents, seams and wiper strip bridged, up to EGO_BRIGHT_RISE
        end = min(hs, top + ext)  # the band below, all ego, keeps the closing from eroding the last rows
        like = bright[lo:end] | ~road[lo:end]
        like[top - lo :] = True
        tall = _run_up(_close_vertical(like, ext)[: top - lo])
        # ≥ 35 % bright cells over the rise, and at least EGO_BRIGHT_WIDTH wide (not lane paint)
        n_bright = np.cumsum(bright[lo:top], axis=0, dtype=np.int32)  # bright cells down to each row
        above = n_bright[np.clip(top - lo - tall - 1, 0, None), np.arange(ws)] * (tall < top - lo)
        tall = np.where((tall > ext) & ((n_bright[-1] - above) >= 0.35 * tall), tall, 0)
        # columns without a rise narrower than EGO_BRIDGE_WIDTH (a vent, a seam) are bridged first, so that
        # they cannot cut the bulge into parts narrower than EGO_BRIGHT_WIDTH
        tall = _smooth_rows((top - tall)[None, :], max(3, int(EGO_BRIDGE_WIDTH * ws)) | 1, 1)
        tall = top - _smooth_rows(tall, max(3, int(EGO_BRIGHT_WIDTH * ws)) | 1)[0].astype(np.int64)
        # the outline of a white or grey bonnet, wings included (not its paint-free rectangle)
        light = bright if light is None else light
        outline = _hood_outline(_hood_body(light[lo:end], top - lo, ext), tall > ext, ext)
        rise = np.maximum(rise, np.where(tall > ext, tall, 0) * (not outline.any()))
        # a bulge narrower than 5 % of the width is lane paint, not the hood (the outline has none)
        rise = top - _smooth_rows((top - rise)[None, :], max(3, int(0.05 * ws)) | 1)[0].astype(np.int64)
        rise = np.maximum(rise, np.minimum(outline + (outline > 0), top - lo))  # + the cell its edge crosses
    first = (top - rise).astype(np.int64)
    ego = np.arange(hs)[:, None] >= first[None, :]
    return ego, first


def _hood_body(light: np.ndarray, top: int, ext: int) -> np.ndarray:
    """Per column, the height above row ``top`` (the ego band's) of the highest cell of a white or grey
    hood attached to the band: the ``light`` cells (:func:`_light_neutral`), vents and the wiper strip
    closed over (``ext`` rows), lane paint (narrower along the rows than :data:`EGO_PAINT_WIDTH`) opened
    away, the component touching the band; 0 where it has none."""
    ws = light.shape[1]
    light = light.copy()
    light[top:] = True
    body = _open_rows(_close_vertical(light, ext), max(3, int(EGO_PAINT_WIDTH * ws)))
    body[top:] = True
    labels, _ = label_components(body, 4)
    body = labels[:top] == labels[-1, 0]
    rise = np.where(body.any(axis=0), top - np.argmax(body, axis=0), 0).astype(np.int64)
    cols = np.arange(ws)
    for _ in range(2):  # the opening shaved the crest's short top rows: light cells right above are the hood's
        row = top - rise - 1
        rise += (rise > 0) & (row >= 0) & light[np.maximum(row, 0), cols]
    return rise


def _light_neutral(planes: tuple, y: np.ndarray, road_y: float) -> np.ndarray:
    """Cells :data:`EGO_LIGHT` times as bright as the road and neutral (:data:`EGO_NEUTRAL_BLUE`), bool."""
    total = planes[0] + planes[1]
    total += planes[2]
    total *= np.float32(EGO_NEUTRAL_BLUE)
    return (planes[2] >= total) & (y >= np.float32(EGO_LIGHT * road_y))


def _hood_outline(raw: np.ndarray, bulge: np.ndarray, ext: int) -> np.ndarray:
    """The rise (cells above the ego band's top) of a bonnet bulging into view, wings included: a
    bonnet's silhouette is one smooth convex curve, highest at its crest and falling towards both
    sides. ``raw``: each column's run of hood-like cells (lane paint touching the wings included);
    ``bulge``: the columns of its bright crest. Outward from the crest the outline may only fall
    (a running minimum of the rise, its spikes narrower than 3 % of the width removed first), so that
    paint rising from a wing cannot lift it; beyond the wing tips the run of hood-like cells is 0."""
    ws = raw.shape[0]
    if not bulge.any():
        return np.zeros(ws, dtype=np.int64)
    cols = np.nonzero(bulge)[0]
    width = max(3, int(0.03 * ws)) | 1
    r = np.minimum(_smooth_rows(raw[None, :], width, 1)[0].astype(np.int64), raw)  # no thin spikes
    left = np.minimum.accumulate(r[: cols[0] + 1][::-1])[::-1]
    right = np.minimum.accumulate(r[cols[-1] :])
    out = np.zeros(ws, dtype=np.int64)
    out[: cols[0] + 1], out[cols[-1] :] = left, right
    out[cols[0] : cols[-1] + 1] = np.maximum(r[cols[0] : cols[-1] + 1], min(left[-1], right[0]))
    out = np.where(out > ext // 2, out, 0)
    return _smooth_curve(out)


def _smooth_curve(rise: np.ndarray) -> np.ndarray:
    """A 5-cell running mean of a rise (no cell steps along a smooth outline); the columns without
    a rise keep none (the wing tips stay where they are)."""
    if rise.shape[0] < 5:
        return rise
    k = np.ones(5) / 5.0
    smooth = np.convolve(np.pad(rise.astype(np.float64), 2, mode="edge"), k, mode="valid")
    return np.where(rise > 0, np.rint(smooth), 0).astype(np.int64)


def _run_up(mask: np.ndarray) -> np.ndarray:
    """Per column, the number of True cells from the bottom row of ``mask`` up to its first False."""
    if not mask.shape[0]:
        return np.zeros(mask.shape[1], dtype=np.int64)
    up = mask[::-1]
    return np.where(up.all(axis=0), mask.shape[0], np.argmin(up, axis=0)).astype(np.int64)


def _close_vertical(mask: np.ndarray, gap: int) -> np.ndarray:
    """Fill vertical runs of False of at most ``gap`` cells between True cells (bool)."""
    if gap < 1:
        return mask
    cv2 = cv2_module()
    kernel_len = 2 * gap + 1
    if cv2 is not None and max(mask.shape) < 32768:
        kernel = np.ones((kernel_len, 1), np.uint8)
        out = cv2.morphologyEx(mask.view(np.uint8) if mask.flags.c_contiguous else mask.astype(np.uint8),
                               cv2.MORPH_CLOSE, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
        return out.astype(bool) | mask
    from scipy.ndimage import binary_closing

    return binary_closing(mask, structure=np.ones((kernel_len, 1), bool)) | mask


def _main_ground(ground: np.ndarray, floor_row: int, frame_size: int) -> np.ndarray:
    """Keep the ground components (4-connected) that reach the bottom of the visible ground
    (the lowest 10 % of the rows above ``floor_row``, the ego band's first row) or cover ≥ 1 %
    of the frame (``frame_size`` cells; ``ground`` may be the band below the horizon):
    road-coloured islands on walls, barriers and cars are not ground. Components are found with the
    ground's runs narrower than :data:`GROUND_BRIDGE` cells across cut (a 1–2-cell vertical seam of a
    barrier's panel must not bridge an island to the road); the cells cut stay ground beside kept ground."""
    full = ground
    ground = _open_rows(ground, GROUND_BRIDGE)
    labels, n = label_components(ground, 4)
    if n == 0:
        return full
    hs = round(frame_size / ground.shape[1])
    keep = approx_area(labels, n) >= 0.01 * frame_size
    keep[labels[max(0, floor_row - max(1, int(0.1 * hs))) : floor_row].ravel()] = True
    keep[0] = False
    kept = select_labels(labels, keep)
    return kept | (full & _dilate_rows(kept, GROUND_BRIDGE))


#: Ground runs narrower than this (cells, along a row) do not connect ground components (:func:`_main_ground`).
GROUND_BRIDGE = 3


def _open_rows(mask: np.ndarray, width: int) -> np.ndarray:
    """``mask`` without its runs along the rows narrower than ``width`` cells (a horizontal opening)."""
    cv2 = cv2_module()
    if cv2 is not None and max(mask.shape) < 32768 and mask.size:
        m = np.ascontiguousarray(mask).view(np.uint8)
        return cv2.morphologyEx(m, cv2.MORPH_OPEN, np.ones((1, width), np.uint8)).view(bool)
    from scipy.ndimage import binary_opening

    return binary_opening(mask, structure=np.ones((1, width), bool))


def _dilate_rows(mask: np.ndarray, width: int) -> np.ndarray:
    """``mask`` grown along the rows by ``width`` // 2 cells each side."""
    cv2 = cv2_module()
    if cv2 is not None and max(mask.shape) < 32768 and mask.size:
        return cv2.dilate(np.ascontiguousarray(mask).view(np.uint8), np.ones((1, width), np.uint8)).view(bool)
    from scipy.ndimage import binary_dilation

    return binary_dilation(mask, structure=np.ones((1, width), bool))


def _contact_rows(ground: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Each pixel's contact row: the nearest ground row at or below it in its column, else
    ``floor`` (that column's last row above the ego band); uint16. A suffix minimum up each
    column in log2(H) shifted passes (Hillis–Steele), ≈ 4× faster than ``np.minimum.accumulate``
    on a reversed view."""
    hs, ws = ground.shape
    if hs >= 65535:
        idx = np.where(ground, np.arange(hs)[:, None], floor[None, :])
        return np.minimum.accumulate(idx[::-1], axis=0)[::-1]
    a = np.empty((hs, ws), dtype=np.uint16)
    a[:] = floor.astype(np.uint16)
    cv2 = cv2_module()
    if cv2 is not None and ws < 32768 and a.size:
        cv2.copyTo(_row_index(hs, ws), ground.view(np.uint8), a)
    else:
        np.copyto(a, np.arange(hs, dtype=np.uint16)[:, None], where=ground)
    b = np.empty_like(a)
    step = 1
    while step < hs:
        np.minimum(a[:-step], a[step:], out=b[:-step])
        b[-step:] = a[-step:]
        a, b = b, a
        step *= 2
    return a


@functools.lru_cache(maxsize=8)
def _row_index(hs: int, ws: int) -> np.ndarray:
    """The row number of each cell (uint16 H×W, cached and read-only)."""
    out = np.repeat(np.arange(hs, dtype=np.uint16)[:, None], ws, axis=1)
    out.flags.writeable = False
    return out


def _smooth_rows(contact: np.ndarray, width: int, gap: int | None = None) -> np.ndarray:
    """Horizontal closing (over ``gap`` columns, default ``width``) then opening (over ``width``)
    of the contact rows: a cheap median-like filter (≈ 20× faster than a running median) that
    removes far dips narrower than ``gap`` and near spikes narrower than ``width`` while keeping
    wider steps (object edges) in place."""
    gap = width if gap is None else gap
    cv2 = cv2_module()
    c = np.ascontiguousarray(contact, dtype=np.uint16 if contact.max(initial=0) < 65535 else np.int32)
    if cv2 is not None and c.dtype == np.uint16 and max(c.shape) < 32768:
        c = cv2.morphologyEx(c, cv2.MORPH_CLOSE, np.ones((1, gap), np.uint8), borderType=cv2.BORDER_REPLICATE)
        return cv2.morphologyEx(c, cv2.MORPH_OPEN, np.ones((1, width), np.uint8), borderType=cv2.BORDER_REPLICATE)
    from scipy.ndimage import grey_closing, grey_opening

    c = grey_closing(c, size=(1, gap), mode="nearest")
    return grey_opening(c, size=(1, width), mode="nearest").astype(np.int32)


def _ground(small: np.ndarray, y: np.ndarray, masks: tuple, road_stats: tuple, camera: tuple, rows: tuple,
            cast: tuple | None) -> np.ndarray:
    """The ground (bool): road-like cells (``masks`` = road, sky, ego, textured, texture) with
    vertical gaps closed, lane paint added, vehicles' hidden road cut out (contact shadows,
    ``cast`` = the cast shadows that are none), verges added, islands dropped.
    ``road_stats`` = the road's texture, blue share and luminance; ``camera`` = (f, v_h, h)
    in grid px; ``rows`` = (first row below the horizon, first ego row)."""
    road, sky, ego, textured, texture = masks
    road_texture, road_blue, road_y = road_stats
    f, vh, ch = camera
    below_row, ego_row = rows
    hs, ws = road.shape
    road &= ~sky
    ground = _close_vertical(road, max(1, int(0.02 * hs)))
    ground[:below_row] = False
    ground &= ~ego
    ground &= ~sky
    ground |= lane_paint(ground, y, road_y, camera, below_row) & ~ego
    cut = contact_shadow_cut(ground, y, textured, camera, rows, cast)
    clear = np.arange(hs)[:, None] >= cut[None, :]  # not hidden by a vehicle
    ground &= clear
    verge = ~road & (texture <= VERGE_TEXTURE * road_texture + 0.02) & ~ego & ~sky & clear
    verge[: max(below_row, int(np.ceil(vh + f * ch / VERGE_MAX_M)))] = False
    ground[below_row:] |= verge_ground(verge[below_row:], small[below_row:], ground[below_row:], road_blue, hs * ws)
    ground[below_row:] = _main_ground(ground[below_row:], ego_row - below_row, hs * ws)
    return ground


def layout_from_small(
    small: np.ndarray,
    camera: Mapping[str, float],
    *,
    sky: np.ndarray | None = None,
    road_mask: np.ndarray | None = None,
    bboxes: np.ndarray | None = None,
    cap_m: float | None = None,
    sky_depth_m: float | None = None,
) -> Layout:
    """The layout of a (small) linear RGB frame on its own grid; ``camera`` in that grid's pixels.

    ``sky`` / ``road_mask`` (nonzero = sky / road) replace the estimates; ``bboxes`` (N×≥4,
    x0 y0 x1 y1 in this grid's pixels) pin their objects. Returns :class:`Layout`.
    """
    cap_m = CAP_M if cap_m is None else float(cap_m)
    sky_depth_m = SKY_DEPTH_M if sky_depth_m is None else float(sky_depth_m)
    hs, ws = small.shape[:2]
    f, vh, ch = float(camera["focal_length_px"]), float(camera["horizon_row"]), float(camera["camera_height_m"])
    small = np.asarray(small, dtype=np.float32)
    small = np.ascontiguousarray(small)
    below_row = int(np.clip(np.floor(vh - 0.5) + 1, 0, hs))  # the first row whose centre is below the horizon
    b0 = max(0, below_row - 2)  # the road is searched below the horizon (2 rows of context for the texture)
    y, q_band = _luminance(small, b0)
    planes = planes_of(small)
    if sky is None:
        top = max(1, min(hs, int(vh)))
        sky = sky_from_small(small[:top], hs, ws, 1, y=y[:top], planes=tuple(p[:top] for p in planes))
    else:
        sky = np.asarray(sky) != 0
    q = np.zeros((hs, ws), dtype=np.float32)
    q[b0:] = q_band
    road = np.zeros((hs, ws), dtype=bool)
    texture = np.zeros((hs, ws), dtype=np.float32)
    road[b0:], texture[b0:], road_texture, road_blue, road_y, shadow = _road_like(
        tuple(p[b0:] for p in planes), vh - b0, y[b0:], q_band, _clear_sky(planes, sky), f * ch / VERGE_MAX_M)
    textured = texture > 2.0 * road_texture + 0.01
    road[:below_row] = False
    bright = (y >= np.float32(EGO_BRIGHT * road_y)) & (texture <= 2.0 * road_texture + 0.01)
    ego, first_ego = _ego_mask(road, q, vh, bright, _light_neutral(planes, y, road_y))
    floor = first_ego - 1  # last non-ego row per column
    if road_mask is not None:
        ground = (np.asarray(road_mask) != 0) & ~ego
    else:
        if shadow is not None:  # a cast shadow is no vehicle's body
            textured[b0:] &= ~shadow
        ground = _ground(small, y, (road, sky, ego, textured, texture), (road_texture, road_blue, road_y),
                         (f, vh, ch), (below_row, int(first_ego.min(initial=hs))),
                         None if shadow is None else (b0, shadow))
    contact = _smooth_rows(_contact_rows(ground, np.maximum(floor, 0)), max(3, int(0.05 * ws)) | 1,
                           max(3, int(CONTACT_GAP * ws)) | 1)
    z_row = ground_plane_depth((hs, 1), focal_length_px=f, horizon_row=vh, camera_height_m=ch, cap_m=cap_m)[:, 0]
    labels = np.full((hs, ws), VERTICAL, dtype=np.uint8)
    labels[sky] = SKY
    labels[ground] = GROUND
    labels[ego] = EGO
    z = _vertical_distance(contact, labels == VERTICAL, y, (f, vh, ch), cap_m)
    np.copyto(z, z_row[:, None], where=ground)
    np.copyto(z, np.take(z_row, np.clip(floor, 0, hs - 1))[None, :], where=ego)
    if bboxes is not None and len(bboxes):
        stand_boxes(z, bboxes, camera, cap_m)
        for x0, y0, x1, y1 in np.asarray(bboxes, dtype=np.float64)[:, :4]:  # boxes are never sky
            box = (slice(int(max(y0, 0)), int(max(np.ceil(y1), 0))), slice(int(max(x0, 0)), int(max(np.ceil(x1), 0))))
            labels[box][labels[box] == SKY] = VERTICAL
    z *= ray_factor((hs, ws), f, vh)
    z[labels == SKY] = sky_depth_m
    return Layout(labels, z)


#: Half-width (fraction of the width) of the window over which a vertical object's contact row is
#: blended with its row neighbours' (:func:`_vertical_distance`).
CONTACT_BLEND = 0.04
#: ε of that blend's guided filter on √ luminance: an outline of contrast above √ε (a car against the
#: road or the trees) keeps its step, the texture of a crown does not.
CONTACT_EPS = 4e-3


def _vertical_distance(contact: np.ndarray, vertical: np.ndarray, y: np.ndarray, camera: tuple,
                       cap_m: float) -> np.ndarray:
    """The flat-road distance (float32, capped at ``cap_m``) of each cell's ``contact`` row, blended across
    the columns of one vertical object: a guided filter along the rows (He et al. 2013; window ±
    :data:`CONTACT_BLEND` of the width, fitted on the ``vertical`` cells only, guide √``y``). A crown
    whose columns reach the ground at a near and a far row (a barrier in front of part of it) takes a
    ramp from the near into the far columns instead of a step halfway; a cell only ever moves nearer
    (a car, nearer than what stands beside it, keeps its wheels' row)."""
    from .guided import fit_coefficients
    from .plane_ops import upsample

    f, vh, ch = camera
    hs, ws = contact.shape
    c = contact.astype(np.float32)
    r = max(1, int(CONTACT_BLEND * ws / 2))
    if vertical.any() and ws >= 8 * r and hs >= 8:  # fitted on every 2nd cell, applied to every cell
        g = np.sqrt(np.maximum(y, np.float32(0.0)))
        a, b = fit_coefficients(g[::2, ::2], c[::2, ::2], (0, r), CONTACT_EPS, cv2_module(),
                                weight=vertical[::2, ::2].astype(np.float32))
        blended = upsample(a, (hs, ws))
        blended *= g
        blended += upsample(b, (hs, ws))
        np.clip(blended, np.float32(np.floor(vh)), np.float32(hs), out=blended)
        np.maximum(c, blended, out=c)  # only ever nearer: a car keeps its wheels' row (only vertical cells use it)
    c += np.float32(0.5 - vh)
    np.maximum(c, np.float32(f * ch / cap_m), out=c)
    return np.divide(np.float32(f * ch), c, out=c)


def scene_layout(
    image: np.ndarray,
    *,
    camera: Mapping[str, float] | None = None,
    meta: Mapping[str, Any] | None = None,
    bboxes: np.ndarray | None = None,
    sky_mask: np.ndarray | None = None,
    road_mask: np.ndarray | None = None,
    cap_m: float | None = None,
    sky_depth_m: float | None = None,
    grid_px: int | None = None,
) -> Layout:
    """The :class:`Layout` (labels, distance in m) of a frame at full resolution.

    ``image`` is encoded (uint8/uint16 sRGB) or linear float RGB; ``camera`` a
    :func:`depth.camera_from` dict (default: from ``meta`` and the image size). Computed on
    a grid of ``grid_px`` (default :data:`LAYOUT_GRID_PX`) on the short side (:func:`.camera.grid_step`), then labels
    are upsampled by nearest cell and distance bilinearly.
    """
    h, w = image.shape[:2]
    if camera is None:
        camera = camera_from((h, w), meta, image=image)
    k = grid_step((h, w), grid_px or LAYOUT_GRID_PX)
    hs, ws = h // k, w // k
    small = decode(np.ascontiguousarray(decimate(image, k, (0, hs), ws)[..., :3]), meta)
    sub = lambda m: None if m is None else np.ascontiguousarray(np.asarray(m)[k // 2 : hs * k : k, k // 2 : ws * k : k])  # noqa: E731
    boxes = None if bboxes is None or not len(bboxes) else np.asarray(bboxes, dtype=np.float64)[:, :4] / k
    cam = {"focal_length_px": camera["focal_length_px"] / k, "horizon_row": camera["horizon_row"] / k,
           "camera_height_m": camera["camera_height_m"]}
    lay = layout_from_small(small, cam, sky=sub(sky_mask), road_mask=sub(road_mask), bboxes=boxes, cap_m=cap_m,
                            sky_depth_m=sky_depth_m)
    if k == 1 and (hs, ws) == (h, w):
        return lay
    return Layout(_ego_edge(_resize(lay.labels, (h, w), linear=False), lay.labels, image),
                  _resize(lay.depth, (h, w), linear=True))


def ego_top(coarse: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The ego vehicle on the coarse ``labels``: (its mask, the first ego row of every column, the
    columns it occupies); None without one (or on a grid under 4 cells)."""
    ego_c = coarse == EGO
    cols = np.flatnonzero(ego_c.any(axis=0))
    if not len(cols) or min(coarse.shape) < 4:
        return None
    return ego_c, np.argmax(ego_c, axis=0), cols


def _ego_edge(labels: np.ndarray, coarse: np.ndarray, image: np.ndarray) -> np.ndarray:
    """In place and returned: the full-resolution ``labels`` with the ego vehicle's outline on the frame's own
    edge, not the coarse cells' staircase: over the rows its top edge crosses, the coarse ego indicator brought
    to full size by the guided filter (:func:`.guided.guided_upsample`), ≥ ½ is ego; a pixel it gives up takes
    the label of the coarse cell above the ego band in its column (the road or what stands on it)."""
    from .guided import RADIUS, guided_upsample

    top = ego_top(coarse)
    if top is None:
        return labels
    ego_c, first, cols_c = top
    hs, ws = coarse.shape
    c0 = max(0, int(first[cols_c].min()) - RADIUS - 2)
    c1 = min(hs, int(first[cols_c].max()) + RADIUS + 3)
    if c1 - c0 < 4:
        return labels
    h, w = labels.shape
    r0, r1 = (int(round(c * h / hs)) for c in (c0, c1))
    ego = guided_upsample(ego_c[c0:c1].astype(np.float32), image[r0:r1], (r1 - r0, w)) >= np.float32(0.5)
    above = np.where(first > 0, coarse[np.maximum(first - 1, 0), np.arange(ws)], VERTICAL).astype(np.uint8)
    band = labels[r0:r1]
    lost = (band == EGO) & ~ego
    if lost.any():
        cols = np.minimum((np.arange(w) * ws) // w, ws - 1)
        band[lost] = np.broadcast_to(above[cols][None, :], band.shape)[lost]
    band[ego] = EGO
    return labels


def _resize(field: np.ndarray, shape: tuple[int, int], *, linear: bool) -> np.ndarray:
    """A coarse grid at ``shape``: bilinear between cell centres, or the nearest cell."""
    h, w = shape
    cv2 = cv2_module()
    if cv2 is not None and h < 32768 and w < 32768:
        return cv2.resize(np.ascontiguousarray(field), (w, h), interpolation=cv2.INTER_LINEAR if linear else cv2.INTER_NEAREST)
    if not linear:
        rows = np.minimum((np.arange(h) * field.shape[0]) // h, field.shape[0] - 1)
        cols = np.minimum((np.arange(w) * field.shape[1]) // w, field.shape[1] - 1)
        return field[rows][:, cols]
    from scipy.ndimage import map_coordinates

    yy = (np.arange(h) + 0.5) * field.shape[0] / h - 0.5
    xx = (np.arange(w) + 0.5) * field.shape[1] / w - 0.5
    grid = np.meshgrid(yy, xx, indexing="ij")
    return map_coordinates(field, grid, order=1, mode="nearest").astype(np.float32)
