"""Geometry shared by spatial transforms: matrices, boxes, keypoints, and meta updates.

Convention: continuous pixel coordinates with pixel edges at integers (GDAL's and
the bbox convention): pixel ``i`` spans ``[i, i+1)``, the image spans ``[0, W] × [0, H]``.
Matrices are homogeneous and map *output* coordinates to *input* coordinates in
array-axis order (``(row, col)`` for 2-D, ``(slice, row, col)`` for 3-D).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import UnsupportedInputError


def flip_matrix(shape: Sequence[int], axes: Sequence[int]) -> np.ndarray:
    """Output→input map of mirroring ``axes`` of a grid of ``shape``."""
    n = len(shape)
    m = np.eye(n + 1)
    for ax in axes:
        m[ax, ax] = -1.0
        m[ax, n] = float(shape[ax])
    return m


def rot90_matrix(shape: Sequence[int], k: int) -> np.ndarray:
    """Output→input map of ``np.rot90(a, k)`` on the first two axes (rows, cols) of a 2-D grid."""
    h, w = shape[0], shape[1]
    k %= 4
    m = np.eye(3)
    if k == 1:  # out[r, c] = in[c, W-1-r]  → in_row = c, in_col = W - r
        m = np.array([[0, 1, 0], [-1, 0, w], [0, 0, 1]], dtype=float)
    elif k == 2:
        m = np.array([[-1, 0, h], [0, -1, w], [0, 0, 1]], dtype=float)
    elif k == 3:  # out[r, c] = in[H-1-c, r]
        m = np.array([[0, -1, h], [1, 0, 0], [0, 0, 1]], dtype=float)
    return m


def embed_2d(m2: np.ndarray, spatial_ndim: int) -> np.ndarray:
    """Lift a 3×3 (row, col) map to act on the last two axes of a 3-D grid."""
    if spatial_ndim == 2:
        return m2
    m = np.eye(4)
    m[1:3, 1:3] = m2[:2, :2]
    m[1:3, 3] = m2[:2, 2]
    return m


def _xy_to_rc(points_xy: np.ndarray) -> np.ndarray:
    return points_xy[:, ::-1]


def transform_points(points_xy: np.ndarray, out_to_in: np.ndarray) -> np.ndarray:
    """Map input (x, y) points to output coordinates through the inverse of ``out_to_in``."""
    in_to_out = np.linalg.inv(out_to_in)
    rc = _xy_to_rc(points_xy)
    homog = np.concatenate([rc, np.ones((len(rc), 1))], axis=1)
    mapped = homog @ in_to_out.T
    mapped = mapped[:, :2] / mapped[:, 2:3]
    return mapped[:, ::-1]


def transform_bboxes(
    bboxes: np.ndarray, out_to_in: np.ndarray, out_shape: Sequence[int], min_size: float = 1.0
) -> np.ndarray:
    """Move xyxy boxes (plus label columns) through a 2-D map; clip; drop degenerate boxes.

    Each box becomes the axis-aligned hull of its four mapped corners, clipped to the
    output image. Boxes narrower or shorter than ``min_size`` pixels after clipping are
    dropped together with their label columns.
    """
    if bboxes.size == 0:
        return bboxes.copy()
    b = bboxes.astype(np.float64, copy=True)
    x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    corners = np.stack(
        [np.stack([x0, y0], 1), np.stack([x1, y0], 1), np.stack([x0, y1], 1), np.stack([x1, y1], 1)], 1
    )
    mapped = transform_points(corners.reshape(-1, 2), out_to_in).reshape(-1, 4, 2)
    h, w = out_shape[0], out_shape[1]
    b[:, 0] = np.clip(mapped[:, :, 0].min(1), 0, w)
    b[:, 1] = np.clip(mapped[:, :, 1].min(1), 0, h)
    b[:, 2] = np.clip(mapped[:, :, 0].max(1), 0, w)
    b[:, 3] = np.clip(mapped[:, :, 1].max(1), 0, h)
    keep = ((b[:, 2] - b[:, 0]) >= min_size) & ((b[:, 3] - b[:, 1]) >= min_size)
    return b[keep].astype(bboxes.dtype if np.issubdtype(bboxes.dtype, np.floating) else np.float64)


def transform_keypoints(keypoints: np.ndarray, out_to_in: np.ndarray, out_shape: Sequence[int]) -> np.ndarray:
    """Move (x, y, ...) keypoints through a 2-D map; drop those that leave the image."""
    if keypoints.size == 0:
        return keypoints.copy()
    k = keypoints.astype(np.float64, copy=True)
    k[:, :2] = transform_points(k[:, :2], out_to_in)
    h, w = out_shape[0], out_shape[1]
    inside = (k[:, 0] >= 0) & (k[:, 0] < w) & (k[:, 1] >= 0) & (k[:, 1] < h)
    return k[inside]


def update_meta(meta: Mapping[str, Any], out_to_in: np.ndarray, spatial_ndim: int) -> dict:
    """Carry geometry through a spatial map so every pixel keeps its place in the world.

    - ``transform``: GDAL geotransform ``(x0, dx, rx, y0, ry, dy)`` mapping (col, row)
      edges to map coordinates; composed with the map (2-D grids, or the row/column
      plane of a 3-D stack when the map keeps slices apart; otherwise refused).
    - ``affine``: (n+1)×(n+1) matrix mapping array indices (voxel centres, array-axis
      order) to world millimetres; composed with the map.
    - ``spacing``: per-axis sample distance in array-axis order; recomputed as the length
      of each output axis's step in input units × input spacing.
    """
    out = dict(meta)
    n = spatial_ndim
    if meta.get("transform") is not None and n in (2, 3):
        out["transform"] = _compose_geotransform(meta["transform"], out_to_in, n)
    if meta.get("affine") is not None:
        a = np.asarray(meta["affine"], dtype=float)
        if a.shape == (n + 1, n + 1):
            out["affine"] = _compose_affine(a, out_to_in, n)
    if meta.get("spacing") is not None and len(meta["spacing"]) == n:
        spacing = np.asarray(meta["spacing"], dtype=float)
        out["spacing"] = [float(v) for v in np.linalg.norm(spacing[:, None] * out_to_in[:n, :n], axis=0)]
    return out


def _compose_geotransform(transform: Sequence[float], out_to_in: np.ndarray, n: int) -> list[float]:
    """The GDAL geotransform of the output grid (the row/column plane of a 3-D stack)."""
    if n == 3 and (np.any(out_to_in[0, 1:3] != 0) or np.any(out_to_in[1:3, 0] != 0)):
        # A geotransform describes the row/column plane of a stack of 2-D rasters: fine as
        # long as the map does not mix slices with rows/columns.
        from ..errors import UnsupportedInputError

        raise UnsupportedInputError(
            "meta['transform'] is a 2-D geotransform; this map mixes slices with rows/columns"
        )
    plane = out_to_in if n == 2 else out_to_in[1:, 1:]
    x0, dx, rx, y0, ry, dy = [float(v) for v in transform]
    geo = np.array([[dx, rx, x0], [ry, dy, y0], [0, 0, 1.0]])  # (col, row, 1) → (x, y, 1)
    swap = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1.0]])  # (row, col) ↔ (col, row)
    m_cr = swap @ plane @ swap
    g = geo @ m_cr
    return [float(v) for v in (g[0, 2], g[0, 0], g[0, 1], g[1, 2], g[1, 0], g[1, 1])]


def _compose_affine(a: np.ndarray, out_to_in: np.ndarray, n: int) -> list:
    """The index→world matrix of the output grid (voxel centres: index i ↔ edge coordinate i + 0.5)."""
    shift = np.eye(n + 1)
    shift[:n, n] = 0.5
    unshift = np.eye(n + 1)
    unshift[:n, n] = -0.5
    return (a @ unshift @ out_to_in @ shift).tolist()


def geometry_changes(out_to_in: np.ndarray, in_shape: Sequence[int], out_shape: Sequence[int]) -> bool:
    """Whether a map changes the grid (anything but the identity on the same shape)."""
    return tuple(in_shape) != tuple(out_shape) or not np.allclose(out_to_in, np.eye(len(out_to_in)))


def array_axis(name: str, spatial_ndim: int, what: str = "the 'depth' axis") -> int:
    """The array axis of a named image axis: ``horizontal`` (columns), ``vertical`` (rows),
    ``depth`` (the slices of a volume; ``what`` names the refusal on a 2-D image)."""
    if name == "depth":
        if spatial_ndim != 3:
            raise UnsupportedInputError(f"{what} needs a 3-D volume")
        return 0
    return spatial_ndim - 2 if name == "vertical" else spatial_ndim - 1


def is_geographic(crs: Any) -> bool:
    """True for a CRS in degrees: ``EPSG:4326``-like codes, WKT ``GEOGCS``/``GEOGCRS``, proj ``longlat``.

    A projected WKT names its geographic base CRS inside (``AUTHORITY["EPSG","4326"]``): it
    is projected all the same.
    """
    text = str(crs or "").strip().upper()
    if not text or text.startswith(("PROJCS", "PROJCRS")):
        return False
    if text in ("EPSG:4326", "EPSG:4269", "EPSG:4258", "OGC:CRS84", "CRS84", "WGS84"):
        return True
    return text.startswith(("GEOGCS", "GEOGCRS", "GEODCRS")) or "+PROJ=LONGLAT" in text or "+PROJ=LATLONG" in text
