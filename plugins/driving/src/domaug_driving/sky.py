"""Where the sky is: bright, smooth, not green, connected to the top of the frame (estimated on a
coarse grid and grown into bright edges, so daylight between twigs counts as sky)."""

from __future__ import annotations


from typing import Any, Mapping

import numpy as np

from domaug.kit import cv2_module


from .camera import box_filter, grid_step
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
    k = grid_step((h, w))
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


def approx_area(labels: np.ndarray, n: int) -> np.ndarray:
    """Each label's area (index 0 = background) counted on every second row and column, ×4:
    ≈ 4× cheaper than the exact count and enough for the size thresholds it feeds (≥ 0.5 % of
    a frame: errors of a few cells)."""
    return np.bincount(labels[::2, ::2].ravel(), minlength=n + 1) * 4


def component_stats(mask: np.ndarray, connectivity: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`label_components` with, per label (index 0 = background), its area (:func:`approx_area`), whether it
    touches the top row, and whether it touches any border: (labels, area, top, border)."""
    labels, n = label_components(mask, connectivity)
    area = approx_area(labels, n)
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
        return np.take(keep, labels)  # ≈ 2× faster than keep[labels]
    out = np.zeros(labels.shape, dtype=bool)
    for i in ids:
        out |= labels == i
    return out


#: Blue sky: B ≥ this × G (linear; a clear sky 1.3–1.8, grey cloud and asphalt ≈ 1.0–1.1).
BLUE_SKY_B_OVER_G = 1.3
#: Strongly blue pixels count as sky-bright down to this fraction of the reference luminance.
DEEP_BLUE_LUMINANCE = 0.08


#: A gap in a canopy is narrower than this many grid cells (a sky-blue billboard is not).
SKY_GAP_MAX_CELLS = 5


def planes_of(small: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The R, G, B planes of ``small`` as contiguous arrays (``cv2.split``: strided channel
    reads are ≈ 3× slower than contiguous ones)."""
    cv2 = cv2_module()
    if (cv2 is not None and small.dtype == np.float32 and small.flags.c_contiguous and small.size
            and max(small.shape) < 32768):
        return tuple(cv2.split(small))
    return small[..., 0], small[..., 1], small[..., 2]


def _sky_coloured(planes: tuple, y: np.ndarray, reached: np.ndarray, loose: np.ndarray) -> np.ndarray:
    """Cells (not in ``reached``) of the kept sky's colour: blue sky seen through gaps in a
    canopy, too small and too cut up by twigs to pass the smoothness test (bool). Only for a
    blue sky (a grey one matches white cars and walls); each cell within 0.03 of the kept sky's
    mean chromaticity and ×0.5–2 of its mean luminance (a cell mixing leaves and sky is not),
    in regions narrower than :data:`SKY_GAP_MAX_CELLS` (what a morphological opening removes).
    ``planes``: the R, G, B planes of the grid."""
    step = max(1, int(np.sqrt(y.size / 1024)))  # the kept sky's colour from ≈ 1 k samples
    pick = reached[::step, ::step]
    out = np.zeros(y.shape, dtype=bool)
    if not pick.any():
        return out
    sky_rgb = np.array([float(p[::step, ::step][pick].mean()) for p in planes])
    if sky_rgb[2] < BLUE_SKY_B_OVER_G * sky_rgb[1]:  # not a blue sky
        return out
    sky_y = float(sky_rgb @ np.array([0.2126, 0.7152, 0.0722]))
    share = sky_rgb / (float(sky_rgb.sum()) + 1e-6)
    r, g, b = planes
    total = r + g
    total += b
    total += np.float32(1e-6)
    tol = total * np.float32(0.03)
    out = loose & ~reached
    out &= (y >= np.float32(0.5 * sky_y)) & (y <= np.float32(2.0 * sky_y))
    out &= np.abs(r - np.float32(share[0]) * total) < tol
    out &= np.abs(b - np.float32(share[2]) * total) < tol
    if not out.any():
        return out
    return out & ~_opened(out, SKY_GAP_MAX_CELLS)


def _opened(mask: np.ndarray, size: int) -> np.ndarray:
    """The morphological opening of ``mask`` by a ``size``² square (bool)."""
    cv2 = cv2_module()
    if cv2 is not None and max(mask.shape) < 32768:
        kernel = np.ones((size, size), np.uint8)
        return cv2.morphologyEx(mask.view(np.uint8), cv2.MORPH_OPEN, kernel, borderType=cv2.BORDER_CONSTANT,
                                borderValue=0).view(bool)
    from scipy.ndimage import binary_opening

    return binary_opening(mask, structure=np.ones((size, size), bool))


#: A bluish sky (B ≥ this × G: hazy near the horizon) may be smooth only at the 3-cell scale:
#: colour-quantised frames (palette PNG, heavy JPEG) dither it cell to cell.
HAZY_SKY_B_OVER_G = 1.15
#: … when its cell-to-cell steps stay under this many times the smoothness threshold (the
#: Boreas palette frame: ≈ 2.5×; random texture: ≫ 10×).
DITHER_MAX = 4.0


def _abs_steps(y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out`` = |y(r+1, c) − y(r, c)| + |y(r, c+1) − y(r, c)| (0 past the last row / column)."""
    out[-1] = 0
    np.subtract(y[1:], y[:-1], out=out[:-1])
    np.abs(out, out=out)
    gx = np.subtract(y[:, 1:], y[:, :-1])
    np.abs(gx, out=gx)
    out[:, :-1] += gx
    return out


def _smooth_at_three_cells(y: np.ndarray, threshold: float, scratch: np.ndarray) -> np.ndarray:
    """Cells whose 3×3-mean luminance changes by less than ``threshold`` to the next row plus
    the next column (the smoothness test, blind to cell-to-cell dithering); ``scratch`` is
    overwritten."""
    return _abs_steps(box_filter(y, 3), scratch) < threshold


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


def sky_from_small(small: np.ndarray, h: int, w: int, k: int, y: np.ndarray | None = None,
                   planes: tuple | None = None) -> np.ndarray:
    """The H×W sky mask of :func:`estimate_sky` from ``small``: the linear pixels above the
    horizon on the grid of every ``k``-th pixel (k = 1: ``small`` is the grid itself);
    ``y``, ``planes``: their linear luminance and R, G, B planes, when the caller has them."""
    hh, ww = h // k, w // k
    top = small.shape[0]
    if y is None:
        y = small @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    planes = planes_of(small) if planes is None else planes
    cand, loose = _sky_candidates(y, planes)
    # sky = candidate regions (8-connected) that touch the top edge or are large; sky seen
    # through branches stays sky, a bright wall below a tree line does not join it
    labels, area, at_top, _ = component_stats(cand, 8)
    if len(area) == 1:
        return np.zeros((h, w), dtype=bool)
    keep = (area >= 0.02 * max(1, top * ww)) | at_top
    keep[0] = False
    reached = select_labels(labels, keep)
    reached |= _sky_coloured(planes, y, reached, loose)  # blue sky seen through a canopy
    reached = _fill_small_holes(reached, 0.005 * max(1, top * ww))
    reached = _grow_into_bright_edges(reached, loose)
    if hh > top:
        reached = np.concatenate([reached, np.zeros((hh - top, ww), dtype=bool)])
    if k > 1:
        return _repeat_to(reached, (hh, ww), (h, w), k)
    return reached


def _sky_candidates(y: np.ndarray, planes: tuple) -> tuple[np.ndarray, np.ndarray]:
    """The sky candidates (bright, not green and smooth) among the cells above the horizon, and the
    cells bright and not green (the sky test without smoothness), both bool (``y``: linear luminance,
    ``planes``: R, G, B)."""
    sub = y[::2, ::2].ravel()  # the 95th percentile from every fourth cell
    ref = kth_smallest(sub, int(0.95 * (sub.size - 1)))
    thr = np.float32(0.04 * max(ref, 1e-3) + 0.002)
    grad = np.empty_like(y)
    _abs_steps(y, grad)
    smooth = grad < thr
    b_over_g = planes[2] / np.maximum(planes[1], np.float32(1e-12))
    hazy = b_over_g >= np.float32(HAZY_SKY_B_OVER_G)
    hazy &= grad < np.float32(DITHER_MAX) * thr  # dithering is a few quantisation steps, not noise
    smooth |= hazy & _smooth_at_three_cells(y, thr, grad)
    # Everything below the horizon is non-sky, so the search runs on the rows above it: a
    # non-sky region reaching the horizon row joins the band below, which touches the border.
    # bright and not green (the sky test without smoothness); a clear sky darkens toward the
    # zenith (Rayleigh scattering), so strongly blue pixels count down to DEEP_BLUE_LUMINANCE·ref
    loose = (b_over_g >= np.float32(BLUE_SKY_B_OVER_G)) & (y >= np.float32(DEEP_BLUE_LUMINANCE * ref))
    loose |= y >= np.float32(0.35 * ref)
    loose &= b_over_g >= np.float32(0.8)  # not green
    return loose & smooth, loose


def _fill_small_holes(reached: np.ndarray, max_area: float) -> np.ndarray:
    """``reached`` with its small holes filled (JPEG noise, a bird, a wire crossing): the enclosed non-sky
    blobs of fewer than ``max_area`` cells. Holes are the 4-connected non-sky components not touching the
    border (what binary_fill_holes finds), here with one labelling pass instead of its slow propagation."""
    hl, area, _, border = component_stats(~reached, 4)
    small_hole = (area < max_area) & ~border
    small_hole[0] = False
    if small_hole.any():
        reached |= select_labels(hl, small_hole)
    return reached


def _repeat_to(reached: np.ndarray, grid: tuple[int, int], shape: tuple[int, int], k: int) -> np.ndarray:
    """The mask ``reached`` on the ``grid`` (hh × ww) of every ``k``-th pixel brought to ``shape`` (H×W): each
    cell repeated k×k, the columns beyond the grid copying its last one (the rows beyond it stay False)."""
    hh, ww = grid
    h, w = shape
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
