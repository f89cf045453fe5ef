"""Where the sky is: bright, smooth, not green, connected to the top of the frame (estimated on a
coarse grid and grown into bright edges, so daylight between twigs counts as sky)."""

from __future__ import annotations


from typing import Any, Mapping

import numpy as np

from domaug.kit import cv2_module


from .radiometry import decode

def estimate_sky(linear_rgb: np.ndarray, horizon_row: float) -> np.ndarray:
    """Sky pixels: bright, smooth, not green-dominant, above the horizon, in regions touching
    the top edge (or covering ≥ 2 % of the area above the horizon).

    Works on a decimated copy (≈256 px on the short side), so the mask is blocky at
    that scale. Returns an H×W bool mask.
    """
    h, w = linear_rgb.shape[:2]
    k, top, ww = _sky_grid(h, w, horizon_row)
    # decimate (every k-th pixel, centred in its block); only rows above the horizon matter
    small = np.ascontiguousarray(linear_rgb[k // 2 : top * k : k, k // 2 : ww * k : k], dtype=np.float32)
    return sky_from_small(small, h, w, k)


def _sky_grid(h: int, w: int, horizon_row: float) -> tuple[int, int, int]:
    k = max(1, min(h, w) // 256)
    return k, max(1, min(h // k, int(horizon_row / k))), w // k


def estimate_sky_encoded(image: np.ndarray, meta: Mapping[str, Any] | None, horizon_row: float) -> np.ndarray:
    """:func:`estimate_sky` on an encoded image, decoding only the decimated pixels it reads."""
    h, w = image.shape[:2]
    k, top, ww = _sky_grid(h, w, horizon_row)
    small = decode(np.ascontiguousarray(image[k // 2 : top * k : k, k // 2 : ww * k : k, :3]), meta)
    return sky_from_small(small, h, w, k)


#: Cells the sky may grow past its smooth core into bright, not-green cells: the smoothness
#: test leaves out the textured edge (sky between the branches of a tree line), whose
#: daylight would otherwise count as ground (a bright rim at night, no airlight in fog).
SKY_EDGE_GROW = 2


def cand_loose(y: np.ndarray, small: np.ndarray, ref: float, hh: int, ww: int, top: int) -> np.ndarray:
    """Bright and not green (the sky test without smoothness), on the (hh, ww) grid."""
    loose = np.zeros((hh, ww), dtype=bool)
    loose[:top] = (y >= 0.35 * ref) & (small[..., 2] >= 0.8 * small[..., 1])
    return loose


def _grow_into_bright_edges(sky: np.ndarray, loose: np.ndarray) -> np.ndarray:
    """Grow ``sky`` by up to :data:`SKY_EDGE_GROW` cells (8-connected) through ``loose`` cells."""
    if not sky.any():
        return sky
    allowed = loose | sky
    cv2 = cv2_module()
    if cv2 is not None and max(sky.shape) < 32768:
        grown = np.ascontiguousarray(sky, dtype=np.uint8)
        kernel = np.ones((3, 3), np.uint8)
        for _ in range(SKY_EDGE_GROW):  # one cell per step, only into allowed cells
            grown = cv2.dilate(grown, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
            grown &= allowed
        return grown.astype(bool)
    from scipy.ndimage import binary_dilation

    return binary_dilation(sky, structure=np.ones((3, 3), bool), iterations=SKY_EDGE_GROW, mask=allowed)


def label_components(mask: np.ndarray, connectivity: int) -> tuple[np.ndarray, int]:
    """Connected components of a 2-D bool mask (8- or 4-connected): (labels, count), background 0.
    ``cv2.connectedComponents`` (≈ 10× faster) or ``scipy.ndimage.label``; the same partition."""
    cv2 = cv2_module()
    if cv2 is not None and mask.size and max(mask.shape) < 2**15:
        n, labels = cv2.connectedComponents(np.ascontiguousarray(mask, dtype=np.uint8), connectivity=connectivity,
                                            ltype=cv2.CV_32S)
        return labels, int(n) - 1
    from scipy.ndimage import label

    return label(mask, structure=np.ones((3, 3), dtype=bool) if connectivity == 8 else None)


def sky_from_small(small: np.ndarray, h: int, w: int, k: int) -> np.ndarray:
    """The H×W sky mask of :func:`estimate_sky` from ``small``: the linear pixels above the
    horizon on the grid of every ``k``-th pixel (k = 1: ``small`` is the grid itself)."""
    hh, ww = h // k, w // k
    top = small.shape[0]
    y = 0.2126 * small[..., 0] + 0.7152 * small[..., 1] + 0.0722 * small[..., 2]
    ref = float(np.partition(y.ravel(), int(0.95 * (y.size - 1)))[int(0.95 * (y.size - 1))])
    gy = np.abs(np.diff(y, axis=0, append=y[-1:]))
    gx = np.abs(np.diff(y, axis=1, append=y[:, -1:]))
    smooth = (gx + gy) < 0.04 * max(ref, 1e-3) + 0.002
    not_green = small[..., 2] >= 0.8 * small[..., 1]
    cand = np.zeros((hh, ww), dtype=bool)
    cand[:top] = (y >= 0.35 * ref) & smooth & not_green
    # sky = candidate regions (8-connected) that touch the top edge or are large; sky seen
    # through branches stays sky, a bright wall below a tree line does not join it
    labels, n = label_components(cand, 8)
    if n == 0:
        return np.zeros((h, w), dtype=bool)
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    keep = sizes >= 0.02 * max(1, top * ww)
    keep[np.unique(labels[0])] = True
    keep[0] = False
    reached = keep[labels]
    # fill small holes (JPEG noise, a bird, a wire crossing): enclosed non-sky blobs < 0.5 %.
    # Holes are the 4-connected non-sky components not touching the border (what
    # binary_fill_holes finds), here with one labelling pass instead of its slow propagation
    hl, nh = label_components(~reached, 4)
    if nh:
        small_hole = np.bincount(hl.ravel(), minlength=nh + 1) < 0.005 * max(1, top * ww)
        small_hole[0] = False
        small_hole[np.unique(np.concatenate([hl[0], hl[-1], hl[:, 0], hl[:, -1]]))] = False
        if small_hole.any():
            reached |= small_hole[hl]
    reached = _grow_into_bright_edges(reached, cand_loose(y, small, ref, hh, ww, top))
    if k > 1:
        cv2 = cv2_module()
        if cv2 is not None and reached.size and hh * k < 32768 and ww * k < 32768:  # nearest ×k = exact repeat
            up = cv2.resize(np.ascontiguousarray(reached).view(np.uint8), (ww * k, hh * k), interpolation=cv2.INTER_NEAREST)
            reached = up.view(bool)
        else:
            reached = np.repeat(np.repeat(reached, k, axis=0), k, axis=1)
        full = np.zeros((h, w), dtype=bool)
        full[: hh * k, : ww * k] = reached
        if ww * k < w:
            full[: hh * k, ww * k :] = full[: hh * k, ww * k - 1 : ww * k]
        return full
    return reached
