"""Pure kernels for the road: noise textures laid on the road plane, nearest-neighbour upsampling
(the wet road is :mod:`.wet_road`)."""

from __future__ import annotations

import numpy as np

from domaug.kit import cv2_module

from .fields import value_noise


def road_texture(
    shape: tuple[int, int], camera, seed: int, patch_cells: float = 8.0, grid: int = 256, step: int = 2
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A noise texture laid *on the road plane*, seen through the camera (1/``step`` resolution).

    Each road pixel (the centre of every ``step``×``step`` block below the horizon) is mapped to the ground
    point (X, Z) = ((u − c_x)·Z/f, f·h/(v − v_h)) and looks up, bilinearly, a zero-mean
    unit-std value-noise field with 0.16 m × 0.32 m cells (X ±20 m, Z 0–80 m; features of
    ``patch_cells`` cells, i.e. ≈ 1.3 m × 2.6 m by default), so patches shrink
    and flatten with distance like real ones. ``grid`` < 256 evaluates the noise on a
    coarser lattice of the same ground area (cells 256/grid times larger, features the same
    size in metres: ``patch_cells`` is given in 256-grid cells), which is cheaper. Returns (Z per row, X per pixel, texture),
    shapes (r,), (r, c), (r, c) with r = ⌈(H − y0)/step⌉, c = ⌈W/step⌉, y0 = first road row.
    """
    h, w = shape
    f, vh, ch = camera["focal_length_px"], camera["horizon_row"], camera["camera_height_m"]
    y0 = int(np.clip(np.ceil(vh + 0.5), 0, h))
    rows = np.arange(y0, h, step, dtype=np.float32) + (0.5 * step - vh)
    z = f * ch / rows
    x_over_z = (np.arange(0, w, step, dtype=np.float32) + (0.5 * step - w / 2.0)) / f
    x = z[:, None] * x_over_z[None, :]
    g = int(grid)
    field = value_noise((g, g), seed=seed, scale_px=patch_cells * g / 256.0, octaves=3)
    fz = np.clip(z * (g / 80.0), 0, g - 1.001).astype(np.float32)[:, None]
    fx = np.clip((x + 20.0) * (g / 40.0), 0, g - 1.001).astype(np.float32)
    cv2 = cv2_module()
    if cv2 is not None and x.size and x.shape[1] < 32768:  # bilinear lookup (weights in 1/32 px steps)
        map_z = np.ascontiguousarray(np.broadcast_to(fz, fx.shape))
        tex = cv2.remap(np.ascontiguousarray(field, dtype=np.float32), fx, map_z, cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)
        return z, x, tex
    field = field.ravel()
    iz, ix = fz.astype(np.int32), fx.astype(np.int32)
    az, ax = fz - iz, fx - ix
    base = iz * g + ix
    top = field[base] * (1 - ax) + field[base + 1] * ax
    bottom = field[base + g] * (1 - ax) + field[base + g + 1] * ax
    return z, x, (top * (1 - az) + bottom * az).astype(np.float32)


def upsample2(half: np.ndarray, rows: int, cols: int, out: np.ndarray | None = None) -> np.ndarray:
    """Repeat a half-resolution map ×2 on both axes and crop to rows × cols (a view of
    ``out`` when given: C-contiguous float32 of ``half``'s shape × 2)."""
    return repeat_rows_cols(half, 2, 2, out=out)[:rows, :cols]


def upsample2_into(half: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out`` (float32 rows × cols, rows or a row-strided view) ← ``upsample2(half, rows, cols)``
    written in place, with no frame-sized temporary: the even part by one nearest ×2
    ``cv2.resize`` (or four strided copies), an odd last row/column from ``half``'s next one."""
    rows, cols = out.shape
    r2, c2 = rows // 2, cols // 2
    cv2 = cv2_module()
    if (cv2 is not None and r2 and c2 and half.dtype == out.dtype == np.float32 and out.strides[-1] == 4
            and half.strides[-1] == 4 and rows < 32768 and cols < 32768):
        cv2.resize(half[:r2, :c2], (2 * c2, 2 * r2), dst=out[: 2 * r2, : 2 * c2], interpolation=cv2.INTER_NEAREST)
    else:
        for i in (0, 1):
            for j in (0, 1):
                out[i : 2 * r2 : 2, j : 2 * c2 : 2] = half[:r2, :c2]
    if rows % 2:
        out[rows - 1, 0 : 2 * c2 : 2] = half[r2, :c2]
        out[rows - 1, 1 : 2 * c2 : 2] = half[r2, :c2]
    if cols % 2:
        out[0 : 2 * r2 : 2, cols - 1] = half[:r2, c2]
        out[1 : 2 * r2 : 2, cols - 1] = half[:r2, c2]
        if rows % 2:
            out[rows - 1, cols - 1] = half[r2, c2]
    return out


def repeat_rows_cols(a: np.ndarray, fy: int, fx: int, out: np.ndarray | None = None) -> np.ndarray:
    """``a`` (2-D, or 3-D with ≤ 4 channels) with every row repeated ``fy`` times and every
    column ``fx`` times; ``cv2.resize`` nearest (exact for integer factors) or numpy. Written
    to ``out`` (C-contiguous, ``a``'s dtype, shape (fy·rows, fx·cols, …)) when given."""
    cv2 = cv2_module()
    size = (a.shape[1] * fx, a.shape[0] * fy)
    if (cv2 is not None and a.size and a.dtype == np.float32 and a.ndim in (2, 3) and (a.ndim == 2 or a.shape[2] <= 4)
            and size[1] < 32768 and size[0] < 32768):
        if out is None:
            return cv2.resize(np.ascontiguousarray(a), size, interpolation=cv2.INTER_NEAREST)
        cv2.resize(np.ascontiguousarray(a), size, dst=out, interpolation=cv2.INTER_NEAREST)
        return out
    rep = np.repeat(np.repeat(a, fy, axis=0), fx, axis=1)
    if out is None:
        return rep
    np.copyto(out, rep)
    return out
