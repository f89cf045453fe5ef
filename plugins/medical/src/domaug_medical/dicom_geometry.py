"""DICOM patient geometry: slice normals, series sorting, voxel affines (pure numpy)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def orientation(ds) -> np.ndarray | None:
    """(row direction, column direction) cosines as a 2×3 array, or None."""
    iop = getattr(ds, "ImageOrientationPatient", None)
    if iop is None or len(iop) != 6:
        return None
    return np.asarray([float(v) for v in iop], dtype=np.float64).reshape(2, 3)


def position(ds) -> np.ndarray | None:
    ipp = getattr(ds, "ImagePositionPatient", None)
    if ipp is None or len(ipp) != 3:
        return None
    return np.asarray([float(v) for v in ipp], dtype=np.float64)


def pixel_spacing(ds) -> list[float] | None:
    """(row spacing, column spacing) in mm from PixelSpacing or ImagerPixelSpacing."""
    for name in ("PixelSpacing", "ImagerPixelSpacing"):
        value = getattr(ds, name, None)
        if value is not None and len(value) == 2:
            out = [float(v) for v in value]
            if all(v > 0 for v in out):
                return out
    return None


def slice_normal(iop: np.ndarray) -> np.ndarray:
    n = np.cross(iop[0], iop[1])
    norm = np.linalg.norm(n)
    return n / norm if norm > 0 else n


def sort_by_position(headers: Sequence[Any]) -> list[int] | None:
    """Indices sorting headers along the slice normal, or None when they do not form a volume
    (missing geometry, different orientation or matrix, repeated positions)."""
    if len(headers) < 2:
        return None
    iop0 = orientation(headers[0])
    if iop0 is None:
        return None
    normal = slice_normal(iop0)
    keys = []
    shape0 = (getattr(headers[0], "Rows", None), getattr(headers[0], "Columns", None))
    for h in headers:
        iop, ipp = orientation(h), position(h)
        if iop is None or ipp is None or not np.allclose(iop, iop0, atol=1e-4):
            return None
        if (getattr(h, "Rows", None), getattr(h, "Columns", None)) != shape0:
            return None
        if int(getattr(h, "NumberOfFrames", 1) or 1) != 1:
            return None
        keys.append(float(np.dot(ipp, normal)))
    order = sorted(range(len(headers)), key=lambda i: keys[i])
    gaps = np.diff([keys[i] for i in order])
    if np.any(np.abs(gaps) < 1e-3):
        return None
    return order


def volume_affine(first, last, n_slices: int, spacing_rc: Sequence[float]) -> np.ndarray:
    """4×4 map from array index (slice, row, col) to patient mm (LPS)."""
    iop = orientation(first)
    p0, p1 = position(first), position(last)
    step = (p1 - p0) / max(n_slices - 1, 1)
    a = np.eye(4)
    a[:3, 0] = step
    a[:3, 1] = iop[1] * float(spacing_rc[0])  # down the rows = column direction cosine
    a[:3, 2] = iop[0] * float(spacing_rc[1])  # along a row
    a[:3, 3] = p0
    return a


def slice_geometry(affine: np.ndarray, k: int) -> tuple[list[float], list[float], list[float]]:
    """(ImagePositionPatient, ImageOrientationPatient, PixelSpacing) of slice ``k``."""
    a = np.asarray(affine, dtype=np.float64)
    ipp = a[:3, :3] @ np.array([k, 0.0, 0.0]) + a[:3, 3]
    col_vec, row_vec = a[:3, 1], a[:3, 2]
    ps = [float(np.linalg.norm(col_vec)), float(np.linalg.norm(row_vec))]
    iop = list(row_vec / (ps[1] or 1.0)) + list(col_vec / (ps[0] or 1.0))
    return [float(v) for v in ipp], [float(v) for v in iop], ps
