"""The layout's label values and the operations on its grid (morphology along rows and columns, contact
rows, resizing), shared by :mod:`.layout` and :mod:`.ego`."""

from __future__ import annotations

import functools

import numpy as np

from domaug.kit import cv2_module

#: Layout labels (uint8): sky, ground, vertical object, ego vehicle (hood / dashboard).
SKY, GROUND, VERTICAL, EGO = 1, 2, 3, 4


def _run_up(mask: np.ndarray) -> np.ndarray:
    """Per column, the number of True cells from the bottom row of ``mask`` up to its first False."""
    if not mask.shape[0]:
        return np.zeros(mask.shape[1], dtype=np.int64)
    up = mask[::-1]
    return np.where(up.all(axis=0), mask.shape[0], np.argmin(up, axis=0)).astype(np.int64)


def _close_vertical(mask: np.ndarray, gap: int) -> np.ndarray:
    """Fill vertical runs of False of at most ``gap`` cells between True cells (bool)."""
    if gap < 1:
        return mask
    cv2 = cv2_module()
    kernel_len = 2 * gap + 1
    if cv2 is not None and max(mask.shape) < 32768:
        kernel = np.ones((kernel_len, 1), np.uint8)
        out = cv2.morphologyEx(mask.view(np.uint8) if mask.flags.c_contiguous else mask.astype(np.uint8),
                               cv2.MORPH_CLOSE, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
        return out.astype(bool) | mask
    from scipy.ndimage import binary_closing

    return binary_closing(mask, structure=np.ones((kernel_len, 1), bool)) | mask


def _open_rows(mask: np.ndarray, width: int) -> np.ndarray:
    """``mask`` without its runs along the rows narrower than ``width`` cells (a horizontal opening)."""
    cv2 = cv2_module()
    if cv2 is not None and max(mask.shape) < 32768 and mask.size:
        m = np.ascontiguousarray(mask).view(np.uint8)
        return cv2.morphologyEx(m, cv2.MORPH_OPEN, np.ones((1, width), np.uint8)).view(bool)
    from scipy.ndimage import binary_opening

    return binary_opening(mask, structure=np.ones((1, width), bool))


def _dilate_rows(mask: np.ndarray, width: int) -> np.ndarray:
    """``mask`` grown along the rows by ``width`` // 2 cells each side."""
    cv2 = cv2_module()
    if cv2 is not None and max(mask.shape) < 32768 and mask.size:
        return cv2.dilate(np.ascontiguousarray(mask).view(np.uint8), np.ones((1, width), np.uint8)).view(bool)
    from scipy.ndimage import binary_dilation

    return binary_dilation(mask, structure=np.ones((1, width), bool))


def _smooth_rows(contact: np.ndarray, width: int, gap: int | None = None) -> np.ndarray:
    """Horizontal closing (over ``gap`` columns, default ``width``) then opening (over ``width``)
    of the contact rows: a cheap median-like filter (≈ 20× faster than a running median) that
    removes far dips narrower than ``gap`` and near spikes narrower than ``width`` while keeping
    wider steps (object edges) in place."""
    gap = width if gap is None else gap
    cv2 = cv2_module()
    c = np.ascontiguousarray(contact, dtype=np.uint16 if contact.max(initial=0) < 65535 else np.int32)
    if cv2 is not None and c.dtype == np.uint16 and max(c.shape) < 32768:
        c = cv2.morphologyEx(c, cv2.MORPH_CLOSE, np.ones((1, gap), np.uint8), borderType=cv2.BORDER_REPLICATE)
        return cv2.morphologyEx(c, cv2.MORPH_OPEN, np.ones((1, width), np.uint8), borderType=cv2.BORDER_REPLICATE)
    from scipy.ndimage import grey_closing, grey_opening

    c = grey_closing(c, size=(1, gap), mode="nearest")
    return grey_opening(c, size=(1, width), mode="nearest").astype(np.int32)


def _contact_rows(ground: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """Each pixel's contact row: the nearest ground row at or below it in its column, else
    ``floor`` (that column's last row above the ego band); uint16. A suffix minimum up each
    column in log2(H) shifted passes (Hillis–Steele), ≈ 4× faster than ``np.minimum.accumulate``
    on a reversed view."""
    hs, ws = ground.shape
    if hs >= 65535:
        idx = np.where(ground, np.arange(hs)[:, None], floor[None, :])
        return np.minimum.accumulate(idx[::-1], axis=0)[::-1]
    a = np.empty((hs, ws), dtype=np.uint16)
    a[:] = floor.astype(np.uint16)
    cv2 = cv2_module()
    if cv2 is not None and ws < 32768 and a.size:
        cv2.copyTo(_row_index(hs, ws), ground.view(np.uint8), a)
    else:
        np.copyto(a, np.arange(hs, dtype=np.uint16)[:, None], where=ground)
    b = np.empty_like(a)
    step = 1
    while step < hs:
        np.minimum(a[:-step], a[step:], out=b[:-step])
        b[-step:] = a[-step:]
        a, b = b, a
        step *= 2
    return a


@functools.lru_cache(maxsize=8)
def _row_index(hs: int, ws: int) -> np.ndarray:
    """The row number of each cell (uint16 H×W, cached and read-only)."""
    out = np.repeat(np.arange(hs, dtype=np.uint16)[:, None], ws, axis=1)
    out.flags.writeable = False
    return out


def _resize(field: np.ndarray, shape: tuple[int, int], *, linear: bool) -> np.ndarray:
    """A coarse grid at ``shape``: bilinear between cell centres, or the nearest cell."""
    h, w = shape
    cv2 = cv2_module()
    if cv2 is not None and h < 32768 and w < 32768:
        return cv2.resize(np.ascontiguousarray(field), (w, h), interpolation=cv2.INTER_LINEAR if linear else cv2.INTER_NEAREST)
    if not linear:
        rows = np.minimum((np.arange(h) * field.shape[0]) // h, field.shape[0] - 1)
        cols = np.minimum((np.arange(w) * field.shape[1]) // w, field.shape[1] - 1)
        return field[rows][:, cols]
    from scipy.ndimage import map_coordinates

    yy = (np.arange(h) + 0.5) * field.shape[0] / h - 0.5
    xx = (np.arange(w) + 0.5) * field.shape[1] / w - 0.5
    grid = np.meshgrid(yy, xx, indexing="ij")
    return map_coordinates(field, grid, order=1, mode="nearest").astype(np.float32)
