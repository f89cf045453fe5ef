"""Marks drawn on an 8-bit RGB picture of a sample: label tints and outlines, boxes,
keypoint crosses, the nodata checkerboard (pure numpy; used by :mod:`domaug.display`)."""

from __future__ import annotations

import numpy as np

#: label colours (label k gets PALETTE[(k - 1) % 10]); keypoints use PALETTE[2]
PALETTE = np.array(
    [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48), (145, 30, 180),
     (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212)], dtype=np.float32)


def checker(shape: tuple[int, int], square: int = 8) -> np.ndarray:
    """A dark grey checkerboard (H×W×3 uint8) that marks nodata."""
    yy, xx = np.indices(shape)
    tone = np.where(((yy // square) + (xx // square)) % 2 == 0, 40, 64).astype(np.uint8)
    return np.repeat(tone[..., None], 3, axis=-1)


def label_edges(labels: np.ndarray) -> np.ndarray:
    """Pixels whose label differs from a 4-neighbour's (region outlines)."""
    edges = np.zeros(labels.shape, dtype=bool)
    edges[1:] |= labels[1:] != labels[:-1]
    edges[:-1] |= labels[:-1] != labels[1:]
    edges[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edges[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    return edges


def overlay_mask(rgb: np.ndarray, mask: np.ndarray, alpha: float = 0.35, outline: bool = False) -> np.ndarray:
    """Tint every non-zero label with its palette colour at opacity ``alpha`` (or outline it)."""
    labels = np.asarray(mask).astype(np.int64)
    hit = labels != 0
    if outline:
        hit &= label_edges(labels)
        alpha = 1.0
    if not hit.any():
        return rgb
    colours = PALETTE[(labels[hit] - 1) % len(PALETTE)]
    out = rgb.astype(np.float32)
    out[hit] = (1 - alpha) * out[hit] + alpha * colours
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def draw_boxes(rgb: np.ndarray, boxes: np.ndarray, thickness: int = 2) -> np.ndarray:
    """Draw xyxy pixel boxes (label in column 4 picks the colour) as rectangle outlines."""
    out = rgb.copy()
    h, w = out.shape[:2]
    rows = np.asarray(boxes, dtype=np.float64)
    for row in rows.reshape(1, -1) if rows.ndim == 1 else rows:
        x0, y0, x1, y1 = (int(round(v)) for v in row[:4])
        label = int(row[4]) if row.size > 4 and np.isfinite(row[4]) else 1
        colour = PALETTE[(label - 1) % len(PALETTE)]  # the colour of the same label in masks
        x0, x1 = sorted((max(0, min(w - 1, x0)), max(0, min(w - 1, x1))))
        y0, y1 = sorted((max(0, min(h - 1, y0)), max(0, min(h - 1, y1))))
        t = thickness
        out[y0:y0 + t, x0:x1 + 1] = colour
        out[max(y1 - t + 1, 0):y1 + 1, x0:x1 + 1] = colour
        out[y0:y1 + 1, x0:x0 + t] = colour
        out[y0:y1 + 1, max(x1 - t + 1, 0):x1 + 1] = colour
    return out


def draw_keypoints(rgb: np.ndarray, points: np.ndarray, radius: int = 3) -> np.ndarray:
    """Draw keypoints as small crosses."""
    out = rgb.copy()
    h, w = out.shape[:2]
    rows = np.asarray(points, dtype=np.float64)
    for x, y in (rows.reshape(1, -1) if rows.ndim == 1 else rows)[:, :2]:
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        c, r = int(round(x)), int(round(y))
        if 0 <= r < h:
            out[r, max(c - radius, 0):min(c + radius + 1, w)] = PALETTE[2]
        if 0 <= c < w:
            out[max(r - radius, 0):min(r + radius + 1, h), c] = PALETTE[2]
    return out
