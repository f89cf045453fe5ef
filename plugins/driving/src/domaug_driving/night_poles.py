"""Night's street lamps and their poles: where the lamps stand (moved out to the road's edge), the
pole lines the camera sees and their luminance, and the pixels a thin line covers."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from . import night_lights as nl
from .layout import GROUND, SKY, VERTICAL

POLE_REFLECTANCE = 0.15
POLE_DIAMETER_M = 0.2
#: Share of a road luminaire's light sent back toward its own pole (house side vs street side).
HOUSE_SIDE = 0.5


def _lamps(params: Mapping[str, Any]) -> np.ndarray:
    """Street lamps (n, 4): pole X, head X, head height, Z (m)."""
    s = params["street_lamps"]
    if s["intensity_cd"] <= 0:
        return np.zeros((0, 4))
    pos = nl.lamp_positions(s["spacing_m"], s["phase"], s["offset_left_m"], s["offset_right_m"], s["arrangement"])
    return np.array([[px, hx, s["pole_height_m"], z] for px, hx, z in pos], np.float64).reshape(-1, 4)


#: How far (m) a pole may be moved out beyond its drawn offset to reach the road's edge.
ROAD_EDGE_REACH_M = 12.0
#: Gaps in the ground narrower than this (m) do not end the road (a vehicle on it, seen wider
#: than it is with its shadow and the layout's cells).
ROAD_GAP_M = 4.0


def _to_road_edge(lamps: np.ndarray, labels: np.ndarray, cam: dict, k: int, shape: tuple[int, int]) -> np.ndarray:
    """``lamps`` with each pole whose foot would stand on the layout's ground (a lane of a wide or
    curving road: the drawn offset is from the camera's axis) moved outward, on its side, to
    0.5 m beyond the outer end of that ground in its contact row — gaps narrower than
    :data:`ROAD_GAP_M` (a car on the road) do not end it — at most :data:`ROAD_EDGE_REACH_M`
    further (off the frame when the ground runs out of it); the head and arm move with it."""
    h, w = shape
    f, vh, ch = cam["focal_length_px"], cam["horizon_row"], cam["camera_height_m"]
    out = lamps.copy()
    for lamp in out:
        px, _, _, z = lamp
        if z < 1.0:
            continue
        i, j = int((vh + f * ch / z) // k), int((w / 2 + f * px / z) // k)
        if not (vh / k + 1 < i < labels.shape[0] and 0 <= j < labels.shape[1]):
            continue
        row = labels[i, j:] if px > 0 else labels[i, j::-1]
        ground = np.nonzero(row == GROUND)[0]
        gap = max(1.0, ROAD_GAP_M * f / (z * k))
        if not len(ground) or ground[0] > gap:
            continue  # no road at the foot
        ends = np.nonzero(np.diff(ground) > gap)[0]
        last = ground[ends[0]] if len(ends) else ground[-1]
        open_end = not len(ends) and last == len(row) - 1
        edge_col = (w if px > 0 else 0) if open_end else (j + last + 1 if px > 0 else j - last) * k
        edge_m = abs(edge_col - w / 2) * z / f + 0.5
        new = min(max(abs(px), edge_m), abs(px) + ROAD_EDGE_REACH_M) * np.sign(px)
        lamp[1] += new - px
        lamp[0] = new
    return out


def _poles(lamps, labels, dist, cam, k, shape) -> list:
    """Pole lines by lamp index: {n: (col, top row, ground row, width px, visible per row, arm (row,
    col0, col1, visible per column))}; visible where the layout has nothing nearer."""
    h, w = shape
    f, ch = cam["focal_length_px"], cam["camera_height_m"]
    out = {}
    for n, (px, hx, hh, z) in enumerate(lamps):
        if z < 1.0:
            continue
        top, c = nl.project(px, hh, z, cam, w)
        ground, _ = nl.project(px, 0.0, z, cam, w)
        _, hc = nl.project(hx, hh, z, cam, w)
        r0, r1 = _clamp(np.floor(top), 0, h), _clamp(np.ceil(ground), 0, h)  # (scalars: no np.clip)
        if r1 <= r0 or not (-w < c < 2 * w):  # (a pole just off the frame still holds its arm)
            continue
        rr = np.arange(r0, r1)
        y_up = ch - (rr + 0.5 - cam["horizon_row"]) * z / f
        ell = np.sqrt(px * px + (y_up - ch) ** 2 + z * z)
        i = np.minimum(rr // k, labels.shape[0] - 1)
        j = min(max(int(c), 0) // k, labels.shape[1] - 1)
        vis = (labels[i, j] == SKY) | (dist[i, j] >= 0.85 * ell)
        a0, a1 = _clamp(np.floor(min(c, hc)), 0, w), _clamp(np.ceil(max(c, hc)), 0, w)
        ai = min(max(int(top), 0) // k, labels.shape[0] - 1)
        aj = np.minimum(np.arange(a0, a1) // k, labels.shape[1] - 1)
        arm_vis = (labels[ai, aj] == SKY) | (dist[ai, aj] >= 0.85 * ell[0])
        out[n] = (float(c), r0, r1, max(f * POLE_DIAMETER_M / z, 0.6), vis, (top, a0, a1, arm_vis))
    return out


def _clamp(x: float, low: int, high: int) -> int:
    return int(min(max(x, low), high))


def _pole_colours(params: Mapping[str, Any], lamps: np.ndarray, order: list, col: dict) -> np.ndarray:
    """(n, 3) luminance (cd/m², linear colour) of the poles ``order`` (indices into ``lamps``): a
    weathered galvanised pole (ρ = :data:`POLE_REFLECTANCE`), L = ρ·E/π with E the mean, at 1 m
    and at mid-height, of the ambient, the headlamps and the street lamps on its side facing
    the road (its own luminaire's back, the house side, sends :data:`HOUSE_SIDE` of its light
    toward the pole). Brighter than the night sky: a grey line, darker than a lamp's glare."""
    if not order:
        return np.zeros((0, 3), np.float32)
    sel = np.asarray(lamps[order], np.float32)
    n = len(sel)
    x = np.repeat(sel[:, :1], 2, axis=1)
    y = np.stack([np.ones(n, np.float32), np.float32(0.5) * sel[:, 2]], axis=1)
    z = np.repeat(sel[:, 3:], 2, axis=1)
    pts = (x, y, z)
    surf = nl.surfaces(pts, np.full((n, 2), VERTICAL, np.uint8))
    heads = np.asarray(lamps[:, [1, 2, 3]], np.float32)
    each = nl.one_lamp(tuple(a[..., None] for a in pts), tuple(a[..., None] for a in surf), heads[:, 0],
                       heads[:, 1], heads[:, 2], float(params["street_lamps"]["intensity_cd"]))  # (pole, height, lamp)
    own = each[np.arange(n), :, np.asarray(order)]
    lamp = each.sum(axis=2) - np.float32(1.0 - HOUSE_SIDE) * own
    e = np.float32(params["ambient_lux"]) * col["ambient"] + np.maximum(lamp, 0.0).mean(axis=1)[:, None] * col["lamp"]
    if params["headlight_intensity_cd"] > 0:
        head = nl.headlight_irradiance(pts, surf, params["headlight_intensity_cd"], params["traffic_side"])
        e += head.mean(axis=1)[:, None] * col["head"]
    return (np.float32(POLE_REFLECTANCE / np.pi) * e).astype(np.float32)


#: Thinnest line (px) a pole or arm makes through the lens (its blur and anti-aliasing spread a
#: thinner one, at lower contrast, over ≈ 2 photosites: no single-colour Bayer line).
MIN_LINE_PX = 2.0


def line_coverage(centre: float, width: float, n: int) -> list[tuple[int, np.float32]]:
    """(index, covered fraction × contrast) of the pixels a line ``width`` px wide at ``centre``
    covers, widened to :data:`MIN_LINE_PX` with its contrast lowered to keep its ink."""
    drawn = max(width, MIN_LINE_PX)
    lo, hi = centre - drawn / 2, centre + drawn / 2
    ink = width / drawn
    out = []
    for j in range(max(int(np.floor(lo)), 0), min(int(np.ceil(hi)), n)):
        cover = min(hi, j + 1) - max(lo, j)
        if cover > 0:
            out.append((j, np.float32(cover * ink)))
    return out
