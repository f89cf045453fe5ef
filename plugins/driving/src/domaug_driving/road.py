"""Pure kernels for the road: a wet road (darker asphalt, Fresnel-weighted mirror image), road-plane textures."""

from __future__ import annotations

import numpy as np

from domaug.kit import cv2_module

from .fields import value_noise
from .scratch import buffer


def schlick_fresnel(cos_theta: np.ndarray, r0: float = 0.02) -> np.ndarray:
    """Reflectance R = R0 + (1 − R0)(1 − cos θ)^5 (Schlick 1994; R0 = 0.02 for water)."""
    return r0 + (1.0 - r0) * (1.0 - cos_theta) ** 5


class WetRoad:
    """A wet road below the horizon, for linear images in planes (one plane at a time).

    - darkening: albedo × keep, keep = 1 − 0.4·wetness (Lekner & Dorf, Appl. Opt. 1988:
      wet surfaces are 20–50 % darker);
    - reflection: for a flat road the mirror image of a far object lies symmetric about
      the horizon, so row ``y`` reflects row ``2·v_h − y``; it is blurred vertically (rough
      asphalt: a box of 4 % of H, computed on every 4th row and repeated) and weighted by
      Schlick's Fresnel term at the grazing angle of that road row (≈ 0.25 at 5 m, 0.7 at
      20 m for a camera 1.3 m high) × wetness × ``puddles`` (0–1).

    ``puddles`` covers the road rows only ((H − y0)×W, y0 = ⌈horizon_row⌉; it is kept and
    overwritten by ``weight(in_place=True)``); ``boxes`` (xyxy, e.g. labelled objects) keep
    objects dry-looking. A wet road row is ``plane·keep + mirror·weight``, the mirror taken
    from that plane before darkening (so planes stay independent); composites fold the terms
    into their own passes with :meth:`gain_rows`, :meth:`weight` and :meth:`add_mirror`.
    """

    def __init__(self, h: int, w: int, *, horizon_row: float, focal_length_px: float, camera_height_m: float,
                 wetness: float, puddles: np.ndarray | None = None, boxes: np.ndarray | None = None) -> None:
        self.h, self.w = h, w
        self.horizon_row = float(horizon_row)
        y0 = int(np.clip(np.ceil(horizon_row), 0, h))
        self.y0 = y0
        self.active = y0 < h and wetness > 0
        if not self.active:
            return
        rows = np.arange(y0, h, dtype=np.float64) + 0.5
        self.src = np.clip(np.rint(2.0 * horizon_row - rows).astype(np.intp), 0, h - 1)
        z = focal_length_px * camera_height_m / np.maximum(rows - horizon_row, 1e-3)
        cos_theta = camera_height_m / np.hypot(camera_height_m, z)
        self.fresnel = (wetness * schlick_fresnel(cos_theta)).astype(np.float32)[:, None]  # per road row
        self.puddles = puddles
        self.keep = np.float32(1.0 - 0.4 * wetness)
        self.rects = _road_rects(boxes, y0, h, w)

    def gain_rows(self, g: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``out`` (road rows) = g[y0:]·keep (1 inside the boxes): the darkening folded into a gain."""
        np.multiply(g[self.y0 :], self.keep, out=out)
        for r0, r1, c0, c1 in self.rects:
            out[r0:r1, c0:c1] = g[self.y0 + r0 : self.y0 + r1, c0:c1]
        return out

    def weight(self, g_rows: np.ndarray | None = None, in_place: bool = False) -> np.ndarray:
        """The reflection weight per road pixel: Fresnel·wetness·puddles (0 inside the boxes),
        times ``g_rows`` when given; computed in the ``puddles`` buffer when ``in_place``."""
        if self.puddles is None:
            wgt = np.repeat(self.fresnel, self.w, axis=1)
        elif in_place:
            wgt = self.puddles
            wgt *= self.fresnel
        else:
            wgt = self.puddles * self.fresnel
        if g_rows is not None:
            wgt *= g_rows
        for r0, r1, c0, c1 in self.rects:
            wgt[r0:r1, c0:c1] = 0.0
        return wgt

    #: The mirror image is evaluated on every STEP-th road row, blurred vertically and repeated.
    STEP = 4

    def coarse_mirror(self, plane: np.ndarray) -> np.ndarray:
        """The blurred mirror image of ``plane`` on every 4th road row (⌈(H − y0)/4⌉×W, a
        scratch buffer valid until the next call): rough asphalt blurs it vertically by a box
        of 4 % of H."""
        from scipy.ndimage import uniform_filter1d

        size = max(3, int(0.04 * self.h / self.STEP) | 1)
        src = self.src[:: self.STEP]
        coarse = plane.take(src, axis=0, out=buffer("mirror_rows", (len(src), self.w)))
        cv2 = cv2_module()
        if cv2 is not None and coarse.shape[0] and self.w:  # same window and edges as uniform_filter1d
            return cv2.blur(coarse, (1, size), dst=buffer("mirror_blur", coarse.shape), borderType=cv2.BORDER_REPLICATE)
        return uniform_filter1d(coarse, size=size, axis=0, mode="nearest")

    def add_mirror(self, plane: np.ndarray, weight: np.ndarray, out: np.ndarray) -> np.ndarray:
        """In place: ``out += mirror(plane)·weight`` ((H − y0)×W road rows), each coarse mirror
        row multiplying its 4 road rows by broadcasting (the repeated image is never built)."""
        coarse = self.coarse_mirror(plane)
        n, k = out.shape[0], self.STEP
        full = n // k
        rows_ok = all(a.strides == (4 * self.w, 4) for a in (weight, out))  # reshapes are views
        if full and rows_ok:
            tmp = buffer("mirror_product", (full, k, self.w))
            np.multiply(weight[: full * k].reshape(full, k, self.w), coarse[:full, None, :], out=tmp)
            road = out[: full * k].reshape(full, k, self.w)
            road += tmp
        elif full:
            for j in range(k):
                out[j : full * k : k] += weight[j : full * k : k] * coarse[:full]
        if full * k < n:
            out[full * k :] += weight[full * k :] * coarse[full]
        return out


def _road_rects(boxes: np.ndarray | None, y0: int, h: int, w: int) -> list[tuple[int, int, int, int]]:
    """Pixel rectangles (rows relative to ``y0``) of the xyxy boxes that reach below row ``y0``."""
    rects = []
    if boxes is not None and len(boxes):
        for x0, b0, x1, b1 in np.asarray(boxes, dtype=np.float64)[:, :4]:
            r0, r1 = int(np.clip(np.floor(b0), 0, h)), int(np.clip(np.ceil(b1), 0, h))
            c0, c1 = int(np.clip(np.floor(x0), 0, w)), int(np.clip(np.ceil(x1), 0, w))
            if max(r0, y0) < r1 and c0 < c1:
                rects.append((max(r0, y0) - y0, r1 - y0, c0, c1))
    return rects


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
