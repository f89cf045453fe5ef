"""Pure kernels for a coarser sensor: area decimation, block mode, linear re-expansion.

Geometry: output pixel ``i`` covers input ``[i·r, (i+1)·r)`` along each axis (same
origin, pixel size × r); ``out_n = floor(n / r)`` so that every output pixel lies inside
the input (bounds kept to within one output pixel).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse


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


def block_mean(array: np.ndarray, r: float) -> np.ndarray:
    """Area-weighted mean over output pixels of size r (fast reshape path for integer r).

    A side shorter than r gives one output pixel, the mean of the whole side (area path)."""
    h, w = array.shape[:2]
    if is_integer_factor(r) and min(h, w) >= round(r):
        k = int(round(r))
        ho, wo = out_size(h, k), out_size(w, k)
        a = array[: ho * k, : wo * k].astype(np.float64, copy=False)
        return a.reshape((ho, k, wo, k) + array.shape[2:]).mean(axis=(1, 3))
    return apply_separable(array, area_matrix(h, r), area_matrix(w, r))


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
