"""What on the coarse grid is road for the snow (see :mod:`.snow_cover`): objects the layout
took for road, grass verges and slopes it called vertical, and the morphology they use."""

from __future__ import annotations

import numpy as np

from domaug.kit import cv2_module

from .layout import VERTICAL

#: Bright or dark runs on the "ground" wider than this (m) are objects, not lane paint.
OBJECT_WIDTH_M = 0.8
#: Objects on the "ground" stand at least this tall (m; cars 1.4–1.8, a tar patch lies flat).
OBJECT_HEIGHT_M = 0.4


def road_ratio(ground: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Luminance ``y`` over its row's median road luminance (from every step-th ground cell)."""
    hs, ws = ground.shape
    step = max(1, ws // 128)
    ordered = np.sort(np.where(ground[:, ::step], y[:, ::step], np.inf), axis=1)
    n = ground[:, ::step].sum(axis=1)
    med = np.where(n > 0, ordered[np.arange(hs), np.maximum(n - 1, 0) // 2], 0.0).astype(np.float32)
    return y / np.maximum(med, 1e-6)[:, None]


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
