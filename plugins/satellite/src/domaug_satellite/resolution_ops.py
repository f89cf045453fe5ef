"""Pure kernels for a coarser sensor: area decimation, block mode, linear re-expansion.

Geometry: output pixel ``i`` covers input ``[i·r, (i+1)·r)`` along each axis (same
origin, pixel size × r); ``out_n = floor(n / r)`` so that every output pixel lies inside
the input (bounds kept to within one output pixel).
"""

from __future__ import annotations

import math

import numpy as np

from domaug.kit import lazy_module

sparse = lazy_module("scipy.sparse")


def out_size(n: int, r: float) -> int:
    return max(1, int(math.floor(n / r + 1e-9)))


def is_integer_factor(r: float) -> bool:
    return abs(r - round(r)) < 1e-9


def area_matrix(n_in: int, r: float) -> sparse.csr_matrix:
    """(out_n × n_in) weights of each input pixel's overlap with each output pixel (rows sum to 1)."""
    n_out = out_size(n_in, r)
    rows, cols, vals = [], [], []
    for i in range(n_out):
        a, b = i * r, min((i + 1) * r, n_in)
        j0, j1 = int(math.floor(a)), int(math.ceil(b - 1e-12))
        for j in range(j0, min(j1, n_in)):
            w = min(b, j + 1) - max(a, j)
            if w > 1e-12:
                rows.append(i)
                cols.append(j)
                vals.append(w)
    m = sparse.csr_matrix((vals, (rows, cols)), shape=(n_out, n_in), dtype=np.float64)
    s = np.asarray(m.sum(axis=1)).ravel()
    return sparse.diags(1.0 / np.maximum(s, 1e-12)) @ m


def linear_matrix(n_out: int, n_in: int, r: float) -> sparse.csr_matrix:
    """(n_out × n_in) linear interpolation from a grid of pixel size r back to pixel size 1."""
    u = (np.arange(n_out) + 0.5) / r - 0.5
    u = np.clip(u, 0.0, n_in - 1)
    i0 = np.floor(u).astype(int)
    i1 = np.minimum(i0 + 1, n_in - 1)
    f = u - i0
    rows = np.concatenate([np.arange(n_out), np.arange(n_out)])
    m = sparse.csr_matrix((np.concatenate([1 - f, f]), (rows, np.concatenate([i0, i1]))), shape=(n_out, n_in))
    return m


def apply_separable(array: np.ndarray, m_rows: sparse.spmatrix, m_cols: sparse.spmatrix) -> np.ndarray:
    """``m_rows @ A @ m_colsᵀ`` over the first two axes of a 2-D or 3-D (H×W×C) array, float64."""
    a = np.asarray(array, dtype=np.float64)
    h, w = a.shape[:2]
    rest = a.shape[2:]
    y = m_rows @ a.reshape(h, -1)  # (h', W·C)
    y = y.reshape((m_rows.shape[0], w) + rest)
    y = np.moveaxis(y, 1, 0).reshape(w, -1)  # (W, h'·C)
    z = m_cols @ y
    z = z.reshape((m_cols.shape[0], m_rows.shape[0]) + rest)
    return np.moveaxis(z, 0, 1)


def area_taps(n_in: int, r: float) -> tuple[np.ndarray, np.ndarray]:
    """The rows of :func:`area_matrix` as taps: output ``i`` = Σ_t ``w[t, i]·x[j0[i] + t]``.

    Returns ``(j0, w)`` with ``w`` of shape (taps, out_n), normalised (zero weight where a
    tap falls outside the input; its index is clamped)."""
    n_out = out_size(n_in, r)
    i = np.arange(n_out, dtype=np.float64)
    a = i * r
    b = np.minimum((i + 1) * r, n_in)
    j0 = np.floor(a).astype(np.int64)
    taps = int(math.ceil(r)) + 1
    j = j0[None, :] + np.arange(taps)[:, None]
    w = np.minimum(b[None, :], j + 1) - np.maximum(a[None, :], j)
    w[(w <= 1e-12) | (j >= n_in)] = 0.0
    w /= np.maximum(w.sum(axis=0, keepdims=True), 1e-12)
    keep = np.flatnonzero(w.any(axis=1))
    return j0, w[: keep[-1] + 1] if keep.size else w[:1]


def _work_dtype(array: np.ndarray) -> np.dtype:
    return np.dtype(np.float32) if array.dtype == np.float32 else np.dtype(np.float64)


def block_mean(array: np.ndarray, r: float) -> np.ndarray:
    """Area-weighted mean over output pixels of size r, float32 for float32 input, else float64.

    Separable taps (rows, then columns, all bands of a pixel together), so the work is a
    few contiguous passes; a side shorter than r gives one output pixel, the mean of the
    whole side (area path)."""
    h, w = array.shape[:2]
    dt = _work_dtype(array)
    rest = array.shape[2:]
    flat = array.reshape(h, -1)
    j0, wr = area_taps(h, r)
    rows = None
    for t in range(wr.shape[0]):
        term = flat[np.minimum(j0 + t, h - 1)].astype(dt, copy=False)
        term *= wr[t].astype(dt)[:, None]
        rows = term if rows is None else np.add(rows, term, out=rows)
    ho = rows.shape[0]
    c = int(np.prod(rest)) if rest else 1
    rows = rows.reshape(ho, w, c)
    j0, wc = area_taps(w, r)
    out = None
    for t in range(wc.shape[0]):
        term = np.take(rows, np.minimum(j0 + t, w - 1), axis=1).reshape(ho, -1)
        term *= np.repeat(wc[t].astype(dt), c)
        out = term if out is None else np.add(out, term, out=out)
    return out.reshape((ho, len(j0)) + rest)


def block_all(mask: np.ndarray, r: float) -> np.ndarray:
    """Output pixels of size r whose every overlapping input pixel is True (2-D bool mask).

    Equals ``block_mean(mask, r) > 1 − 1e-9`` (overlaps below 1e-9 px² do not count) with
    byte-wide ANDs instead of float sums."""
    out = np.asarray(mask, dtype=bool)
    for axis in (0, 1):
        n = out.shape[axis]
        j0, w = area_taps(n, r)
        acc = None
        for t in range(w.shape[0]):
            tap = np.take(out, np.minimum(j0 + t, n - 1), axis=axis)
            unused = w[t] <= 1e-9
            if unused.any():
                tap |= unused[:, None] if axis == 0 else unused[None, :]
            acc = tap if acc is None else np.logical_and(acc, tap, out=acc)
        out = acc
    return out


def block_mode(labels: np.ndarray, r: float) -> np.ndarray:
    """Most frequent label per output pixel (ties: smaller label); nearest for non-integer r."""
    h, w = labels.shape[:2]
    ho, wo = out_size(h, r), out_size(w, r)
    uniq = np.unique(labels)
    if not is_integer_factor(r) or len(uniq) > 64 or min(h, w) < round(r):
        # (a side shorter than r: its one output pixel covers the whole side, see area_matrix)
        rows = np.minimum(((np.arange(ho) + 0.5) * r).astype(int), h - 1)
        cols = np.minimum(((np.arange(wo) + 0.5) * r).astype(int), w - 1)
        return labels[np.ix_(rows, cols)].copy()
    k = int(round(r))
    blocks = labels[: ho * k, : wo * k].reshape(ho, k, wo, k)
    best = np.full((ho, wo), uniq[0], dtype=labels.dtype)
    best_count = np.full((ho, wo), -1, dtype=np.int64)
    for lab in uniq:
        count = (blocks == lab).sum(axis=(1, 3))
        better = count > best_count
        best[better] = lab
        best_count[better] = count[better]
    return best
