"""The ego vehicle (hood / dashboard) in the scene layout: its band at the bottom of the grid, the
outline of a bonnet bulging into view, and its edge at full resolution. See :mod:`.layout`."""

from __future__ import annotations

import numpy as np

from .layout_grid import EGO, VERTICAL, _close_vertical, _open_rows, _run_up, _smooth_rows
from .sky import label_components

#: The ego vehicle's faint top edge is searched below this fraction of the height (the hoods and
#: dashboards of the five reference frames start at 0.72–0.93·H; a stop line higher up is road).
EGO_EDGE_FROM = 0.65
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
    top = _ego_band_top(road, q, vh, lowest)
    if top >= hs:
        return ego, first
    ext = max(1, int(0.04 * hs))
    # follow the hood's curved edge up each column: the run of non-road cells above ``top``
    rise = _run_up(~road[max(top - ext, 0) : top])
    lo = max(top - max(ext, int(EGO_BRIGHT_RISE * hs)), lowest)
    if top - lo > ext:
        rise = _bright_rise(rise, (road, bright, light), (lo, top), ext)
    first = (top - rise).astype(np.int64)
    ego = np.arange(hs)[:, None] >= first[None, :]
    return ego, first


def _ego_band_top(road: np.ndarray, q: np.ndarray, vh: float, lowest: int) -> int:
    """The first row of the ego band (the height when there is none): below the last row where the road
    covers ≥ 30 % of the width, or at the hood's or dashboard's top edge (at or below row ``lowest``)."""
    hs, ws = road.shape
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
        edge = _faint_edge(gy, rows, road_rows, max(lowest, EGO_EDGE_FROM * hs))
        if edge is not None:
            top = min(top, edge + step)
    return top


def _faint_edge(gy: np.ndarray, rows: np.ndarray, road_rows: np.ndarray, from_row: float) -> int | None:
    """The row (of ``rows``, at or below ``from_row``) of a faint but even edge in the row steps ``gy``, or
    None: a grey dashboard or a curved hood brightens or darkens the rows below it across most of the width
    at once, which the road's paint and seams (``road_rows``) do not (in each third of the width: a curved
    hood's crest is not its edge at the sides)."""
    mean = gy.mean(axis=1)
    start = int(np.searchsorted(rows, from_row))
    strong_mean = np.abs(mean[start:]) >= max(0.02, 2.0 * float(np.median(np.abs(mean[road_rows]))))
    if not strong_mean.any():
        return None
    lo = start + int(np.argmax(strong_mean))  # rows above the first candidate cannot be it
    part = gy[lo:] * np.where(mean[lo:] >= 0, np.float32(1), np.float32(-1))[:, None] > 0.01
    even = np.min([t.mean(axis=1) for t in np.array_split(part, 3, axis=1)], axis=0)
    edge = strong_mean[lo - start :] & (even >= 0.5)
    if not edge.any():
        return None
    return int(rows[lo + int(np.argmax(edge))])


def _bright_rise(rise: np.ndarray, masks: tuple, span: tuple[int, int], ext: int) -> np.ndarray:
    """Each column's rise above the ego band's top (``span`` = (lo, top): the highest row it may reach and
    the band's first row), the run of non-road cells ``rise`` widened by a white hood, its vents, seams and
    wiper strip bridged, up to :data:`EGO_BRIGHT_RISE`, and by the outline of a white or grey bonnet
    (``masks`` = road, bright, light; see :func:`_ego_mask`)."""
    road, bright, light = masks
    lo, top = span
    hs, ws = road.shape
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
    return np.maximum(rise, np.minimum(outline + (outline > 0), top - lo))  # + the cell its edge crosses


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
