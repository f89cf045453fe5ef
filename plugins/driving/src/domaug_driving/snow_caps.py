"""Snow caps on the tops of vertical objects, and the roofs of detected boxes (see
:mod:`.snow_cover`)."""

from __future__ import annotations

import numpy as np

from domaug.kit import cv2_module

from .layout import GROUND, SKY, VERTICAL
from .overcast import luma

#: Cap on a strong horizontal edge inside a vertical object (a ledge, a roof line): this × cover.
EDGE_CAP = 0.6


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
