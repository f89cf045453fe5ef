"""Night's light across the ego vehicle's top edge, on the frame's own edge.

Night's light field lives on a coarse grid: the bonnet takes no direct light, the road above it is
lit by the headlamps, and the bilinear upsampling draws the bonnet's outline as the cells' staircase.
Over the rows that outline crosses, the ego / non-ego weight is brought to full resolution by the guided
filter (He, Sun & Tang 2013; :func:`.guided.guided_upsample`, as :func:`.layout.scene_layout` does for
the ego label) and blends the two lights: the bonnet's (ambient only) and the road's above it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from domaug.kit import cv2_module

from .layout import ego_top
from .scratch import buffer


class EgoEdge(NamedTuple):
    """The rows ``[a, a + len(weight))`` of the half-resolution blend ``grid`` (the sun factors') the ego's
    top edge crosses, its weight there (float32, 1 = ego), and per light-grid column the first ego row
    (``hl`` when none). Half resolution: the weight's step spans ~2 px at full size, which the demosaicking
    takes without colour fringes (a 1-px step of the light across a mosaic row pair does not)."""

    a: int
    weight: np.ndarray
    first: np.ndarray
    grid: tuple[int, int]


def ego_edge(labels_c: np.ndarray, frame: np.ndarray, grid: tuple[int, int]) -> EgoEdge | None:
    """The ego's top edge (see :class:`EgoEdge`) on the blend ``grid`` from the layout's coarse
    ``labels_c`` (the light grid is every s-th of its cells, as in :func:`.night_scene.night_light`);
    None without an ego vehicle."""
    from .guided import FIT_STEP, RADIUS, guided_upsample
    from .night_scene import LIGHT_GRID_PX

    top = ego_top(labels_c)
    if top is None:
        return None
    ego_c, first, cols = top
    hs, ws = ego_c.shape
    s = max(1, min(hs, ws) // LIGHT_GRID_PX)
    ego_l = ego_c[s // 2 :: s, s // 2 :: s]
    hl = ego_l.shape[0]
    first_l = np.where(ego_l.any(axis=0), np.argmax(ego_l, axis=0), hl)
    lit = first_l[first_l < hl]
    # the rows of the guided fit's reach and of the light grid's bilinear step (cell centre to centre)
    c0 = max(0, min(int(first[cols].min()) - RADIUS - 2, int(np.floor((lit.min(initial=hl) - 1) * hs / hl)) - 2))
    c1 = min(hs, max(int(first[cols].max()) + RADIUS + 3, int(np.ceil((lit.max(initial=0) + 1) * hs / hl)) + 3))
    if c1 - c0 < 4:
        return None
    h = frame.shape[0]
    a, b = (int(round(c * grid[0] / hs)) for c in (c0, c1))
    r0, r1 = (int(round(i * h / grid[0])) for i in (a, b))
    weight = guided_upsample(ego_c[c0:c1].astype(np.float32), frame[r0:r1], (b - a, grid[1]),
                             out=buffer("night_ego_w", (b - a, grid[1])), at_shape=True, fit_step=FIT_STEP)
    return EgoEdge(a, weight, first_l, tuple(grid))


def relight_ego_edge(field: np.ndarray, mult: np.ndarray, sun: np.ndarray | None, edge: EgoEdge) -> None:
    """In place: ``field`` (one channel's full-size multiplier: the light grid's ``mult`` bilinear to
    the ``sun`` factors' half grid, times them, bilinear to full size) over the edge's rows made from
    ``w·M_ego + (1 − w)·M_road`` on the edge's half grid instead (times ``sun`` when given), both bilinear
    from ``mult`` with the other side's cells filled from the nearest cell of their own side in the column."""
    a, n = edge.a, edge.weight.shape[0]
    grid = edge.grid
    hl = mult.shape[0]
    y = (np.array([a, a + n - 1]) + 0.5) * (hl / grid[0]) - 0.5
    l0, l1 = max(0, int(np.floor(y[0])) - 1), min(hl, int(np.floor(y[1])) + 3)  # the light rows involved
    ego_fill, road_fill, lit = _sides(mult, edge.first, l0, l1)
    blend = _band_rows(road_fill, a, n, grid, "night_ego_road", offset=l0, total=hl)
    if lit is None:
        ego = _band_rows(ego_fill, a, n, grid, "night_ego_ego", offset=l0, total=hl)
        ego -= blend
    else:
        ego = np.subtract(lit, blend, out=buffer("night_ego_ego", blend.shape))
    ego *= edge.weight
    blend += ego  # w·M_ego + (1 − w)·M_road
    if sun is not None:
        blend *= sun[a : a + n]
    h, hh = field.shape[0], grid[0]
    f0 = 0 if a == 0 else int(np.ceil((a + 0.5) * h / hh - 0.5))  # full rows interpolated within the band
    f1 = h if a + n == hh else int(np.floor((a + n - 0.5) * h / hh - 0.5)) + 1
    if f1 > f0:
        _band_rows(blend, f0, f1 - f0, field.shape, "night_ego_full", offset=a, total=hh, out=field[f0:f1])


def _sides(mult: np.ndarray, first: np.ndarray, l0: int, l1: int):
    """Rows ``[l0, l1)`` of ``mult`` (hl×wl) with its non-ego cells above the ego's first row set to that
    row's (the bonnet's light carried up), and with its ego cells set to the last non-ego row's (the
    road's carried down); and the ego cells' value there when they all have the same (the bonnet takes
    the ambient light only), else None."""
    hl, wl = mult.shape
    cols = np.arange(wl)
    r = np.arange(l0, l1)[:, None]
    part = mult[l0:l1]
    ego_cells = r >= first[None, :]
    top = mult[np.minimum(first, hl - 1), cols]
    above = mult[np.maximum(first - 1, 0), cols]
    ego = np.where(~ego_cells & (first < hl), top[None, :], part).astype(np.float32, copy=False)
    road = np.where(ego_cells & (first > 0), above[None, :], part).astype(np.float32, copy=False)
    values = part[ego_cells]
    lit = None
    if values.size and values.min() == values.max():
        lit = np.float32(values[0])
    return ego, road, lit


def _band_rows(field: np.ndarray, r0: int, rows: int, shape: tuple[int, int], name: str, offset: int = 0,
               total: int | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Rows ``[r0, r0 + rows)`` of ``field`` bilinearly upsampled to ``shape`` (between cell centres, as
    :func:`.plane_ops.upsample`), ``field`` being the rows ``offset…`` of a field of ``total`` rows: the
    vertical interpolation of the few rows involved, then the horizontal one."""
    h, w = shape
    hl = field.shape[0] if total is None else total
    wl = field.shape[1]
    cv2 = cv2_module()
    if cv2 is not None and h % hl == 0 and w % wl == 0 and w < 32768:
        return _integer_rows(field, r0, rows, (h // hl, w), offset, out if out is not None else buffer(name, (rows, w)))
    y = np.clip((np.arange(r0, r0 + rows, dtype=np.float64) + 0.5) * (hl / h) - 0.5, 0.0, hl - 1)
    i0 = np.floor(y).astype(np.int64)
    t = (y - i0).astype(np.float32)[:, None]
    i0 = np.clip(i0 - offset, 0, field.shape[0] - 1)
    i1 = np.minimum(i0 + 1, field.shape[0] - 1)
    v = field[i0] * (1 - t)
    v += field[i1] * t
    out = buffer(name, (rows, w)) if out is None else out
    if cv2 is not None and w < 32768:
        cv2.resize(v, (w, rows), dst=out, interpolation=cv2.INTER_LINEAR)
        return out
    x = np.clip((np.arange(w) + 0.5) * (wl / w) - 0.5, 0.0, wl - 1)
    j0 = np.floor(x).astype(np.int64)
    j1 = np.minimum(j0 + 1, wl - 1)
    u = (x - j0).astype(np.float32)
    np.add(v[:, j0] * (1 - u), v[:, j1] * u, out=out)
    return out


def _integer_rows(field: np.ndarray, r0: int, rows: int, scale: tuple[int, int], offset: int,
                  out: np.ndarray) -> np.ndarray:
    """:func:`_band_rows` at an integer row factor: the source rows involved (one more each side) resized
    at once (the same cell-centre mapping, shifted by whole cells), the rows wanted cropped into ``out``."""
    cv2 = cv2_module()
    f, w = scale
    lo = max(offset, r0 // f - 1)
    hi = min(offset + field.shape[0], (r0 + rows - 1) // f + 2)
    big = cv2.resize(field[lo - offset : hi - offset], (w, (hi - lo) * f), interpolation=cv2.INTER_LINEAR)
    np.copyto(out, big[r0 - lo * f : r0 - lo * f + rows])
    return out
