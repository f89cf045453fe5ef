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


def component_stats(mask: np.ndarray, connectivity: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`label_components` with, per label (index 0 = background), its area, whether it
    touches the top row, and whether it touches any border: (labels, area, top, border)."""
    labels, n = label_components(mask, connectivity)
    area = np.bincount(labels.ravel(), minlength=n + 1)
    top = np.zeros(n + 1, dtype=bool)
    top[labels[0]] = True
    border = top.copy()
    border[labels[-1]] = True
    border[labels[:, 0]] = True
    border[labels[:, -1]] = True
    return labels, area, top, border


def select_labels(labels: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``keep[labels]`` (bool): with a few kept labels, one comparison per label is faster."""
    ids = np.flatnonzero(keep)
    if len(ids) > 3:
        return keep[labels]
    out = np.zeros(labels.shape, dtype=bool)
    for i in ids:
        out |= labels == i
    return out


#: Blue sky: B ≥ this × G (linear; a clear sky 1.3–1.8, grey cloud and asphalt ≈ 1.0–1.1).
BLUE_SKY_B_OVER_G = 1.3
#: Strongly blue pixels count as sky-bright down to this fraction of the reference luminance.
DEEP_BLUE_LUMINANCE = 0.08


def _sky_coloured(labels: np.ndarray, keep: np.ndarray, reached: np.ndarray, small: np.ndarray) -> np.ndarray:
    """Candidate components (not kept) whose mean colour is the kept sky's (``reached``): blue sky
    seen through gaps in a canopy, too small to count by size and cut off from the top (bool per
    label). Only for a blue sky (a grey one matches white cars and walls), within 0.03 in
    chromaticity and ×0.5–2 in luminance of the kept sky's mean."""
    out = np.zeros(len(keep), dtype=bool)
    step = max(1, int(np.sqrt(labels.size / 4096)))  # the kept sky's colour from ≈ 4 k samples
    sky_px = small[::step, ::step][reached[::step, ::step]]
    if not len(sky_px):
        return out
    sky_rgb = sky_px.mean(axis=0)
    if sky_rgb[2] < BLUE_SKY_B_OVER_G * sky_rgb[1]:  # not a blue sky
        return out
    others = labels > 0
    others &= ~reached
    lab = labels[others]
    if not len(lab):
        return out
    px = small[others].astype(np.float64)
    n = len(keep)
    area = np.maximum(np.bincount(lab, minlength=n), 1)
    mean = [np.bincount(lab, weights=px[:, c], minlength=n) / area for c in range(3)]
    total = mean[0] + mean[1] + mean[2] + 1e-6
    sky_total = float(sky_rgb.sum()) + 1e-6
    sky_y = float(sky_rgb @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32))
    mean_y = 0.2126 * mean[0] + 0.7152 * mean[1] + 0.0722 * mean[2]
    out = ((np.abs(mean[0] / total - sky_rgb[0] / sky_total) < 0.03) & (np.abs(mean[2] / total - sky_rgb[2] / sky_total) < 0.03)
           & (mean_y >= 0.5 * sky_y) & (mean_y <= 2.0 * sky_y) & ~keep)
    out[0] = False
    return out


def kth_smallest(values: np.ndarray, k: int) -> float:
    """The ``k``-th smallest of ``values`` (1-D float), as ``np.partition`` gives it: a subsample
    bounds it from below, so only the values above the bound are partitioned (exact)."""
    n = values.size
    if n < 4096:
        return float(np.partition(values, k)[k])
    step = 16
    sub = np.sort(values[::step])
    lo = float(sub[max(0, (k // step) - 16)])  # ≈ 16 subsample ranks below: a safe lower bound
    below = int(np.count_nonzero(values < lo))
    if below > k:
        return float(np.partition(values, k)[k])
    upper = values[values >= lo]
    return float(np.partition(upper, k - below)[k - below])


def sky_from_small(small: np.ndarray, h: int, w: int, k: int) -> np.ndarray:
    """The H×W sky mask of :func:`estimate_sky` from ``small``: the linear pixels above the
    horizon on the grid of every ``k``-th pixel (k = 1: ``small`` is the grid itself)."""
    hh, ww = h // k, w // k
    top = small.shape[0]
    y = 0.2126 * small[..., 0] + 0.7152 * small[..., 1] + 0.0722 * small[..., 2]
    ref = kth_smallest(y.ravel(), int(0.95 * (y.size - 1)))
    gy = np.abs(np.diff(y, axis=0, append=y[-1:]))
    gx = np.abs(np.diff(y, axis=1, append=y[:, -1:]))
    smooth = (gx + gy) < 0.04 * max(ref, 1e-3) + 0.002
    not_green = small[..., 2] >= 0.8 * small[..., 1]
    # Everything below the horizon is non-sky, so the search runs on the rows above it: a
    # non-sky region reaching the horizon row joins the band below, which touches the border.
    # bright and not green (the sky test without smoothness); a clear sky darkens toward the
    # zenith (Rayleigh scattering), so strongly blue pixels count down to DEEP_BLUE_LUMINANCE·ref
    blue = small[..., 2] >= BLUE_SKY_B_OVER_G * small[..., 1]
    loose = ((y >= 0.35 * ref) | (blue & (y >= DEEP_BLUE_LUMINANCE * ref))) & not_green
    cand = loose & smooth
    # sky = candidate regions (8-connected) that touch the top edge or are large; sky seen
    # through branches stays sky, a bright wall below a tree line does not join it
    labels, area, at_top, _ = component_stats(cand, 8)
    if len(area) == 1:
        return np.zeros((h, w), dtype=bool)
    keep = (area >= 0.02 * max(1, top * ww)) | at_top
    keep[0] = False
    reached = select_labels(labels, keep)
    more = _sky_coloured(labels, keep, reached, small)  # blue sky seen through a canopy
    if more.any():
        reached |= select_labels(labels, more)
    # fill small holes (JPEG noise, a bird, a wire crossing): enclosed non-sky blobs < 0.5 %.
    # Holes are the 4-connected non-sky components not touching the border (what
    # binary_fill_holes finds), here with one labelling pass instead of its slow propagation
    hl, area, _, border = component_stats(~reached, 4)
    small_hole = (area < 0.005 * max(1, top * ww)) & ~border
    small_hole[0] = False
    if small_hole.any():
        reached |= select_labels(hl, small_hole)
    reached = _grow_into_bright_edges(reached, loose)
    if hh > top:
        reached = np.concatenate([reached, np.zeros((hh - top, ww), dtype=bool)])
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
