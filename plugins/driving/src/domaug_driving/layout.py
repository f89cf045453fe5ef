"""The scene layout without a depth map: sky, ground, ego vehicle, and vertical objects standing on
the ground (the "pop-up" scene of Hoiem, Efros & Hebert, SIGGRAPH 2005). See :mod:`.depth`."""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple

import numpy as np

from domaug.kit import cv2_module

from .camera import (CAP_M, SKY_DEPTH_M, box_filter, camera_from, decimate, grid_step, ground_plane_depth, ray_factor,
                     stand_boxes)
from .ego import (EGO_BRIDGE_WIDTH, EGO_BRIGHT, EGO_BRIGHT_RISE, EGO_BRIGHT_WIDTH, EGO_EDGE_FROM, EGO_LIGHT,
                  EGO_NEUTRAL_BLUE, EGO_PAINT_WIDTH, _ego_edge, _ego_mask, _light_neutral, ego_top)
from .ground_cues import contact_shadow_cut, lane_paint, row_ground_luminance, shadowed_road, verge_ground
from .layout_grid import (EGO, GROUND, SKY, VERTICAL, _close_vertical, _contact_rows, _dilate_rows, _open_rows,
                          _resize, _smooth_rows)
from .radiometry import decode
from .sky import approx_area, label_components, planes_of, select_labels, sky_from_small

__all__ = ["CAP_M", "CLEAR_SKY_BLUE_RED", "CONTACT_BLEND", "CONTACT_EPS", "CONTACT_GAP", "EGO", "EGO_BRIDGE_WIDTH",
           "EGO_BRIGHT", "EGO_BRIGHT_RISE", "EGO_BRIGHT_WIDTH", "EGO_EDGE_FROM", "EGO_LIGHT", "EGO_NEUTRAL_BLUE",
           "EGO_PAINT_WIDTH", "GROUND", "GROUND_BRIDGE", "LAYOUT_GRID_PX", "NEAR_HORIZON_BRIGHTER", "SKY",
           "SKY_DEPTH_M", "VERGE_MAX_M", "VERGE_TEXTURE", "VERTICAL", "Layout", "ego_top", "layout_from_small",
           "scene_layout"]

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
    masks, road_stats, shadow, first_ego = _road_and_ego(planes, (y, q_band), sky, (f, vh, ch), (b0, below_row))
    road, textured, texture, ego = masks
    if road_mask is not None:
        ground = (np.asarray(road_mask) != 0) & ~ego
    else:
        if shadow is not None:  # a cast shadow is no vehicle's body
            textured[b0:] &= ~shadow
        ground = _ground(small, y, (road, sky, ego, textured, texture), road_stats,
                         (f, vh, ch), (below_row, int(first_ego.min(initial=hs))),
                         None if shadow is None else (b0, shadow))
    labels = np.full((hs, ws), VERTICAL, dtype=np.uint8)
    labels[sky] = SKY
    labels[ground] = GROUND
    labels[ego] = EGO
    z = _layout_distance(labels, (ground, ego, first_ego - 1), y, camera, cap_m)  # floor: last non-ego row
    if bboxes is not None and len(bboxes):
        stand_boxes(z, bboxes, camera, cap_m)
        for x0, y0, x1, y1 in np.asarray(bboxes, dtype=np.float64)[:, :4]:  # boxes are never sky
            box = (slice(int(max(y0, 0)), int(max(np.ceil(y1), 0))), slice(int(max(x0, 0)), int(max(np.ceil(x1), 0))))
            labels[box][labels[box] == SKY] = VERTICAL
    z *= ray_factor((hs, ws), f, vh)
    z[labels == SKY] = sky_depth_m
    return Layout(labels, z)


def _road_and_ego(planes: tuple, lum: tuple, sky: np.ndarray, camera: tuple, rows: tuple) -> tuple:
    """The road-like cells and the ego band of a frame (``planes``: R, G, B; ``lum`` = (y, q band) from
    :func:`_luminance`; ``camera`` = (f, v_h, h) in grid px; ``rows`` = (first row searched, first row
    below the horizon)): ((road, textured, texture, ego), (the road's texture, blue share, luminance),
    the cast shadows from the first row searched on (or None), each column's first ego row)."""
    y, q_band = lum
    f, vh, ch = camera
    b0, below_row = rows
    hs, ws = y.shape
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
    return (road, textured, texture, ego), (road_texture, road_blue, road_y), shadow, first_ego


def _layout_distance(labels: np.ndarray, masks: tuple, y: np.ndarray, camera: Mapping[str, float],
                     cap_m: float) -> np.ndarray:
    """The flat-road distance (float32, not yet along the rays) of each cell of ``labels``: the ground at its
    own row, a vertical object at its contact row (:func:`_vertical_distance`), the ego band at its column's
    last row above it. ``masks`` = (ground, ego, each column's last non-ego row)."""
    ground, ego, floor = masks
    hs, ws = labels.shape
    f, vh, ch = float(camera["focal_length_px"]), float(camera["horizon_row"]), float(camera["camera_height_m"])
    contact = _smooth_rows(_contact_rows(ground, np.maximum(floor, 0)), max(3, int(0.05 * ws)) | 1,
                           max(3, int(CONTACT_GAP * ws)) | 1)
    z_row = ground_plane_depth((hs, 1), focal_length_px=f, horizon_row=vh, camera_height_m=ch, cap_m=cap_m)[:, 0]
    z = _vertical_distance(contact, labels == VERTICAL, y, (f, vh, ch), cap_m)
    np.copyto(z, z_row[:, None], where=ground)
    np.copyto(z, np.take(z_row, np.clip(floor, 0, hs - 1))[None, :], where=ego)
    return z


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
